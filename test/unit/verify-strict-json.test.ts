// Untrusted JSON is read by the verifier and the CLI with the server's strict
// reader (parseStrictJson): a key given twice anywhere (envelope, statement
// payload, key set, bundle, VSA, findings), a BOM or an inexact number is
// refused with its code, never read "last wins" as JSON.parse would. Another
// verifier keeps the first of two keys: without this, one envelope could mean
// two things. Everything here goes through the bin, as a gate runs it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { PemSigner } from '../../functions/adapters/pem-signer.js';
import { envelopeToBundle } from '../../functions/provenance/bundle.js';
import { IN_TOTO_PAYLOAD_TYPE, pae, type Envelope } from '../../functions/provenance/dsse.js';
import { signVsa, vsaStatement } from '../../functions/verify/vsa.js';
import { fixtureStatement, provenanceCli, SHA } from '../helpers/verify-fixture.js';

const cli = provenanceCli;
/** The fixture with these predicate fields replaced. */
const statement = (predicateOver: Record<string, unknown> = {}) => fixtureStatement({}, predicateOver);

/** An envelope over exactly these payload bytes, validly signed. */
async function signedText(signer: LocalSigner, payloadText: string): Promise<Envelope> {
  const payload = Buffer.from(payloadText, 'utf8');
  const { keyId, signature } = await signer.sign(pae(IN_TOTO_PAYLOAD_TYPE, payload));
  return {
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyId, sig: Buffer.from(signature).toString('base64') }],
  };
}

interface Verdict {
  ok: boolean;
  failures: { code: string; message: string }[];
}
const verdicts = (stdout: string): Verdict[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Verdict);

/** No stack trace, no raw control characters: every line of stderr is one printable FAIL/note line. */
function assertPrintable(stderr: string): void {
  assert.ok(!/TypeError|SyntaxError| {4}at /.test(stderr), stderr);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none reach the terminal
  assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f]/.test(stderr), stderr);
}

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'strict-json-'));
  const signer = LocalSigner.ephemeral();
  const pem = (await signer.publicKey()).pem;
  writeFileSync(join(dir, 'key.pem'), pem);
  const good = await signedText(signer, JSON.stringify(statement()));
  const verify = (file: string, ...more: string[]) =>
    cli('verify', '--digest', `sha256:${SHA}`, '--provenance', join(dir, file), '--json', ...more);
  return { dir, signer, pem, good, verify };
}

