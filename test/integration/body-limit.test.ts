// Bodies over the limit are refused whole, never cut: one byte under, exactly
// at and one byte over 64 KiB, in JSON, binary and gzip, against npm start's
// server and against the deployed entry module under functions-framework
// (Firestore emulator). Over the limit is resource_exhausted (429) with
// nothing written; at the limit, every SBOM subject is stored.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import type { Server } from 'node:http';
import { Firestore } from '@google-cloud/firestore';
import { DevIssuer, DEV_ISSUER } from '../../functions/adapters/dev-issuer.js';
import { loadConfig } from '../../functions/config.js';
import { localRoutes } from '../../functions/local/routes.js';
import { listen, localServer } from '../../functions/local/server.js';
import { taskKey } from '../../functions/domain/task.js';
import type { TaskStore } from '../../functions/ports/task-store.js';
import { requireEmulator } from '../helpers/emulator-env.js';
import { artifactJson, artifactProto } from '../helpers/sized-bodies.js';
import { captureLogs } from '../helpers/capture-logs.js';
import { serveEntry } from '../helpers/entry-server.js';

const LIMIT = 64 * 1024;
const AUDIENCE = 'http://provenance.test';
const EMAIL = 'builder@example.com';

type Case = { name: string; body: Buffer; contentType: string; gzip?: boolean; ok: boolean };

function cases(): Case[] {
  const out: Case[] = [];
  for (const [label, size, ok] of [
    ['one byte under', LIMIT - 1, true],
    ['exactly at', LIMIT, true],
    ['one byte over', LIMIT + 1, false],
  ] as const) {
    out.push({ name: `JSON ${label} the limit`, body: artifactJson(size), contentType: 'application/json', ok });
    out.push({ name: `binary ${label} the limit`, body: artifactProto(size), contentType: 'application/proto', ok });
    out.push({
      name: `gzip JSON that inflates to ${label} the limit`,
      body: artifactJson(size),
      contentType: 'application/json',
      gzip: true,
      ok,
    });
    out.push({
      name: `gzip binary that inflates to ${label} the limit`,
      body: artifactProto(size),
      contentType: 'application/proto',
      gzip: true,
      ok,
    });
  }
  out.push({
    name: 'JSON with 1,000 SBOM subjects (just over)',
    body: artifactJson(LIMIT + 2000, 1000),
    contentType: 'application/json',
    ok: false,
  });
  out.push({ name: 'a 270 KB JSON body', body: artifactJson(270_000), contentType: 'application/json', ok: false });
  return out;
}

/** Runs every case against a server; `reportsOf(taskId)` counts what was stored for that task. */
function bodyLimitSuite(ctx: () => { url: string; token: string; reportsOf: (taskId: string) => Promise<number> }) {
  cases().forEach((c, i) => {
    it(c.name, async () => {
      const { url, token, reportsOf } = ctx();
      const taskId = `limit-${i}-${c.gzip ? 'gz' : 'id'}`;
      const headers = { authorization: `Bearer ${token}`, 'x-task-id': taskId };
      const started = await fetch(`${url}/provenance.snooperpb.SelfReport/ReportTaskStage`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ taskStage: 'STARTED', recipe: 'limits.yaml', pid: '1' }),
      });
      assert.equal(started.status, 200);
      const res = await fetch(`${url}/provenance.snooperpb.SelfReport/ReportArtifactDigest`, {
        method: 'POST',
        headers: { ...headers, 'content-type': c.contentType, ...(c.gzip ? { 'content-encoding': 'gzip' } : {}) },
        body: new Uint8Array(c.gzip ? gzipSync(c.body) : c.body),
      });
      const text = await res.text();
      if (c.ok) {
        assert.equal(res.status, 200, text);
        assert.equal(await reportsOf(taskId), 1);
      } else {
        assert.equal(res.status, 429, text);
        assert.equal(JSON.parse(text).code, 'resource_exhausted');
        assert.equal(await reportsOf(taskId), 0, 'nothing written');
      }
    });
  });
}

