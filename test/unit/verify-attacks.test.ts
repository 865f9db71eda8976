// A hostile party tries to make the verifier PASS what it must refuse: other
// spellings of a repository (scp-like, trailing dot, backslash differentials),
// look-alike hosts and refs, subject names a consumer reads as another path,
// identity fields of the wrong shape, signature and key-id confusion, times
// off the calendar or in the future, VSAs that contradict themselves, and
// YAML tricks in policy files. Each case must fail with its code; the cases
// that must still pass are there to show the refusals are not blanket ones.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { PemSigner } from '../../functions/adapters/pem-signer.js';
import { IN_TOTO_PAYLOAD_TYPE, pae, type Envelope } from '../../functions/provenance/dsse.js';
import { keysFor, parseKeySet } from '../../functions/provenance/key-set.js';
import { verifyEnvelope } from '../../functions/verify/engine.js';
import { uncoverableName } from '../../functions/verify/glob.js';
import { parsePublicKeys, type TrustedKey } from '../../functions/verify/keys.js';
import { parsePolicyFile } from '../../functions/verify/policy-file.js';
import type { VerificationPolicy } from '../../functions/verify/policy.js';
import { repositoryKey, sameRepository } from '../../functions/verify/repository.js';
import { verifyVsa } from '../../functions/verify/vsa-check.js';
import { vsaStatement } from '../../functions/verify/vsa.js';

const SHA = 'cd'.repeat(32);
const NOW = new Date('2026-11-30T12:00:00Z');
const APP = 'https://github.com/example/app';

interface Dep {
  uri: unknown;
  refs?: unknown[];
}
function statement(
  deps: Dep[] = [{ uri: `git+${APP}`, refs: ['refs/heads/main'] }],
  over: Record<string, unknown> = {},
) {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'gs://release/app.tar', digest: { sha256: SHA } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://example/bt',
        externalParameters: {},
        internalParameters: { reporter: 'builder@example.com' },
        resolvedDependencies: deps.map((d) => ({
          uri: d.uri,
          digest: { gitCommit: 'a'.repeat(40) },
          annotations: { refs: d.refs ?? ['refs/heads/main'] },
        })),
      },
      runDetails: {
        builder: { id: 'https://builder.example' },
        metadata: { invocationId: 'build-1', finishedOn: '2026-11-30T11:00:00Z' },
      },
    },
    ...over,
  };
}

async function sign(signer: { sign: LocalSigner['sign'] }, value: unknown, payloadType = IN_TOTO_PAYLOAD_TYPE) {
  const payload = Buffer.from(JSON.stringify(value));
  const { keyId, signature } = await signer.sign(pae(payloadType, payload));
  return {
    payloadType,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyId, sig: Buffer.from(signature).toString('base64') }],
  } satisfies Envelope;
}

const signer = LocalSigner.ephemeral();
let keys: TrustedKey[] = [];
async function judge(value: unknown, policy: Partial<VerificationPolicy> = {}) {
  if (keys.length === 0) keys = parsePublicKeys((await signer.publicKey()).pem);
  return verifyEnvelope(await sign(signer, value), keys, { expectedDigest: SHA, ...policy }, NOW);
}
const codes = (v: { failures: { code: string }[] }) => v.failures.map((f) => f.code);
const onMain = { expectedSources: [{ uri: APP, refs: ['refs/heads/main'] }] };

