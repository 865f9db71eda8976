import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { FirestoreTaskStore } from '../functions/adapters/firestore-task-store.js';
import { LocalSigner } from '../functions/adapters/local-signer.js';
import { ReportIngest } from '../functions/lifecycle/ingest.js';
import { systemClock } from '../functions/ports/clock.js';
import type { Sha256Hex } from '../functions/domain/report.js';
import { startEmulator } from '../functions/local/emulators.js';
import { statementBytes } from '../functions/provenance/dsse.js';
import { loadConfig } from '../functions/config.js';
import { assembleProvenance, REPORT_BYTES_PER_STATEMENT_BYTE } from '../functions/provenance/statement.js';
import { OWNER, storedReport, uploadedTask } from './assemble-shared.js';
import { verifyBench } from './verify.js';
import { gateThroughput } from './gate.js';
import { runFiguresWorker } from './lib.js';

const SIZES = [100, 1_000, 10_000];
const RUNS = 3;
const PROJECT = 'bench-assemble';

interface Figures {
  ms: number;
  outcome: { status: string; dependencies: number; payloadBytes: number };
  baselineRssMb: number;
  peakRssMb: number;
  heapGrowthMb: number;
}

async function seed(ingest: ReportIngest, taskId: string, reports: number): Promise<void> {
  await ingest.reportStage(OWNER, taskId, { stage: 'STARTED', recipe: 'cloudbuild.yaml', pid: 1 });
  const deps = reports - 1;
  for (let i = 0; i < deps; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, deps - i) }, (_, j) =>
        ingest.addReport(OWNER, taskId, {
          kind: 'git',
          repo: `https://github.com/example/dep-${i + j}`,
          commit: (i + j).toString(16).padStart(40, '0'),
          refs: ['refs/heads/main'],
        }),
      ),
    );
  }
  await ingest.addReport(OWNER, taskId, {
    kind: 'artifact',
    sha256: 'ab'.repeat(32) as Sha256Hex,
    location: { type: 'gcs', uri: `gs://out/${taskId}.tar` },
    sbomSubjects: [],
  });
}

function runWorker(env: NodeJS.ProcessEnv, taskId: string): Promise<Figures> {
  return runFiguresWorker(join(__dirname, 'assemble-worker.js'), [taskId], env, '{"ms"');
}

/** n artifacts with 2,000-character names, each declaring itself the SBOM of all the others (issue 16's case). */
function crossProduct(n: number, taskId: string) {
  const digest = (i: number) => i.toString(16).padStart(64, '0') as Sha256Hex;
  return Array.from({ length: n }, (_, i) => ({
    kind: 'artifact' as const,
    sha256: digest(i + 1),
    location: { type: 'gcs' as const, uri: `gs://bench-out/${'n'.repeat(1950)}/${taskId}/${i}.spdx.json` },
    sbomSubjects: Array.from({ length: n }, (_, j) => digest(j + 1)).filter((_, j) => j !== i),
  }));
}

