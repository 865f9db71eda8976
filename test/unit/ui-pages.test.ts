// The server side of the pages for people: the /ui/ asset handler (security
// headers, the read API's access rules, only the built files, ETags) and the
// reports route the task page draws (paging, the window, the finding, bad
// input named).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_ISSUER } from '../../functions/adapters/dev-issuer.js';
import { OidcVerifier } from '../../functions/adapters/oidc-verifier.js';
import type { Sha256Hex } from '../../functions/domain/report.js';
import { getter, OWNER, readFixture, readerTokens } from '../helpers/read-api.js';
import { provenanceApi } from '../../functions/api/provenance-api.js';
import { subjectPageToken } from '../../functions/api/page-token.js';
import { fetchHeaders, responseBytes, type HttpHandler } from '../../functions/api/http.js';
import { CONTENT_SECURITY_POLICY, uiAssets, withUi } from '../../functions/api/ui-assets.js';

const AUDIENCE = 'https://provenance.test';

function assetsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ui-assets-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'app.js'), 'void 0;');
  writeFileSync(join(dir, 'app.css'), 'body{}');
  writeFileSync(join(dir, 'notes.txt'), 'not an asset type');
  return dir;
}

function setup(mode: 'public' | 'allowlist' = 'public') {
  const { tasks, provenance, clock, ingest } = readFixture();
  const { verifier, token } = readerTokens(AUDIENCE);
  const access = { mode, readers: new Set(['release@example.com']) };
  const api = provenanceApi({ tasks, provenance, keys: async () => [], verifier, access });
  const handler: HttpHandler = withUi(uiAssets({ verifier, access, dir: assetsDir() }), api);
  const get = getter(handler);
  return { get, token, ingest, clock };
}

describe('/ui/ assets', () => {
  it('serves the page and its assets with a strict CSP, nosniff, no framing and an ETag', async () => {
    const s = setup();
    const page = await s.get('/ui/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.match(CONTENT_SECURITY_POLICY, /default-src 'self'/);
    assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
    assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    const js = await s.get('/ui/assets/app.js');
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.text, 'void 0;');
    const again = await s.get('/ui/assets/app.js', { headers: { 'if-none-match': js.headers.etag ?? '' } });
    assert.equal(again.status, 304);
    assert.equal(again.text, '');
    assert.equal((await s.get('/ui/assets/app.css')).headers['content-type'], 'text/css; charset=utf-8');
    const head = await s.get('/ui/assets/app.js', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal(head.headers['content-length'], String(Buffer.byteLength('void 0;')));
    const redirect = await s.get('/ui');
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.location, 'ui/', 'relative, so a path prefix keeps working');
  });

  it('answers only the built files: no other type, no path tricks, no other folder', async () => {
    const s = setup();
    for (const path of [
      '/ui/assets/notes.txt',
      '/ui/assets/../index.html',
      '/ui/assets/%2e%2e%2findex.html',
      '/ui/assets/sub/app.js',
      '/ui/index.html',
      '/ui/assets/',
      '/ui/other',
    ]) {
      const r = await s.get(path);
      assert.equal(r.status, 404, path);
      assert.equal(r.headers['content-security-policy'], CONTENT_SECURITY_POLICY, `${path}: errors carry the CSP too`);
    }
    // HEAD answers what GET does without the body, errors included (the read API's rule).
    for (const path of ['/ui/other', '/ui/assets/app.js', '/ui']) {
      const get = await s.get(path);
      const head = await s.get(path, { method: 'HEAD' });
      assert.equal(head.status, get.status, path);
      assert.equal(head.text, '', path);
      assert.equal(head.headers['content-length'], String(Buffer.byteLength(get.text)), path);
      assert.equal(head.headers['content-security-policy'], CONTENT_SECURITY_POLICY, path);
    }
    const post = await s.get('/ui/', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal((await s.get('/uix')).status, 404, 'not a page path: the read API answers');
  });

  it('says how to build the pages when they are not built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ui-empty-'));
    const handler = uiAssets({
      verifier: new OidcVerifier({ audience: AUDIENCE, issuers: [DEV_ISSUER], certificates: async () => ({}) }),
      access: { mode: 'public', readers: new Set() },
      dir: empty,
    });
    const res = await handler({
      method: 'GET',
      url: '/ui/',
      headers: fetchHeaders(new Headers()),
      body: new Uint8Array(),
    });
    assert.equal(res.status, 503);
    assert.match((await responseBytes(res)).toString(), /scripts\/build-ui\.js/);
  });

  it('keeps the read API access rules: with an allowlist, only a reader on it', async () => {
    const s = setup('allowlist');
    assert.equal((await s.get('/ui/')).status, 401);
    assert.equal((await s.get('/ui/assets/app.js')).status, 401);
    assert.equal((await s.get('/ui/', { token: s.token('someone@example.com') })).status, 403);
    assert.equal((await s.get('/ui/', { token: s.token('release@example.com') })).status, 200);
  });
});

