// ID token time checks beyond google-auth-library's five-minute leeway, and
// one identity → one task key whichever way Google spells its issuer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DevIssuer } from '../../functions/adapters/dev-issuer.js';
import { normalizeIssuer, OidcVerifier } from '../../functions/adapters/oidc-verifier.js';
import { taskKey } from '../../functions/domain/task.js';
import { ServiceError } from '../../functions/domain/errors.js';
import { selfReportHarness, STARTED, COMMIT } from '../helpers/self-report-client.js';
import { MemoryTaskStore } from '../../functions/adapters/memory-task-store.js';

const AUDIENCE = 'https://provenance.test';
const issuer = DevIssuer.ephemeral();
const certs = issuer.certificates();
const NOW = Math.floor(Date.now() / 1000);

function verifier(opts: { skew?: number } = {}) {
  return new OidcVerifier({
    audience: AUDIENCE,
    issuers: ['https://accounts.google.com', 'accounts.google.com'],
    certificates: async () => certs,
    now: () => NOW * 1000,
    ...(opts.skew !== undefined ? { clockSkewSeconds: opts.skew } : {}),
  });
}

const mint = (o: Partial<Parameters<DevIssuer['mint']>[0]>) =>
  issuer.mint({ audience: AUDIENCE, email: 'builder@example.com', issuer: 'https://accounts.google.com', ...o });

async function refusal(v: OidcVerifier, token: string): Promise<string> {
  try {
    await v.verify(token);
  } catch (err) {
    assert.ok(err instanceof ServiceError);
    assert.equal(err.code, 'unauthenticated');
    return err.message;
  }
  assert.fail('the token was accepted');
}

describe('token times', () => {
  it('accepts a standard one-hour token', async () => {
    const id = await verifier().verify(mint({ issuedAt: NOW - 10 }));
    assert.equal(id.email, 'builder@example.com');
  });

  it('refuses a token whose nbf is past the leeway, accepts one within it', async () => {
    assert.match(await refusal(verifier(), mint({ issuedAt: NOW - 10, notBefore: NOW + 120 })), /not valid yet \(nbf/);
    await verifier().verify(mint({ issuedAt: NOW - 10, notBefore: NOW + 20 }));
  });

  it('refuses a non-numeric nbf', async () => {
    assert.match(
      await refusal(verifier(), mint({ issuedAt: NOW - 10, notBefore: 'soon' as never })),
      /nbf is not a number/,
    );
  });

  it('refuses a lifetime longer than an hour plus the leeway', async () => {
    assert.match(
      await refusal(verifier(), mint({ issuedAt: NOW - 10, lifetimeSeconds: 7200 })),
      /lifetime 7200s is longer than 3600s/,
    );
    assert.match(await refusal(verifier(), mint({ issuedAt: NOW - 10, lifetimeSeconds: 3600 + 31 })), /lifetime/);
    await verifier().verify(mint({ issuedAt: NOW - 10, lifetimeSeconds: 3600 + 30 }));
  });

  it('keeps the expiry leeway small and configurable (the library alone allows 300 s)', async () => {
    const expired60sAgo = mint({ issuedAt: NOW - 3660, lifetimeSeconds: 3600 });
    assert.match(await refusal(verifier(), expired60sAgo), /expired/);
    await verifier({ skew: 120 }).verify(expired60sAgo);
    assert.match(
      await refusal(verifier({ skew: 0 }), mint({ issuedAt: NOW - 3601, lifetimeSeconds: 3600 })),
      /expired/,
    );
  });

  it('refuses a token issued in the future beyond the leeway', async () => {
    assert.match(await refusal(verifier(), mint({ issuedAt: NOW + 120 })), /issued in the future/);
  });
});

describe('issuer normalisation', () => {
  it("maps both spellings of Google's issuer to one", () => {
    assert.equal(normalizeIssuer('accounts.google.com'), 'https://accounts.google.com');
    assert.equal(normalizeIssuer('https://accounts.google.com'), 'https://accounts.google.com');
    assert.equal(normalizeIssuer('https://accounts.google.com/'), 'https://accounts.google.com');
  });

  it('gives one identity one task key whichever spelling its token carries', async () => {
    const v = verifier();
    const a = await v.verify(mint({ issuer: 'accounts.google.com', subject: '1234', issuedAt: NOW - 5 }));
    const b = await v.verify(mint({ issuer: 'https://accounts.google.com', subject: '1234', issuedAt: NOW - 4 }));
    assert.equal(a.issuer, b.issuer);
    assert.equal(taskKey(a, 'build-1'), taskKey(b, 'build-1'));
  });

  it("puts one build's reports into one task when its tokens spell the issuer differently", async () => {
    const store = new MemoryTaskStore();
    const h = selfReportHarness({ store, issuers: ['https://accounts.google.com', 'accounts.google.com'] });
    const short = h.issuer.mint({
      audience: AUDIENCE,
      email: 'builder@example.com',
      subject: '42',
      issuer: 'accounts.google.com',
    });
    const long = h.issuer.mint({
      audience: AUDIENCE,
      email: 'builder@example.com',
      subject: '42',
      issuer: 'https://accounts.google.com',
    });
    assert.equal((await h.call('ReportTaskStage', STARTED, { token: short })).status, 200);
    assert.equal(
      (await h.call('ReportGit', { gitReport: { repo: 'https://github.com/x/y', commit: COMMIT } }, { token: long }))
        .status,
      200,
    );
    const tasks = await store.findTasks('build-1', 'builder@example.com');
    assert.equal(tasks.length, 1);
    assert.equal((await store.listReports(tasks[0]!.key)).length, 1);
  });
});