describe('sources: another spelling of the named repository cannot escape its ref rule', () => {
  for (const [name, spelling] of [
    ['scp-like', 'git@github.com:example/app.git'],
    ['scp-like, no user', 'github.com:example/app'],
    ['git+ssh scp-like', 'git+git@github.com:Example/App'],
    ['trailing dot', 'https://github.com./example/app'],
    ['empty segments', 'https://github.com//example//app/'],
    ['/.git', 'https://github.com/example/app/.git'],
  ]) {
    it(`${name}: ${spelling} on a feature branch beside a main checkout fails`, async () => {
      const v = await judge(
        statement([
          { uri: `git+${APP}`, refs: ['refs/heads/main'] },
          { uri: spelling, refs: ['refs/heads/evil'] },
        ]),
        onMain,
      );
      assert.deepEqual(codes(v), ['SOURCE_REF_MISMATCH'], name);
      assert.equal(v.failures[0]?.field, spelling);
      // And it is the named repository: alone, on main, it passes.
      assert.deepEqual(codes(await judge(statement([{ uri: spelling }]), onMain)), [], name);
    });
  }

  it('a backslash spelling (URL parser vs curl differential) is held to the refs, and never counts as present', async () => {
    for (const spelling of ['https://evil.example\\@github.com/example/app', 'https://github.com\\example\\app']) {
      assert.equal(repositoryKey(spelling), undefined, spelling);
      const beside = await judge(
        statement([
          { uri: `git+${APP}`, refs: ['refs/heads/main'] },
          { uri: spelling, refs: ['refs/heads/evil'] },
        ]),
        onMain,
      );
      assert.deepEqual(codes(beside), ['SOURCE_REF_MISMATCH'], spelling);
      assert.deepEqual(codes(await judge(statement([{ uri: spelling }]), onMain)), ['SOURCE_MISSING'], spelling);
    }
  });

  it('look-alike repositories never stand for the named one', async () => {
    for (const other of [
      'https://github.com.evil.example/example/app',
      'https://github.com@evil.example/example/app',
      'https://github.com:x@evil.example/example/app',
      'https://gіthub.com/example/app', // Cyrillic і: another (punycode) host
      'https://github.com/example/app-evil',
      'https://github.com/example/app/evil',
      'https://github.com/example%2fapp',
      'https://github.com/evil/example/app',
      'https://github.com/example/app.git.git',
      'file:///srv/github.com/example/app',
      'https://github.com/example/app?ref=main',
      'https://www.github.com/example/app',
    ]) {
      assert.equal(sameRepository(other, APP), false, other);
      const v = await judge(statement([{ uri: other }]), onMain);
      assert.deepEqual(codes(v), ['SOURCE_MISSING'], other);
      const withConfig = structuredClone(statement());
      (withConfig.predicate.buildDefinition.externalParameters as Record<string, unknown>).configSource = {
        uri: other,
      };
      const config = await judge(withConfig, { expectedConfigSources: [{ uri: APP }] });
      assert.deepEqual(codes(config), ['CONFIG_SOURCE_MISMATCH'], other);
    }
  });

  it('refs are compared whole: no prefix, no case folding, no tag for a branch', async () => {
    for (const ref of [
      'refs/heads/main/evil',
      'refs/heads/mainx',
      'refs/tags/main',
      'REFS/HEADS/MAIN',
      'main',
      ' refs/heads/main',
    ])
      assert.deepEqual(
        codes(await judge(statement([{ uri: APP, refs: [ref] }]), onMain)),
        ['SOURCE_REF_MISMATCH'],
        ref,
      );
    // Refs of the wrong shape are no refs.
    for (const refs of [[['refs/heads/main']], [{ ref: 'refs/heads/main' }], [null]])
      assert.deepEqual(codes(await judge(statement([{ uri: APP, refs }]), onMain)), ['SOURCE_REF_MISMATCH']);
  });
});