/** The largest n whose statement fits MAX_STATEMENT_BYTES (measured on the real statement, in memory). */
function largestFitting(limit: number): number {
  const task = uploadedTask('probe', { stage: 'STARTED', recipe: 'cloudbuild.yaml', pid: 1 });
  const size = (n: number) =>
    statementBytes(
      assembleProvenance(
        task,
        crossProduct(n, `bench-limits-${'x'.repeat(20)}`).map((report) => storedReport(report)),
        { builderId: 'b' },
      ),
    ).length;
  let lo = 1;
  let hi = 2000;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (size(mid) <= limit * 0.98) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

interface ServeFigures {
  routes: { path: string; ms: number; bytes: number; headLength: string | null }[];
  baselineRssMb: number;
  peakRssMb: number;
}

function runServeWorker(env: NodeJS.ProcessEnv, args: string[]): Promise<ServeFigures> {
  return runFiguresWorker(join(__dirname, 'serve-worker.js'), args, env, '{"routes"');
}

/**
 * BENCH_ASSEMBLE_ONLY=limits: the largest task MAX_STATEMENT_BYTES allows
 * (and one just over it) assembled on the Firestore emulator, then served:
 * time and peak RSS of the assembler and of the read path, each in its own
 * process, against the functions' configured memory (infra/main.tf defaults).
 */
async function limits(env: NodeJS.ProcessEnv, ingest: ReportIngest): Promise<void> {
  const limit = loadConfig({}).maxStatementBytes;
  const n = largestFitting(limit);
  const MEMORY = { assembleProvenance: 512, provenanceApi: 256 }; // MiB: infra/main.tf's defaults
  console.log(
    `  limit MAX_STATEMENT_BYTES = ${limit} (${(limit / 2 ** 20).toFixed(0)} MiB); largest task: ${n} artifacts with 2,000-character names, each the SBOM of all the others`,
  );
  const seedTask = async (taskId: string, count: number) => {
    await ingest.reportStage(OWNER, taskId, { stage: 'STARTED', recipe: 'cloudbuild.yaml', pid: 1 });
    const reports = crossProduct(count, taskId);
    let bytes = 0;
    for (let i = 0; i < reports.length; i += 20) {
      const batch = reports.slice(i, i + 20);
      bytes += batch.reduce((sum, r) => sum + Buffer.byteLength(JSON.stringify(r)), 0);
      await Promise.all(batch.map((r) => ingest.addReport(OWNER, taskId, r)));
    }
    return bytes;
  };
  const fitting = `bench-limits-${Date.now()}`;
  const reported = await seedTask(fitting, n);
  const a = await runWorker(env, fitting);
  console.log(
    `  assembled: ${a.outcome.status}, ${(reported / 2 ** 20).toFixed(1)} MiB reported → statement ${(a.outcome.payloadBytes / 2 ** 20).toFixed(1)} MiB in ${a.ms.toFixed(0)} ms; assembler peak RSS ${a.peakRssMb.toFixed(0)} MiB (idle ${a.baselineRssMb.toFixed(0)} MiB) of ${MEMORY.assembleProvenance} MiB configured`,
  );
  const over = `bench-limits-over-${Date.now()}`;
  await seedTask(over, Math.ceil(n * 1.1));
  const o = await runWorker(env, over);
  console.log(
    `  10% more artifacts (${Math.ceil(n * 1.1)}): ${o.outcome.status} in ${o.ms.toFixed(0)} ms, peak RSS ${o.peakRssMb.toFixed(0)} MiB: ${(o.outcome as unknown as { reason?: string }).reason ?? ''}`,
  );

  // The most reports the assembler holds: reports the statement merges (one commit, the same 64
  // long refs, told apart only by their event time) up to just under the budget of report bytes.
  const refs = Array.from({ length: 64 }, (_, j) => `refs/heads/${'r'.repeat(230)}-${j}`);
  const duplicates = async (taskId: string, budgetShare: number) => {
    await ingest.reportStage(OWNER, taskId, { stage: 'STARTED', recipe: 'cloudbuild.yaml', pid: 1 });
    const one = { kind: 'git' as const, repo: 'https://github.com/example/app', commit: 'c'.repeat(40), refs };
    const each = Buffer.byteLength(JSON.stringify({ ...one, eventTime: new Date() }));
    const count = Math.floor((budgetShare * REPORT_BYTES_PER_STATEMENT_BYTE * limit) / each);
    for (let i = 0; i < count; i += 20)
      await Promise.all(
        Array.from({ length: Math.min(20, count - i) }, (_, j) =>
          ingest.addReport(OWNER, taskId, { ...one, eventTime: new Date(Date.UTC(2026, 0, 1) + i + j) }),
        ),
      );
    await ingest.addReport(OWNER, taskId, {
      kind: 'artifact',
      sha256: 'ab'.repeat(32) as Sha256Hex,
      location: { type: 'gcs', uri: `gs://bench-out/${taskId}.tar` },
      sbomSubjects: [],
    });
    return { count, bytes: count * each };
  };
  for (const share of [0.97, 1.05]) {
    const taskId = `bench-limits-dup-${share}-${Date.now()}`;
    const { count, bytes } = await duplicates(taskId, share);
    const d = await runWorker(env, taskId);
    console.log(
      `  ${count} reports of one commit (${(bytes / 2 ** 20).toFixed(1)} MiB, ${(share * 100).toFixed(0)}% of the ${REPORT_BYTES_PER_STATEMENT_BYTE}× MAX_STATEMENT_BYTES report budget): ${d.outcome.status} in ${d.ms.toFixed(0)} ms, assembler peak RSS ${d.peakRssMb.toFixed(0)} MiB (idle ${d.baselineRssMb.toFixed(0)} MiB)`,
    );
  }

  const digest = (1).toString(16).padStart(64, '0');
  const paths = [
    `/v1/artifacts/sha256:${digest}/provenance`,
    `/v1/artifacts/sha256:${digest}/bundle`,
    `/v1/tasks/${fitting}/provenance?reporter=${encodeURIComponent(OWNER.email)}`,
  ];
  const readEnv = { ...env, READ_ACCESS: 'public' };
  const served = await runServeWorker(readEnv, ['stream', digest, ...paths]);
  for (const r of served.routes)
    console.log(
      `  GET ${r.path.split('?')[0]}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB in ${r.ms.toFixed(0)} ms (HEAD content-length ${r.headLength === String(r.bytes) ? 'equal' : `DIFFERS: ${r.headLength}`})`,
    );
  console.log(
    `  read path peak RSS ${served.peakRssMb.toFixed(0)} MiB (idle ${served.baselineRssMb.toFixed(0)} MiB) of ${MEMORY.provenanceApi} MiB configured, over all three answers`,
  );
  const joined = await runServeWorker(readEnv, ['joined', digest]);
  console.log(
    `  the same envelopes read whole and serialized again (the read path before streaming): peak RSS ${joined.peakRssMb.toFixed(0)} MiB (idle ${joined.baselineRssMb.toFixed(0)} MiB)`,
  );
}

async function main(): Promise<void> {
  if (process.env.BENCH_ASSEMBLE_ONLY === 'gate') {
    // BENCH_ASSEMBLE_ONLY=gate npm run bench:assemble: just the deploy gate's figures.
    console.log('deploy gate: verify --policy beside the same checks as flags, and with --vsa, one core:');
    return gateThroughput();
  }
  if (process.env.BENCH_ASSEMBLE_ONLY === 'bundles') {
    // BENCH_ASSEMBLE_ONLY=bundles npm run bench:assemble: just the Sigstore bundle figures.
    console.log('Sigstore bundles:');
    return bundles();
  }
  if (process.env.BENCH_ASSEMBLE_ONLY === 'verify') return verifyBench(); // or: npm run bench:verify
  const emu = await startEmulator('firestore');
  const env = {
    ...process.env,
    FIRESTORE_EMULATOR_HOST: emu.host,
    GOOGLE_CLOUD_PROJECT: PROJECT,
    TASK_STORE: 'firestore',
    AUTH_MODE: 'dev',
    EVENTS: 'in-process',
    METADATA_SERVER_DETECTION: 'none',
    BACKEND_DEADLINE_SECONDS: '120',
  };
  process.env.FIRESTORE_EMULATOR_HOST = emu.host;
  process.env.METADATA_SERVER_DETECTION = 'none';
  const db = new Firestore({ projectId: PROJECT, ignoreUndefinedProperties: true });
  // A shared, loaded machine: a generous deadline, so a slow emulator is measured rather than refused.
  const ingest = new ReportIngest(new FirestoreTaskStore(db, 120_000), systemClock, {
    reporterAllowlist: new Set([OWNER.email]),
    pidReporterAllowlist: new Set(),
    reportRetentionMs: 86_400_000,
  });
  try {
    if (process.env.BENCH_ASSEMBLE_ONLY === 'limits') {
      console.log(`size limits, on the Firestore emulator (${emu.host}):`);
      return await limits(env, ingest);
    }
    console.log(
      `assembly on the Firestore emulator (${emu.host}), local P-256 signer; UPLOAD_COMPLETE accepted → envelope stored, median of ${RUNS}:`,
    );
    const medians: number[] = [];
    for (const size of SIZES) {
      const runs: Figures[] = [];
      for (let r = 0; r < RUNS; r++) {
        const taskId = `bench-${size}-${r}-${Date.now()}`;
        await seed(ingest, taskId, size);
        runs.push(await runWorker(env, taskId));
      }
      runs.sort((a, b) => a.ms - b.ms);
      const m = runs[Math.floor(runs.length / 2)]!;
      medians.push(m.ms);
      console.log(
        `  ${String(size).padStart(6)} reports: ${m.ms.toFixed(0).padStart(6)} ms (runs ${runs.map((x) => x.ms.toFixed(0)).join(', ')}); ` +
          `payload ${(m.outcome.payloadBytes / 1024).toFixed(0)} KiB; assembler peak RSS ${m.peakRssMb.toFixed(0)} MiB (idle ${m.baselineRssMb.toFixed(0)} MiB), heap growth ${m.heapGrowthMb.toFixed(0)} MiB`,
      );
    }
    const [a, b, c] = medians as [number, number, number];
    console.log(
      `  growth: 1,000/100 = ${(b / a).toFixed(1)}x, 10,000/1,000 = ${(c / b).toFixed(1)}x for 10x the reports (linear = 10x); aim: 10,000 in < 10,000 ms`,
    );
    console.log('\nsize limits, on the same emulator:');
    await limits(env, ingest);
  } finally {
    await db.terminate();
    await emu.stop();
  }
  console.log('\nverify (what `provenance verify` runs per envelope) beside @sigstore/verify, one core, ECDSA P-256:');
  await verifyBench();
  console.log('\ndeploy gate: verify --policy beside the same checks as flags, and with --vsa, one core:');
  await gateThroughput();
  console.log('\nSigstore bundles:');
  await bundles();
}

/**
 * Bundles served per second from /v1/artifacts/…/bundle against /provenance
 * (the read API over the in-memory store, HTTP on loopback, autocannon, in
 * alternating rounds). Verifying them: bench/verify.ts.
 */
async function bundles(): Promise<void> {
  const { MemoryTaskStore } = await import('../functions/adapters/memory-task-store.js');
  const { MemoryProvenanceStore } = await import('../functions/adapters/memory-provenance-store.js');
  const { ProvenanceAssembler } = await import('../functions/provenance/assembler.js');
  const { provenanceApi } = await import('../functions/api/provenance-api.js');
  const { OidcVerifier } = await import('../functions/adapters/oidc-verifier.js');
  const { DevIssuer, DEV_ISSUER } = await import('../functions/adapters/dev-issuer.js');
  const { localServer, listen } = await import('../functions/local/server.js');
  const { taskKey } = await import('../functions/domain/task.js');
  const { load } = await import('./lib.js');

  const tasks = new MemoryTaskStore();
  const provenance = new MemoryProvenanceStore();
  const signer = LocalSigner.ephemeral();
  const ingest = new ReportIngest(tasks, systemClock, {
    reporterAllowlist: new Set([OWNER.email]),
    pidReporterAllowlist: new Set(),
    reportRetentionMs: 86_400_000,
  });
  await ingest.reportStage(OWNER, 'b1', { stage: 'STARTED', recipe: 'r', pid: 1 });
  for (let i = 0; i < 20; i++)
    await ingest.addReport(OWNER, 'b1', {
      kind: 'git',
      repo: `https://github.com/example/dep-${i}`,
      commit: i.toString(16).padStart(40, '0'),
      refs: ['refs/heads/main'],
    });
  await ingest.addReport(OWNER, 'b1', {
    kind: 'artifact',
    sha256: 'ab'.repeat(32) as Sha256Hex,
    location: { type: 'gcs', uri: 'gs://out/app.tar' },
    sbomSubjects: [],
  });
  await ingest.reportStage(OWNER, 'b1', { stage: 'UPLOAD_COMPLETE' });
  await new ProvenanceAssembler({
    tasks,
    provenance,
    signer,
    clock: systemClock,
    builderId: 'b',
    leaseMs: 60_000,
  }).assemble(taskKey(OWNER, 'b1'));
  const certs = DevIssuer.ephemeral().certificates();
  const handler = provenanceApi({
    tasks,
    provenance,
    keys: () => signer.verificationKeys(),
    verifier: new OidcVerifier({ audience: 'a', issuers: [DEV_ISSUER], certificates: async () => certs }),
    access: { mode: 'public', readers: new Set() },
  });
  const server = localServer([{ prefix: '/v1/', handler }]);
  const url = (await listen(server, 0)).replace('localhost', '127.0.0.1');
  try {
    const path = (kind: string) => `/v1/artifacts/sha256:${'ab'.repeat(32)}/${kind}`;
    const rps = { provenance: [] as number[], bundle: [] as number[] };
    for (let round = 0; round < 3; round++) {
      for (const kind of ['provenance', 'bundle'] as const)
        rps[kind].push((await load({ url: url + path(kind), duration: 4, connections: 16 })).rps);
    }
    const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[1]!;
    console.log(
      `  served per second (in-memory store, medians of 3 rounds): /provenance ${med(rps.provenance).toFixed(0)}, /bundle ${med(rps.bundle).toFixed(0)}: ratio ${(med(rps.bundle) / med(rps.provenance)).toFixed(2)} (aim >= 0.9)`,
    );
  } finally {
    server.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
