// The envelopes as Sigstore bundles v0.3, served by the read API and verified
// offline by the Sigstore project's own verifier (@sigstore/verify) with the
// service's public key as the only trust material; a tampered bundle and the
// wrong key are refused. The sigstore-js and openssl recipes of docs/api.md are run
// as written.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { DevIssuer, DEV_ISSUER } from '../../functions/adapters/dev-issuer.js';
import { OidcVerifier } from '../../functions/adapters/oidc-verifier.js';
import { taskKey, type Identity } from '../../functions/domain/task.js';
import type { Sha256Hex } from '../../functions/domain/report.js';
import { BUNDLE_MEDIA_TYPE, bundleToEnvelope, envelopeToBundle } from '../../functions/provenance/bundle.js';
import { provenanceApi } from '../../functions/api/provenance-api.js';
import { fetchHeaders, responseBytes } from '../../functions/api/http.js';
import { statementOf } from '../helpers/statement-spec.js';
import { memoryIngest } from '../helpers/memory-ingest.js';
import { sigstoreVerify } from '../helpers/sigstore-verify.js';

const root = join(__dirname, '..', '..', '..');
const owner: Identity = { issuer: DEV_ISSUER, subject: '42', email: 'builder@example.com' };
const SHA = '5a'.repeat(32) as Sha256Hex;

async function served() {
  const {
    tasks,
    provenance,
    clock,
    ingest,
    assembler: newAssembler,
  } = memoryIngest(owner, {
    now: new Date('2026-06-01T00:00:00Z'),
    reportRetentionMs: 1e9,
  });
  const signer = LocalSigner.ephemeral();
  await ingest.reportStage(owner, 't1', { stage: 'STARTED', recipe: 'r', pid: 1 });
  await ingest.addReport(owner, 't1', {
    kind: 'artifact',
    sha256: SHA,
    location: { type: 'gcs', uri: 'gs://out/app.tar' },
    sbomSubjects: [],
  });
  clock.advance(1000);
  await ingest.reportStage(owner, 't1', { stage: 'UPLOAD_COMPLETE' });
  await newAssembler(signer).assemble(taskKey(owner, 't1'));
  const certs = DevIssuer.ephemeral().certificates();
  const api = provenanceApi({
    tasks,
    provenance,
    keys: async () => [await signer.publicKey()],
    verifier: new OidcVerifier({ audience: 'a', issuers: [DEV_ISSUER], certificates: async () => certs }),
    access: { mode: 'public', readers: new Set() },
  });
  const get = async (url: string) => {
    const res = await api({ method: 'GET', url, headers: fetchHeaders(new Headers()), body: new Uint8Array() });
    return { status: res.status, text: (await responseBytes(res)).toString() };
  };
  return { get, signer, envelopes: await provenance.envelopesForSubject(SHA) };
}

describe('Sigstore bundles', () => {
  it('serves each envelope as a v0.3 bundle that @sigstore/verify accepts with the public key alone', async () => {
    const s = await served();
    const { pem, keyId } = await s.signer.publicKey();
    for (const url of [`/v1/artifacts/sha256:${SHA}/bundle`, '/v1/tasks/t1/bundle?reporter=builder@example.com']) {
      const r = await s.get(url);
      assert.equal(r.status, 200, r.text);
      const lines = r.text.trim().split('\n');
      assert.equal(lines.length, 1);
      const json = JSON.parse(lines[0]!);
      assert.equal(json.mediaType, BUNDLE_MEDIA_TYPE);
      assert.equal(json.verificationMaterial.publicKey.hint, keyId);
      assert.ok(!json.verificationMaterial.tlogEntries?.length, 'no transparency-log entry');
      // The same envelope, the same signature: a bundle only wraps it.
      assert.deepEqual(bundleToEnvelope(json).envelope, s.envelopes[0]);
      sigstoreVerify(json, pem);
    }
    assert.equal((await s.get(`/v1/artifacts/sha256:${'0'.repeat(64)}/bundle`)).status, 404);
  });

  it('refuses a tampered bundle and one checked against another key', async () => {
    const s = await served();
    const { pem } = await s.signer.publicKey();
    const good = envelopeToBundle(s.envelopes[0]!) as unknown as { dsseEnvelope: { payload: string } };
    const tampered = structuredClone(good);
    const statement = statementOf(tampered.dsseEnvelope) as { subject: { digest: { sha256: string } }[] };
    statement.subject[0]!.digest.sha256 = 'ff'.repeat(32);
    tampered.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    assert.throws(() => sigstoreVerify(tampered, pem));
    const otherPem = (await LocalSigner.ephemeral().publicKey()).pem;
    assert.throws(() => sigstoreVerify(good, otherPem));
    assert.doesNotThrow(() => sigstoreVerify(good, pem));
  });

  it('refuses what is not a DSSE bundle, naming the problem', () => {
    assert.throws(() => bundleToEnvelope([]), /not a JSON object/);
    assert.throws(() => bundleToEnvelope({ mediaType: 'application/json' }), /is not a Sigstore bundle's/);
    assert.throws(() => bundleToEnvelope({ mediaType: BUNDLE_MEDIA_TYPE }));
  });

  it('the docs/api.md recipes (sigstore-js, openssl) verify as written', async () => {
    const s = await served();
    const { pem, keyId } = await s.signer.publicKey();
    const page = readFileSync(join(root, 'docs', 'api.md'), 'utf8');
    const recipe = (name: string, lang: string) => {
      const at = page.indexOf(`<!-- recipe: ${name} -->`);
      assert.ok(at > 0, `docs/api.md has no ${name} recipe`);
      const start = page.indexOf(`\`\`\`${lang}\n`, at) + lang.length + 4;
      return page.slice(start, page.indexOf('\n```', start));
    };
    const dir = mkdtempSync(join(tmpdir(), 'recipes-'));
    mkdirSync(join(dir, 'demo'));
    writeFileSync(join(dir, 'demo', 'provenance-key.pem'), `# ${keyId} (ECDSA_P256_SHA256)\n${pem}`);
    writeFileSync(join(dir, 'demo', 'app.intoto.jsonl'), `${JSON.stringify(s.envelopes[0])}\n`);
    writeFileSync(join(dir, 'demo', 'app.tar.sigstore.json'), JSON.stringify(envelopeToBundle(s.envelopes[0]!)));
    const js = join(root, 'dist', 'verify-bundle.recipe.js'); // inside the repository, so require() finds its node_modules
    writeFileSync(js, recipe('sigstore-js', 'js'));
    assert.match(
      execFileSync(
        process.execPath,
        [js, join(dir, 'demo', 'app.tar.sigstore.json'), join(dir, 'demo', 'provenance-key.pem')],
        { encoding: 'utf8' },
      ),
      /bundle verified/,
    );
    const out = execFileSync('bash', ['-euo', 'pipefail', '-c', recipe('openssl', 'sh')], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.match(out, /Verified OK/);
    // …and the openssl recipe fails on a wrong signature.
    writeFileSync(
      join(dir, 'demo', 'app.intoto.jsonl'),
      `${JSON.stringify({ ...s.envelopes[0]!, signatures: [{ keyid: 'k', sig: Buffer.from((await LocalSigner.ephemeral().sign(Buffer.from('x'))).signature).toString('base64') }] })}\n`,
    );
    assert.throws(() =>
      execFileSync('bash', ['-euo', 'pipefail', '-c', recipe('openssl', 'sh')], {
        cwd: dir,
        encoding: 'utf8',
        stdio: 'pipe',
      }),
    );
  });
});
