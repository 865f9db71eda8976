// Starts and stops the gcloud Firestore and Pub/Sub emulators on free ports.
// `gcloud emulators … start` is a wrapper around a Java process: it is started
// detached in its own process group and stopped by signalling the whole group,
// so no Java child is left holding the port. Used by npm start and the tests.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface RunningEmulator {
  kind: 'firestore' | 'pubsub';
  /** host:port, the value for FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST. */
  host: string;
  stop(): Promise<void>;
  /** Freeze (SIGSTOP) / thaw (SIGCONT) the whole process group: an outage that keeps the data (tests). */
  pause(): void;
  resume(): void;
}

export function gcloudAvailable(): boolean {
  const r = spawnSync('gcloud', ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const ARGS = {
  firestore: (hostPort: string) => ['emulators', 'firestore', 'start', `--host-port=${hostPort}`, '--quiet'],
  pubsub: (hostPort: string) => ['beta', 'emulators', 'pubsub', 'start', `--host-port=${hostPort}`, '--quiet'],
} as const;

export async function startEmulator(
  kind: 'firestore' | 'pubsub',
  opts: { timeoutMs?: number; project?: string; port?: number } = {},
): Promise<RunningEmulator> {
  const port = opts.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  const args = [...ARGS[kind](host), ...(opts.project ? [`--project=${opts.project}`] : [])];
  const child = spawn('gcloud', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  const stop = () => stopGroup(child, exited);
  try {
    await waitReady(kind, host, exited, opts.timeoutMs ?? 60_000);
  } catch (err) {
    await stop();
    throw new Error(`${kind} emulator did not start on ${host}: ${(err as Error).message}\n${output}`);
  }
  const { pid } = child;
  if (pid === undefined) throw new Error(`${kind} emulator: gcloud has no process id`);
  return {
    kind,
    host,
    stop,
    pause: () => signalGroup(pid, 'SIGSTOP'),
    resume: () => signalGroup(pid, 'SIGCONT'),
  };
}

async function waitReady(kind: string, host: string, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited.then(() => (gone = true));
  while (Date.now() < deadline) {
    if (gone) throw new Error('the gcloud process exited');
    try {
      const res = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not ready after ${timeoutMs} ms (${kind})`);
}

async function stopGroup(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    // The wrapper is gone, but its Java child may not be: signal the group anyway.
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    return;
  }
  const { pid } = child;
  signalGroup(pid, 'SIGCONT'); // a paused group cannot act on SIGTERM
  signalGroup(pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  signalGroup(pid, 'SIGKILL'); // anything of the group still alive
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}
