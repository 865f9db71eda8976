// `provenance run` as a separate process against the local server: the
// command starts only after STARTED was answered (a step whose first action
// is a report gets provenance, even when STARTED is slow), STARTED carries the
// command's own pid, every stop signal reaches the command, and the command
// is never left running when `run` dies (even by SIGKILL).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listen } from '../../functions/local/server.js';
import { DEV_DEFAULT_EMAIL } from '../../functions/adapters/dev-issuer.js';
import type { TaskStore } from '../../functions/ports/task-store.js';
import type { ProvenanceStore } from '../../functions/ports/provenance-store.js';
import { AUDIENCE, type ServedLocally, serveLocally } from '../helpers/local-service.js';

const bin = join(__dirname, '..', '..', '..', 'bin', 'provenance.js');

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<Ran> } {
  let child!: ChildProcess;
  const done = new Promise<Ran>((resolve) => {
    child = execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, PROVENANCE_TOKEN: undefined, BUILD_ID: undefined, ...env }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number }).code ?? null) : 0,
          signal: err ? ((err as { signal?: NodeJS.Signals }).signal ?? null) : null,
          stdout,
          stderr,
        }),
    );
  });
  return { child, done };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, probe: () => T | undefined, tries = 300): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = probe();
    if (v !== undefined) return v;
    await sleep(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const fileText = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').trim() || undefined : undefined);

describe('provenance run against the local server', () => {
  let service: ServedLocally;
  let url: string;
  let tasks: TaskStore;
  let provenance: ProvenanceStore;
  let env: Record<string, string>;
  // A proxy in front of the service that holds STARTED back (delayMs) and tells when it arrived.
  let proxy: Server;
  let proxyUrl: string;
  let delayMs = 0;
  let onStarted: (() => void) | undefined;

  before(async () => {
    service = await serveLocally();
    ({ url } = service);
    tasks = service.routes.stores.tasks;
    provenance = service.routes.stores.provenance;
    env = { PROVENANCE_URL: url, PROVENANCE_AUDIENCE: AUDIENCE, DEV_ISSUER_DIR: service.devDir };
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks);
        if (req.url?.endsWith('/ReportTaskStage') && body.toString().includes('"STARTED"')) {
          onStarted?.();
          await sleep(delayMs);
        }
        const r = await fetch(new URL(req.url!, url), {
          method: req.method,
          headers: req.headers as Record<string, string>,
          body,
        });
        res
          .writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' })
          .end(Buffer.from(await r.arrayBuffer()));
      });
    });
    proxyUrl = (await listen(proxy, 0)).replace('localhost', '127.0.0.1');
  });
  after(async () => {
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
    await service.close();
  });

  const taskOf = async (id: string) => (await tasks.findTasks(id, DEV_DEFAULT_EMAIL))[0];

  it("a step whose first action is a report gets provenance naming its artifact, even when STARTED's answer is slow", async () => {
    delayMs = 700;
    const dir = mkdtempSync(join(tmpdir(), 'run-first-'));
    writeFileSync(join(dir, 'app.tar'), 'built first thing\n');
    const digest = createHash('sha256').update('built first thing\n').digest('hex');
    const step = `"${process.execPath}" "${bin}" report artifact --file ${dir}/app.tar --gcs gs://example-out/app.tar`;
    const r = await start(['run', '--task', 'first-report', '--', 'sh', '-c', step], {
      ...env,
      PROVENANCE_URL: proxyUrl,
    }).done;
    delayMs = 0;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const task = await taskOf('first-report');
    assert.equal(task?.state, 'COMPLETE');
    assert.ok(task?.stageTimes.UPLOAD_COMPLETE);
    let record = await provenance.get(task!.key);
    for (const until = Date.now() + 30_000; record?.state !== 'signed' && Date.now() < until; ) {
      await sleep(50);
      record = await provenance.get(task!.key);
    }
    assert.equal(record?.state, 'signed');
    assert.deepEqual(record?.subjects, [digest]);
  });

  it('STARTED carries the pid of the command itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-pid-'));
    const r = await start(['run', '--task', 'own-pid', '--', 'sh', '-c', `echo $$ > ${dir}/pid`], env).done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await taskOf('own-pid'))?.pid, Number(readFileSync(join(dir, 'pid'), 'utf8')));
  });

  for (const sig of ['SIGHUP', 'SIGQUIT', 'SIGINT', 'SIGTERM'] as const) {
    it(`forwards ${sig} to the command, passes its exit code through, and leaves no process behind`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'run-sig-'));
      const name = sig.slice(3);
      const script = `trap 'echo ${name} > ${dir}/got; exit 7' ${name}; echo $$ > ${dir}/pid; while :; do sleep 0.1; done`;
      const { child, done } = start(['run', '--task', `sig-${name}`, '--', 'sh', '-c', script], env);
      const pid = Number(await until('the command to start', () => fileText(join(dir, 'pid'))));
      try {
        child.kill(sig);
        const r = await done;
        assert.equal(r.code, 7, r.stderr);
        assert.equal(fileText(join(dir, 'got')), name, 'the command got the signal');
        await until('the command to be gone', () => (alive(pid) ? undefined : true), 100);
        assert.equal((await taskOf(`sig-${name}`))?.state, 'COMPLETE');
      } finally {
        if (alive(pid)) process.kill(pid, 'SIGKILL'); // a failed run must not leave it looping
      }
    });
  }

  it('a stop signal while STARTED is in flight: the command never starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-early-'));
    delayMs = 1500;
    const arrived = new Promise<void>((r) => (onStarted = r));
    const { child, done } = start(['run', '--task', 'early-stop', '--', 'sh', '-c', `touch ${dir}/ran`], {
      ...env,
      PROVENANCE_URL: proxyUrl,
    });
    await arrived;
    onStarted = undefined;
    child.kill('SIGTERM');
    const r = await done;
    delayMs = 0;
    assert.equal(r.code, 143, r.stderr);
    assert.ok(!existsSync(join(dir, 'ran')), 'the command did not run');
  });

  it('run killed with SIGKILL: its watchdog stops the command (SIGTERM), nothing is orphaned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-kill-'));
    const script = `trap 'echo TERM > ${dir}/got; exit 0' TERM; echo $$ > ${dir}/pid; while :; do sleep 0.1; done`;
    const { child, done } = start(['run', '--task', 'hard-kill', '--', 'sh', '-c', script], env);
    const pid = Number(await until('the command to start', () => fileText(join(dir, 'pid'))));
    try {
      child.kill('SIGKILL');
      const r = await done;
      assert.equal(r.signal, 'SIGKILL');
      await until('the command to be stopped', () => (alive(pid) ? undefined : true));
      assert.equal(fileText(join(dir, 'got')), 'TERM', 'the command was sent SIGTERM');
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('a command that cannot be found: exit 127, and no task is started', async () => {
    const r = await start(['run', '--task', 'no-such', '--', 'no-such-command-xyz'], env).done;
    assert.equal(r.code, 127);
    assert.match(r.stderr, /run: cannot start "no-such-command-xyz": not found on PATH/);
    assert.equal(await taskOf('no-such'), undefined);
  });
});
