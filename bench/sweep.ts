// `npm run bench:sweep`: 100,000 open tasks on the Firestore emulator (started
// here), two groups of 1% going silent past the TTL at different times. The
// first group is swept one task at a time, the second with the configured
// concurrency (SWEEP_CONCURRENCY, default 8): each sweep's time and the
// documents it read, in one run. Aims: 1,000 stale of 100,000 in under 10 s,
// reads proportional to the stale tasks, not to all tasks (the read count is
// asserted at a smaller size in test/integration/sweep.test.ts).
// SWEEP_BENCH_TASKS=2000 npm run bench:sweep tries a smaller size quickly.
import { Firestore } from '@google-cloud/firestore';
import { FirestoreTaskStore, TASKS } from '../functions/adapters/firestore-task-store.js';
import { FirestoreProvenanceStore } from '../functions/adapters/firestore-provenance-store.js';
import { applyStage, taskKey, type Identity } from '../functions/domain/task.js';
import { startEmulator } from '../functions/local/emulators.js';
import { ManualClock } from '../test/helpers/manual-clock.js';
import { TaskSweeper } from '../functions/lifecycle/sweep.js';
import { firestoreOps, installFirestoreOpCounter } from '../test/helpers/firestore-ops.js';

const TOTAL = Number(process.env.SWEEP_BENCH_TASKS ?? 100_000);
const STALE_EVERY = 100; // 1% per group
const TTL = 300;
const LATER_MS = 120_000; // group B goes stale this long after group A
const CONCURRENCY = Number(process.env.SWEEP_CONCURRENCY ?? 8);
const owner: Identity = { issuer: 'https://accounts.google.com', subject: 'bench', email: 'builder@example.com' };

async function main(): Promise<void> {
  const emu = await startEmulator('firestore');
  process.env.FIRESTORE_EMULATOR_HOST = emu.host;
  process.env.METADATA_SERVER_DETECTION = 'none';
  const db = new Firestore({ projectId: 'bench-sweep', ignoreUndefinedProperties: true });
  try {
    const now = new Date('2026-07-01T12:00:00Z');
    const writer = db.bulkWriter();
    const seedStart = performance.now();
    for (let i = 0; i < TOTAL; i++) {
      const id = `task-${i}`;
      const key = taskKey(owner, id);
      // Group A: silent past the TTL now. Group B: silent past it LATER_MS from now. The rest: alive.
      const age =
        i % STALE_EVERY === 0 ? (TTL + 60) * 1000 : i % STALE_EVERY === STALE_EVERY / 2 ? (TTL - 60) * 1000 : 30_000;
      const startedAt = new Date(now.getTime() - age);
      const task = applyStage(undefined, {
        key,
        taskId: id,
        owner,
        now: startedAt,
        report: { stage: 'STARTED', recipe: 'r', pid: 1 },
      });
      void writer.set(db.collection(TASKS).doc(key), task as never);
    }
    await writer.close();
    console.log(
      `seeded ${TOTAL.toLocaleString()} open tasks (${(TOTAL / STALE_EVERY).toLocaleString()} stale now, as many more in ${LATER_MS / 1000} s) in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
    );

    // Reads counted at the SDK's public methods, as the tests count them.
    installFirestoreOpCounter();

    const clock = new ManualClock(now);
    const sweeper = (concurrency: number) =>
      new TaskSweeper({
        tasks: new FirestoreTaskStore(db),
        provenance: new FirestoreProvenanceStore(db),
        uploadComplete: { publishUploadComplete: async () => undefined },
        notifier: { notify: async () => undefined },
        clock,
        heartbeatTtlSeconds: TTL,
        recoveryGraceMs: 300_000,
        maxRecoveryAttempts: 5,
        maxTasksPerRun: 5_000,
        concurrency,
      });
    const run = async (label: string, concurrency: number) => {
      const readsBefore = firestoreOps.reads;
      const t0 = performance.now();
      const r = await sweeper(concurrency).sweep();
      const ms = performance.now() - t0;
      const reads = firestoreOps.reads - readsBefore;
      console.log(
        `${label}: ${(ms / 1000).toFixed(2)} s; expired ${r.expired.toLocaleString()}; documents read ${reads.toLocaleString()} = ${(reads / Math.max(1, r.expired)).toFixed(2)} per stale task (${((reads / TOTAL) * 100).toFixed(2)}% of all tasks)`,
      );
      return ms;
    };
    const sequential = await run('sweep, one task at a time (group A)', 1);
    clock.advance(LATER_MS);
    const parallel = await run(`sweep, ${CONCURRENCY} at a time (group B)`, CONCURRENCY);
    console.log(
      `  ${CONCURRENCY} at a time is ${(sequential / parallel).toFixed(1)}x faster (aim: ${(TOTAL / STALE_EVERY).toLocaleString()} stale of ${TOTAL.toLocaleString()} in under 10 s)`,
    );
    const t1 = performance.now();
    const again = await sweeper(CONCURRENCY).sweep();
    console.log(`third sweep (nothing stale): ${(performance.now() - t1).toFixed(0)} ms, expired ${again.expired}`);
  } finally {
    await db.terminate();
    await emu.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