describe('body limit: npm start', () => {
  let server: Server;
  let url: string;
  let token: string;
  let tasks: TaskStore;
  let issuer: DevIssuer;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'limits-'));
    const config = loadConfig({
      AUTH_MODE: 'dev',
      DEV_ISSUER_DIR: dir,
      TASK_STORE: 'memory',
      EVENTS: 'none',
      AUDIENCE,
      REPORTER_ALLOWLIST: EMAIL,
    });
    const routes = await localRoutes(config);
    tasks = routes.stores.tasks;
    server = localServer(routes.routes, {
      requestTimeoutMs: 1500,
      headersTimeoutMs: 1000,
      keepAliveTimeoutMs: 1000,
      maxHeaderBytes: 16 * 1024,
    });
    url = (await listen(server, 0)).replace('localhost', '127.0.0.1');
    issuer = DevIssuer.fromDirectory(dir);
    token = issuer.mint({ audience: AUDIENCE, email: EMAIL });
  });
  after(() => new Promise((r) => server.close(r)));

  bodyLimitSuite(() => ({
    url,
    token,
    reportsOf: async (taskId) =>
      (await tasks.listReports(taskKey({ issuer: DEV_ISSUER, subject: issuer.subjectFor(EMAIL) }, taskId))).length,
  }));

  const rawRequest = (text: string, opts: { holdOpenMs?: number; destroyAfterMs?: number } = {}) =>
    new Promise<{ response: string; ms: number }>((resolve, reject) => {
      const { port } = new URL(url);
      const started = Date.now();
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(text));
      let response = '';
      socket.on('data', (b) => (response += b.toString()));
      socket.on('close', () => resolve({ response, ms: Date.now() - started }));
      socket.on('error', reject);
      if (opts.destroyAfterMs !== undefined) setTimeout(() => socket.destroy(), opts.destroyAfterMs);
    });

  it('a slow body times out with a Connect error body instead of holding the connection', async () => {
    const head = `POST /provenance.snooperpb.SelfReport/ReportGit HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer ${token}\r\nx-task-id: slow\r\ncontent-length: 1000\r\n\r\n{"gitReport":`;
    const { response, ms } = await rawRequest(head);
    assert.match(response, /^HTTP\/1.1 408/);
    assert.match(response, /"code":"deadline_exceeded"/);
    assert.ok(ms < 10_000, `held for ${ms} ms`);
  });

  it('oversized headers get 431 with a Connect error body', async () => {
    const { response } = await rawRequest(
      `POST /provenance.snooperpb.SelfReport/ReportGit HTTP/1.1\r\nhost: x\r\nx-padding: ${'p'.repeat(20_000)}\r\n\r\n`,
    );
    assert.match(response, /^HTTP\/1.1 431/);
    assert.deepEqual(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)), {
      code: 'resource_exhausted',
      message: 'request headers are larger than 16384 bytes',
    });
  });

  it('a client that goes away mid-body is one structured log line, no stack trace, no token', async () => {
    const logs = captureLogs();
    try {
      const head = `POST /provenance.snooperpb.SelfReport/ReportGit HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer ${token}\r\nx-task-id: gone\r\ncontent-length: 1000\r\n\r\n{"gitReport":`;
      await rawRequest(head, { destroyAfterMs: 100 });
      // Wait for the server's line (an event), then a little more for any second line it should not write.
      for (const until = Date.now() + 5_000; logs.lines().length === 0 && Date.now() < until; )
        await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      logs.restore();
    }
    const lines = logs.lines();
    assert.equal(lines.length, 1, lines.join('\n'));
    const entry = JSON.parse(lines[0]!);
    assert.equal(entry.message, 'client closed the request before it was answered');
    assert.ok(!lines[0]!.includes('    at '), 'no stack trace');
    assert.ok(!lines[0]!.includes(token.slice(-20)), 'no token');
  });
});

describe('body limit: deployed selfReport (functions-framework, Firestore emulator)', () => {
  let entry: Awaited<ReturnType<typeof serveEntry>>;
  let url: string;
  let token: string;
  let db: Firestore;
  let issuer: DevIssuer;
  const projectId = `limits-${process.pid}`;
  before(async () => {
    requireEmulator('FIRESTORE_EMULATOR_HOST');
    const dir = mkdtempSync(join(tmpdir(), 'limits-ff-'));
    Object.assign(process.env, {
      AUTH_MODE: 'dev',
      DEV_ISSUER_DIR: dir,
      TASK_STORE: 'firestore',
      EVENTS: 'none',
      GOOGLE_CLOUD_PROJECT: projectId,
      AUDIENCE,
      REPORTER_ALLOWLIST: EMAIL,
    });
    issuer = DevIssuer.fromDirectory(dir);
    token = issuer.mint({ audience: AUDIENCE, email: EMAIL });
    entry = await serveEntry('selfReport', () => import('../../functions/entry/self-report.js'));
    url = entry.url;
    db = new Firestore({ projectId });
  });
  after(async () => {
    await entry.close();
    await db.terminate();
  });

  bodyLimitSuite(() => ({
    url,
    token,
    reportsOf: async (taskId) =>
      (
        await db
          .collection('tasks')
          .doc(taskKey({ issuer: DEV_ISSUER, subject: issuer.subjectFor(EMAIL) }, taskId))
          .collection('reports')
          .get()
      ).size,
  }));
});
