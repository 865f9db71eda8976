// One task's publication, measured in a process of its own so its memory is
// the assembler's: a task with the given OCI subjects (images already pushed
// to the registry by the driver) and GCS subjects (on the driver's local
// GCS-API stand-in) is signed and published by the assembler through the OCI
// and GCS sinks, then published again (a retry: everything is already there).
// Between the two it prints "first-done" and waits for a line on stdin (the
// driver counts the stand-in's requests). Prints one JSON line of figures.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Storage } from '@google-cloud/storage';
import { GcsSink } from '../functions/adapters/publish/gcs-sink.js';
import { MemoryTaskStore } from '../functions/adapters/memory-task-store.js';
import { MemoryProvenanceStore } from '../functions/adapters/memory-provenance-store.js';
import { LocalSigner } from '../functions/adapters/local-signer.js';
import { OciSink } from '../functions/adapters/publish/oci-sink.js';
import { parseOciRule } from '../functions/domain/oci-allowlist.js';
import { ReportIngest } from '../functions/lifecycle/ingest.js';
import type { Sha256Hex } from '../functions/domain/report.js';
import { taskKey } from '../functions/domain/task.js';
import { systemClock } from '../functions/ports/clock.js';
import type { Sink } from '../functions/ports/publisher.js';
import { ProvenanceAssembler } from '../functions/provenance/assembler.js';
import { publicationTargets, publishAll, signedProvenance } from '../functions/provenance/publish.js';
import { OWNER } from './assemble-shared.js';

export interface PublishInput {
  registry: string;
  images: { image: string; digest: string }[];
  /** The GCS stand-in's URL, its bucket and how many gs:// subjects. */
  gcs?: { url: string; bucket: string; objects: number };
  concurrency: number;
}

async function main(): Promise<void> {
  const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as PublishInput;
  const tasks = new MemoryTaskStore();
  const provenance = new MemoryProvenanceStore();
  const ingest = new ReportIngest(tasks, systemClock, {
    reporterAllowlist: new Set([OWNER.email]),
    pidReporterAllowlist: new Set(),
    reportRetentionMs: 86_400_000,
  });
  const taskId = `publish-${input.images.length}`;
  await ingest.reportStage(OWNER, taskId, { stage: 'STARTED', recipe: 'cloudbuild.yaml', pid: 1 });
  for (const { image, digest } of input.images)
    await ingest.addReport(OWNER, taskId, {
      kind: 'artifact',
      sha256: digest.slice('sha256:'.length) as Sha256Hex,
      location: { type: 'oci', image },
      sbomSubjects: [],
    });
  for (let i = 0; i < (input.gcs?.objects ?? 0); i++)
    await ingest.addReport(OWNER, taskId, {
      kind: 'artifact',
      sha256: createHash('sha256').update(`gcs ${i}`).digest('hex') as Sha256Hex,
      location: { type: 'gcs', uri: `gs://${input.gcs?.bucket}/${taskId}/app-${i}.tgz` },
      sbomSubjects: [],
    });
  let requests = 0;
  const sinks: Sink[] = [new OciSink([parseOciRule(input.registry)], { onRequest: () => requests++ })];
  if (input.gcs) sinks.push(new GcsSink([input.gcs.bucket], new Storage({ apiEndpoint: input.gcs.url })));
  const assembler = new ProvenanceAssembler({
    tasks,
    provenance,
    signer: LocalSigner.ephemeral(),
    clock: systemClock,
    builderId: 'https://bench.test',
    leaseMs: 600_000,
    publish: { sinks, concurrency: input.concurrency, deadlineMs: 60_000 },
  });
  const key = taskKey(OWNER, taskId);
  // The statement alone (no sinks): the baseline the publication's memory is compared with.
  const { task } = await ingest.reportStage(OWNER, taskId, { stage: 'UPLOAD_COMPLETE' });
  // Load fetch's HTTP client before the baseline: it is loaded once per process, not per subject.
  await fetch(`http://${input.registry}/v2/`).then((r) => r.body?.cancel());
  global.gc?.();
  const baseline = process.memoryUsage();
  let rssPeak = baseline.rss;
  let heapPeak = baseline.heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    rssPeak = Math.max(rssPeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
  }, 2);
  const t0 = performance.now();
  const outcome = await assembler.assemble(key);
  const t1 = performance.now();
  clearInterval(sampler);
  const firstRequests = requests;
  global.gc?.();
  const retainedHeapMb = (process.memoryUsage().heapUsed - baseline.heapUsed) / 2 ** 20;
  const record = await provenance.get(key);
  const failures = (record?.publications ?? []).filter((p) => p.state === 'failed').map((p) => p.error);
  const count = (publications: { state: string }[]) => {
    const states: Record<string, number> = {};
    for (const p of publications) states[p.state] = (states[p.state] ?? 0) + 1;
    return states;
  };

  console.log('first-done');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  // A retry of every target (what a second sweep would do): all already there.
  requests = 0;
  const [envelope] = await provenance.envelopesForTask(key);
  const t2 = performance.now();
  const again = await publishAll(
    sinks,
    publicationTargets(task, await tasks.listReports(key)),
    signedProvenance(taskId, envelope!),
    {
      concurrency: input.concurrency,
      deadlineMs: 60_000,
      now: () => new Date(),
    },
  );
  const t3 = performance.now();
  console.log(
    JSON.stringify({
      subjects: input.images.length,
      gcsSubjects: input.gcs?.objects ?? 0,
      outcome,
      states: count(record?.publications ?? []),
      retryStates: count(again),
      ms: t1 - t0,
      retryMs: t3 - t2,
      requests: firstRequests,
      retryRequests: requests,
      envelopeBytes: envelope ? JSON.stringify(envelope).length : 0,
      baselineRssMb: baseline.rss / 2 ** 20,
      rssGrowthMb: (rssPeak - baseline.rss) / 2 ** 20,
      heapGrowthMb: (heapPeak - baseline.heapUsed) / 2 ** 20,
      retainedHeapMb,
      failures: [...new Set(failures)].slice(0, 3),
    }),
  );
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
