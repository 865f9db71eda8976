// One read-path measurement in a process of its own, so its peak memory is the
// read API's: serves provenanceApi (as deployed: built from the environment,
// Firestore) on a loopback port, GETs and HEADs the given routes, reading each
// answer as it streams and discarding it, and prints one JSON line of figures.
// Mode `joined` instead does what the read API did before answers were
// streamed: every envelope read whole, parsed and serialized again.
import { loadConfig } from '../functions/config.js';
import { buildProvenanceApi, createStores } from '../functions/app/compose.js';
import { localServer, listen } from '../functions/local/server.js';

async function main(): Promise<void> {
  const [mode, digest, ...paths] = process.argv.slice(2);
  if (!digest) throw new Error('usage: serve-worker.js stream|joined <sha256> <path>...');
  const config = loadConfig();
  const stores = await createStores(config);
  await stores.tasks.getTask('0'.repeat(40)); // open the Firestore channel before measuring
  global.gc?.();
  const baselineRssMb = process.memoryUsage().rss / 2 ** 20;
  const routes: { path: string; ms: number; bytes: number; headLength: string | null }[] = [];
  if (mode === 'joined') {
    const start = performance.now();
    const envelopes = await stores.provenance.envelopesForSubject(digest);
    const body = envelopes.map((e) => `${JSON.stringify(e)}\n`).join('');
    routes.push({
      path: 'envelopesForSubject, joined',
      ms: performance.now() - start,
      bytes: body.length,
      headLength: null,
    });
  } else {
    const handler = await buildProvenanceApi(config, { stores });
    const server = localServer([{ prefix: '/v1/', handler }]);
    const base = (await listen(server, 0)).replace('localhost', '127.0.0.1');
    try {
      for (const path of paths) {
        const start = performance.now();
        const res = await fetch(base + path);
        let bytes = 0;
        const reader = res.body?.getReader();
        for (;;) {
          const chunk = await reader?.read();
          if (!chunk || chunk.done) break;
          bytes += chunk.value.byteLength;
        }
        const ms = performance.now() - start;
        const head = await fetch(base + path, { method: 'HEAD' });
        if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
        routes.push({ path, ms, bytes, headLength: head.headers.get('content-length') });
      }
    } finally {
      server.close();
    }
  }
  const figures = JSON.stringify({ routes, baselineRssMb, peakRssMb: process.resourceUsage().maxRSS / 1024 });
  process.stdout.write(`\n${figures}\n`, () => process.exit(0));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
