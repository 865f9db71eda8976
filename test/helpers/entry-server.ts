// A deployed entry point under functions-framework's own test server, on a
// free loopback port: the module registers its function on import, the way
// the buildpack's functions-framework loads it.
import type { Server } from 'node:http';

export async function serveEntry(
  target: string,
  load: () => Promise<unknown>,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  await load();
  const { getTestServer } = await import('@google-cloud/functions-framework/testing');
  const server = getTestServer(target);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { server, url, close: () => new Promise((r) => server.close(() => r())) };
}
