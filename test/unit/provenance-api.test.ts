// The read API as a plain handler over the in-memory stores: every route, its
// 404s and 400s, and reader authorisation (allowlist or public).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEV_ISSUER } from '../../functions/adapters/dev-issuer.js';
import { taskKey, type Identity } from '../../functions/domain/task.js';
import type { Sha256Hex } from '../../functions/domain/report.js';
import { getter, OWNER, readFixture, readerTokens } from '../helpers/read-api.js';
import { parseEnvelopes } from '../../functions/provenance/dsse.js';
import { NDJSON, provenanceApi } from '../../functions/api/provenance-api.js';
import { TaskRedriver } from '../../functions/lifecycle/redrive.js';
import { failTask } from '../../functions/domain/lifecycle.js';
import { captureLogs } from '../helpers/capture-logs.js';

const AUDIENCE = 'https://provenance.test';
const SHA = '12'.repeat(32) as Sha256Hex;

async function setup(mode: 'public' | 'allowlist' = 'public', opts: { redrive?: boolean } = {}) {
  const { tasks, provenance, signer, clock, ingest, assembler } = readFixture();
  const published: string[] = [];
  const { verifier, token } = readerTokens(AUDIENCE);
  const handler = provenanceApi({
    tasks,
    provenance,
    keys: async () => [await signer.publicKey()],
    verifier,
    access: { mode, readers: new Set(['release@example.com']) },
    ...(opts.redrive
      ? {
          redrive: {
            operators: new Set(['oncall@example.com']),
            redriver: new TaskRedriver({
              tasks,
              provenance,
              uploadComplete: { publishUploadComplete: async (k) => void published.push(k) },
              clock,
              recoveryGraceMs: 60_000,
            }),
          },
        }
      : {}),
  });
  const task = async (
    id: string,
    opts: { artifact?: Sha256Hex; upload?: boolean; assemble?: boolean; as?: Identity } = {},
  ) => {
    const owner = opts.as ?? OWNER;
    await ingest.reportStage(owner, id, { stage: 'STARTED', recipe: 'r', pid: 1 });
    if (opts.artifact)
      await ingest.addReport(owner, id, {
        kind: 'artifact',
        sha256: opts.artifact,
        location: { type: 'gcs', uri: `gs://out/${id}` },
        sbomSubjects: [],
      });
    clock.advance(1000);
    if (opts.upload !== false) await ingest.reportStage(owner, id, { stage: 'UPLOAD_COMPLETE' });
    if (opts.assemble !== false && opts.upload !== false) await assembler.assemble(taskKey(owner, id));
  };
  const get = getter(handler);
  const fail = async (id: string) => {
    const key = taskKey(OWNER, id);
    await tasks.updateTask(key, (cur) => failTask(cur!, clock.now(), 'provenance could not be assembled: KMS down'));
  };
  return { task, get, token, signer, fail, published, tasks };
}

