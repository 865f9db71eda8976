// `npm start` as a child process on a free port (the in-memory store, the
// local signing key and dev issuer in a fresh folder), and a reporter that
// sends reports to it over HTTP. Stopped by its PID. Used by the browser test
// and bench/ui.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevIssuer } from '../../functions/adapters/dev-issuer.js';
import { freePort } from '../../functions/local/emulators.js';

const root = join(__dirname, '..', '..', '..');
export const REPORTER_EMAIL = 'builder@dev.provenance.local';

export interface NpmStart {
  url: string;
  /** The dev issuer's and the local signing key's folder. */
  dir: string;
  token: string;
  stop(): Promise<void>;
}

export async function npmStart(env: Record<string, string> = {}): Promise<NpmStart> {
  const dir = mkdtempSync(join(tmpdir(), 'npm-start-'));
  const port = await freePort();
  const audience = `http://localhost:${port}`;
  const child: ChildProcess = spawn(process.execPath, [join(root, 'dist', 'functions', 'local', 'start.js')], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      TASK_STORE: 'memory',
      EVENTS: 'in-process',
      READ_ACCESS: 'public',
      AUTH_MODE: 'dev',
      DEV_ISSUER_DIR: dir,
      AUDIENCE: audience,
      METADATA_SERVER_DETECTION: 'none',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not listen within 30 s:\n${output}`)), 30_000);
    const onData = (b: Buffer) => {
      output += b.toString();
      if (output.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (b: Buffer) => {
      output += b.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code}):\n${output}`));
    });
  });
  const token = DevIssuer.fromDirectory(dir).mint({ audience, email: REPORTER_EMAIL });
  return {
    url: `http://localhost:${port}`,
    dir,
    token,
    async stop() {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
      await exited;
    },
  };
}

/** Sends SelfReport calls for one task (Connect JSON over HTTP, as a build step does). */
export function reporter(svc: NpmStart, taskId: string) {
  const call = async (method: string, body: unknown): Promise<void> => {
    const res = await fetch(`${svc.url}/provenance.snooperpb.SelfReport/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${svc.token}`, 'x-task-id': taskId, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`${method}: ${res.status} ${await res.text()}`);
  };
  return {
    call,
    stage: (taskStage: string, extra: Record<string, unknown> = {}) => call('ReportTaskStage', { taskStage, ...extra }),
    /** Many calls, `concurrency` at a time. */
    async many(calls: [string, unknown][], concurrency = 16): Promise<void> {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < calls.length) {
            const [method, body] = calls[next++] as [string, unknown];
            await call(method, body);
          }
        }),
      );
    },
  };
}

/** `n` resolved dependencies, a third each git, CIPD and GCS, all distinct. */
export function dependencyReports(n: number, prefix = 'dep'): [string, unknown][] {
  return Array.from({ length: n }, (_, i): [string, unknown] => {
    const hex = (i + 1).toString(16).padStart(40, '0');
    if (i % 3 === 0)
      return [
        'ReportGit',
        { gitReport: { repo: `https://github.com/example/${prefix}-${i}`, commit: hex, refs: 'refs/heads/main' } },
      ];
    if (i % 3 === 1)
      return [
        'ReportCipd',
        {
          cipdReport: {
            packageName: `example/${prefix}/pkg-${i}`,
            iid: hex,
            tags: [{ key: 'version', value: `1.${i}` }],
          },
        },
      ];
    return [
      'ReportGcs',
      { gcsReport: { gcsUri: `gs://example-deps/${prefix}-${i}.tar`, digest: hex.padEnd(64, 'a') } },
    ];
  });
}

/** Polls until the artifact has provenance (assembly is asynchronous). */
export async function waitForProvenance(svc: NpmStart, hex: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${svc.url}/v1/artifacts/sha256:${hex}/provenance`);
    if (res.status === 200) return res.text();
    if (Date.now() > deadline) throw new Error(`no provenance for sha256:${hex}: ${res.status} ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