describe('subject patterns cover names as written, and only names that cannot be read as another path', () => {
  it('refuses names a consumer could resolve elsewhere, saying why', async () => {
    for (const name of [
      'gs://release/../staging/app.tar',
      'gs://release/./app.tar',
      'gs://release/a/..',
      'gs://release/a%2f..%2fstaging',
      'gs://release/a%2E%2E',
      'gs://release/app\\..\\x',
      'gs://release//app.tar',
      'gs://release/',
      'gs://release/app.tar\n',
      'gs://release/app tar',
      'gs://release/app\u0085',
    ]) {
      assert.ok(uncoverableName(name), name);
      const v = await judge(statement(undefined, { subject: [{ name, digest: { sha256: SHA } }] }), {
        subjectPatterns: ['gs://release/**', 'gs://release/*'],
      });
      assert.deepEqual(codes(v), ['SUBJECT_NAME_NOT_COVERED'], name);
      assert.match(v.failures[0]?.message ?? '', /cannot be covered/, name);
      assert.ok(!/[\n\u0085]/.test(v.failures[0]?.message ?? ''), 'one printable line');
    }
  });

  it('matches literally: no neighbour bucket, no case folding, no regex, no normalisation', async () => {
    const cases: [string, string][] = [
      ['gs://release/**', 'gs://release-evil/app.tar'],
      ['gs://release/*', 'gs://release/a/app.tar'],
      ['gs://release/*', 'GS://release/app.tar'],
      ['gs://release/app.tar', 'gs://release/appXtar'],
      ['gs://release/(app|x).tar', 'gs://release/app.tar'],
      ['gs://release/[a]pp.tar', 'gs://release/app.tar'],
      ['gs://release/caf\u00e9', 'gs://release/cafe\u0301'],
      ['gs://release/**/app.tar', 'gs://release/app.tar'],
    ];
    for (const [pattern, name] of cases) {
      const v = await judge(statement(undefined, { subject: [{ name, digest: { sha256: SHA } }] }), {
        subjectPatterns: [pattern],
      });
      assert.deepEqual(codes(v), ['SUBJECT_NAME_NOT_COVERED'], `${pattern} vs ${name}`);
    }
    for (const [pattern, name] of [
      ['gs://release/**', 'gs://release/a/b/app.tar'],
      ['us-docker.pkg.dev/p/release/*', 'us-docker.pkg.dev/p/release/app@sha256:x'],
      ['gs://release/v1.2+b/*', 'gs://release/v1.2+b/app.tar'],
    ])
      assert.deepEqual(
        codes(
          await judge(statement(undefined, { subject: [{ name, digest: { sha256: SHA } }] }), {
            subjectPatterns: [pattern as string],
          }),
        ),
        [],
        `${pattern} vs ${name}`,
      );
  });

  it('the digest counts only under "sha256" of a subject; a covered name on another subject does not help', async () => {
    const v = await judge(
      statement(undefined, {
        subject: [
          { name: 'gs://release/app.tar', digest: { sha512: SHA } },
          { name: 'gs://staging/app.tar', digest: { sha256: SHA } },
        ],
      }),
      { subjectPatterns: ['gs://release/*'] },
    );
    assert.deepEqual(codes(v), ['SUBJECT_NAME_NOT_COVERED']);
  });
});

describe('identity fields of the wrong shape never match', () => {
  it('builder id and reporter as lists, objects or with padding', async () => {
    const base = statement();
    for (const id of [
      ['https://builder.example'],
      { id: 'https://builder.example' },
      'https://builder.example ',
      null,
    ]) {
      const s = structuredClone(base);
      (s.predicate.runDetails.builder as { id: unknown }).id = id;
      assert.deepEqual(codes(await judge(s, { expectedBuilderIds: ['https://builder.example'] })), [
        'BUILDER_ID_MISMATCH',
      ]);
    }
    for (const reporter of [['builder@example.com'], { email: 'builder@example.com' }, 'builder@example.com.evil']) {
      const s = structuredClone(base);
      (s.predicate.buildDefinition.internalParameters as { reporter: unknown }).reporter = reporter;
      assert.deepEqual(codes(await judge(s, { expectedReporters: ['builder@example.com'] })), ['REPORTER_MISMATCH']);
    }
  });
});