describe('strict JSON in the verifier', () => {
  it('refuses an envelope with "payload" twice (MALFORMED_ENVELOPE), whichever copy is signed', async () => {
    const { dir, signer, good, verify } = await setup();
    const other = await signedText(signer, JSON.stringify(statement({ runDetails: { builder: { id: 'x' } } })));
    // Both orders: a first-wins reader and a last-wins reader would each see a validly signed envelope.
    for (const [i, [a, b]] of [
      [good.payload, other.payload],
      [other.payload, good.payload],
    ].entries()) {
      const line = `{"payloadType":"${IN_TOTO_PAYLOAD_TYPE}","payload":"${a}","payload":"${b}","signatures":${JSON.stringify(good.signatures)}}`;
      writeFileSync(join(dir, `dup${i}.jsonl`), `${line}\n`);
      const r = verify(`dup${i}.jsonl`, '--key', join(dir, 'key.pem'));
      assert.equal(r.status, 1, r.stderr);
      const [v] = verdicts(r.stdout);
      assert.deepEqual(
        v?.failures.map((f) => f.code),
        ['MALFORMED_ENVELOPE'],
      );
      assert.match(v?.failures[0]?.message ?? '', /payload: the key appears twice/);
    }
    // The same envelope without the duplicate passes: the refusal is about the duplicate.
    writeFileSync(join(dir, 'good.jsonl'), `${JSON.stringify(good)}\n`);
    assert.equal(verify('good.jsonl', '--key', join(dir, 'key.pem')).status, 0);
  });

  it('refuses a duplicate key deep in an envelope, a BOM and an inexact number; other lines still count', async () => {
    const { dir, good, verify } = await setup();
    const sig = good.signatures[0]?.sig;
    const lines = [
      `{"payloadType":"${IN_TOTO_PAYLOAD_TYPE}","payload":"${good.payload}","signatures":[{"sig":"${sig}","sig":"AAAA"}]}`,
      `\ufeff${JSON.stringify(good)}`,
      `{"payloadType":"${IN_TOTO_PAYLOAD_TYPE}","payload":"${good.payload}","signatures":${JSON.stringify(good.signatures)},"n":9007199254740993}`,
    ];
    writeFileSync(join(dir, 'deep.jsonl'), `${lines.join('\n')}\n`);
    const r = verify('deep.jsonl', '--key', join(dir, 'key.pem'));
    assert.equal(r.status, 1, r.stderr);
    const vs = verdicts(r.stdout);
    assert.equal(vs.length, 3);
    for (const v of vs)
      assert.deepEqual(
        v.failures.map((f) => f.code),
        ['MALFORMED_ENVELOPE'],
      );
    assert.match(vs[0]?.failures[0]?.message ?? '', /signatures\[0\]\.sig: the key appears twice/);
    // A good line among them still passes the artifact (text mode: a note per refused line).
    writeFileSync(join(dir, 'mixed.jsonl'), `${lines[0]}\n${JSON.stringify(good)}\n`);
    const ok = cli(
      'verify',
      '--digest',
      `sha256:${SHA}`,
      '--provenance',
      join(dir, 'mixed.jsonl'),
      '--key',
      join(dir, 'key.pem'),
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /note: not counted: line 1: is not JSON this verifier reads: .*twice/);
    assertPrintable(ok.stderr);
  });

  it('refuses a one-envelope file spread over lines with a duplicate key as one entry', async () => {
    const { dir, good, verify } = await setup();
    const pretty = JSON.stringify(good, null, 2).replace('"payloadType":', '"payloadType": "x",\n  "payloadType":');
    writeFileSync(join(dir, 'pretty.json'), pretty);
    const r = verify('pretty.json', '--key', join(dir, 'key.pem'));
    assert.equal(r.status, 1);
    const vs = verdicts(r.stdout);
    assert.equal(vs.length, 1);
    assert.match(vs[0]?.failures[0]?.message ?? '', /payloadType: the key appears twice/);
  });

  it('refuses a signed statement payload with a key twice (MALFORMED_STATEMENT)', async () => {
    const { dir, signer, verify } = await setup();
    const s = JSON.stringify(statement());
    for (const [name, text] of [
      // Last-wins would read builder "https://builder.example"; first-wins reads "evil".
      ['builder', s.replace('"builder":{"id":', '"builder":{"id":"evil","id":')],
      ['subject', s.replace('"subject":', '"subject":[],"subject":')],
      ['type', s.replace('"_type":', '"_type":"x","_type":')],
    ]) {
      writeFileSync(join(dir, `${name}.jsonl`), `${JSON.stringify(await signedText(signer, text ?? ''))}\n`);
      const r = verify(`${name}.jsonl`, '--key', join(dir, 'key.pem'), '--builder-id', 'https://builder.example');
      assert.equal(r.status, 1, `${name}: ${r.stdout}`);
      const [v] = verdicts(r.stdout);
      assert.deepEqual(
        v?.failures.map((f) => f.code),
        ['MALFORMED_STATEMENT'],
        name,
      );
      assert.match(v?.failures[0]?.message ?? '', /the payload is not JSON this verifier reads: .*twice/, name);
    }
    // A payload with a BOM is refused as well.
    writeFileSync(join(dir, 'bom.jsonl'), `${JSON.stringify(await signedText(signer, `\ufeff${s}`))}\n`);
    const [bom] = verdicts(verify('bom.jsonl', '--key', join(dir, 'key.pem')).stdout);
    assert.deepEqual(
      bom?.failures.map((f) => f.code),
      ['MALFORMED_STATEMENT'],
    );
  });

  it('refuses a findings byproduct with "findings" twice (REFUSED_FINDING: it cannot be ruled out)', async () => {
    const { dir, signer, verify } = await setup();
    const content = Buffer.from('{"findings":[{"code":"FETCH_AFTER_COMPILE"}],"findings":[]}').toString('base64');
    const s = statement({
      runDetails: {
        builder: { id: 'https://builder.example' },
        metadata: { invocationId: 'build-1' },
        byproducts: [{ name: 'findings', mediaType: 'application/json', content }],
      },
    });
    writeFileSync(join(dir, 'findings.jsonl'), `${JSON.stringify(await signedText(signer, JSON.stringify(s)))}\n`);
    const r = verify('findings.jsonl', '--key', join(dir, 'key.pem'), '--refuse-finding', 'FETCH_AFTER_COMPILE');
    assert.equal(r.status, 1, r.stdout);
    const [v] = verdicts(r.stdout);
    assert.deepEqual(
      v?.failures.map((f) => f.code),
      ['REFUSED_FINDING'],
    );
  });

  it('refuses a key set with a key twice (--keys and a policy keySet), naming the file', async () => {
    const { dir, signer, pem, good } = await setup();
    writeFileSync(join(dir, 'good.jsonl'), `${JSON.stringify(good)}\n`);
    const keyId = good.signatures[0]?.keyid ?? '';
    const otherPem = (await LocalSigner.ephemeral().publicKey()).pem;
    const dup = `[{"keyId":${JSON.stringify(keyId)},"pem":${JSON.stringify(otherPem)},"pem":${JSON.stringify(pem)}}]`;
    writeFileSync(join(dir, 'keys.json'), dup);
    const r = cli(
      'verify',
      '--digest',
      `sha256:${SHA}`,
      '--provenance',
      join(dir, 'good.jsonl'),
      '--keys',
      join(dir, 'keys.json'),
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /keys\.json: the key set is not JSON this verifier reads: \[0\]\.pem: the key appears twice/,
    );
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assertPrintable(r.stderr);
    // The same set without the duplicate verifies (so the refusal is the duplicate's).
    writeFileSync(join(dir, 'keys-ok.json'), JSON.stringify([{ keyId, pem }]));
    const ok = cli(
      'verify',
      '--digest',
      `sha256:${SHA}`,
      '--provenance',
      join(dir, 'good.jsonl'),
      '--keys',
      join(dir, 'keys-ok.json'),
    );
    assert.equal(ok.status, 0, ok.stderr);
    // A policy's keySet: wrong usage (exit 2), with the policy file's line and column.
    writeFileSync(
      join(dir, 'policy.yaml'),
      'apiVersion: build-provenance/policy/v1\nkeys:\n  - keySet: keys.json\nbuilderIds: [https://builder.example]\n',
    );
    const p = cli(
      'verify',
      '--policy',
      join(dir, 'policy.yaml'),
      '--digest',
      `sha256:${SHA}`,
      '--provenance',
      join(dir, 'good.jsonl'),
    );
    assert.equal(p.status, 2, p.stderr);
    assert.match(p.stderr, /policy\.yaml:3:5: keys: the key set is not JSON this verifier reads: \[0\]\.pem: .*twice/);
    assertPrintable(p.stderr);
    void signer;
  });

  it('refuses a Sigstore bundle with a key twice (MALFORMED_ENVELOPE)', async () => {
    const { dir, good } = await setup();
    writeFileSync(join(dir, 'key.pem'), (await LocalSigner.ephemeral().publicKey()).pem);
    const bundle = JSON.stringify(envelopeToBundle(good));
    const dup = bundle.replace('"payload":', '"payload":"e30=","payload":');
    assert.notEqual(dup, bundle);
    writeFileSync(join(dir, 'app.sigstore.json'), dup);
    const r = cli(
      'verify',
      '--digest',
      `sha256:${SHA}`,
      '--bundle',
      join(dir, 'app.sigstore.json'),
      '--key',
      join(dir, 'key.pem'),
      '--json',
    );
    assert.equal(r.status, 1, r.stderr);
    const [v] = verdicts(r.stdout);
    assert.deepEqual(
      v?.failures.map((f) => f.code),
      ['MALFORMED_ENVELOPE'],
    );
    assert.match(v?.failures[0]?.message ?? '', /dsseEnvelope\.payload: the key appears twice.*not a Sigstore bundle/);
  });

  it('refuses a VSA with a key twice in its envelope or in its signed payload (VSA_MALFORMED)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strict-vsa-'));
    const signer = PemSigner.fromPem(
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    writeFileSync(join(dir, 'gate.pem'), (await signer.publicKey()).pem);
    const DIGEST = '7e'.repeat(32);
    const statementOf = (result: string) =>
      vsaStatement({
        verifierId: 'https://gate.example.com/release',
        verifierVersion: { 'build-provenance': '0.1.0' },
        timeVerified: new Date(),
        resourceUri: 'gs://release-bucket/app.tar',
        digest: DIGEST,
        policy: { uri: 'file:policy.yaml', sha256: 'ab'.repeat(32) },
        inputAttestations: [],
        passed: result === 'PASSED',
      });
    const verifyVsa = (file: string) =>
      cli(
        'verify-vsa',
        '--vsa',
        join(dir, file),
        '--key',
        join(dir, 'gate.pem'),
        '--digest',
        `sha256:${DIGEST}`,
        '--resource-uri',
        'gs://release-bucket/app.tar',
        '--verifier-id',
        'https://gate.example.com/release',
        '--json',
      );
    const passed = await signVsa(statementOf('PASSED'), signer);
    const failed = await signVsa(statementOf('FAILED'), signer);
    writeFileSync(join(dir, 'ok.jsonl'), `${JSON.stringify(passed)}\n`);
    assert.equal(verifyVsa('ok.jsonl').status, 0);
    // Envelope: a FAILED summary's payload and a PASSED one's, under one "payload" key twice.
    writeFileSync(
      join(dir, 'env.jsonl'),
      `${JSON.stringify(passed).replace('"payload":', `"payload":"${failed.payload}","payload":`)}\n`,
    );
    // Payload: "verificationResult" twice, validly signed.
    const text = JSON.stringify(statementOf('FAILED')).replace(
      '"verificationResult":"FAILED"',
      '"verificationResult":"FAILED","verificationResult":"PASSED"',
    );
    assert.match(text, /"PASSED"/);
    const { keyId, signature } = await signer.sign(pae(IN_TOTO_PAYLOAD_TYPE, Buffer.from(text)));
    const dupPayload = {
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      payload: Buffer.from(text).toString('base64'),
      signatures: [{ keyid: keyId, sig: Buffer.from(signature).toString('base64') }],
    };
    writeFileSync(join(dir, 'payload.jsonl'), `${JSON.stringify(dupPayload)}\n`);
    // And as a bundle.
    writeFileSync(join(dir, 'payload.sigstore.json'), JSON.stringify(envelopeToBundle(dupPayload as Envelope)));
    for (const [file, why] of [
      ['env.jsonl', /payload: the key appears twice/],
      ['payload.jsonl', /the payload is not JSON this verifier reads: predicate\.verificationResult: .*twice/],
      ['payload.sigstore.json', /the payload is not JSON this verifier reads: predicate\.verificationResult/],
    ] as const) {
      const r = verifyVsa(file);
      assert.equal(r.status, 1, `${file}: ${r.stdout}${r.stderr}`);
      const v = JSON.parse(r.stdout) as Verdict;
      assert.deepEqual(
        v.failures.map((f) => f.code),
        ['VSA_MALFORMED'],
        file,
      );
      assert.match(v.failures[0]?.message ?? '', why, file);
    }
  });
});
