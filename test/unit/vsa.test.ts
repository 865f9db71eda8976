// Verification Summary Attestations: the statement follows a JSON Schema of the
// VSA predicate written from the SLSA spec (test/schema/slsa-vsa-v1.schema.json),
// the envelope verifies as a Sigstore bundle with @sigstore/verify and as plain
// DSSE with openssl, and verify-vsa's checks refuse each kind of mismatch with
// its code, a tampered VSA and another key included.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PemSigner } from '../../functions/adapters/pem-signer.js';
import { envelopeToBundle } from '../../functions/provenance/bundle.js';
import type { Envelope } from '../../functions/provenance/dsse.js';
import { parsePublicKeys } from '../../functions/verify/keys.js';
import { levelMet, verifiedLevels } from '../../functions/verify/levels.js';
import { signVsa, vsaStatement, type VsaInput, type VsaStatement } from '../../functions/verify/vsa.js';
import { verifyVsa, type VsaExpectations } from '../../functions/verify/vsa-check.js';
import { schemaErrors } from '../helpers/schema-check.js';
import { statementOf } from '../helpers/statement-spec.js';
import { sigstoreVerify } from '../helpers/sigstore-verify.js';

const SCHEMA = 'test/schema/slsa-vsa-v1.schema.json';
const DIGEST = '7e'.repeat(32);
const input = (over: Partial<VsaInput> = {}): VsaInput => ({
  verifierId: 'https://gate.example.com/release',
  verifierVersion: { 'build-provenance': '0.1.0' },
  timeVerified: new Date('2026-06-01T12:00:00Z'),
  resourceUri: 'gs://release-bucket/app.tar',
  digest: DIGEST,
  policy: { uri: 'file:deploy/policy.yaml', sha256: 'ab'.repeat(32) },
  inputAttestations: [{ uri: 'file:app.intoto.jsonl', digest: { sha256: 'cd'.repeat(32) } }],
  passed: true,
  ...over,
});
const expect: VsaExpectations = {
  expectedDigest: DIGEST,
  expectedVerifierId: 'https://gate.example.com/release',
  expectedResourceUri: 'gs://release-bucket/app.tar',
  expectedLevels: ['SLSA_BUILD_LEVEL_1'],
};

function newSigner() {
  const signer = PemSigner.fromPem(
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  return signer;
}
async function signed(over: Partial<VsaInput> = {}, signer = newSigner()) {
  const envelope = await signVsa(vsaStatement(input(over)), signer);
  const { pem } = await signer.publicKey();
  return { envelope, pem, keys: parsePublicKeys(pem) };
}

/** DSSE checked with openssl alone: PAE rebuilt in the shell, the signature checked with the PEM. */
function opensslVerify(envelope: Envelope, pem: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'vsa-openssl-'));
  writeFileSync(join(dir, 'vsa.intoto.jsonl'), `${JSON.stringify(envelope)}\n`);
  writeFileSync(join(dir, 'gate.pem'), pem);
  const script = `
payload=$(grep -o '"payload":"[^"]*"' vsa.intoto.jsonl | head -1 | cut -d'"' -f4)
sig=$(grep -o '"sig":"[^"]*"' vsa.intoto.jsonl | head -1 | cut -d'"' -f4)
type=application/vnd.in-toto+json
printf '%s' "$payload" | base64 -d > payload.json
{ printf 'DSSEv1 %d %s %d ' \${#type} "$type" "$(wc -c < payload.json)"; cat payload.json; } > pae.bin
printf '%s' "$sig" | base64 -d > sig.der
openssl dgst -sha256 -verify gate.pem -signature sig.der pae.bin`;
  try {
    return /Verified OK/.test(
      execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, encoding: 'utf8', stdio: 'pipe' }),
    );
  } catch {
    return false;
  }
}

function tamper(envelope: Envelope, change: (s: VsaStatement) => void): Envelope {
  const s = statementOf(envelope) as VsaStatement;
  change(s);
  return { ...envelope, payload: Buffer.from(JSON.stringify(s)).toString('base64') };
}

