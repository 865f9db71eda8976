// The verifier cannot be fooled or crashed: malformed entries of every shape
// are FAIL lines (never a TypeError), one bad line does not hide a good
// envelope, the success line names only the trusted key that verified,
// nothing from the envelope reaches the terminal unescaped, non-canonical
// base64 is refused, and --reporter pins the identity that reported the task.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { IN_TOTO_PAYLOAD_TYPE, pae, signStatement, type Envelope } from '../../functions/provenance/dsse.js';
import { verifyEnvelope as judge } from '../../functions/verify/engine.js';
import { strictBase64 } from '../../functions/verify/envelope.js';
import { parsePublicKeys, type TrustedKey } from '../../functions/verify/keys.js';
import type { FailureCode, VerificationPolicy } from '../../functions/verify/policy.js';
import { printable } from '../../functions/verify/text.js';
import { fixtureStatement, provenanceCli, SHA } from '../helpers/verify-fixture.js';

const cli = provenanceCli;
const statement = fixtureStatement;

const CODES = new Set<FailureCode>([
  'MALFORMED_ENVELOPE',
  'PAYLOAD_TYPE_MISMATCH',
  'SIGNATURE_INVALID',
  'NO_TRUSTED_KEY',
  'MALFORMED_STATEMENT',
  'STATEMENT_TYPE_MISMATCH',
  'PREDICATE_TYPE_MISMATCH',
  'NO_SUBJECT',
  'SUBJECT_NAME_NOT_COVERED',
  'BUILDER_ID_MISMATCH',
  'REPORTER_MISMATCH',
  'SOURCE_MISSING',
  'SOURCE_REF_MISMATCH',
  'CONFIG_SOURCE_MISMATCH',
  'REFUSED_FINDING',
  'PROVENANCE_TOO_OLD',
]);

/** The engine with a PEM text and a policy given by its expected digest and other fields. */
function verifyEnvelope(envelope: unknown, keys: string | TrustedKey[], policy: Partial<VerificationPolicy> = {}) {
  return judge(
    envelope,
    typeof keys === 'string' ? parsePublicKeys(keys) : keys,
    { expectedDigest: SHA, ...policy },
    new Date(),
  );
}

async function signed(signer: LocalSigner, value: unknown): Promise<Envelope> {
  const payload = Buffer.from(JSON.stringify(value));
  const { keyId, signature } = await signer.sign(pae(IN_TOTO_PAYLOAD_TYPE, payload));
  return {
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyId, sig: Buffer.from(signature).toString('base64') }],
  };
}

