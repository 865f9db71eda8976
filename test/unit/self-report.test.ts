// The selfReport handler end to end, called as a function over the in-memory
// store: authentication, task binding, stage rules, protocol edges.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { create, toBinary } from '@bufbuild/protobuf';
import { gzipSync } from 'node:zlib';
import { fetchHeaders } from '../../functions/api/http.js';
import { MemoryTaskStore } from '../../functions/adapters/memory-task-store.js';
import { taskKey } from '../../functions/domain/task.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { inWindow } from '../../functions/provenance/statement.js';
import { captureLogs } from '../helpers/capture-logs.js';
import { DEV_ISSUER, DevIssuer } from '../../functions/adapters/dev-issuer.js';
import { ReportGitRequestSchema } from '../../functions/gen/provenance/snooperpb/report_pb.js';
import { AUDIENCE, REPORTER, selfReportHarness, STARTED, SHA, COMMIT } from '../helpers/self-report-client.js';

const gitBody = { gitReport: { repo: 'https://github.com/example/repo', commit: COMMIT, refs: 'refs/heads/main' } };

describe('authentication', () => {
  const cases: [string, (h: ReturnType<typeof selfReportHarness>) => string | null, number, RegExp][] = [
    ['no token', () => null, 401, /Authorization/],
    ['not a JWT', () => 'abc.def', 401, /well-formed/],
    [
      'signed by another key',
      () => DevIssuer.ephemeral().mint({ audience: AUDIENCE, email: REPORTER }),
      401,
      /does not trust/,
    ],
    [
      'expired',
      (h) =>
        h.issuer.mint({
          audience: AUDIENCE,
          email: REPORTER,
          issuedAt: Math.floor(Date.now() / 1000) - 7200,
          lifetimeSeconds: 3600,
        }),
      401,
      /expired/,
    ],
    [
      'wrong audience',
      (h) => h.issuer.mint({ audience: 'https://elsewhere.example', email: REPORTER }),
      401,
      /audience/,
    ],
    [
      'wrong issuer',
      (h) => h.issuer.mint({ audience: AUDIENCE, email: REPORTER, issuer: 'https://evil.example' }),
      401,
      /issuer/,
    ],
    [
      'email not verified',
      (h) => h.issuer.mint({ audience: AUDIENCE, email: REPORTER, emailVerified: false }),
      401,
      /not verified/,
    ],
    [
      'email not on the allowlist',
      (h) => h.issuer.mint({ audience: AUDIENCE, email: 'intruder@example.com' }),
      403,
      /allowlist/,
    ],
    [
      'tampered payload',
      (h) => {
        const [hd, , sig] = h.token().split('.');
        const forged = Buffer.from(
          JSON.stringify({
            iss: DEV_ISSUER,
            aud: AUDIENCE,
            sub: 'x',
            email: REPORTER,
            email_verified: true,
            iat: 1,
            exp: 9e9,
          }),
        ).toString('base64url');
        return `${hd}.${forged}.${sig}`;
      },
      401,
      /signature|lifetime/,
    ],
  ];
  for (const [name, token, status, message] of cases) {
    it(`${name}: ${status}, nothing written`, async () => {
      const store = new MemoryTaskStore();
      const h = selfReportHarness({ store });
      for (const [method, body] of [
        ['ReportTaskStage', STARTED],
        ['ReportGit', gitBody],
      ] as const) {
        const r = await h.call(method, body, { token: token(h) });
        assert.equal(r.status, status, JSON.stringify(r.json));
        assert.equal(r.json.code, status === 401 ? 'unauthenticated' : 'permission_denied');
        assert.match(r.json.message, message);
      }
      assert.equal(store.size(), 0);
      assert.equal(store.ops.writes, 0);
    });
  }
});

