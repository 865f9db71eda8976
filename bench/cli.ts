// `npm run bench:cli`: what the build step's CLI costs a build.
// 1. start-up: `provenance --version`, from the compiled package and from the
//    single-file bundle (aim < 150 ms on Node 24);
// 2. `provenance run -- true` against bare `true`, and against in-toto's own
//    `in-toto-run` wrapping the same command (Debian package in-toto), in one run;
// 3. 1,000 reports as 1,000 `provenance report` processes against one
//    `provenance report batch` (aim: the batch >= 20x faster).
// The service is npm start's wiring with the in-memory store, in its own process.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './lib.js';

const root = join(__dirname, '..', '..');
const bin = join(root, 'bin', 'provenance.js');
const REPORTS = Number(process.env.BENCH_CLI_REPORTS ?? 1000);

function timeMs(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function median(runs: number, f: () => number): number {
  const xs = Array.from({ length: runs }, f).sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
}

function inTotoRun(dir: string): string[] | undefined {
  const which = spawnSync('sh', ['-c', 'command -v in-toto-run'], { encoding: 'utf8' });
  if (which.status !== 0) return undefined;
  const key = join(dir, 'bench-key.pem');
  // in-toto-run signs its link metadata: give it a key of its own (RSA PEM, its default key type).
  execFileSync('openssl', ['genrsa', '-out', key, '2048'], { stdio: 'ignore' });
  return ['in-toto-run', '--step-name', 'bench', '--key', key, '--metadata-directory', dir, '--'];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));
  const bundle = join(dir, 'provenance.cjs');
  execFileSync(process.execPath, [join(root, 'scripts', 'bundle-cli.js'), bundle], { stdio: 'ignore' });
  console.log(`bench:cli — Node ${process.versions.node}\n`);

  const pkg = median(11, () => timeMs(process.execPath, [bin, '--version']));
  const one = median(11, () => timeMs(process.execPath, [bundle, '--version']));
  const bare = median(11, () => timeMs(process.execPath, ['-e', '0']));
  console.log(
    `start-up, provenance --version: package ${pkg.toFixed(0)} ms, bundle ${one.toFixed(0)} ms (node -e 0: ${bare.toFixed(0)} ms; aim < 150 ms)`,
  );

  const devDir = mkdtempSync(join(tmpdir(), 'bench-cli-dev-'));
  const svc = await startServer(join(__dirname, 'servers', 'local-service.js'), {
    AUTH_MODE: 'dev',
    DEV_ISSUER_DIR: devDir,
    TASK_STORE: 'memory',
    EVENTS: 'in-process',
    AUDIENCE: 'http://bench.local',
  });
  try {
    let task = 0;
    const env = (): NodeJS.ProcessEnv => ({
      ...process.env,
      PROVENANCE_URL: svc.url,
      PROVENANCE_AUDIENCE: 'http://bench.local',
      DEV_ISSUER_DIR: devDir,
      PROVENANCE_TASK_ID: `bench-${task++}`,
    });

    const trueMs = median(11, () => timeMs('true', []));
    const runMs = median(11, () => timeMs(process.execPath, [bundle, 'run', '--', 'true'], env()));
    const wrap = inTotoRun(dir);
    const inToto = wrap ? median(11, () => timeMs(wrap[0]!, [...wrap.slice(1), 'true'])) : undefined;
    console.log(
      `\nwrapping \`true\` (median of 11): bare ${trueMs.toFixed(1)} ms; provenance run ${runMs.toFixed(0)} ms (STARTED, UPLOAD_COMPLETE, COMPLETE sent)`,
    );
    console.log(
      inToto === undefined
        ? '  in-toto-run: not installed (apt-get install in-toto) — not compared'
        : `  in-toto-run ${inToto.toFixed(0)} ms; provenance run / in-toto-run = ${(runMs / inToto).toFixed(2)}`,
    );

    const lines = Array.from({ length: REPORTS }, (_, i) =>
      JSON.stringify({
        method: 'ReportGcs',
        gcsReport: { gcsUri: `gs://bench-deps/lib-${i}.tar`, digest: i.toString(16).padStart(64, '0') },
      }),
    );
    const e = env();
    timeMs(process.execPath, [bundle, 'report', 'stage', 'STARTED', '--recipe', 'bench', '--pid', '1'], e);
    const file = join(dir, 'reports.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const batchMs = timeMs(process.execPath, [bundle, 'report', 'batch', '--file', file], e);
    const t0 = performance.now();
    for (let i = 0; i < REPORTS; i++)
      timeMs(
        process.execPath,
        [
          bundle,
          'report',
          'gcs',
          '--uri',
          `gs://bench-deps/lib-${i}.tar`,
          '--digest',
          i.toString(16).padStart(64, '0'),
        ],
        e,
      );
    const manyMs = performance.now() - t0;
    console.log(
      `\n${REPORTS.toLocaleString()} reports: ${REPORTS.toLocaleString()} \`provenance report\` processes ${(manyMs / 1000).toFixed(1)} s; one \`report batch\` ${(batchMs / 1000).toFixed(2)} s — batch ${(manyMs / batchMs).toFixed(0)}x faster (aim >= 20x)`,
    );
  } finally {
    await svc.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