describe('verifyEnvelope on hostile input', () => {
  it('answers every malformed shape with failures, never by throwing', async () => {
    const signer = LocalSigner.ephemeral();
    const { pem } = await signer.publicKey();
    const good = await signed(signer, statement());
    const shapes: [string, unknown][] = [
      ['null', null],
      ['a number', 42],
      ['a list', [good]],
      ['payload null', { ...good, payload: null }],
      ['payload a number', { ...good, payload: 7 }],
      ['payloadType missing', { payload: good.payload, signatures: good.signatures }],
      ['signatures [null]', { ...good, signatures: [null] }],
      ['signatures a string', { ...good, signatures: 'sig' }],
      ['signatures empty', { ...good, signatures: [] }],
      ['sig a number', { ...good, signatures: [{ keyid: 'k', sig: 1 }] }],
      ['keyid an object', { ...good, signatures: [{ keyid: {}, sig: good.signatures[0]!.sig }] }],
      ['payload not JSON', await signedRaw(signer, Buffer.from('not json'))],
      ['payload a JSON list', await signed(signer, [1, 2])],
      ['payload JSON null', await signed(signer, null)],
      ['payload invalid UTF-8', await signedRaw(signer, Buffer.from([0x7b, 0xff, 0x7d]))],
      ['subject an object', await signed(signer, statement({ subject: { digest: { sha256: SHA } } }))],
      ['subject [null]', await signed(signer, statement({ subject: [null] }))],
      ['subject digest null', await signed(signer, statement({ subject: [{ name: 'x', digest: null }] }))],
      ['predicate null', await signed(signer, statement({ predicate: null }))],
      ['predicate a string', await signed(signer, statement({ predicate: 'x' }))],
      [
        'dependencies [null, 1]',
        await signed(
          signer,
          statement({
            predicate: { ...statement().predicate, buildDefinition: { resolvedDependencies: [null, 1, { uri: 5 }] } },
          }),
        ),
      ],
      [
        'refs not a list',
        await signed(
          signer,
          statement({
            predicate: {
              ...statement().predicate,
              buildDefinition: {
                resolvedDependencies: [
                  { uri: 'git+https://github.com/example/app', annotations: { refs: 'refs/heads/main' } },
                ],
              },
            },
          }),
        ),
      ],
      [
        'builder null',
        await signed(signer, statement({ predicate: { ...statement().predicate, runDetails: { builder: null } } })),
      ],
    ];
    // What each shape must fail with (besides anything else it fails).
    const expected: Record<string, FailureCode> = {
      null: 'MALFORMED_ENVELOPE',
      'a number': 'MALFORMED_ENVELOPE',
      'a list': 'MALFORMED_ENVELOPE',
      'payload null': 'MALFORMED_ENVELOPE',
      'payload a number': 'MALFORMED_ENVELOPE',
      'payloadType missing': 'MALFORMED_ENVELOPE',
      'signatures [null]': 'MALFORMED_ENVELOPE',
      'signatures a string': 'MALFORMED_ENVELOPE',
      'signatures empty': 'MALFORMED_ENVELOPE',
      'sig a number': 'MALFORMED_ENVELOPE',
      'keyid an object': 'MALFORMED_ENVELOPE',
      'payload not JSON': 'MALFORMED_STATEMENT',
      'payload a JSON list': 'MALFORMED_STATEMENT',
      'payload JSON null': 'MALFORMED_STATEMENT',
      'payload invalid UTF-8': 'MALFORMED_STATEMENT',
      'subject an object': 'NO_SUBJECT',
      'subject [null]': 'NO_SUBJECT',
      'subject digest null': 'NO_SUBJECT',
      'predicate null': 'MALFORMED_STATEMENT',
      'predicate a string': 'MALFORMED_STATEMENT',
      'dependencies [null, 1]': 'SOURCE_MISSING',
      'refs not a list': 'SOURCE_REF_MISMATCH',
      'builder null': 'BUILDER_ID_MISMATCH',
    };
    assert.equal(shapes.length, 23);
    for (const [what, envelope] of shapes) {
      let r: ReturnType<typeof verifyEnvelope> | undefined;
      assert.doesNotThrow(
        () =>
          (r = verifyEnvelope(envelope, pem, {
            expectedBuilderIds: ['https://builder.example'],
            expectedReporters: ['builder@example.com'],
            expectedSources: [{ uri: 'https://github.com/example/app', refs: ['refs/heads/main'] }],
          })),
        what,
      );
      assert.equal(r!.ok, false, what);
      assert.ok(r!.failures.length > 0, what);
      const codes = r!.failures.map((f) => f.code);
      assert.ok(codes.includes(expected[what]!), `${what}: ${JSON.stringify(r!.failures)}`);
      assert.ok(
        r!.failures.every((f) => CODES.has(f.code) && printable(f.message, Number.POSITIVE_INFINITY) === f.message),
        what,
      );
      assert.equal(JSON.parse(JSON.stringify(r!.subjects)).length, r!.subjects.length, what);
    }
  });

  it('refuses non-canonical base64 in the payload and the signature', async () => {
    const signer = LocalSigner.ephemeral();
    const { pem } = await signer.publicKey();
    let good = await signed(signer, statement());
    for (let k = 1; !good.payload.endsWith('=') || !/[+/]/.test(good.payload); k++)
      good = await signed(signer, statement({ padding: '?~'.repeat(k) }));
    assert.ok(verifyEnvelope(good, pem).ok);
    const variants: [string, Partial<Envelope>][] = [
      ['payload with a newline', { payload: `${good.payload.slice(0, 8)}\n${good.payload.slice(8)}` }],
      ['payload without padding', { payload: good.payload.replace(/=+$/, '') }],
      ['payload in the URL-safe alphabet', { payload: good.payload.replace(/\+/g, '-').replace(/\//g, '_') }],
      ['signature with a space', { signatures: [{ keyid: 'k', sig: ` ${good.signatures[0]!.sig}` }] }],
    ];
    for (const [what, over] of variants) {
      const r = verifyEnvelope({ ...good, ...over }, pem);
      assert.equal(r.ok, false, what);
      assert.ok(
        r.failures.some((f) => f.code === 'MALFORMED_ENVELOPE' && /canonical base64/.test(f.message)),
        `${what}: ${JSON.stringify(r.failures)}`,
      );
    }
    assert.equal(strictBase64('YQ==')?.toString(), 'a');
    assert.equal(strictBase64('YR=='), undefined, 'non-zero padding bits');
    assert.equal(strictBase64('YQ'), undefined);
  });

  it('names only the trusted key that verified, never a keyid the envelope claims', async () => {
    const a = LocalSigner.ephemeral();
    const b = LocalSigner.ephemeral();
    const env = await signed(b, statement());
    env.signatures = [
      {
        keyid: 'projects/p/locations/l/keyRings/r/cryptoKeys/trusted/cryptoKeyVersions/1',
        sig: Buffer.alloc(64).toString('base64'),
      },
      { keyid: 'evil', sig: env.signatures[0]!.sig },
    ];
    const keys = `# key-a (EC)\n${(await a.publicKey()).pem}# key-b (EC)\n${(await b.publicKey()).pem}`;
    const r = verifyEnvelope(env, keys);
    assert.equal(r.ok, true, JSON.stringify(r.failures));
    assert.equal(r.verifiedKey, 'key-b');
  });

  it('escapes terminal control sequences and bidi characters from the envelope', () => {
    assert.equal(printable('a\u001b[31mred\u0007'), 'a\\u{1b}[31mred\\u{7}');
    assert.equal(printable('x\u202ey\u2066z\u009b'), 'x\\u{202e}y\\u{2066}z\\u{9b}');
    assert.equal(printable('y'.repeat(300)).length, 201);
  });
});

async function signedRaw(signer: LocalSigner, payload: Buffer): Promise<Envelope> {
  const { keyId, signature } = await signer.sign(pae(IN_TOTO_PAYLOAD_TYPE, payload));
  return {
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyId, sig: Buffer.from(signature).toString('base64') }],
  };
}

describe('provenance verify (the bin) on hostile files', () => {
  it('checks a good envelope despite bad lines, exits 0, and notes what it did not count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
    const signer = LocalSigner.ephemeral();
    writeFileSync(join(dir, 'key.pem'), (await signer.publicKey()).pem);
    const good = await signed(signer, statement());
    writeFileSync(
      join(dir, 'mixed.jsonl'),
      [
        '{"payload": null, "payloadType": "x", "signatures": [null]}',
        'not json at all',
        JSON.stringify(good),
        'null',
        '',
      ].join('\n'),
    );
    const r = cli(
      'verify',
      '--key',
      join(dir, 'key.pem'),
      '--digest',
      `sha256:${SHA}`,
      '--provenance',
      join(dir, 'mixed.jsonl'),
      '--reporter',
      'builder@example.com',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /^verified sha256:(ab){32}: signed by sha256:[0-9a-f]{64}; builder https:\/\/builder.example; task build-1; reporter builder@example.com\n$/,
    );
    assert.match(r.stderr, /note: not counted: line 2: is not JSON/);
    assert.ok(!/TypeError| {4}at /.test(r.stderr), r.stderr);
  });

  it('fails with FAIL lines (exit 1) when no entry holds, escaping what it prints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
    const signer = LocalSigner.ephemeral();
    writeFileSync(join(dir, 'key.pem'), (await signer.publicKey()).pem);
    const evil = await signed(
      signer,
      statement({
        predicate: {
          ...statement().predicate,
          runDetails: { builder: { id: 'https://x\u001b]0;pwned\u0007\u001b[2J' } },
        },
      }),
    );
    writeFileSync(join(dir, 'evil.jsonl'), `${JSON.stringify(evil)}\n{"signatures":[null]}\n`);
    const r = cli(
      'verify',
      '--key',
      join(dir, 'key.pem'),
      '--digest',
      `sha256:${SHA}`,
      '--provenance',
      join(dir, 'evil.jsonl'),
      '--builder-id',
      'https://builder.example',
      '--reporter',
      'release@example.com',
    );
    assert.equal(r.status, 1, r.stderr);
    assert.ok(!r.stderr.includes('\u001b'), 'no raw escape character reaches the terminal');
    const lines = r.stderr.trim().split('\n');
    assert.ok(
      lines.every((l) => l.startsWith('FAIL: ')),
      r.stderr,
    );
    assert.ok(
      lines.some((l) => l.includes('line 1: builder id is "https://x\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"')),
      r.stderr,
    );
    assert.ok(
      lines.some((l) =>
        l.includes('line 1: the task was reported by "builder@example.com", not by "release@example.com"'),
      ),
      r.stderr,
    );
    assert.ok(
      lines.some((l) => /line 2: /.test(l)),
      r.stderr,
    );
  });

  it('passes --reporter when the reporting identity matches (any of several)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
    const signer = LocalSigner.ephemeral();
    writeFileSync(join(dir, 'key.pem'), (await signer.publicKey()).pem);
    writeFileSync(join(dir, 'p.jsonl'), `${JSON.stringify(await signStatement(statement() as never, signer))}\n`);
    const r = cli(
      'verify',
      '--key',
      join(dir, 'key.pem'),
      '--digest',
      `sha256:${SHA}`,
      '--provenance',
      join(dir, 'p.jsonl'),
      '--reporter',
      'other@example.com',
      '--reporter',
      'Builder@example.com',
    );
    assert.equal(r.status, 0, r.stderr);
  });
});