describe('tokens never reach a log or an answer', () => {
  it('keeps every token out of logs and error bodies, whatever fails', async () => {
    const logs = captureLogs();
    const seen: string[] = [];
    try {
      const failing = new MemoryTaskStore();
      failing.addReport = () => Promise.reject(new Error('disk on fire'));
      const h = selfReportHarness({ store: failing });
      const tokens = [
        h.token(),
        h.issuer.mint({ audience: AUDIENCE, email: REPORTER, issuedAt: Math.floor(Date.now() / 1000) - 7200 }),
        h.issuer.mint({ audience: 'https://elsewhere.example', email: REPORTER }),
        DevIssuer.ephemeral().mint({ audience: AUDIENCE, email: REPORTER }),
        h.issuer.mint({ audience: AUDIENCE, email: REPORTER, lifetimeSeconds: 7200 }),
        `not-a-jwt.${'x'.repeat(300)}`,
      ];
      for (const token of tokens) {
        const r = await h.call('ReportGit', gitBody, { token });
        seen.push(JSON.stringify(r.json));
      }
      const bad = await h.call('ReportGit', gitBody);
      assert.equal(bad.status, 500); // the store failed: internal, logged
      seen.push(JSON.stringify(bad.json));
      const secrets = tokens.map((t) => t.split('.').pop()!.slice(-40));
      for (const text of [...seen, ...logs.lines()])
        for (const secret of secrets) assert.ok(!text.includes(secret), `a token leaked: ${text.slice(0, 200)}`);
      assert.ok(
        logs.lines().some((l) => l.includes('disk on fire')),
        'the internal error itself is logged',
      );
    } finally {
      logs.restore();
    }
  });
});

describe('task binding', () => {
  it('requires X-Task-Id', async () => {
    const h = selfReportHarness();
    const r = await h.call('ReportTaskStage', STARTED, { taskId: null });
    assert.equal(r.status, 400);
    assert.match(r.json.message, /^X-Task-Id: header is required/);
  });

  it('gives two identities with the same task id two separate tasks', async () => {
    const store = new MemoryTaskStore();
    const h = selfReportHarness({ store });
    const other = h.token({ email: 'other@example.com' });
    assert.equal((await h.call('ReportTaskStage', STARTED)).status, 200);
    // The other identity's STARTED with a different recipe is no conflict: it is another task.
    assert.equal((await h.call('ReportTaskStage', { ...STARTED, recipe: 'other.yaml' }, { token: other })).status, 200);
    assert.equal((await h.call('ReportGit', gitBody, { token: other })).status, 200);
    const mine = await store.getTask(taskKey({ issuer: DEV_ISSUER, subject: subjectOf(h.token()) }, 'build-1'));
    const theirs = await store.getTask(taskKey({ issuer: DEV_ISSUER, subject: subjectOf(other) }, 'build-1'));
    assert.equal(mine?.recipe, 'cloudbuild.yaml');
    assert.equal(theirs?.recipe, 'other.yaml');
    assert.equal((await store.listReports(mine!.key)).length, 0);
    assert.equal((await store.listReports(theirs!.key)).length, 1);
  });

  it('ignores client-sent requestor_id (a retry differing only in it is stored once)', async () => {
    const store = new MemoryTaskStore();
    const h = selfReportHarness({ store });
    await h.call('ReportTaskStage', STARTED);
    await h.call('ReportGit', { gitReport: { ...gitBody.gitReport, requestorId: 'someone-else' } });
    await h.call('ReportGit', { gitReport: { ...gitBody.gitReport, requestorId: 'another' } });
    const key = taskKey({ issuer: DEV_ISSUER, subject: subjectOf(h.token()) }, 'build-1');
    const reports = await store.listReports(key);
    assert.equal(reports.length, 1);
    assert.ok(!JSON.stringify(reports[0]).includes('someone-else'));
  });

  it('a report sent before STARTED and retried after it is in the window (first and last receipt kept)', async () => {
    const store = new MemoryTaskStore();
    const clock = new ManualClock(new Date('2026-03-01T10:00:00Z'));
    const h = selfReportHarness({ store, clock });
    assert.equal((await h.call('ReportGit', gitBody)).status, 200); // raced STARTED
    clock.advance(2000);
    await h.call('ReportTaskStage', STARTED);
    clock.advance(2000);
    assert.equal((await h.call('ReportGit', gitBody)).status, 200); // the retry
    clock.advance(2000);
    await h.call('ReportGit', { gitReport: { ...gitBody.gitReport, commit: 'c'.repeat(40) } }); // an artifact-less dependency, for contrast
    const key = taskKey({ issuer: DEV_ISSUER, subject: subjectOf(h.token()) }, 'build-1');
    const [retried] = (await store.listReports(key)).filter((r) => (r.report as { commit: string }).commit === COMMIT);
    assert.equal(retried!.receivedAt.toISOString(), '2026-03-01T10:00:00.000Z');
    assert.equal(retried!.lastReceivedAt.toISOString(), '2026-03-01T10:00:04.000Z');
    const task = await store.getTask(key);
    assert.deepEqual(inWindow(task!, await store.listReports(key)).length, 2);
  });
});

