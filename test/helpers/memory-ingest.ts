// In-memory task and provenance stores, a manual clock, and the ingest that
// accepts one reporter, and an assembler over them: what unit tests of assembly, publishing and reading
// report their tasks through.
import { MemoryProvenanceStore } from '../../functions/adapters/memory-provenance-store.js';
import { MemoryTaskStore } from '../../functions/adapters/memory-task-store.js';
import type { Identity } from '../../functions/domain/task.js';
import { ReportIngest } from '../../functions/lifecycle/ingest.js';
import type { Signer } from '../../functions/ports/signer.js';
import { type AssemblerDeps, ProvenanceAssembler } from '../../functions/provenance/assembler.js';
import { ManualClock } from './manual-clock.js';

export function memoryIngest(reporter: Identity, opts: { now: Date; reportRetentionMs: number; pieceChars?: number }) {
  const tasks = new MemoryTaskStore();
  const provenance = new MemoryProvenanceStore(opts.pieceChars);
  const clock = new ManualClock(opts.now);
  const ingest = new ReportIngest(tasks, clock, {
    reporterAllowlist: new Set([reporter.email]),
    pidReporterAllowlist: new Set(),
    reportRetentionMs: opts.reportRetentionMs,
  });
  /** An assembler over these stores and this clock (builder https://builder.test), with `extra` deps. */
  const assembler = (signer: Signer, extra: Partial<AssemblerDeps> = {}) =>
    new ProvenanceAssembler({
      tasks,
      provenance,
      signer,
      clock,
      builderId: 'https://builder.test',
      leaseMs: 60_000,
      ...extra,
    });
  return { tasks, provenance, clock, ingest, assembler };
}
