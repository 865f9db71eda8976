// `npm run bench:ui`: what the pages for people cost.
// 1. Time from navigation to the verdict on the artifact page, in headless
//    Chromium (Debian's), for a 20-dependency and a 10,000-dependency task
//    (median of BENCH_UI_RUNS fresh pages each): the whole path (fetch the key
//    set and the envelopes, verify with WebCrypto, render), and within it the
//    part after the bytes arrived (parse + verify) — so the ratio says how much
//    of the wait is the browser's own work;
// 2. the assets' size (raw and gzip) against the issue's 200 KiB limit, and
//    the function archive's growth.
// The service is `npm start` (in-memory store) in its own process.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { startChromium } from '../test/helpers/chromium.js';
import { dependencyReports, npmStart, reporter, waitForProvenance } from '../test/helpers/npm-start.js';

const RUNS = Number(process.env.BENCH_UI_RUNS ?? 7);
const root = join(__dirname, '..', '..');
const LIMIT_KIB = 200;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const dir = join(root, 'dist', 'ui');
  const files = readdirSync(dir).map((f) => ({ name: f, bytes: readFileSync(join(dir, f)) }));
  const raw = files.reduce((n, f) => n + f.bytes.length, 0);
  const gz = files.reduce((n, f) => n + gzipSync(f.bytes, { level: 9 }).length, 0);
  console.log('assets (dist/ui):');
  for (const f of files) console.log(`  ${f.name.padEnd(12)} ${(f.bytes.length / 1024).toFixed(1).padStart(6)} KiB`);
  console.log(
    `  total        ${(raw / 1024).toFixed(1).padStart(6)} KiB raw, ${(gz / 1024).toFixed(1)} KiB gzip; limit ${LIMIT_KIB} KiB (${((raw / (LIMIT_KIB * 1024)) * 100).toFixed(0)}% of it)`,
  );
  const zip = join(root, 'dist', 'function-source.zip');
  try {
    console.log(`  function archive dist/function-source.zip: ${(statSync(zip).size / 1024).toFixed(0)} KiB in all`);
  } catch {
    // npm run package not run: nothing to report
  }

  const svc = await npmStart();
  const chromium = await startChromium();
  try {
    const tasks: [string, number][] = [
      ['20 dependencies', 20],
      ['10,000 dependencies', 10_000],
    ];
    console.log(`\ntime to verdict, headless Chromium, median of ${RUNS} fresh pages:`);
    for (const [label, n] of tasks) {
      const artifact = `bench ui ${n}\n`;
      const hex = createHash('sha256').update(artifact).digest('hex');
      const r = reporter(svc, `bench-ui-${n}`);
      await r.stage('STARTED', { recipe: 'bench.yaml', pid: '1' });
      await r.many(dependencyReports(n, `bench${n}`), 32);
      await r.call('ReportArtifactDigest', { artifact: { gcs: `gs://bench/${n}.tar` }, digest: hex });
      await r.stage('UPLOAD_COMPLETE');
      const envelopeBytes = (await waitForProvenance(svc, hex)).length;
      const total: number[] = [];
      const verify: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const page = await chromium.browser.newPage();
        await page.goto(`${svc.url}/ui/#/artifacts/sha256:${hex}`);
        await page.waitForFunction(() => document.getElementById('main')?.getAttribute('data-state') === 'verified', {
          timeout: 120_000,
        });
        const [t, v] = await page.evaluate(() => {
          const at = (name: string) => performance.getEntriesByName(name)[0]?.startTime ?? Number.NaN;
          return [at('verdict'), at('verdict') - at('fetched')] as const;
        });
        total.push(t);
        verify.push(v);
        await page.close();
      }
      const t = median(total);
      const v = median(verify);
      console.log(
        `  ${label.padEnd(20)} navigation → verdict ${t.toFixed(0).padStart(5)} ms; of it parse + WebCrypto verify ${v.toFixed(0).padStart(4)} ms (${((v / t) * 100).toFixed(0)}%); envelope ${(envelopeBytes / 1024).toFixed(0)} KiB`,
      );
    }
  } finally {
    await chromium.stop();
    await svc.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