describe('stage rules', () => {
  const stage = (taskStage: string) => ({ taskStage });
  it('moves forward, tolerates FETCH after COMPILE with a finding, refuses going back and anything after COMPLETE', async () => {
    const store = new MemoryTaskStore();
    const h = selfReportHarness({ store });
    const expect = async (body: unknown, status: number, code?: string) => {
      const r = await h.call('ReportTaskStage', body);
      assert.equal(r.status, status, JSON.stringify(r.json));
      if (code) assert.equal(r.json.code, code);
    };
    await expect(stage('FETCH'), 400, 'failed_precondition'); // not started
    await expect(STARTED, 200);
    await expect(STARTED, 200); // retry
    await expect({ ...STARTED, recipe: 'different.yaml' }, 409, 'already_exists');
    await expect(stage('FETCH'), 200);
    await expect(stage('COMPILE'), 200);
    await expect(stage('FETCH'), 200); // recorded
    await expect(stage('COMPILE'), 200);
    await expect(stage('UPLOAD'), 200);
    await expect(stage('UPLOAD_COMPLETE'), 200);
    await expect(stage('COMPILE'), 400, 'failed_precondition');
    await expect(stage('TEST'), 200);
    await expect(stage('COMPLETE'), 200);
    await expect(stage('TEST'), 400, 'failed_precondition');
    await expect(stage('COMPLETE'), 400, 'failed_precondition');
    const task = await store.getTask(taskKey({ issuer: DEV_ISSUER, subject: subjectOf(h.token()) }, 'build-1'));
    assert.equal(task?.state, 'COMPLETE');
    assert.deepEqual(
      task?.findings.map((f) => f.code),
      ['FETCH_AFTER_COMPILE'],
    );
    assert.deepEqual(
      task?.timeline.map((t) => t.stage),
      ['STARTED', 'FETCH', 'COMPILE', 'FETCH', 'COMPILE', 'UPLOAD', 'UPLOAD_COMPLETE', 'TEST', 'COMPLETE'],
    );
    assert.ok(task?.stageTimes.UPLOAD_COMPLETE instanceof Date);
  });

  it('records UPLOAD_COMPLETE and calls the hook, again on a repeat', async () => {
    const published: string[] = [];
    const h = selfReportHarness({ onUploadComplete: async (key) => void published.push(key) });
    await h.call('ReportTaskStage', STARTED);
    await h.call('ReportTaskStage', stage('UPLOAD_COMPLETE'));
    await h.call('ReportTaskStage', stage('UPLOAD_COMPLETE'));
    assert.equal(published.length, 2);
    assert.equal(published[0], published[1]);
  });

  it('refuses a heartbeat for a task that was never started', async () => {
    const h = selfReportHarness();
    const r = await h.call('ReportPID', { pid: '7', reporter: '/usr/local/bin/provenance' });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'failed_precondition');
  });
});