describe('signatures and keys', () => {
  it('a valid signature by an untrusted key beside an invalid one under a trusted keyid is refused', async () => {
    const trusted = parsePublicKeys((await signer.publicKey()).pem);
    const attacker = LocalSigner.ephemeral();
    const env = await sign(attacker, statement());
    const forged = {
      ...env,
      signatures: [{ keyid: (await signer.publicKey()).keyId, sig: env.signatures[0]?.sig ?? '' }, ...env.signatures],
    };
    assert.deepEqual(codes(verifyEnvelope(forged, trusted, { expectedDigest: SHA }, NOW)), ['SIGNATURE_INVALID']);
    // With a key set, the claimed keyid only picks which trusted key to try: still refused.
    const set = parseKeySet([{ keyId: (await signer.publicKey()).keyId, pem: (await signer.publicKey()).pem }]);
    const pick = keysFor(forged, set);
    assert.ok('keys' in pick);
    assert.deepEqual(codes(verifyEnvelope(forged, pick.keys, { expectedDigest: SHA }, NOW)), ['SIGNATURE_INVALID']);
  });

  it('payloadType is compared exactly (its case is signed, and another type is another message)', async () => {
    for (const type of [
      'Application/vnd.in-toto+json',
      'application/vnd.in-toto+json; charset=utf-8',
      'application/json',
    ]) {
      const env = await sign(signer, statement(), type);
      assert.ok(codes(verifyEnvelope(env, keys, { expectedDigest: SHA }, NOW)).includes('PAYLOAD_TYPE_MISMATCH'), type);
    }
  });
});

describe('times', () => {
  it('maxAge refuses times off the calendar, far in the future, or not RFC 3339', async () => {
    for (const finishedOn of [
      '2026-11-31T11:00:00Z',
      '2026-02-30T11:00:00Z',
      '2026-11-30T24:00:00Z',
      '2026-11-30T11:00:00+24:00',
      '2099-01-01T00:00:00Z',
      '2026-11-30 11:00:00Z',
      '1764500400',
      'Mon, 30 Nov 2026 11:00:00 GMT',
    ]) {
      const s = structuredClone(statement());
      s.predicate.runDetails.metadata.finishedOn = finishedOn;
      assert.deepEqual(codes(await judge(s, { maxAgeSeconds: 86400 * 365 * 100 })), ['PROVENANCE_TOO_OLD'], finishedOn);
    }
    const ok = structuredClone(statement());
    ok.predicate.runDetails.metadata.finishedOn = '2026-11-30T11:59:60Z';
    assert.deepEqual(codes(await judge(ok, { maxAgeSeconds: 3600 })), [], 'a leap second is a time');
  });
});

