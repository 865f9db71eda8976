// `npm run bench:assemble`: time from UPLOAD_COMPLETE accepted to envelope
// stored, for tasks of 100, 1,000 and 10,000 reports on the Firestore emulator
// (started here), the assembler's peak memory, and `verify` throughput.
// Prints figures; never passes or fails on time.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { FirestoreTaskStore } from '../functions/adapters/firestore-task-store.js';
import { LocalSigner } from '../functions/adapters/local-signer.js';
import { ReportIngest } from '../functions/domain/ingest.js';
import { systemClock } from '../functions/ports/clock.js';
import type { Sha256Hex } from '../functions/domain/report.js';
import { startEmulator } from '../functions/local/emulators.js';
import { OWNER } from './assemble-shared.js';
import { verifyBench } from './verify.js';
import { gateThroughput } from './gate.js';

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
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', join(__dirname, 'assemble-worker.js'), taskId], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) => {
      const line = out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{"ms"'))
        .pop();
      if (code !== 0 || !line) reject(new Error(`worker exited ${code}: ${out}`));
      else resolve(JSON.parse(line) as Figures);
    });
  });
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
  };
  process.env.FIRESTORE_EMULATOR_HOST = emu.host;
  process.env.METADATA_SERVER_DETECTION = 'none';
  const db = new Firestore({ projectId: PROJECT, ignoreUndefinedProperties: true });
  const ingest = new ReportIngest(new FirestoreTaskStore(db), systemClock, {
    reporterAllowlist: new Set([OWNER.email]),
    pidReporterAllowlist: new Set(),
    reportRetentionMs: 86_400_000,
  });
  try {
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