describe('protocol', () => {
  it('accepts binary protobuf', async () => {
    const store = new MemoryTaskStore();
    const h = selfReportHarness({ store });
    await h.call('ReportTaskStage', STARTED);
    const msg = create(ReportGitRequestSchema, {
      gitReport: { repo: 'https://github.com/example/repo', commit: COMMIT.toUpperCase(), refs: 'refs/heads/main' },
    });
    const r = await h.call('ReportGit', undefined, {
      contentType: 'application/proto',
      raw: toBinary(ReportGitRequestSchema, msg),
    });
    assert.equal(r.status, 200);
    assert.equal(r.res.headers['content-type'], 'application/proto');
    const key = taskKey({ issuer: DEV_ISSUER, subject: subjectOf(h.token()) }, 'build-1');
    const [stored] = await store.listReports(key);
    assert.equal((stored!.report as { commit: string }).commit, COMMIT, 'commit normalised to lowercase');
  });

  it('normalises a sha256: prefixed digest', async () => {
    const store = new MemoryTaskStore();
    const h = selfReportHarness({ store });
    await h.call('ReportTaskStage', STARTED);
    const r = await h.call('ReportArtifactDigest', {
      digest: `sha256:${SHA.toUpperCase()}`,
      artifact: { oci: { image: 'us-docker.pkg.dev/p/r/app', tag: 'v1' } },
    });
    assert.equal(r.status, 200);
    const key = taskKey({ issuer: DEV_ISSUER, subject: subjectOf(h.token()) }, 'build-1');
    const [stored] = await store.listReports(key);
    assert.equal((stored!.report as { sha256: string }).sha256, SHA);
  });

  it("hands compressed requests to Connect's own handler, which accepts them", async () => {
    const store = new MemoryTaskStore();
    const h = selfReportHarness({ store });
    await h.call('ReportTaskStage', STARTED);
    const raw = gzipSync(Buffer.from(JSON.stringify(gitBody)));
    const headers = new Headers({
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      authorization: `Bearer ${h.token()}`,
      'x-task-id': 'build-1',
    });
    const res = await h.handler({
      method: 'POST',
      url: '/provenance.snooperpb.SelfReport/ReportGit',
      headers: fetchHeaders(headers),
      body: raw,
    });
    assert.equal(res.status, 200, Buffer.from(res.body as Uint8Array).toString());
    const key = taskKey({ issuer: DEV_ISSUER, subject: subjectOf(h.token()) }, 'build-1');
    assert.equal((await store.listReports(key)).length, 1);
    // and its errors come back in the same Connect format
    const bad = gzipSync(Buffer.from(JSON.stringify({ gitReport: { repo: 'ftp://x', commit: COMMIT } })));
    const err = await h.handler({
      method: 'POST',
      url: '/provenance.snooperpb.SelfReport/ReportGit',
      headers: fetchHeaders(headers),
      body: bad,
    });
    assert.equal(err.status, 400);
    assert.match(Buffer.from(err.body as Uint8Array).toString(), /git_report\.repo/);
  });

  it('rejects unknown JSON fields', async () => {
    const store = new MemoryTaskStore();
    const h = selfReportHarness({ store });
    const r = await h.call('ReportGit', { gitReport: { ...gitBody.gitReport, colour: 'blue' } });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'invalid_argument');
    assert.match(r.json.message, /colour/);
    assert.equal(store.size(), 0);
  });

  it('rejects bodies over 64 KiB', async () => {
    const h = selfReportHarness();
    const r = await h.call('ReportGit', undefined, { raw: Buffer.alloc(64 * 1024 + 1, 0x20) });
    assert.equal(r.json.code, 'resource_exhausted');
    assert.equal(r.status, 429);
  });

  it('answers an unknown method with 404, a GET with 405, an odd content type with 415', async () => {
    const h = selfReportHarness();
    const nf = await h.call('ReportNothing', {});
    assert.equal(nf.status, 404);
    assert.match(nf.json.message, /ReportGit/);
    const get = await h.call('ReportGit', gitBody, { httpMethod: 'GET' });
    assert.equal(get.status, 405);
    assert.equal(get.res.headers.allow, 'POST');
    const xml = await h.call('ReportGit', gitBody, { contentType: 'text/xml' });
    assert.equal(xml.status, 415);
    assert.match(xml.json.message, /application\/json/);
  });
});

function subjectOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub;
}