describe('VSA statement', () => {
  it('follows the VSA v1 schema, PASSED and FAILED, with the claim docs/security.md allows', async () => {
    const passed = vsaStatement(input());
    assert.deepEqual(schemaErrors(SCHEMA, passed), []);
    assert.equal(passed.predicateType, 'https://slsa.dev/verification_summary/v1');
    assert.deepEqual(passed.predicate.verifiedLevels, ['SLSA_BUILD_LEVEL_1']);
    assert.equal(passed.predicate.slsaVersion, '1.0');
    assert.deepEqual(passed.subject, [{ name: 'gs://release-bucket/app.tar', digest: { sha256: DIGEST } }]);
    const failed = vsaStatement(input({ passed: false }));
    assert.deepEqual(schemaErrors(SCHEMA, failed), []);
    assert.equal(failed.predicate.verificationResult, 'FAILED');
    assert.deepEqual(failed.predicate.verifiedLevels, ['FAILED']);
    // The signed payload is the same statement.
    const { envelope } = await signed();
    assert.deepEqual(schemaErrors(SCHEMA, statementOf(envelope)), []);
  });

  it('the schema can fail: it refuses what the spec does not allow', () => {
    const good = vsaStatement(input());
    const bad = (change: (s: VsaStatement) => void) => {
      const s = structuredClone(good);
      change(s);
      return schemaErrors(SCHEMA, s);
    };
    assert.notDeepEqual(
      bad((s) => Reflect.deleteProperty(s.predicate.verifier, 'id')),
      [],
    );
    assert.notDeepEqual(
      bad((s) => Reflect.deleteProperty(s.predicate, 'resourceUri')),
      [],
    );
    assert.notDeepEqual(
      bad((s) => Reflect.deleteProperty(s.predicate, 'policy')),
      [],
    );
    assert.notDeepEqual(
      bad((s) => Reflect.set(s.predicate, 'verificationResult', 'OK')),
      [],
    );
    assert.notDeepEqual(
      bad((s) => (s.predicate.verifiedLevels = ['FAILED'])),
      [],
      'PASSED claims a level',
    );
    assert.notDeepEqual(
      bad((s) => (s.predicate.verifiedLevels = ['level one'])),
      [],
    );
    assert.notDeepEqual(
      bad((s) => (s.predicate.timeVerified = '2026-06-01 12:00')),
      [],
    );
    assert.notDeepEqual(
      bad((s) => (s.predicate.slsaVersion = 'v1')),
      [],
    );
    assert.notDeepEqual(
      bad((s) => Reflect.set(s.predicate, 'extra', 1)),
      [],
    );
    assert.notDeepEqual(
      bad((s) => (s.subject = [])),
      [],
    );
  });

  it('claims Build L1 only, and FAILED for a failed check', () => {
    assert.deepEqual(verifiedLevels('PASSED'), ['SLSA_BUILD_LEVEL_1']);
    assert.deepEqual(verifiedLevels('FAILED'), ['FAILED']);
    assert.ok(levelMet('SLSA_BUILD_LEVEL_1', ['SLSA_BUILD_LEVEL_3']));
    assert.ok(levelMet('SLSA_BUILD_LEVEL_0', ['SLSA_BUILD_LEVEL_1']));
    assert.ok(!levelMet('SLSA_BUILD_LEVEL_2', ['SLSA_BUILD_LEVEL_1']));
    assert.ok(!levelMet('SLSA_SOURCE_LEVEL_1', ['SLSA_BUILD_LEVEL_3']));
    assert.ok(!levelMet('SLSA_BUILD_LEVEL_1', ['FAILED']));
    assert.ok(levelMet('ACME_REVIEWED', ['SLSA_BUILD_LEVEL_1', 'ACME_REVIEWED']));
  });
});

describe('VSA envelope', () => {
  it('verifies as a Sigstore bundle (@sigstore/verify) and as DSSE (openssl); tampered or another key refused', async () => {
    const { envelope, pem } = await signed();
    const bundle = envelopeToBundle(envelope);
    sigstoreVerify(bundle, pem);
    assert.ok(opensslVerify(envelope, pem));
    const forged = tamper(envelope, (s) => {
      s.predicate.verificationResult = 'PASSED';
      s.subject[0]!.digest.sha256 = 'ff'.repeat(32);
    });
    assert.throws(() => sigstoreVerify(envelopeToBundle(forged), pem));
    assert.ok(!opensslVerify(forged, pem));
    const otherPem = (await newSigner().publicKey()).pem;
    assert.throws(() => sigstoreVerify(bundle, otherPem));
    assert.ok(!opensslVerify(envelope, otherPem));
  });
});

