// bench:ingest — report ingestion throughput and latency.
// 1. a bare functions-framework handler (the ceiling on this machine);
// 2. selfReport with the in-memory store (token verification and validation included);
// 3. selfReport on the Firestore emulator;
// 4. the cold import time of the selfReport entry module.
// Prints figures and ratios; never passes or fails on time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevIssuer } from '../functions/adapters/dev-issuer.js';
import { startEmulator } from '../functions/local/emulators.js';
import type autocannon from 'autocannon';
import { fmt, load, startServer, type LoadResult } from './lib.js';

const AUDIENCE = 'http://bench.local';
const EMAIL = 'bench@example.com';
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_RUNS = Number(process.env.BENCH_WARMUP_RUNS ?? 1);

/** The run with the median throughput. */
const median = (runs: LoadResult[]): LoadResult =>
  [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!;

async function ingest(url: string, token: string): Promise<LoadResult> {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-task-id': 'bench-task' };
  const rpc = '/provenance.snooperpb.SelfReport';
  await fetch(`${url}${rpc}/ReportTaskStage`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ taskStage: 'STARTED', recipe: 'bench.yaml', pid: '1' }),
  });
  let n = 0;
  return load({
    url,
    duration: DURATION,
    requests: [
      {
        method: 'POST',
        path: `${rpc}/ReportGit`,
        headers,
        setupRequest: (req: autocannon.Request) => ({
          ...req,
          body: JSON.stringify({
            gitReport: {
              repo: 'https://github.com/example/repo',
              commit: (n++).toString(16).padStart(40, '0'),
              refs: 'refs/heads/main',
            },
          }),
        }),
      },
    ],
  });
}

function coldImport(preload: string): number[] {
  const script = `${preload}const t=process.hrtime.bigint();require(${JSON.stringify(join(__dirname, '..', 'functions', 'entry', 'self-report.js'))});console.log(Number(process.hrtime.bigint()-t)/1e6)`;
  return Array.from({ length: 7 }, () => Number(execFileSync(process.execPath, ['-e', script]).toString().trim())).sort(
    (a, b) => a - b,
  );
}

async function main(): Promise<void> {
  const devDir = mkdtempSync(join(tmpdir(), 'bench-dev-'));
  const token = DevIssuer.fromDirectory(devDir).mint({ audience: AUDIENCE, email: EMAIL });
  const env = {
    AUTH_MODE: 'dev',
    DEV_ISSUER_DIR: devDir,
    AUDIENCE,
    REPORTER_ALLOWLIST: EMAIL,
    METADATA_SERVER_DETECTION: 'none',
  };
  console.log(
    `bench:ingest — ${DURATION}s per run, 32 connections, git reports with distinct commits, Node ${process.versions.node}\n`,
  );

  // Every server gets the same requests (path, headers, token, bodies); each is
  // warmed up with one run that is thrown away. The bare handler and selfReport
  // are then measured in alternating rounds and the median of each is kept: on a
  // 2-core machine shared with the load generator, one run of each swings ±10%.
  const bare = await startServer(join(__dirname, 'servers', 'bare.js'), {});
  const mem = await startServer(join(__dirname, 'servers', 'self-report.js'), { ...env, TASK_STORE: 'memory' });
  for (let i = 0; i < WARMUP_RUNS; i++) {
    await ingest(bare.url, token);
    await ingest(mem.url, token);
  }
  const bareRuns: LoadResult[] = [];
  const memRuns: LoadResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bareRuns.push(await ingest(bare.url, token));
    memRuns.push(await ingest(mem.url, token));
  }
  await Promise.all([bare.stop(), mem.stop()]);
  const bareR = median(bareRuns);
  const memR = median(memRuns);
  const ratios = memRuns.map((m, i) => m.rps / bareRuns[i]!.rps).sort((a, b) => a - b);
  if (process.env.BENCH_VERBOSE)
    for (const [i, b] of bareRuns.entries())
      console.log(`  round ${i + 1}: bare ${b.rps.toFixed(0)}, selfReport ${memRuns[i]!.rps.toFixed(0)}`);
  console.log(`bare functions-framework handler      ${fmt(bareR)}`);
  console.log(`selfReport, in-memory store           ${fmt(memR)}`);
  console.log(
    `  ratio to bare handler: ${(memR.rps / bareR.rps).toFixed(2)} (medians of ${ROUNDS} alternating rounds; per round ${ratios.map((r) => r.toFixed(2)).join(', ')}; aim ≥ 0.75)`,
  );

  const emu = await startEmulator('firestore');
  try {
    const fs = await startServer(join(__dirname, 'servers', 'self-report.js'), {
      ...env,
      TASK_STORE: 'firestore',
      FIRESTORE_EMULATOR_HOST: emu.host,
      GOOGLE_CLOUD_PROJECT: 'bench',
    });
    await ingest(fs.url, token);
    const fsR = await ingest(fs.url, token);
    await fs.stop();
    console.log(`selfReport, Firestore emulator        ${fmt(fsR)}`);
    console.log(
      `  ratio to bare handler: ${(fsR.rps / bareR.rps).toFixed(2)} (the emulator, not Firestore: a floor, not a forecast)`,
    );
  } finally {
    await emu.stop();
  }

  const alone = coldImport('');
  const withFf = coldImport("require('@google-cloud/functions-framework');");
  const med = (xs: number[]) => xs[Math.floor(xs.length / 2)]!.toFixed(0);
  console.log(`\ncold import of the selfReport entry module (median of 7 fresh processes):`);
  console.log(`  with functions-framework already loaded (as in Cloud Functions): ${med(withFf)} ms (aim < 250 ms)`);
  console.log(`  including functions-framework itself:                           ${med(alone)} ms`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
