// The CLI's token: fetched once per process, fetched again before it expires
// (a long `provenance run`), and which source is used for which service.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expiryOf, isLocalService, tokenSource } from '../../functions/cli/report/tokens.js';

it('mints dev tokens once and again five minutes before they expire', async () => {
  let now = Date.now();
  const src = tokenSource({
    url: 'http://localhost:8080',
    audience: 'http://localhost:8080',
    env: { DEV_ISSUER_DIR: mkdtempSync(join(tmpdir(), 'tok-')) },
    now: () => now,
  });
  assert.equal(src.kind, 'dev');
  const a = await src.get();
  assert.equal(await src.get(), a, 'cached');
  const exp = expiryOf(a)!;
  now = exp - 6 * 60_000;
  assert.equal(await src.get(), a, 'still cached six minutes before expiry');
  now = exp - 4 * 60_000;
  await new Promise((r) => setTimeout(r, 1100)); // a new iat, so a new token
  assert.notEqual(await src.get(), a, 'refreshed inside the last five minutes');
});

it('prefers PROVENANCE_TOKEN, uses the dev issuer only for a local service, the metadata server otherwise', () => {
  assert.equal(tokenSource({ url: 'https://svc.example', audience: 'a', env: { PROVENANCE_TOKEN: 't' } }).kind, 'env');
  assert.equal(tokenSource({ url: 'http://127.0.0.1:9', audience: 'a', env: {} }).kind, 'dev');
  assert.equal(tokenSource({ url: 'https://self-report-abc-uc.a.run.app', audience: 'a', env: {} }).kind, 'metadata');
  assert.equal(isLocalService('http://[::1]:8080'), true);
  assert.equal(isLocalService('http://127.0.0.2:8080'), false);
});
