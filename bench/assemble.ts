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
import { signStatement, type Envelope } from '../functions/provenance/dsse.js';
import { assembleProvenance } from '../functions/provenance/statement.js';
import { parsePublicKeys, verifyEnvelope } from '../functions/provenance/verify.js';
import { applyStage, type TaskRecord } from '../functions/domain/task.js';
import { reportId, type StoredReport } from '../functions/domain/report.js';
import { OWNER } from './assemble-shared.js';
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

function statementOf(deps: number) {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  let task: TaskRecord = applyStage(undefined, {
    key: 'k',
    taskId: 'bench',
    owner: OWNER,
    now: at(0),
    report: { stage: 'STARTED', recipe: 'r', pid: 1 },
  });
  task = applyStage(task, {
    key: 'k',
    taskId: 'bench',
    owner: OWNER,
    now: at(9),
    report: { stage: 'UPLOAD_COMPLETE' },
  });
  const reports: StoredReport[] = Array.from({ length: deps }, (_, i) => {
    const report = {
      kind: 'git' as const,
      repo: `https://github.com/example/dep-${i}`,
      commit: i.toString(16).padStart(40, '0'),
      refs: ['refs/heads/main'],
    };
    return { id: reportId(report), report, receivedAt: at(1), lastReceivedAt: at(1), expireAt: at(99) };
  });
  const artifact = {
    kind: 'artifact' as const,
    sha256: 'ab'.repeat(32) as Sha256Hex,
    location: { type: 'gcs' as const, uri: 'gs://out/app.tar' },
    sbomSubjects: [],
  };
  reports.push({
    id: reportId(artifact),
    report: artifact,
    receivedAt: at(2),
    lastReceivedAt: at(2),
    expireAt: at(99),
  });
  return assembleProvenance(task, reports, { builderId: 'b' });
}

/** verifyEnvelope (what `provenance verify` runs) over many typical envelopes, the key parsed once. */
async function verifyThroughput(): Promise<void> {
  const signer = LocalSigner.ephemeral();
  const keys = parsePublicKeys((await signer.publicKey()).pem);
  const policy = {
    digest: 'ab'.repeat(32),
    builderId: 'b',
    sourceUri: 'https://github.com/example/dep-1',
    sourceRefs: ['refs/heads/main'],
  };
  for (const deps of [20, 10_000]) {
    const envelopes: Envelope[] = [];
    for (let i = 0; i < (deps > 1000 ? 5 : 1000); i++) envelopes.push(await signStatement(statementOf(deps), signer));
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < 2000) {
      for (const e of envelopes) if (verifyEnvelope(e, keys, policy).ok) n++;
    }
    const perSecond = n / ((performance.now() - start) / 1000);
    const kib = (Buffer.from(envelopes[0]!.payload, 'base64').length / 1024).toFixed(0);
    console.log(
      `  envelopes with ${String(deps).padStart(6)} dependencies (${kib} KiB payload): ${perSecond.toFixed(deps > 1000 ? 1 : 0)} envelopes/s${deps < 1000 ? ' (aim ≥ 1,000/s)' : ''}`,
    );
  }
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
  console.log('\nverify throughput (signature, types, subject, policy; ECDSA P-256), one core:');
  await verifyThroughput();
  console.log('\ndeploy gate: verify --policy beside the same checks as flags, and with --vsa, one core:');
  await gateThroughput();
  console.log('\nSigstore bundles:');
  await bundles();
}

/**
 * Bundles served per second from /v1/artifacts/…/bundle against /provenance
 * (the read API over the in-memory store, HTTP on loopback, autocannon, in
 * alternating rounds), and @sigstore/verify's throughput beside verifyEnvelope
 * on the same envelopes.
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
  const { envelopeToBundle } = await import('../functions/provenance/bundle.js');
  const { bundleFromJSON } = await import('@sigstore/bundle');
  const { Verifier, toSignedEntity, toTrustMaterial } = await import('@sigstore/verify');
  const { createPublicKey } = await import('node:crypto');
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

  const envelopes: Envelope[] = [];
  for (let i = 0; i < 500; i++) envelopes.push(await signStatement(statementOf(20), signer));
  const keys = parsePublicKeys((await signer.publicKey()).pem);
  const pub = createPublicKey((await signer.publicKey()).pem);
  const trust = toTrustMaterial(
    { mediaType: '', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] } as never,
    () => ({ publicKey: pub, validFor: () => true }),
  );
  const sigstore = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  const bundleJson = envelopes.map((e) => envelopeToBundle(e));
  const rate = (f: () => number) => {
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < 2000) n += f();
    return n / ((performance.now() - start) / 1000);
  };
  const ours = rate(() => envelopes.filter((e) => verifyEnvelope(e, keys, { digest: 'ab'.repeat(32) }).ok).length);
  const theirs = rate(() => {
    for (const b of bundleJson) sigstore.verify(toSignedEntity(bundleFromJSON(b)));
    return bundleJson.length;
  });
  console.log(
    `  verify, one core, 20-dependency envelopes: provenance verify ${ours.toFixed(0)}/s; @sigstore/verify on the same as bundles ${theirs.toFixed(0)}/s`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