describe('provenanceApi', () => {
  it('serves every envelope naming a digest as ndjson, one per line (several tasks, one artifact)', async () => {
    const s = await setup();
    await s.task('t1', { artifact: SHA });
    await s.task('t2', { artifact: SHA });
    const r = await s.get(`/v1/artifacts/sha256:${SHA}/provenance`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], NDJSON);
    assert.equal(r.text.split('\n').filter(Boolean).length, 2);
    const ids = parseEnvelopes(r.text).map(
      (e) => JSON.parse(Buffer.from(e.payload, 'base64').toString()).predicate.runDetails.metadata.invocationId,
    );
    assert.deepEqual(ids, ['t1', 't2']);
    assert.equal((await s.get(`/v1/artifacts/sha256%3A${SHA.toUpperCase()}/provenance`)).status, 200);
  });

  it('answers 404 for an unknown digest and 400 naming the digest for a malformed one', async () => {
    const s = await setup();
    const unknown = await s.get(`/v1/artifacts/sha256:${'9'.repeat(64)}/provenance`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json(), { code: 'not_found', message: `no provenance names sha256:${'9'.repeat(64)}` });
    for (const bad of ['sha256:123', SHA, `sha512:${SHA}`]) {
      const r = await s.get(`/v1/artifacts/${bad}/provenance`);
      assert.equal(r.status, 400, bad);
      assert.match(r.json().message, /^digest: /);
    }
  });

  it("reports a task's status with its provenance state, and the reason when it has none", async () => {
    const s = await setup();
    await s.task('signed', { artifact: SHA });
    await s.task('noart');
    await s.task('pending', { artifact: SHA, assemble: false });
    await s.task('running', { upload: false });
    const status = async (id: string) => (await s.get(`/v1/tasks/${id}?reporter=Builder@example.com`)).json();
    const signed = await status('signed');
    assert.equal(signed.stage, 'UPLOAD_COMPLETE');
    assert.ok(signed.stageTimes.STARTED && signed.stageTimes.UPLOAD_COMPLETE && signed.lastHeartbeatAt);
    assert.deepEqual([signed.provenance.state, signed.provenance.subjects], ['signed', [`sha256:${SHA}`]]);
    assert.deepEqual(
      [(await status('noart')).provenance.state, (await status('noart')).provenance.reason],
      ['failed', 'the task reported no artifacts before UPLOAD_COMPLETE'],
    );
    assert.equal((await status('pending')).provenance.state, 'pending');
    assert.match(
      (await status('running')).provenance.reason,
      /is STARTED: provenance is assembled once it reports UPLOAD_COMPLETE/,
    );
  });

  it("serves a task's envelopes, and 404s that say why", async () => {
    const s = await setup();
    await s.task('t1', { artifact: SHA });
    await s.task('t2', { upload: false });
    const ok = await s.get('/v1/tasks/t1/provenance?reporter=builder@example.com');
    assert.equal(ok.status, 200);
    assert.equal(parseEnvelopes(ok.text).length, 1);
    const none = await s.get('/v1/tasks/t2/provenance?reporter=builder@example.com');
    assert.equal(none.status, 404);
    assert.match(none.json().message, /^task "t2" has no provenance: the task is STARTED/);
    const other = await s.get('/v1/tasks/t1?reporter=someone@example.com');
    assert.deepEqual([other.status, other.json().message], [404, 'no task "t1" reported by someone@example.com']);
    const noReporter = await s.get('/v1/tasks/t1');
    assert.deepEqual([noReporter.status, noReporter.json().code], [400, 'invalid_argument']);
    assert.match(noReporter.json().message, /^reporter: is required/);
    assert.match((await s.get('/v1/tasks/bad%20id?reporter=builder@example.com')).json().message, /^task id: /);
  });

  it('refuses to pick between two identities that share an email; ?subject= names one', async () => {
    const s = await setup();
    const twin: Identity = { issuer: DEV_ISSUER, subject: '77', email: OWNER.email };
    await s.task('t1', { artifact: SHA });
    const only = await s.get('/v1/tasks/t1?reporter=builder@example.com');
    assert.deepEqual([only.status, only.json().reporterSubject], [200, '42']);
    await s.task('t1', { as: twin, upload: false });
    const ambiguous = await s.get('/v1/tasks/t1?reporter=builder@example.com');
    assert.equal(ambiguous.status, 400);
    assert.equal(ambiguous.json().code, 'failed_precondition');
    assert.match(ambiguous.json().message, /2 identities .* \(subjects 42, 77\): add &subject=<subject>/);
    assert.equal((await s.get('/v1/tasks/t1/provenance?reporter=builder@example.com')).status, 400);
    const mine = await s.get('/v1/tasks/t1?reporter=builder@example.com&subject=42');
    assert.deepEqual([mine.status, mine.json().provenance.state], [200, 'signed']);
    const theirs = await s.get('/v1/tasks/t1?reporter=builder@example.com&subject=77');
    assert.deepEqual([theirs.status, theirs.json().stage], [200, 'STARTED']);
    assert.equal((await s.get('/v1/tasks/t1/provenance?reporter=builder@example.com&subject=42')).status, 200);
    assert.equal((await s.get('/v1/tasks/t1?reporter=builder@example.com&subject=99')).status, 404);
    assert.equal((await s.get('/v1/tasks/t1?reporter=builder@example.com&subject=%E2%80%AE42')).status, 400);
  });

  it('re-drives a FAILED task for an operator only: 401 without a token, 403 off the list, 200 and published on it', async () => {
    const s = await setup('public', { redrive: true });
    await s.task('t1', { artifact: SHA, assemble: false });
    await s.fail('t1');
    const url = '/v1/tasks/t1/redrive?reporter=builder@example.com';
    assert.deepEqual([(await s.get(url, { method: 'POST' })).status], [401]);
    const reader = await s.get(url, { method: 'POST', token: s.token('release@example.com') });
    assert.deepEqual(
      [reader.status, reader.json().message],
      [403, 'release@example.com is not on the operator allowlist (OPERATOR_ALLOWLIST)'],
    );
    // Whatever spelling routes to a re-drive also needs POST: a GET never changes a task.
    for (const path of [
      '/v1/tasks/t1/redrive/?reporter=builder@example.com',
      '/v1//tasks/t1/redrive?reporter=builder@example.com',
    ]) {
      assert.equal((await s.get(path, { token: s.token('oncall@example.com') })).status, 405, path);
    }
    assert.deepEqual(s.published, []);
    const logs = captureLogs();
    let ok: Awaited<ReturnType<typeof s.get>>;
    try {
      ok = await s.get(url, { method: 'POST', token: s.token('oncall@example.com') });
    } finally {
      logs.restore();
    }
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(
      [ok.json().from, ok.json().to, ok.json().status.stage, ok.json().status.provenance.state],
      ['FAILED', 'UPLOAD_COMPLETE', 'UPLOAD_COMPLETE', 'pending'],
    );
    assert.deepEqual(s.published, [taskKey(OWNER, 't1')]);
    assert.ok(
      logs.lines().some((l) => JSON.parse(l).audit === 'redrive' && JSON.parse(l).operator === 'oncall@example.com'),
    );
    const again = await s.get(url, { method: 'POST', token: s.token('oncall@example.com') });
    assert.deepEqual([again.status, again.json().code], [400, 'failed_precondition']);
    assert.equal((await s.get(url, { method: 'GET' })).status, 405);
  });

  it('refuses a re-drive where it is not configured', async () => {
    const s = await setup('public');
    await s.task('t1', { artifact: SHA, assemble: false });
    const r = await s.get('/v1/tasks/t1/redrive?reporter=builder@example.com', {
      method: 'POST',
      token: s.token('oncall@example.com'),
    });
    assert.deepEqual([r.status, r.json().code], [400, 'failed_precondition']);
    assert.match(r.json().message, /re-drive is not configured/);
  });

  it('publishes the public key, and refuses other methods and unknown routes', async () => {
    const s = await setup();
    const keys = (await s.get('/v1/keys')).json();
    assert.deepEqual(keys, [await s.signer.publicKey()]);
    const post = await s.get('/v1/keys', { method: 'POST' });
    assert.deepEqual([post.status, post.headers.allow], [405, 'GET, HEAD']);
    assert.equal((await s.get('/v1/nothing')).status, 404);
  });

  it('with a reader allowlist: 401 without a token, 403 off the list, 200 on it; keys stay public', async () => {
    const s = await setup('allowlist');
    await s.task('t1', { artifact: SHA });
    const url = `/v1/artifacts/sha256:${SHA}/provenance`;
    const anon = await s.get(url);
    assert.deepEqual([anon.status, anon.json().code], [401, 'unauthenticated']);
    const stranger = await s.get(url, { token: s.token('builder@example.com') });
    assert.deepEqual(
      [stranger.status, stranger.json().message],
      [403, 'builder@example.com is not on the reader allowlist'],
    );
    assert.equal((await s.get(url, { token: s.token('release@example.com') })).status, 200);
    assert.equal((await s.get('/v1/tasks/t1?reporter=builder@example.com')).status, 401);
    assert.equal((await s.get('/v1/keys')).status, 200);
  });
});
