// One assembly, measured in a process of its own so its peak memory is the
// assembler's: records UPLOAD_COMPLETE for a task the driver already filled
// with reports, lets the in-process publisher deliver it to the assembler (as
// npm start does), and prints one JSON line of figures when the envelope is stored.
import { loadConfig } from '../functions/config.js';
import { buildAssembler, createStores } from '../functions/app/compose.js';
import { InProcessPublisher } from '../functions/adapters/in-process-publisher.js';
import { ReportIngest } from '../functions/lifecycle/ingest.js';
import { systemClock } from '../functions/ports/clock.js';
import { OWNER } from './assemble-shared.js';

async function main(): Promise<void> {
  const taskId = process.argv[2]!;
  const config = loadConfig();
  const stores = await createStores(config);
  const assembler = await buildAssembler(config, { stores });
  let outcome: unknown;
  const publisher = new InProcessPublisher(async (key) => (outcome = await assembler.assemble(key)), {
    attempts: 1,
    firstDelayMs: 0,
  });
  const ingest = new ReportIngest(stores.tasks, systemClock, {
    reporterAllowlist: new Set([OWNER.email]),
    pidReporterAllowlist: new Set(),
    reportRetentionMs: 86_400_000,
  });
  await await stores.tasks.getTask('0'.repeat(40)); // open the Firestore channel before timing
  global.gc?.();
  const baseline = process.memoryUsage();
  let heapPeak = baseline.heapUsed;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 1);

  const { task } = await ingest.reportStage(OWNER, taskId, { stage: 'UPLOAD_COMPLETE' });
  const accepted = performance.now();
  await publisher.publishUploadComplete(task.key);
  await publisher.idle();
  const stored = performance.now();
  clearInterval(sampler);
  heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  const figures = JSON.stringify({
    ms: stored - accepted,
    outcome,
    baselineRssMb: baseline.rss / 2 ** 20,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    heapGrowthMb: (heapPeak - baseline.heapUsed) / 2 ** 20,
  });
  // A pipe is written asynchronously: exit once the line (after any long log line) is out.
  process.stdout.write(`\n${figures}\n`, () => process.exit(0));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