describe('verify-vsa checks', () => {
  it('passes a matching VSA and names the key that verified it', async () => {
    const { envelope, keys } = await signed();
    const v = verifyVsa(envelope, keys, expect);
    assert.deepEqual(v.failures, []);
    assert.ok(v.ok);
    assert.equal(v.verifiedKey, keys[0]!.name);
    assert.deepEqual(v.verifiedLevels, ['SLSA_BUILD_LEVEL_1']);
  });

  it('refuses each mismatch with its code', async () => {
    const { envelope, keys } = await signed();
    const codes = (env: unknown, ex: Partial<VsaExpectations> = {}, k = keys) =>
      verifyVsa(env, k, { ...expect, ...ex }).failures.map((f) => f.code);
    assert.deepEqual(codes(envelope, { expectedDigest: 'ab'.repeat(32) }), ['VSA_SUBJECT_MISMATCH']);
    assert.deepEqual(codes(envelope, { expectedVerifierId: 'https://other.example' }), ['VSA_VERIFIER_MISMATCH']);
    assert.deepEqual(codes(envelope, { expectedResourceUri: 'gs://other/app.tar' }), ['VSA_RESOURCE_URI_MISMATCH']);
    assert.deepEqual(codes(envelope, { expectedLevels: ['SLSA_BUILD_LEVEL_2'] }), ['VSA_LEVEL_INSUFFICIENT']);
    const otherKeys = parsePublicKeys((await newSigner().publicKey()).pem);
    assert.deepEqual(codes(envelope, {}, otherKeys), ['VSA_SIGNATURE_INVALID']);
    // A tampered statement no longer verifies, whatever it now says.
    assert.deepEqual(codes(tamper(envelope, (s) => (s.predicate.resourceUri = 'gs://x/y'))), ['VSA_SIGNATURE_INVALID']);
    // A FAILED summary, validly signed, is refused as FAILED (and claims no level).
    const failed = await signed({ passed: false });
    assert.deepEqual(codes(failed.envelope, {}, failed.keys), ['VSA_RESULT_FAILED', 'VSA_LEVEL_INSUFFICIENT']);
    // Validly signed, but not a VSA: provenance must not pass as a verdict.
    const signer = newSigner();
    const prov = await signVsa(
      { ...vsaStatement(input()), predicateType: 'https://slsa.dev/provenance/v1' as never },
      signer,
    );
    assert.deepEqual(codes(prov, {}, parsePublicKeys((await signer.publicKey()).pem)), ['VSA_PREDICATE_TYPE_MISMATCH']);
  });

  it('reads the envelope by the same rules as verify: a junk or non-canonical signature beside a good one is malformed', async () => {
    const { envelope, keys } = await signed();
    const good = envelope.signatures[0]!;
    for (const extra of [{ sig: `${good.sig}\n` }, { sig: ` ${good.sig}` }, { keyid: 7, sig: good.sig }, 'x']) {
      const v = verifyVsa({ ...envelope, signatures: [good, extra] }, keys, expect);
      assert.deepEqual(
        v.failures.map((f) => f.code),
        ['VSA_MALFORMED'],
        JSON.stringify(extra),
      );
      assert.match(v.failures[0]!.field ?? '', /^signatures\[1\]/);
    }
    // A payload in a non-canonical base64 spelling (the bytes decode the same) is malformed too.
    assert.deepEqual(
      verifyVsa({ ...envelope, payload: ` ${envelope.payload}` }, keys, expect).failures.map((f) => f.code),
      ['VSA_MALFORMED'],
    );
    // Unsigned: nothing verifies, so nothing else is read.
    assert.deepEqual(
      verifyVsa({ ...envelope, signatures: [] }, keys, expect).failures.map((f) => f.code),
      ['VSA_MALFORMED'],
    );
  });

  it('never throws on hostile input: one VSA_MALFORMED failure', () => {
    const keys = parsePublicKeys(
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    for (const hostile of [
      null,
      42,
      'x',
      [],
      {},
      { payloadType: 'application/vnd.in-toto+json', payload: 'not base64!', signatures: [] },
      { payloadType: 'text/plain', payload: '', signatures: [] },
    ]) {
      const v = verifyVsa(hostile, keys, expect);
      assert.equal(v.ok, false);
      assert.equal(v.failures[0]!.code, 'VSA_MALFORMED', JSON.stringify(hostile));
    }
  });
});
