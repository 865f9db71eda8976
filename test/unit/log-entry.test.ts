// Log lines as the deployed functions write them: the `selfReport` entry
// module under functions-framework's own test server, over real HTTP, on the
// in-memory store (no emulator), with each trace header; and the
// `assembleProvenance` entry with a CloudEvent carrying a traceparent.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevIssuer } from '../../functions/adapters/dev-issuer.js';
import { log, SAMPLED_FIELD, SPAN_FIELD, TRACE_FIELD } from '../../functions/log.js';
import { jsonResponse } from '../../functions/api/http.js';
import { listen, localServer } from '../../functions/local/server.js';
import { captureLogs } from '../helpers/capture-logs.js';
import { serveEntry } from '../helpers/entry-server.js';

const AUDIENCE = 'http://provenance.test';
const PROJECT = 'log-shape';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const CLOUD_TRACE = '105445aa7843bc8bf206b12000100000';

type Line = Record<string, unknown>;

describe('log lines of the deployed entry points (functions-framework, in-memory store)', () => {
  const saved = { ...process.env };
  let selfReport: Awaited<ReturnType<typeof serveEntry>>;
  let assemble: Awaited<ReturnType<typeof serveEntry>>;
  let token: string;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-entry-'));
    delete process.env.K_SERVICE;
    delete process.env.FUNCTION_TARGET;
    delete process.env.GCLOUD_PROJECT;
    Object.assign(process.env, {
      AUTH_MODE: 'dev',
      DEV_ISSUER_DIR: dir,
      TASK_STORE: 'memory',
      EVENTS: 'none',
      GOOGLE_CLOUD_PROJECT: PROJECT,
      AUDIENCE,
      REPORTER_ALLOWLIST: 'builder@example.com',
    });
    token = DevIssuer.fromDirectory(dir).mint({ audience: AUDIENCE, email: 'builder@example.com' });
    selfReport = await serveEntry('selfReport', () => import('../../functions/entry/self-report.js'));
    assemble = await serveEntry('assembleProvenance', () => import('../../functions/entry/assemble-provenance.js'));
  });
  after(async () => {
    await selfReport.close();
    await assemble.close();
    process.env = saved;
  });

  /** POSTs one STARTED report with these extra headers; answers its status. */
  async function postStarted(taskId: string, headers: Record<string, string>): Promise<number> {
    const res = await fetch(`${selfReport.url}/provenance.snooperpb.SelfReport/ReportTaskStage`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'x-task-id': taskId,
        ...headers,
      },
      body: JSON.stringify({ taskStage: 'STARTED', recipe: 'make', pid: '42' }),
    });
    await res.arrayBuffer();
    return res.status;
  }

  /** The lines logged while `send` runs (no token among them), parsed. */
  async function linesOf(send: () => Promise<number[]>): Promise<Line[]> {
    const logs = captureLogs();
    let statuses: number[];
    try {
      statuses = await send();
    } finally {
      logs.restore();
    }
    for (const status of statuses) assert.equal(status, 200);
    const text = logs.lines().join('\n');
    assert.equal(text.includes(token.split('.')[2] as string), false, 'no token');
    return logs.lines().map((l) => JSON.parse(l) as Line);
  }

  const started = (taskId: string, headers: Record<string, string>) =>
    linesOf(async () => [await postStarted(taskId, headers)]);

  const stageLine = (lines: Line[]) => {
    const line = lines.find((l) => l.message === 'task stage STARTED reported');
    assert.ok(line, JSON.stringify(lines));
    return line;
  };

  it('traceparent: trace, span and sampled on the line, with the function and the task', async () => {
    const line = stageLine(await started('log-1', { traceparent: `00-${TRACE}-${SPAN}-01` }));
    assert.equal(line.severity, 'INFO');
    assert.equal(line.function, 'selfReport');
    assert.equal(line.taskId, 'log-1');
    assert.match(line.taskKey as string, /^[0-9a-f]{40}$/);
    assert.equal(line.state, 'STARTED');
    assert.equal(line[TRACE_FIELD], `projects/${PROJECT}/traces/${TRACE}`);
    assert.equal(line[SPAN_FIELD], SPAN);
    assert.equal(line[SAMPLED_FIELD], true);
  });

  it('X-Cloud-Trace-Context: the decimal span id as 16 hex digits', async () => {
    const line = stageLine(await started('log-2', { 'x-cloud-trace-context': `${CLOUD_TRACE}/255;o=0` }));
    assert.equal(line[TRACE_FIELD], `projects/${PROJECT}/traces/${CLOUD_TRACE}`);
    assert.equal(line[SPAN_FIELD], '00000000000000ff');
    assert.equal(line[SAMPLED_FIELD], false);
    assert.equal(line.taskId, 'log-2');
  });

  it('both headers: traceparent wins', async () => {
    const line = stageLine(
      await started('log-3', {
        traceparent: `00-${TRACE}-${SPAN}-00`,
        'x-cloud-trace-context': `${CLOUD_TRACE}/1;o=1`,
      }),
    );
    assert.equal(line[TRACE_FIELD], `projects/${PROJECT}/traces/${TRACE}`);
    assert.equal(line[SPAN_FIELD], SPAN);
    assert.equal(line[SAMPLED_FIELD], false);
  });

  it('no header, or a malformed one: no trace fields, and nothing of the header on the line', async () => {
    for (const headers of <Record<string, string>[]>[
      {},
      { traceparent: `00-${'0'.repeat(32)}-${SPAN}-01` },
      { 'x-cloud-trace-context': `${CLOUD_TRACE}/99999999999999999999;o=1` },
    ]) {
      const line = stageLine(await started('log-4', headers));
      assert.equal(TRACE_FIELD in line, false, JSON.stringify(headers));
      assert.equal(SPAN_FIELD in line, false);
      assert.equal(JSON.stringify(line).includes('99999999999999999999'), false);
      assert.equal(line.taskId, 'log-4');
    }
  });

  it('requests in flight at once keep their own trace and task', async () => {
    const traces = ['1', '2', '3', '4'].map((d) => d.repeat(32));
    const lines = await linesOf(() =>
      Promise.all(traces.map((t, i) => postStarted(`par-${i}`, { traceparent: `00-${t}-${SPAN}-01` }))),
    );
    const stage = lines.filter((l) => l.message === 'task stage STARTED reported');
    assert.equal(stage.length, traces.length);
    assert.deepEqual(stage.map((l) => l.taskId).sort(), ['par-0', 'par-1', 'par-2', 'par-3']);
    for (const line of stage) {
      const i = Number((line.taskId as string).slice('par-'.length));
      assert.equal(line[TRACE_FIELD], `projects/${PROJECT}/traces/${traces[i]}`);
    }
  });

  it('assembleProvenance: the CloudEvent traceparent and the task key on its line', async () => {
    const taskKey = 'a'.repeat(40);
    const logs = captureLogs();
    let status: number;
    try {
      const res = await fetch(assemble.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': 'm-1',
          'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
          'ce-source': '//pubsub.googleapis.com/projects/test/topics/upload-complete',
          'ce-traceparent': `00-${TRACE}-${SPAN}-01`,
        },
        body: JSON.stringify({
          message: { data: Buffer.from(JSON.stringify({ taskKey })).toString('base64'), messageId: 'm-1' },
          subscription: 'projects/test/subscriptions/assembler',
        }),
      });
      status = res.status;
      await res.arrayBuffer();
    } finally {
      logs.restore();
    }
    assert.equal(status, 204);
    const lines = logs.lines().map((l) => JSON.parse(l) as Line);
    const line = lines.find((l) => l.message === 'provenance ignored');
    assert.ok(line, JSON.stringify(lines));
    assert.equal(line.severity, 'WARNING');
    assert.equal(line.function, 'assembleProvenance');
    assert.equal(line.taskKey, taskKey);
    assert.equal(line[TRACE_FIELD], `projects/${PROJECT}/traces/${TRACE}`);
    assert.equal(line[SPAN_FIELD], SPAN);
    assert.equal('@type' in line, false);
  });

  it("npm start's local server: the request's trace on what its handlers log", async () => {
    const server = localServer([
      {
        prefix: '/',
        handler: () => {
          log('INFO', 'handled');
          return jsonResponse(200, {});
        },
      },
    ]);
    const url = await listen(server, 0);
    const logs = captureLogs();
    try {
      const res = await fetch(`${url}/v1/x`, { headers: { 'x-cloud-trace-context': `${CLOUD_TRACE}/16;o=1` } });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    } finally {
      logs.restore();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    const line = logs
      .lines()
      .map((l) => JSON.parse(l) as Line)
      .find((l) => l.message === 'handled');
    assert.ok(line);
    assert.equal(line.function, 'provenance-local');
    assert.equal(line[TRACE_FIELD], `projects/${PROJECT}/traces/${CLOUD_TRACE}`);
    assert.equal(line[SPAN_FIELD], '0000000000000010');
  });
});
