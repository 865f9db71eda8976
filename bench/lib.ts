// Shared bench plumbing: run a server script in a child process, load it with
// autocannon from this one, and print figures.
import { spawn, type ChildProcess } from 'node:child_process';
import autocannon from 'autocannon';

export interface Running {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startServer(script: string, env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    stop: () =>
      new Promise((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
}

export async function load(opts: autocannon.Options): Promise<LoadResult> {
  const r = await autocannon({ connections: 32, duration: 8, ...opts });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
    total: r.requests.total,
  };
}

export const fmt = (r: LoadResult) =>
  `${r.rps.toFixed(0).padStart(6)} req/s   p50 ${String(r.p50).padStart(3)} ms   p99 ${String(r.p99).padStart(3)} ms   (${r.total} requests, ${r.non2xx} non-2xx, ${r.errors} errors)`;

/**
 * Runs a worker script (with --expose-gc, so it can measure retained heap) in
 * a process of its own and resolves with the last stdout line that starts
 * with `marker`, parsed: the worker's figures.
 */
export function runFiguresWorker<T>(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  marker: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', script, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) => {
      const line = out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith(marker))
        .pop();
      if (code !== 0 || !line) reject(new Error(`${script} exited ${code}: ${out.slice(-2000)}`));
      else resolve(JSON.parse(line) as T);
    });
  });
}
