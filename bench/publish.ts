// `npm run bench:publish`: one task's signed provenance published to 1,000 OCI
// images on a local registry (Debian's docker-registry, started here) and
// 1,000 GCS objects on the local GCS-API stand-in (test/helpers/gcs-server.ts:
// no real GCS-API server runs here), against the same with 10 of each: time to
// publish all, the assembler's peak memory growth over its baseline (in a
// process of its own; the aim is growth independent of the number of subjects
// beyond the statement, < 50 MiB at 1,000), requests per subject, and the same
// for a retry (everything already published). Prints figures; never passes or
// fails on time.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushImage, startRegistry } from '../test/helpers/registry.js';
import { GcsStandIn } from '../test/helpers/gcs-server.js';
import type { PublishInput } from './publish-worker.js';

const SIZES = (process.env.BENCH_PUBLISH_SIZES ?? '10,1000').split(',').map(Number);
const CONCURRENCY = 8;

interface Figures {
  subjects: number;
  gcsSubjects: number;
  gcsRequests: number;
  gcsRetryRequests: number;
  states: Record<string, number>;
  retryStates: Record<string, number>;
  ms: number;
  retryMs: number;
  requests: number;
  retryRequests: number;
  envelopeBytes: number;
  baselineRssMb: number;
  rssGrowthMb: number;
  heapGrowthMb: number;
  retainedHeapMb: number;
  failures: string[];
}

function runWorker(input: PublishInput, gcs: GcsStandIn): Promise<Figures> {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-publish-')), 'input.json');
  writeFileSync(file, JSON.stringify(input));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', join(__dirname, 'publish-worker.js'), file], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    const before = gcs.requests.length;
    let firstDone = before;
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (firstDone === before && out.includes('first-done\n')) {
        firstDone = gcs.requests.length;
        child.stdin.write('go\n');
      }
    });
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`worker exited with ${code}: ${out}`));
      else
        resolve({
          ...(JSON.parse(line) as Figures),
          gcsRequests: firstDone - before,
          gcsRetryRequests: gcs.requests.length - firstDone,
        });
    });
  });
}

async function main(): Promise<void> {
  const registry = await startRegistry();
  const gcs = await GcsStandIn.start(['bench-releases']);
  try {
    const max = Math.max(...SIZES);
    const images: PublishInput['images'] = new Array(max);
    const t0 = performance.now();
    // 20 repositories, each pushed to in sequence (parallel pushes of one shared blob into one repository race).
    const REPOS = 20;
    await Promise.all(
      Array.from({ length: REPOS }, async (_, r) => {
        for (let i = r; i < max; i += REPOS) {
          const name = `bench/app${r}`;
          images[i] = { image: `${registry.host}/${name}`, digest: await pushImage(registry.host, name, `v${i}`) };
        }
      }),
    );
    console.log(`pushed ${images.length} images in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const results: Figures[] = [];
    for (const n of SIZES) {
      const f = await runWorker(
        {
          registry: registry.host,
          images: images.slice(0, n),
          gcs: { url: gcs.url, bucket: 'bench-releases', objects: n },
          concurrency: CONCURRENCY,
        },
        gcs,
      );
      results.push(f);
      console.log(
        `${String(n).padStart(5)} OCI + ${n} GCS subjects: ${(f.ms / 1000).toFixed(2)} s (${(f.ms / (2 * n)).toFixed(1)} ms/subject, concurrency ${CONCURRENCY}), ` +
          `requests/subject: OCI ${(f.requests / n).toFixed(1)}, GCS ${(f.gcsRequests / n).toFixed(1)}; states ${JSON.stringify(f.states)}; ` +
          `retry ${(f.retryMs / 1000).toFixed(2)} s, requests/subject: OCI ${(f.retryRequests / n).toFixed(1)}, GCS ${(f.gcsRetryRequests / n).toFixed(1)} ${JSON.stringify(f.retryStates)}; ` +
          `envelope ${(f.envelopeBytes / 1024).toFixed(0)} KiB, RSS ${f.baselineRssMb.toFixed(0)} MiB + ${f.rssGrowthMb.toFixed(1)} MiB peak growth, heap +${f.heapGrowthMb.toFixed(1)} MiB (+${f.retainedHeapMb.toFixed(1)} MiB retained after)`,
      );
      if (f.failures.length) console.log(`  failures: ${f.failures.join(' | ')}`);
    }
    const [small, large] = [results[0]!, results[results.length - 1]!];
    console.log(
      `growth ${small.subjects}+${small.gcsSubjects} → ${large.subjects}+${large.gcsSubjects} subjects: RSS +${small.rssGrowthMb.toFixed(1)} → +${large.rssGrowthMb.toFixed(1)} MiB ` +
        `(envelope ${(small.envelopeBytes / 1024).toFixed(0)} → ${(large.envelopeBytes / 1024).toFixed(0)} KiB); aim: < 50 MiB at 1,000`,
    );
  } finally {
    await gcs.close();
    await registry.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
