// The pages for people (/ui/) in a real browser: Debian's chromium, headless,
// driven by puppeteer-core, against `npm start` (a child process on a free
// port). The verdict is the browser's own (WebCrypto against /v1/keys): a
// signed task verifies and names its key; a tampered envelope or a key set
// without the signing key shows the check that failed; P-384 and RSA-PSS keys
// verify too. Reported text carrying markup, javascript: URLs and odd
// characters is rendered as text, runs nothing and loads nothing from outside
// the origin. The 10,000-dependency task loads and filters; the task page
// draws every stage; axe-core finds no accessibility violations. Screenshots
// of each page go to a folder the test prints. Fails (never skips) without
// chromium.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign, constants, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { IN_TOTO_PAYLOAD_TYPE, pae, signStatement, type Envelope } from '../../functions/provenance/dsse.js';
import type { Statement } from '../../functions/provenance/statement.js';
import { CONTENT_SECURITY_POLICY } from '../../functions/api/ui-assets.js';
import { startChromium, type RunningBrowser } from '../helpers/chromium.js';
import {
  dependencyReports,
  npmStart,
  REPORTER_EMAIL,
  reporter,
  waitForProvenance,
  type NpmStart,
} from '../helpers/npm-start.js';

const HOSTILE_HTML = '<img src=x onerror="window.__pwned=1">';
const HOSTILE_SCRIPT = '<script>window.__pwned=2</script>';
const JS_URL = 'javascript:window.__pwned=3';
/** The same markup within CIPD's tag alphabet (no quotes). */
const HOSTILE_TAG = '<img src=x onerror=window.__pwned=4>';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('the pages in a real browser (chromium), on npm start', () => {
  let svc: NpmStart;
  /** A second npm start whose sweep expires a silent task within seconds. */
  let expiring: NpmStart;
  let chromium: RunningBrowser;
  let shots: string;
  let keyId: string;
  const small = { taskId: 'ui-small-1', artifact: 'ui small artifact\n', hex: '' };
  const big = { taskId: 'ui-big-1', artifact: 'ui big artifact\n', hex: '' };
  const hostile = { taskId: 'ui-hostile-1', artifact: 'ui hostile artifact\n', hex: '' };
  const stages = { taskId: 'ui-stages-1', artifact: 'ui stages artifact\n', hex: '' };
  const shared = { taskId: 'ui-shared-1', artifact: 'ui shared artifact\n', hex: '' };

  before(async () => {
    shots = mkdtempSync(join(tmpdir(), 'ui-screenshots-'));
    console.log(`screenshots: ${shots}`);
    [svc, expiring, chromium] = await Promise.all([
      // One envelope per page: the artifact page must follow the read API's pages.
      npmStart({ READ_PAGE_ENVELOPES: '1' }),
      npmStart({ HEARTBEAT_TTL_SECONDS: '5', SWEEP_INTERVAL_SECONDS: '1' }),
      startChromium(),
    ]);
    // Started, fetched one dependency, then silent: the sweep expires it while the rest is set up.
    const silent = reporter(expiring, 'ui-expired-1');
    await silent.stage('STARTED', { recipe: 'silent.yaml', pid: '9' });
    await silent.stage('FETCH');
    await silent.many(dependencyReports(1, 'silent'));
    keyId = ((await (await fetch(`${svc.url}/v1/keys`)).json()) as { keyId: string }[])[0]!.keyId;

    const signTask = async (
      t: { taskId: string; artifact: string; hex: string },
      deps: [string, unknown][],
      opts: { started?: Record<string, unknown>; stages?: string[]; after?: [string, unknown][] } = {},
    ) => {
      const r = reporter(svc, t.taskId);
      t.hex = sha256(t.artifact);
      await r.stage('STARTED', { recipe: 'cloudbuild.yaml', pid: '4242', ...opts.started });
      await r.many(deps, 32);
      for (const s of opts.stages ?? []) await r.stage(s);
      await r.call('ReportArtifactDigest', { artifact: { gcs: `gs://example-bucket/${t.taskId}.tar` }, digest: t.hex });
      await r.stage('UPLOAD_COMPLETE');
      for (const [m, b] of opts.after ?? []) await r.call(m, b);
      await waitForProvenance(svc, t.hex);
    };
    await signTask(small, dependencyReports(20));
    // One artifact, two tasks: two envelopes, on two pages.
    await signTask(shared, dependencyReports(2, 'shared-a'));
    await signTask({ ...shared, taskId: 'ui-shared-2' }, dependencyReports(3, 'shared-b'));
    for (let i = 0; i < 600; i++) {
      const res = await fetch(`${svc.url}/v1/tasks/ui-shared-2?reporter=${encodeURIComponent(REPORTER_EMAIL)}`);
      if (((await res.json()) as { provenance: { state: string } }).provenance.state === 'signed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await signTask(
      hostile,
      [
        [
          'ReportGit',
          {
            gitReport: {
              repo: 'https://github.com/example/app',
              commit: 'ab'.repeat(20),
              refs: `refs/heads/${'x'.repeat(200)}`,
            },
          },
        ],
        [
          'ReportCipd',
          {
            cipdReport: {
              packageName: 'example/tools/go',
              iid: 'cd'.repeat(20),
              tags: [
                { key: 'note', value: HOSTILE_TAG },
                { key: 'url', value: JS_URL },
              ],
            },
          },
        ],
      ],
      {
        started: {
          recipe: `${HOSTILE_HTML} ${HOSTILE_SCRIPT} ${JS_URL} ${'long-recipe-'.repeat(30)}`,
          configSource: {
            uri: 'https://example.com/config.yaml',
            digest: { sha256: 'ef'.repeat(32) },
            entryPoint: HOSTILE_HTML,
          },
        },
      },
    );
    const r = reporter(svc, stages.taskId);
    stages.hex = sha256(stages.artifact);
    await r.stage('STARTED', { recipe: 'stages.yaml', pid: '7' });
    await r.stage('FETCH');
    await r.many(dependencyReports(3, 'stage-dep'));
    await r.call('ReportPID', { pid: '7', reporter: '/usr/bin/provenance' });
    await r.stage('COMPILE');
    // Fetched after COMPILE began: a finding.
    await r.call('ReportGcs', { gcsReport: { gcsUri: 'gs://late/fetch.tar', digest: 'ab'.repeat(32) } });
    await r.stage('UPLOAD');
    await r.call('ReportArtifactDigest', { artifact: { gcs: 'gs://example-bucket/stages.tar' }, digest: stages.hex });
    await r.stage('UPLOAD_COMPLETE');
    await r.stage('TEST');
    // After UPLOAD_COMPLETE: stored, outside the provenance window.
    await r.call('ReportGcs', { gcsReport: { gcsUri: 'gs://late/test-data.tar', digest: 'cd'.repeat(32) } });
    await r.stage('COMPLETE');
    await waitForProvenance(svc, stages.hex);
    await signTask(big, dependencyReports(10_000, 'big'));
  });

  after(async () => {
    await chromium?.stop();
    await Promise.all([svc?.stop(), expiring?.stop()]);
  });

  /** A fresh page that records every request, script error and CSP violation. */
  async function open(path: string) {
    const page = await chromium.browser.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    await page.goto(`${svc.url}${path}`, { waitUntil: 'load' });
    await page.waitForFunction(() => document.getElementById('main')?.hasAttribute('data-state'), {
      timeout: 60_000,
    });
    return { page, requests, errors };
  }

  const state = (page: Page) => page.$eval('#main', (m) => m.getAttribute('data-state'));
  const verdict = (page: Page) =>
    page.$eval('#verdict', (v) => ({ verdict: v.getAttribute('data-verdict'), text: v.textContent ?? '' }));
  const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  async function axe(page: Page): Promise<string[]> {
    // Through the DevTools protocol, not a <script> tag: the page's CSP allows no inline script.
    await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
    return page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(): Promise<{ violations: { id: string; nodes: unknown[] }[] }> } })
        .axe;
      const result = await axe.run();
      return result.violations.map((v) => `${v.id} (${v.nodes.length})`);
    });
  }

  it('serves /ui/ with a strict CSP, nosniff and no framing', async () => {
    const res = await fetch(`${svc.url}/ui/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
    assert.match(CONTENT_SECURITY_POLICY, /default-src 'self'/);
    assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const html = await res.text();
    assert.doesNotMatch(
      html,
      /<script>|<script [^>]*>[^<]|style=|https?:\/\//,
      'no inline code and nothing third-party',
    );
    const js = await fetch(`${svc.url}/ui/assets/app.js`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const etag = js.headers.get('etag') ?? '';
    assert.ok(etag);
    assert.equal((await fetch(`${svc.url}/ui/assets/app.js`, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await fetch(`${svc.url}/ui/assets/../index.html`)).status, 404);
    assert.equal((await fetch(`${svc.url}/ui/assets/nope.js`)).status, 404);
  });

  it('artifact page: the browser verifies the signed task and names the key', async () => {
    const { page, requests, errors } = await open(`/ui/#/artifacts/sha256:${small.hex}`);
    assert.equal(await state(page), 'verified');
    const v = await verdict(page);
    assert.equal(v.verdict, 'verified');
    assert.match(v.text, new RegExp(`signed by ${keyId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const body = await page.$eval('#main', (m) => m.textContent ?? '');
    assert.match(body, /ui-small-1/);
    assert.match(body, /https:\/\/github\.com\/example\/dep-0/);
    assert.match(body, new RegExp(`--digest sha256:${small.hex}`));
    assert.match(await page.$eval('#dep-count', (e) => e.textContent ?? ''), /^20 dependencies$/);
    const downloads = await page.$$eval('a[download]', (as) => as.map((a) => (a as HTMLAnchorElement).href));
    assert.ok(downloads.some((d) => d.endsWith(`/v1/artifacts/sha256:${small.hex}/provenance`)));
    assert.ok(downloads.some((d) => d.endsWith(`/v1/artifacts/sha256:${small.hex}/bundle`)));
    assert.deepEqual(
      requests.filter((u) => new URL(u).origin !== svc.url),
      [],
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(await axe(page), [], 'axe-core violations on the artifact page');
    await shot(page, 'artifact-verified');
    await page.screenshot({ path: join(shots, 'artifact-verified-top.png') }); // the window only: the README's
    await page.close();
  });

  it('artifact page: a tampered envelope shows the signature check failing', async () => {
    const original = (await (await fetch(`${svc.url}/v1/artifacts/sha256:${small.hex}/provenance`)).text()).trim();
    const env = JSON.parse(original) as Envelope;
    const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as Statement;
    statement.predicate.buildDefinition.internalParameters.reporter = 'mallory@example.com';
    const tampered = { ...env, payload: Buffer.from(JSON.stringify(statement)).toString('base64') };
    const page = await chromium.browser.newPage();
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      if (req.url().endsWith(`/v1/artifacts/sha256:${small.hex}/provenance`))
        void req.respond({ status: 200, contentType: 'application/x-ndjson', body: `${JSON.stringify(tampered)}\n` });
      else void req.continue();
    });
    await page.goto(`${svc.url}/ui/#/artifacts/sha256:${small.hex}`);
    await page.waitForFunction(() => document.getElementById('main')?.hasAttribute('data-state'));
    assert.equal(await state(page), 'failed');
    const v = await verdict(page);
    assert.equal(v.verdict, 'failed');
    assert.match(v.text, /signature: the signature does not verify with key/);
    const failed = await page.$$eval('li[data-check].bad', (ls) => ls.map((l) => l.getAttribute('data-check')));
    assert.deepEqual(failed, ['signature']);
    assert.match(await page.$eval('#main', (m) => m.textContent ?? ''), /did not pass every check/);
    await shot(page, 'artifact-tampered');
    await page.close();
  });

  it('artifact page: a key set without the signing key, and a subject that is not the artifact, each fail by name', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const keys = [{ keyId: 'other-key', algorithm: 'ECDSA_P256_SHA256', pem: pem(other) }];
    let page = await intercepted({ '/v1/keys': JSON.stringify(keys) }, small.hex);
    assert.match(
      (await verdict(page)).text,
      /signing key: signed by key .* which the key set \(\/v1\/keys\) does not hold/,
    );
    await page.close();
    // The envelope of another artifact served for this one: the signature holds, the subject does not.
    const otherEnvelope = await (await fetch(`${svc.url}/v1/artifacts/sha256:${stages.hex}/provenance`)).text();
    page = await intercepted({ [`/v1/artifacts/sha256:${small.hex}/provenance`]: otherEnvelope }, small.hex);
    assert.match((await verdict(page)).text, new RegExp(`subject: no subject has sha256:${small.hex}`));
    await page.close();
  });

  it('artifact page: verifies ECDSA P-384 and RSA-PSS signatures from the key set', async () => {
    const statement = JSON.parse(
      Buffer.from(
        (JSON.parse((await waitForProvenance(svc, small.hex)).trim()) as Envelope).payload,
        'base64',
      ).toString(),
    ) as Statement;
    const payload = Buffer.from(JSON.stringify(statement));
    const message = pae(IN_TOTO_PAYLOAD_TYPE, payload);
    const kinds = [
      ['ECDSA_P384_SHA384', generateKeyPairSync('ec', { namedCurve: 'P-384' }), 'sha384', undefined],
      ['RSA_PSS_2048_SHA256', generateKeyPairSync('rsa', { modulusLength: 2048 }), 'sha256', 32],
      ['RSA_PSS_4096_SHA512', generateKeyPairSync('rsa', { modulusLength: 4096 }), 'sha512', 64],
    ] as const;
    for (const [algorithm, pair, hash, saltLength] of kinds) {
      const sig = sign(
        hash,
        message,
        saltLength ? { key: pair.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength } : pair.privateKey,
      );
      const envelope = {
        payloadType: IN_TOTO_PAYLOAD_TYPE,
        payload: payload.toString('base64'),
        signatures: [{ keyid: `test-${algorithm}`, sig: sig.toString('base64') }],
      };
      const keys = [{ keyId: `test-${algorithm}`, algorithm, pem: pem(pair.publicKey) }];
      const page = await intercepted(
        {
          '/v1/keys': JSON.stringify(keys),
          [`/v1/artifacts/sha256:${small.hex}/provenance`]: `${JSON.stringify(envelope)}\n`,
        },
        small.hex,
      );
      const v = await verdict(page);
      assert.equal(v.verdict, 'verified', `${algorithm}: ${v.text}`);
      assert.match(v.text, new RegExp(`signed by test-${algorithm}`));
      await page.close();
    }
  });

  it('hostile reported text renders as text, runs no script and loads nothing from elsewhere', async () => {
    const { page, requests, errors } = await open(`/ui/#/artifacts/sha256:${hostile.hex}`);
    assert.equal(await state(page), 'verified');
    const text = await page.$eval('#main', (m) => m.textContent ?? '');
    for (const s of [HOSTILE_HTML, HOSTILE_SCRIPT, JS_URL, HOSTILE_TAG])
      assert.ok(text.includes(s), `${s} is shown as text`);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.$$eval('main img, main script, main iframe, main object', (e) => e.length), 0);
    const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => (a as HTMLAnchorElement).href));
    for (const href of hrefs) assert.match(href, /^(https:|http:\/\/localhost:\d+\/)/, `link ${href}`);
    assert.ok(!hrefs.some((h) => h.startsWith('javascript:')));
    // A page whose recipe is 400 characters without a space still fits the window.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the window`);
    assert.deepEqual(
      requests.filter((u) => new URL(u).origin !== svc.url),
      [],
    );
    assert.deepEqual(errors, []);
    await shot(page, 'artifact-hostile');
    await page.close();

    const task = await open(`/ui/#/tasks/${hostile.taskId}?reporter=${encodeURIComponent(REPORTER_EMAIL)}`);
    assert.equal(await state(task.page), 'done');
    assert.equal(await task.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    await task.page.close();
  });

  it('a signed statement whose fields are hostile (javascript: URIs, bidi and control characters) renders as text', async () => {
    // The API refuses these fields; a statement signed with the service's own
    // key must still not be trusted to be harmless.
    const env = JSON.parse((await waitForProvenance(svc, small.hex)).trim()) as Envelope;
    const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as Statement;
    statement.predicate.buildDefinition.resolvedDependencies.unshift(
      { uri: `git+${JS_URL}`, digest: { gitCommit: '00'.repeat(20) }, annotations: { refs: [HOSTILE_HTML] } },
      { uri: 'data:text/html,<script>alert(1)</script>', name: `odd \u202e\u0007 name ${HOSTILE_SCRIPT}` },
    );
    statement.predicate.runDetails.builder.id = JS_URL;
    const signed = await signStatement(statement, LocalSigner.fromDirectory(svc.dir));
    const page = await intercepted(
      { [`/v1/artifacts/sha256:${small.hex}/provenance`]: `${JSON.stringify(signed)}\n` },
      small.hex,
    );
    assert.equal((await verdict(page)).verdict, 'verified');
    const text = await page.$eval('#main', (m) => m.textContent ?? '');
    assert.ok(text.includes(JS_URL));
    assert.ok(text.includes('\\u{202e}\\u{7}'), 'direction and control characters are shown escaped');
    const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => (a as HTMLAnchorElement).href));
    assert.ok(!hrefs.some((h) => /^(javascript|data):/.test(h)), hrefs.join(' '));
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    await page.close();
  });

  it('the 10,000-dependency task loads, verifies and filters', async () => {
    const { page, errors } = await open(`/ui/#/artifacts/sha256:${big.hex}`);
    assert.equal(await state(page), 'verified');
    assert.match(await page.$eval('#dep-count', (e) => e.textContent ?? ''), /^10000 dependencies$/);
    const rows = await page.$$eval('table.deps tbody tr:not(.spacer)', (r) => r.length);
    assert.ok(rows > 0 && rows < 200, `${rows} rows in the DOM: only those in view`);
    await page.select('#dep-kind', 'cipd');
    assert.match(await page.$eval('#dep-count', (e) => e.textContent ?? ''), /^3333 of 10000 dependencies match$/);
    await page.type('#dep-filter', 'pkg-9997');
    assert.match(await page.$eval('#dep-count', (e) => e.textContent ?? ''), /^1 of 10000 dependencies match$/);
    assert.match(await page.$eval('table.deps tbody', (e) => e.textContent ?? ''), /example\/big\/pkg-9997/);
    // Keyboard: the table scrolls from the keyboard once it has focus.
    await page.select('#dep-kind', '');
    await page.$eval('#dep-filter', (e) => {
      (e as HTMLInputElement).value = '';
      e.dispatchEvent(new Event('input'));
    });
    await page.focus('.viewport');
    await page.keyboard.press('End');
    await page.waitForFunction(() => (document.querySelector('.viewport')?.scrollTop ?? 0) > 0);
    // The last row (sorted by URI): the GCS object big-9998.tar.
    await page.waitForFunction(() =>
      /big-9998\.tar/.test(document.querySelector('table.deps tbody')?.textContent ?? ''),
    );
    assert.deepEqual(errors, []);
    await shot(page, 'artifact-10000-dependencies');
    await page.close();
  });

  it('task page: draws every stage, the heartbeat, reports inside and outside the window, and the finding', async () => {
    const { page, errors } = await open(`/ui/#/tasks/${stages.taskId}?reporter=${encodeURIComponent(REPORTER_EMAIL)}`);
    assert.equal(await state(page), 'done');
    const drawn = await page.$$eval('#timeline g[data-stage]', (g) => g.map((x) => x.getAttribute('data-stage')));
    assert.deepEqual(drawn, ['STARTED', 'FETCH', 'COMPILE', 'UPLOAD', 'UPLOAD_COMPLETE', 'TEST', 'COMPLETE']);
    assert.equal(await page.$$eval('#timeline circle.heartbeat', (c) => c.length), 1);
    assert.equal(await page.$$eval('#timeline .finding', (c) => c.length), 1);
    // 3 deps + the late fetch + the artifact inside the window; the report after UPLOAD_COMPLETE outside.
    assert.equal(await page.$$eval('#timeline rect.report.in', (c) => c.length), 5);
    assert.equal(await page.$$eval('#timeline rect.report.out', (c) => c.length), 1);
    assert.equal(await page.$eval('#prov-state', (e) => e.textContent), 'signed');
    assert.deepEqual(errors, []);
    assert.deepEqual(await axe(page), [], 'axe-core violations on the task page');
    await shot(page, 'task-timeline');
    await page.close();
  });

  it('task page: an expired task ends its timeline at EXPIRED with the reason', async () => {
    const status = `${expiring.url}/v1/tasks/ui-expired-1?reporter=${encodeURIComponent(REPORTER_EMAIL)}`;
    for (let i = 0; i < 300; i++) {
      if (((await (await fetch(status)).json()) as { stage: string }).stage === 'EXPIRED') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const page = await chromium.browser.newPage();
    await page.goto(`${expiring.url}/ui/#/tasks/ui-expired-1?reporter=${encodeURIComponent(REPORTER_EMAIL)}`);
    await page.waitForFunction(() => document.getElementById('main')?.getAttribute('data-state') === 'done');
    const drawn = await page.$$eval('#timeline g[data-stage]', (g) => g.map((x) => x.getAttribute('data-stage')));
    assert.deepEqual(drawn, ['STARTED', 'FETCH', 'EXPIRED']);
    const text = await page.$eval('#main', (m) => m.textContent ?? '');
    assert.match(text, /Closed because/);
    assert.match(await page.$eval('#prov-state', (e) => e.textContent ?? ''), /^none$/);
    assert.equal(await page.$$eval('#timeline rect.report.in', (c) => c.length), 1);
    await shot(page, 'task-expired');
    await page.close();
  });

  it('search: a digest, a dropped file hashed in the browser, and a task id with its reporter', async () => {
    const { page } = await open('/ui/');
    assert.equal(await state(page), 'home');
    await page.type('#q', `sha256:${small.hex.toUpperCase()}`);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('main')?.getAttribute('data-state') === 'verified');
    const input = await page.$('#file');
    const file = join(mkdtempSync(join(tmpdir(), 'ui-file-')), 'app.tar');
    require('node:fs').writeFileSync(file, hostile.artifact);
    await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(file);
    await page.waitForFunction((hex: string) => location.hash === `#/artifacts/sha256:${hex}`, {}, hostile.hex);
    // Let that page finish (its title names the new digest once its route began, and data-state
    // is set when it is drawn) before typing, so a late render cannot take the keystrokes.
    await page.waitForFunction(
      (hex: string) =>
        document.title.includes(hex.slice(0, 12)) && document.getElementById('main')?.hasAttribute('data-state'),
      {},
      hostile.hex,
    );
    await page.$eval('#q', (e) => {
      (e as HTMLInputElement).value = '';
    });
    await page.type('#q', stages.taskId);
    await page.keyboard.press('Enter');
    assert.match(await page.$eval('#search-message', (e) => e.textContent ?? ''), /reporter/);
    await page.type('#reporter', REPORTER_EMAIL);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash.startsWith('#/tasks/ui-stages-1?reporter='));
    await page.waitForFunction(() => document.getElementById('main')?.getAttribute('data-state') === 'done');
    assert.deepEqual(await axe(page), [], 'axe-core violations after searching');
    await page.goto(`${svc.url}/ui/`);
    await page.waitForFunction(() => document.getElementById('main')?.getAttribute('data-state') === 'home');
    await shot(page, 'search');
    await page.close();
  });

  it('an artifact built by two tasks: both envelopes, read across pages, each verified, ids unique', async () => {
    const { page, errors } = await open(`/ui/#/artifacts/sha256:${shared.hex}`);
    assert.equal(await state(page), 'verified');
    assert.match((await verdict(page)).text, /2 of 2 envelope\(s\) verified/);
    assert.deepEqual(await page.$$eval('section.envelope h2', (hs) => hs.map((h) => h.textContent)), [
      'Envelope 1 of 2 verified',
      'Envelope 2 of 2 verified',
    ]);
    const text = await page.$eval('#main', (m) => m.textContent ?? '');
    assert.ok(text.includes('ui-shared-1') && text.includes('ui-shared-2'));
    const ids = await page.$$eval('[id]', (els) => els.map((e) => e.id));
    assert.deepEqual(
      ids.filter((id, i) => ids.indexOf(id) !== i),
      [],
      'duplicate element ids',
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(await axe(page), [], 'axe-core violations with two envelopes');
    await page.close();
  });

  it('an unknown artifact or task says so, and a malformed address shows the search', async () => {
    let { page } = await open(`/ui/#/artifacts/sha256:${'0'.repeat(64)}`);
    assert.equal(await state(page), 'error');
    assert.match((await verdict(page)).text, /No provenance names this artifact/);
    await page.close();
    ({ page } = await open(`/ui/#/tasks/no-such-task?reporter=${encodeURIComponent(REPORTER_EMAIL)}`));
    assert.equal(await state(page), 'error');
    assert.match(await page.$eval('#main', (m) => m.textContent ?? ''), /No such task/);
    await page.close();
    ({ page } = await open('/ui/#/artifacts/sha256:not-hex'));
    assert.equal(await state(page), 'home');
    await page.close();
  });

  it('keyboard: Tab reaches the skip link, the search, the file picker, the links, the table and its filters', async () => {
    const { page } = await open(`/ui/#/artifacts/sha256:${small.hex}`);
    const reached: string[] = [];
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab');
      reached.push(
        await page.evaluate(() => {
          const e = document.activeElement;
          if (!e || e === document.body) return 'body';
          return e.id ? `#${e.id}` : `${e.tagName.toLowerCase()}.${e.className || (e.textContent ?? '').slice(0, 20)}`;
        }),
      );
    }
    for (const want of [
      'a.skip',
      '#q',
      '#reporter',
      '#file',
      '#dep-kind',
      '#dep-filter',
      'div.viewport',
      'pre.command',
    ])
      assert.ok(reached.includes(want), `Tab never reached ${want}: ${reached.join(' ')}`);
    // The skip link moves focus to the content and leaves the page's address alone.
    await page.focus('a.skip');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
    assert.equal(await page.evaluate(() => location.hash), `#/artifacts/sha256:${small.hex}`);
    await page.close();
  });

  /** A page on which some read API answers are replaced (a hostile or broken server). */
  async function intercepted(answers: Record<string, string>, hex: string): Promise<Page> {
    const page = await chromium.browser.newPage();
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      const path = new URL(req.url()).pathname;
      const body = answers[path];
      if (body !== undefined) void req.respond({ status: 200, contentType: 'application/json', body });
      else void req.continue();
    });
    await page.goto(`${svc.url}/ui/#/artifacts/sha256:${hex}`);
    await page.waitForFunction(() => document.getElementById('main')?.hasAttribute('data-state'));
    return page;
  }
});

function pem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}
