// In-memory task and provenance stores, a manual clock, and the ingest that
// accepts one reporter: what unit tests of assembly, publishing and reading
// report their tasks through.
import { MemoryProvenanceStore } from '../../functions/adapters/memory-provenance-store.js';
import { MemoryTaskStore } from '../../functions/adapters/memory-task-store.js';
import type { Identity } from '../../functions/domain/task.js';
import { ReportIngest } from '../../functions/lifecycle/ingest.js';
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
  return { tasks, provenance, clock, ingest };
}
