// `verify --policy`: for each policy field, a policy that passes and one that
// fails on the same signed envelope; the same policy given as flags gives the
// same verdict (ok and failure codes) on the same envelopes; a key the
// envelope does not use and a subject pattern that covers nothing fail with a
// line pointing into the policy file; flags and a policy file together are
// wrong usage; --vsa writes a PASSED or FAILED summary that verify-vsa reads.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { signStatement } from '../../functions/provenance/dsse.js';
import type { Statement } from '../../functions/provenance/statement.js';
import { UsageError } from '../../functions/cli/exit-codes.js';
import { pointIntoPolicy, prepareGate, writeGateVsa, type GateOptions } from '../../functions/cli/gate.js';
import {
  buildPolicyFromFlags,
  runVerify,
  type VerifyOptions,
  type VerifyReport,
} from '../../functions/cli/verify-command.js';
import { runVerifyVsa } from '../../functions/cli/commands/verify-vsa.js';
import { schemaErrors } from '../helpers/schema-check.js';
import { statementOf } from '../helpers/statement-spec.js';

const SHA = '3c'.repeat(32);
const NOW = new Date('2026-06-02T00:00:00Z');
const REPO = 'https://github.com/example/app';
const findings = (codes: string[]) =>
  Buffer.from(
    JSON.stringify({ findings: codes.map((code) => ({ code, message: 'm', at: '2026-06-01T00:00:00Z' })) }),
  ).toString('base64');

function statement(findingCodes: string[]): Statement {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'gs://release-bucket/app.tar', digest: { sha256: SHA } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://build-provenance.dev/buildtypes/self-report/v1',
        externalParameters: {
          configSource: { uri: `git+${REPO}`, digest: { gitCommit: 'a'.repeat(40) }, entryPoint: 'cloudbuild.yaml' },
        },
        internalParameters: { reporter: 'builder@example.com' },
        resolvedDependencies: [
          { uri: `git+${REPO}`, digest: { gitCommit: 'a'.repeat(40) }, annotations: { refs: ['refs/heads/main'] } },
        ],
      },
      runDetails: {
        builder: { id: 'https://builder.example' },
        metadata: { invocationId: 't1', startedOn: '2026-06-01T00:00:00Z', finishedOn: '2026-06-01T00:10:00Z' },
        byproducts: [{ name: 'findings', mediaType: 'application/json', content: findings(findingCodes) }],
      },
    },
  } as unknown as Statement;
}

/** Each policy field: a YAML value that passes, one that fails, and the same two as flags. */
const FIELDS: { name: string; pass: [string, string[]]; fail: [string, string[]]; code: string }[] = [
  {
    name: 'builderIds',
    code: 'BUILDER_ID_MISMATCH',
    pass: ['builderIds: [https://builder.example]', ['--builder-id', 'https://builder.example']],
    fail: ['builderIds: [https://other.example]', ['--builder-id', 'https://other.example']],
  },
  {
    name: 'reporters',
    code: 'REPORTER_MISMATCH',
    pass: ['reporters: [builder@example.com]', ['--reporter', 'builder@example.com']],
    fail: ['reporters: [else@example.com]', ['--reporter', 'else@example.com']],
  },
  {
    name: 'sources (repository)',
    code: 'SOURCE_MISSING',
    pass: [`sources: [{repository: ${REPO}}]`, ['--source-uri', REPO]],
    fail: [
      'sources: [{repository: https://github.com/example/other}]',
      ['--source-uri', 'https://github.com/example/other'],
    ],
  },
  {
    name: 'sources (refs)',
    code: 'SOURCE_REF_MISMATCH',
    pass: [
      `sources: [{repository: ${REPO}, refs: [refs/heads/main]}]`,
      ['--source-uri', REPO, '--source-ref', 'refs/heads/main'],
    ],
    fail: [
      `sources: [{repository: ${REPO}, refs: [refs/heads/release]}]`,
      ['--source-uri', REPO, '--source-ref', 'refs/heads/release'],
    ],
  },
  {
    name: 'configSources',
    code: 'CONFIG_SOURCE_MISMATCH',
    pass: [
      `configSources: [{uri: ${REPO}, entryPoint: cloudbuild.yaml}]`,
      ['--config-source-uri', REPO, '--config-source-entry-point', 'cloudbuild.yaml'],
    ],
    fail: [
      `configSources: [{uri: ${REPO}, entryPoint: other.yaml}]`,
      ['--config-source-uri', REPO, '--config-source-entry-point', 'other.yaml'],
    ],
  },
  {
    name: 'refuseFindings',
    code: 'REFUSED_FINDING',
    pass: ['refuseFindings: [FETCH_AFTER_COMPILE]', ['--refuse-finding', 'FETCH_AFTER_COMPILE']],
    fail: ['refuseFindings: [LATE_REPORT]', ['--refuse-finding', 'LATE_REPORT']],
  },
  {
    name: 'maxAge',
    code: 'PROVENANCE_TOO_OLD',
    pass: ['maxAge: 2d', ['--max-age', '2d']],
    fail: ['maxAge: 12h', ['--max-age', '12h']],
  },
  {
    name: 'subjects',
    code: 'SUBJECT_NAME_NOT_COVERED',
    pass: ['subjects: ["gs://release-bucket/**"]', ['--subject-pattern', 'gs://release-bucket/**']],
    fail: ['subjects: ["us-docker.pkg.dev/p/release/*"]', ['--subject-pattern', 'us-docker.pkg.dev/p/release/*']],
  },
];