describe('VSAs a deployer must refuse', () => {
  const DIGEST = '7e'.repeat(32);
  const expect = {
    expectedDigest: DIGEST,
    expectedVerifierId: 'https://gate.example.com/release',
    expectedResourceUri: 'gs://release/app.tar',
    expectedLevels: ['SLSA_BUILD_LEVEL_1'],
  };
  const gate = PemSigner.fromPem(
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  async function vsa(change: (s: ReturnType<typeof vsaStatement>) => void = () => {}) {
    const s = vsaStatement({
      verifierId: expect.expectedVerifierId,
      verifierVersion: { 'build-provenance': '0.1.0' },
      timeVerified: new Date('2026-11-30T11:59:00Z'),
      resourceUri: expect.expectedResourceUri,
      digest: DIGEST,
      policy: { uri: 'file:policy.yaml', sha256: 'ab'.repeat(32) },
      inputAttestations: [],
      passed: true,
    });
    change(s);
    const env = await sign(gate, s);
    return verifyVsa(env, parsePublicKeys((await gate.publicKey()).pem), expect, NOW);
  }
  const set = (s: ReturnType<typeof vsaStatement>, field: string, value: unknown) => {
    (s.predicate as unknown as Record<string, unknown>)[field] = value;
  };

  it('passes the honest one', async () => {
    assert.deepEqual(codes(await vsa()), []);
  });

  it('refuses a timeVerified in the future, off the calendar, or not a time', async () => {
    for (const t of ['2026-12-01T12:00:00Z', '2026-11-31T00:00:00Z', 'yesterday', 1764500400])
      assert.deepEqual(codes(await vsa((s) => set(s, 'timeVerified', t))), ['VSA_TIME_INVALID'], String(t));
    assert.deepEqual(codes(await vsa((s) => set(s, 'timeVerified', '2026-11-30T12:04:00Z'))), [], 'within clock skew');
  });

  it('refuses PASSED beside a FAILED level, and levels that only look right', async () => {
    assert.deepEqual(codes(await vsa((s) => set(s, 'verifiedLevels', ['SLSA_BUILD_LEVEL_1', 'FAILED']))), [
      'VSA_RESULT_FAILED',
    ]);
    for (const levels of [
      ['slsa_build_level_3'],
      ['SLSA_BUILD_LEVEL_1 '],
      ['SLSA_SOURCE_LEVEL_3'],
      ['SLSA_BUILD_LEVEL_\u0663'],
      'SLSA_BUILD_LEVEL_3',
      [['SLSA_BUILD_LEVEL_3']],
    ])
      assert.deepEqual(
        codes(await vsa((s) => set(s, 'verifiedLevels', levels))),
        ['VSA_LEVEL_INSUFFICIENT'],
        JSON.stringify(levels),
      );
    for (const result of ['passed', 'PASSED ', ['PASSED'], true])
      assert.deepEqual(codes(await vsa((s) => set(s, 'verificationResult', result))), ['VSA_RESULT_FAILED']);
  });

  it('refuses a summary of another digest algorithm or with the digest elsewhere', async () => {
    assert.deepEqual(codes(await vsa((s) => (s.subject = [{ name: 'x', digest: { sha512: DIGEST } as never }]))), [
      'VSA_SUBJECT_MISMATCH',
    ]);
    assert.deepEqual(
      codes(await vsa((s) => (s.subject = [{ name: DIGEST, digest: { sha256: DIGEST.toUpperCase() } }]))),
      ['VSA_SUBJECT_MISMATCH'],
    );
    for (const id of [['https://gate.example.com/release'], { id: 'https://gate.example.com/release' }])
      assert.deepEqual(codes(await vsa((s) => set(s, 'verifier', { id }))), ['VSA_VERIFIER_MISMATCH']);
  });
});

describe('policy files: YAML features that would let the file mean two things', () => {
  const head = 'apiVersion: build-provenance/policy/v1\nkeys:\n  - pem: k.pem\n';
  const problems = (text: string) => {
    const r = parsePolicyFile(text);
    return 'problems' in r ? r.problems.map((p) => `${p.line}:${p.col} ${p.field} ${p.message}`) : [];
  };
  it('refuses aliases, merge keys, custom tags and a billion laughs without expanding them', () => {
    assert.match(problems(`${head}builderIds: &b [x]\nreporters: *b\n`).join('\n'), /reporters is an alias/);
    assert.match(
      problems(`${head}sources:\n  - &s {repository: ${APP}}\n  - <<: *s\n    refs: [refs/heads/x]\n`).join('\n'),
      /sources\[1\]\.<< unknown field/,
    );
    assert.match(problems(`${head}builderIds: [!evil x]\n`).join('\n'), /has the tag !evil/);
    assert.match(problems(`${head}builderIds: !evil [x]\n`).join('\n'), /builderIds has the tag !evil/);
    assert.match(problems(`${head}---\nbuilderIds: [x]\n`).join('\n'), /multiple documents/);
    let lol = 'builderIds: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 12; i++)
      lol += `reporters${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    const found = problems(head + lol);
    assert.ok(found.length > 0 && found.every((p) => p.length < 400), 'refused field by field, nothing expanded');
  });

  it('reads a policy and its key files bounded: a device or a huge file is refused, not read whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-bounds-'));
    writeFileSync(join(dir, 'policy.yaml'), `${head.replace('pem: k.pem', 'keySet: /dev/zero')}`);
    const bin = join(__dirname, '..', '..', '..', 'bin', 'provenance.js');
    const check = (file: string) =>
      spawnSync(process.execPath, [bin, 'policy', 'check', file], { encoding: 'utf8', timeout: 60_000 });
    const keys = check(join(dir, 'policy.yaml'));
    assert.equal(keys.status, 1, keys.stderr);
    assert.match(keys.stderr, /policy\.yaml:3:5: keys: \/dev\/zero is larger than 1 MiB/);
    const whole = check('/dev/zero');
    assert.equal(whole.status, 1, whole.stderr);
    assert.match(whole.stderr, /the file is larger than 262144 bytes/);
  });
});