describe('GET /v1/tasks/<id>/reports', () => {
  const git = (n: number) => ({
    kind: 'git' as const,
    repo: 'https://github.com/example/app',
    commit: n.toString(16).padStart(40, '0'),
    refs: ['refs/heads/main'],
  });

  async function task(s: ReturnType<typeof setup>) {
    await s.ingest.addReport(OWNER, 't1', git(1)); // before STARTED: outside the window
    s.clock.advance(1000);
    await s.ingest.reportStage(OWNER, 't1', { stage: 'STARTED', recipe: 'r', pid: 1 });
    for (let i = 2; i <= 6; i++) {
      s.clock.advance(1000);
      await s.ingest.addReport(OWNER, 't1', git(i));
      if (i === 3) await s.ingest.reportStage(OWNER, 't1', { stage: 'COMPILE' });
    }
    await s.ingest.addReport(OWNER, 't1', {
      kind: 'artifact',
      sha256: 'ab'.repeat(32) as Sha256Hex,
      location: { type: 'gcs', uri: 'gs://out/app.tar' },
      sbomSubjects: [],
    });
    s.clock.advance(1000);
    await s.ingest.reportStage(OWNER, 't1', { stage: 'UPLOAD_COMPLETE' });
    s.clock.advance(1000);
    await s.ingest.addReport(OWNER, 't1', git(7)); // after UPLOAD_COMPLETE: outside
  }

  it('pages every report in receipt order with the window and the fetch-after-COMPILE finding', async () => {
    const s = setup();
    await task(s);
    const seen: { name: string; inWindow: boolean; finding?: string; kind: string }[] = [];
    let token = '';
    for (let pages = 0; pages < 10; pages++) {
      const r = await s.get(
        `/v1/tasks/t1/reports?reporter=${OWNER.email}&pageSize=3${token ? `&pageToken=${token}` : ''}`,
      );
      assert.equal(r.status, 200, r.text);
      const body = r.json();
      assert.ok(body.reports.length <= 3);
      seen.push(...body.reports);
      if (!body.nextPageToken) break;
      token = body.nextPageToken;
    }
    assert.equal(seen.length, 8);
    assert.deepEqual(
      seen.map((r) => r.inWindow),
      [false, true, true, true, true, true, true, false],
    );
    // Fetches first received after COMPILE (reports 4..6) are findings; the artifact is not.
    assert.deepEqual(
      seen.map((r) => r.finding ?? '-'),
      ['-', '-', '-', 'FETCH_AFTER_COMPILE', 'FETCH_AFTER_COMPILE', 'FETCH_AFTER_COMPILE', '-', '-'],
    );
    assert.equal(seen[6]?.kind, 'artifact');
    assert.match(seen[1]?.name ?? '', /^https:\/\/github\.com\/example\/app@0{39}2$/);
  });

  it('names a bad pageSize or pageToken, and keeps the task lookup rules', async () => {
    const s = setup();
    await task(s);
    for (const q of ['pageSize=0', 'pageSize=1001', 'pageSize=abc', 'pageSize=-1']) {
      const r = await s.get(`/v1/tasks/t1/reports?reporter=${OWNER.email}&${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.json().message, /^pageSize:/);
    }
    for (const t of [
      '',
      'nope',
      Buffer.from('1.zz').toString('base64url'),
      'a'.repeat(300),
      '%00',
      Buffer.from(`r1.1.${'A'.repeat(40)}`).toString('base64url'),
      subjectPageToken({ signedAt: new Date(1), taskKey: 'a'.repeat(40) }), // another route's token
    ]) {
      const r = await s.get(`/v1/tasks/t1/reports?reporter=${OWNER.email}&pageToken=${t}`);
      assert.equal(r.status, 400, t);
      assert.match(r.json().message, /^pageToken:/);
    }
    assert.equal((await s.get(`/v1/tasks/t1/reports?reporter=other@example.com`)).status, 404);
    assert.equal((await s.get(`/v1/tasks/t1/reports`)).status, 400);
    const locked = setup('allowlist');
    assert.equal((await locked.get(`/v1/tasks/t1/reports?reporter=${OWNER.email}`)).status, 401);
  });
});