/** commander's shape for the flags: repeatable ones are lists. */
function flagOptions(argv: string[]): VerifyOptions {
  const o: Record<string, string | string[]> = {};
  const single = new Set(['configSourceEntryPoint', 'maxAge']);
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i]!.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (single.has(k)) o[k] = argv[i + 1]!;
    else o[k] = [...((o[k] as string[]) ?? []), argv[i + 1]!];
  }
  return o as VerifyOptions;
}

const codes = (r: VerifyReport): string[] => r.verdicts.flatMap((v) => v.verdict.failures.map((f) => f.code)).sort();

describe('verify --policy', () => {
  let dir: string;
  let envelopes: string;
  let keyFile: string;
  let keySet: string;
  const policyFile = (name: string, body: string, key = 'provenance-key.pem') => {
    const f = join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(f, `apiVersion: build-provenance/policy/v1\nkeys:\n  - pem: ${key}\n${body}\n`);
    return f;
  };
  const viaPolicy = async (file: string, extra: VerifyOptions & GateOptions = {}) => {
    const opts = { policy: file, digest: `sha256:${SHA}`, provenance: envelopes, ...extra };
    const gate = await prepareGate(opts);
    return pointIntoPolicy(await runVerify(opts, gate.rules, NOW, gate.trusted), gate);
  };
  const viaFlags = (argv: string[]) => {
    const opts = { ...flagOptions(argv), key: keyFile, digest: `sha256:${SHA}`, provenance: envelopes };
    return runVerify(opts, buildPolicyFromFlags(opts), NOW);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gate-'));
    const signer = LocalSigner.ephemeral();
    const { keyId, pem } = await signer.publicKey();
    keyFile = join(dir, 'provenance-key.pem');
    writeFileSync(keyFile, `# ${keyId} (ECDSA_P256_SHA256)\n${pem}`);
    keySet = JSON.stringify([
      { keyId, algorithm: 'ECDSA_P256_SHA256', pem, state: 'ENABLED', createTime: '2026-01-01T00:00:00Z' },
    ]);
    // Two envelopes for the artifact, as two tasks would make (each with a finding the policies may refuse).
    const lines = [
      await signStatement(statement(['LATE_REPORT']), signer),
      await signStatement(statement(['LATE_REPORT', 'OTHER']), signer),
    ];
    envelopes = join(dir, 'app.intoto.jsonl');
    writeFileSync(envelopes, lines.map((e) => `${JSON.stringify(e)}\n`).join(''));
    const other = LocalSigner.ephemeral();
    writeFileSync(join(dir, 'other-key.pem'), (await other.publicKey()).pem);
  });

  for (const f of FIELDS) {
    it(`${f.name}: passes and fails as the flags do, on the same envelopes`, async () => {
      const pass = await viaPolicy(policyFile(`${f.name}-pass`, f.pass[0]));
      assert.ok(pass.ok, pass.lines.join('\n'));
      const passFlags = await viaFlags(f.pass[1]);
      assert.equal(passFlags.ok, true);
      assert.deepEqual(codes(pass), codes(passFlags));
      const fail = await viaPolicy(policyFile(`${f.name}-fail`, f.fail[0]));
      assert.equal(fail.ok, false);
      assert.ok(codes(fail).includes(f.code), `${codes(fail)}`);
      const failFlags = await viaFlags(f.fail[1]);
      assert.equal(failFlags.ok, false);
      assert.deepEqual(codes(fail), codes(failFlags));
    });
  }

  it('every field at once: the same verdict as all the flags at once', async () => {
    const p = await viaPolicy(
      policyFile(
        'all',
        FIELDS.map((f) => f.pass[0])
          .join('\n')
          .replace(/\nsources: \[\{repository: [^\n]*\}\]\n(?=sources)/, '\n'),
      ),
    );
    const fl = await viaFlags(FIELDS.filter((f) => f.name !== 'sources (repository)').flatMap((f) => f.pass[1]));
    assert.ok(p.ok, p.lines.join('\n'));
    assert.equal(fl.ok, true);
    assert.deepEqual(codes(p), codes(fl));
  });

  it('a key the envelopes do not use: refused, pointing at the policy keys line', async () => {
    const file = policyFile('other-key', 'reporters: [builder@example.com]', 'other-key.pem');
    const r = await viaPolicy(file);
    assert.equal(r.ok, false);
    assert.ok(codes(r).includes('SIGNATURE_INVALID'), `${codes(r)}`);
    assert.ok(
      r.lines.some((l) => l.startsWith(`${file}:2:1: keys: no key of the policy`)),
      r.lines.join('\n'),
    );
  });

  it("keys from a key-set file and a key-set URL (bounded, no redirects); a key set without the envelope's key refused", async () => {
    writeFileSync(join(dir, 'keys.json'), keySet);
    const f = join(dir, 'keyset.yaml');
    writeFileSync(f, 'apiVersion: build-provenance/policy/v1\nkeys:\n  - keySet: keys.json\n');
    assert.ok((await viaPolicy(f)).ok);
    const served: Record<string, (res: import('node:http').ServerResponse) => void> = {
      '/v1/keys': (res) => res.end(keySet),
      '/big': (res) => res.end('['.padEnd(2 * 1024 * 1024, ' ')),
      '/moved': (res) => {
        res.writeHead(302, { location: '/v1/keys' });
        res.end();
      },
      '/other': (res) =>
        res.end(JSON.stringify([{ keyId: 'projects/p/k/1', pem: readFileSync(join(dir, 'other-key.pem'), 'utf8') }])),
    };
    const server = createServer((req, res) => (served[req.url ?? ''] ?? ((r) => r.writeHead(404).end()))(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const urlPolicy = (path: string) => {
        const file = join(dir, `url-${path.slice(1).replace(/\W/g, '')}.yaml`);
        writeFileSync(file, `apiVersion: build-provenance/policy/v1\nkeys:\n  - url: ${base}${path}\n`);
        return file;
      };
      assert.ok((await viaPolicy(urlPolicy('/v1/keys'))).ok);
      await assert.rejects(
        viaPolicy(urlPolicy('/big')),
        (e: Error) => e instanceof UsageError && /larger than 1 MiB/.test(e.message),
      );
      await assert.rejects(
        viaPolicy(urlPolicy('/moved')),
        (e: Error) => e instanceof UsageError && /:3:5: keys: cannot fetch/.test(e.message),
      );
      await assert.rejects(
        viaPolicy(urlPolicy('/missing')),
        (e: Error) => e instanceof UsageError && /HTTP 404/.test(e.message),
      );
      const other = await viaPolicy(urlPolicy('/other'));
      assert.equal(other.ok, false);
      assert.ok(
        other.lines.some((l) =>
          /signed with key "local:sha256:[0-9a-f]+", which is not in the key set \(projects\/p\/k\/1\)/.test(l),
        ),
        other.lines.join('\n'),
      );
      assert.ok(
        other.lines.some((l) => l.includes(':2:1: keys: no key of the policy (projects/p/k/1)')),
        other.lines.join('\n'),
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a subject pattern that covers nothing: a coded failure, pointing at the subjects line', async () => {
    const file = policyFile('no-subject', 'subjects:\n  - "gs://other-bucket/**"');
    const r = await viaPolicy(file);
    assert.deepEqual([...new Set(codes(r))], ['SUBJECT_NAME_NOT_COVERED']);
    assert.ok(
      r.lines.some((l) => l.startsWith(`${file}:4:1: subjects: no pattern ("gs://other-bucket/**")`)),
      r.lines.join('\n'),
    );
  });

  it('refuses policy flags or --key with --policy, and an invalid policy, as wrong usage (exit 2)', async () => {
    const file = policyFile('ok', 'reporters: [builder@example.com]');
    await assert.rejects(
      viaPolicy(file, { reporter: ['x@example.com'] }),
      (e: Error) => e instanceof UsageError && /drop --reporter/.test(e.message),
    );
    await assert.rejects(
      viaPolicy(file, { key: keyFile }),
      (e: Error) => e instanceof UsageError && /drop --key/.test(e.message),
    );
    const bad = policyFile('bad', 'reporters: nobody\nbogus: 1');
    await assert.rejects(
      viaPolicy(bad),
      (e: Error) =>
        e instanceof UsageError &&
        e.message.includes(`${bad}:4:12: reporters`) &&
        e.message.includes(`${bad}:5:1: bogus`),
    );
    await assert.rejects(
      viaPolicy(policyFile('missing-key', '', 'nope.pem')),
      (e: Error) => e instanceof UsageError && /:3:5: keys: cannot read/.test(e.message),
    );
    await assert.rejects(
      viaPolicy(file, { vsa: join(dir, 'x.intoto.jsonl') }),
      (e: Error) => e instanceof UsageError && /--vsa needs --vsa-key, --verifier-id, --resource-uri/.test(e.message),
    );
    // A resource URI naming another digest: no VSA vouches for it.
    const gateKey = join(dir, 'gate-key-2.pem');
    writeFileSync(
      gateKey,
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    const elsewhere = {
      policy: file,
      digest: `sha256:${SHA}`,
      provenance: envelopes,
      vsa: join(dir, 'elsewhere.intoto.jsonl'),
      vsaKey: gateKey,
      verifierId: 'https://gate.example.com',
      resourceUri: `us-docker.pkg.dev/p/r/app@sha256:${'0'.repeat(64)}`,
    };
    const g = await prepareGate(elsewhere);
    await assert.rejects(
      writeGateVsa(elsewhere, g, await runVerify(elsewhere, g.rules, NOW, g.trusted), g.rules ?? {}, NOW, 'x'),
      (e: Error) =>
        e instanceof UsageError &&
        /--resource-uri names sha256:0{64}, but the artifact verified is sha256:3c/.test(e.message),
    );
  });

  it('--vsa: PASSED and FAILED summaries, signed, that verify-vsa reads', async () => {
    const gateKey = join(dir, 'gate-key.pem');
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(gateKey, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'gate-key.pub.pem'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
    const vsaOpts = {
      vsaKey: gateKey,
      verifierId: 'https://gate.example.com',
      resourceUri: 'gs://release-bucket/app.tar',
    };
    for (const [name, body, passed] of [
      ['vsa-pass', 'reporters: [builder@example.com]', true],
      [
        'vsa-fail',
        'refuseFindings: [LATE_REPORT]\nsources: [{repository: https://github.com/example/app, refs: [refs/heads/release]}]',
        false,
      ],
    ] as const) {
      const file = policyFile(name, body);
      const out = join(dir, `${name}.intoto.jsonl`);
      const opts = { policy: file, digest: `sha256:${SHA}`, provenance: envelopes, vsa: out, ...vsaOpts };
      const gate = await prepareGate(opts);
      const report = await runVerify(opts, gate.rules, NOW, gate.trusted);
      assert.equal(report.ok, passed);
      const said = await writeGateVsa(opts, gate, report, gate.rules ?? {}, NOW, '0.1.0');
      assert.match(said, new RegExp(`VSA \\(${passed ? 'PASSED' : 'FAILED'}\\) written to ${out}`));
      const envelope = JSON.parse(readFileSync(out, 'utf8'));
      const s = statementOf(envelope) as { predicate: Record<string, unknown> };
      assert.deepEqual(schemaErrors('test/schema/slsa-vsa-v1.schema.json', s), []);
      assert.equal(s.predicate.verificationResult, passed ? 'PASSED' : 'FAILED');
      assert.equal(s.predicate.timeVerified, NOW.toISOString());
      const policy = s.predicate.policy as { uri: string; digest: { sha256: string } };
      assert.equal(policy.uri, `file:${file}`);
      const inputs = s.predicate.inputAttestations as { digest: { sha256: string } }[];
      // Both envelopes pass the PASSED policy and both were checked for the FAILED one: each by its line's sha256.
      const lineDigests = readFileSync(envelopes, 'utf8')
        .trim()
        .split('\n')
        .map((l) => createHash('sha256').update(l).digest('hex'));
      assert.deepEqual(inputs.map((i) => i.digest.sha256).sort(), lineDigests.sort());
      const checked = runVerifyVsa({
        vsa: out.replace(/\.intoto\.jsonl$/, '.sigstore.json'),
        key: join(dir, 'gate-key.pub.pem'),
        digest: `sha256:${SHA}`,
        resourceUri: vsaOpts.resourceUri,
        verifierId: vsaOpts.verifierId,
        level: ['SLSA_BUILD_LEVEL_1'],
      });
      assert.equal(checked.ok, passed, JSON.stringify(checked.failures));
      if (!passed) assert.ok(checked.failures.some((f) => f.code === 'VSA_RESULT_FAILED'));
    }
  });
});
