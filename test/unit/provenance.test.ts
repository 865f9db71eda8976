// Provenance format (golden JSON), DSSE signing and verification with policy.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync, sign as cryptoSign, constants } from 'node:crypto';
import { applyStage, type TaskRecord } from '../../functions/domain/task.js';
import { reportId, type ContentReport, type StoredReport, type Sha256Hex } from '../../functions/domain/report.js';
import type { Stage } from '../../functions/domain/stage.js';
import { assembleProvenance, NoSubjectsError, type Statement } from '../../functions/provenance/statement.js';
import { assertStatementToSpec } from '../helpers/statement-spec.js';
import { pae, signStatement, IN_TOTO_PAYLOAD_TYPE, type Envelope } from '../../functions/provenance/dsse.js';
import { verifyEnvelope as judge } from '../../functions/verify/engine.js';
import { parsePublicKeys } from '../../functions/verify/keys.js';
import type { FailureCode } from '../../functions/verify/policy.js';
import { LocalSigner } from '../../functions/adapters/local-signer.js';

const GOLDEN = join(__dirname, '..', '..', '..', 'test', 'golden');
const owner = { issuer: 'https://accounts.google.com', subject: '1234', email: 'builder@example.com' };
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const sha = (c: string) => c.repeat(64) as Sha256Hex;

function fixture(): { task: TaskRecord; reports: StoredReport[] } {
  let task: TaskRecord | undefined;
  const stage = (s: Stage, at: number, extra = {}) => {
    task = applyStage(task, { key: 'k', taskId: 'build-42', owner, now: t(at), report: { stage: s, ...extra } });
  };
  stage('STARTED', 0, {
    recipe: 'cloudbuild.yaml',
    pid: 10,
    configSource: {
      uri: 'git+https://github.com/example/app',
      digest: { sha1: 'f'.repeat(40) },
      entryPoint: 'cloudbuild.yaml',
    },
  });
  stage('FETCH', 1);
  stage('COMPILE', 10);
  stage('UPLOAD', 20);
  stage('UPLOAD_COMPLETE', 30);
  const r = (report: ContentReport, at: number, lastAt = at): StoredReport => ({
    id: reportId(report),
    report,
    receivedAt: t(at),
    lastReceivedAt: t(lastAt),
    expireAt: t(at + 1000),
  });
  const reports = [
    r({ kind: 'git', repo: 'https://github.com/example/app', commit: 'a'.repeat(40), refs: ['refs/heads/main'] }, 2),
    r({ kind: 'git', repo: 'https://github.com/example/app', commit: 'a'.repeat(40), refs: ['refs/heads/release'] }, 3),
    r(
      {
        kind: 'cipd',
        packageName: 'infra/tools/go/linux-amd64',
        instanceId: 'c'.repeat(40),
        tags: ['version:1.22'],
        refs: ['latest'],
      },
      4,
    ),
    r({ kind: 'gcs', uri: 'gs://example-deps/lib.tar.gz', sha256: sha('1') }, 12), // after COMPILE: a finding
    r(
      {
        kind: 'artifact',
        sha256: sha('2'),
        location: { type: 'gcs', uri: 'gs://example-out/app.tar.gz' },
        sbomSubjects: [],
      },
      21,
    ),
    r(
      {
        kind: 'artifact',
        sha256: sha('3'),
        location: { type: 'oci', image: 'us-docker.pkg.dev/example/apps/app', tag: 'v1' },
        sbomSubjects: [],
      },
      22,
    ),
    r(
      {
        kind: 'artifact',
        sha256: sha('4'),
        location: { type: 'gcs', uri: 'gs://example-out/app.spdx.json' },
        sbomSubjects: [sha('2')],
      },
      23,
    ),
    r({ kind: 'git', repo: 'https://github.com/example/tests', commit: 'e'.repeat(40), refs: [] }, 40), // after UPLOAD_COMPLETE: kept out
  ];
  return { task: task!, reports };
}

function golden(name: string, value: unknown): void {
  const file = join(GOLDEN, name);
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
  assert.equal(
    text,
    readFileSync(file, 'utf8'),
    `${name} differs (UPDATE_GOLDEN=1 npm test rewrites it; review the diff)`,
  );
}

describe('assembleProvenance', () => {
  it('matches the golden statement, which follows the in-toto and SLSA v1 specs', () => {
    const { task, reports } = fixture();
    const statement = assembleProvenance(task, reports, {
      builderId: 'https://provenance.example/builders/cloudbuild',
    });
    golden('statement-basic.json', statement);
    assertStatementToSpec(statement);
    assertStatementToSpec(JSON.parse(readFileSync(join(GOLDEN, 'statement-basic.json'), 'utf8')));
  });

  it('the spec schema refuses what the specs forbid (so passing it means something)', () => {
    const { task, reports } = fixture();
    const good = assembleProvenance(task, reports, { builderId: 'https://provenance.example/builders/cloudbuild' });
    const bad: [string, (s: Statement) => void][] = [
      ['a descriptor with only a name', (s) => s.predicate.runDetails.byproducts.push({ name: 'x', annotations: {} })],
      ['uppercase hex', (s) => (s.subject[0]!.digest.sha256 = 'AB'.repeat(32))],
      ['a sha256 of the wrong length', (s) => (s.subject[0]!.digest.sha256 = 'abc')],
      [
        'an unknown algorithm name',
        (s) => (s.predicate.buildDefinition.resolvedDependencies[0]!.digest = { cipdInstanceId: 'c'.repeat(40) }),
      ],
      [
        'a field the spec does not define',
        (s) => Object.assign(s.predicate.buildDefinition.resolvedDependencies[0]!, { representation: {} }),
      ],
      ['a subject without a digest', (s) => Reflect.deleteProperty(s.subject[0]!, 'digest')],
      ['a timestamp that is not RFC 3339', (s) => (s.predicate.runDetails.metadata.startedOn = 'yesterday')],
      ['a builder id that is not a URI', (s) => (s.predicate.runDetails.builder.id = 'not a uri')],
      ['content that is not base64', (s) => (s.predicate.runDetails.byproducts[0]!.content = '!!')],
    ];
    for (const [what, spoil] of bad) {
      const s = structuredClone(good);
      spoil(s);
      assert.throws(() => assertStatementToSpec(s), /does not follow/, what);
    }
  });

  it('counts a report first sent before STARTED once a retry arrives inside the window', () => {
    const { task, reports } = fixture(); // STARTED at 0 s, UPLOAD_COMPLETE at 30 s
    const dep = (n: number): ContentReport => ({
      kind: 'git',
      repo: `https://github.com/example/dep-${n}`,
      commit: String(n).repeat(40),
      refs: [],
    });
    const early = (n: number, first: number, last: number): StoredReport => ({
      id: reportId(dep(n)),
      report: dep(n),
      receivedAt: t(first),
      lastReceivedAt: t(last),
      expireAt: t(999),
    });
    const before = task.stageTimes.STARTED!.getTime() / 1000 - Date.UTC(2026, 0, 1) / 1000 - 5; // 5 s before STARTED
    const extra = [
      early(1, before, 15), // raced STARTED, retried inside: counts
      early(2, before, before), // only ever before STARTED: out
      early(3, 35, 40), // first after UPLOAD_COMPLETE: out
      early(4, before, 35), // before STARTED, retried only after UPLOAD_COMPLETE: it was said before the upload ended, and again after STARTED: counts
      early(5, 10, 10), // inside: counts
    ];
    const statement = assembleProvenance(task, [...reports, ...extra], { builderId: 'b' });
    const deps = statement.predicate.buildDefinition.resolvedDependencies
      .map((d) => d.uri)
      .filter((u) => u?.includes('/dep-'));
    assert.deepEqual(deps, [
      'git+https://github.com/example/dep-1',
      'git+https://github.com/example/dep-4',
      'git+https://github.com/example/dep-5',
    ]);
  });

  it('is deterministic whatever the report order', () => {
    const { task, reports } = fixture();
    const a = assembleProvenance(task, reports, { builderId: 'b' });
    const b = assembleProvenance(task, [...reports].reverse(), { builderId: 'b' });
    assert.deepEqual(a, b);
  });

  it('refuses a task without artifacts', () => {
    const { task, reports } = fixture();
    assert.throws(
      () =>
        assembleProvenance(
          task,
          reports.filter((r) => r.report.kind !== 'artifact'),
          { builderId: 'b' },
        ),
      NoSubjectsError,
    );
  });
});

describe('DSSE and verify', () => {
  const policy = {
    expectedDigest: `sha256:${sha('2')}`,
    expectedBuilderIds: ['b'],
    expectedSources: [{ uri: 'https://github.com/example/app', refs: ['refs/heads/main'] }],
  };
  const verifyEnvelope = (env: unknown, pem: string, p: Partial<typeof policy> = policy) =>
    judge(env, parsePublicKeys(pem), { ...policy, ...p }, new Date());

  it('signs over the PAE and verifies with the public key alone', async () => {
    const { task, reports } = fixture();
    const signer = LocalSigner.ephemeral();
    const env = await signStatement(assembleProvenance(task, reports, { builderId: 'b' }), signer);
    assert.equal(env.payloadType, IN_TOTO_PAYLOAD_TYPE);
    const { pem } = await signer.publicKey();
    const r = verifyEnvelope(env, pem);
    assert.deepEqual(r.failures, []);
    assert.equal(r.ok, true);
  });

  it('PAE is the DSSE v1 encoding', () => {
    assert.equal(
      pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(),
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  it('refuses each policy or integrity failure with a reason', async () => {
    const { task, reports } = fixture();
    const signer = LocalSigner.ephemeral();
    const env = await signStatement(assembleProvenance(task, reports, { builderId: 'b' }), signer);
    const { pem } = await signer.publicKey();
    const cases: [string, Envelope, object, FailureCode, RegExp][] = [
      ['other key', env, {}, 'SIGNATURE_INVALID', /no signature verifies/],
      [
        'tampered payload',
        {
          ...env,
          payload: Buffer.from(Buffer.from(env.payload, 'base64').toString().replace('build-42', 'build-43')).toString(
            'base64',
          ),
        },
        {},
        'SIGNATURE_INVALID',
        /no signature verifies/,
      ],
      ['wrong digest', env, { expectedDigest: sha('9') }, 'NO_SUBJECT', /no subject has sha256/],
      ['wrong builder', env, { expectedBuilderIds: ['evil'] }, 'BUILDER_ID_MISMATCH', /builder id/],
      [
        'wrong repo',
        env,
        { expectedSources: [{ uri: 'https://github.com/evil/app' }] },
        'SOURCE_MISSING',
        /no git dependency/,
      ],
      [
        'wrong ref',
        env,
        { expectedSources: [{ uri: 'https://github.com/example/app', refs: ['refs/heads/stable'] }] },
        'SOURCE_REF_MISMATCH',
        /not on refs\/heads\/stable/,
      ],
      ['wrong payload type', { ...env, payloadType: 'text/plain' }, {}, 'PAYLOAD_TYPE_MISMATCH', /payloadType/],
    ];
    for (const [name, e, over, code, re] of cases) {
      const key = name === 'other key' ? (await LocalSigner.ephemeral().publicKey()).pem : pem;
      const r = verifyEnvelope(e, key, over);
      assert.equal(r.ok, false, name);
      assert.ok(
        r.failures.some((f) => f.code === code && re.test(f.message)),
        `${name}: ${JSON.stringify(r.failures)}`,
      );
    }
  });

  it('verifies EC P-384 and RSA-PSS signatures as KMS makes them', () => {
    const { task, reports } = fixture();
    const payload = Buffer.from(JSON.stringify(assembleProvenance(task, reports, { builderId: 'b' })));
    const msg = pae(IN_TOTO_PAYLOAD_TYPE, payload);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    for (const [kp, sig] of [
      [p384, cryptoSign('sha384', msg, p384.privateKey)],
      [
        rsa,
        cryptoSign('sha256', msg, {
          key: rsa.privateKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        }),
      ],
    ] as const) {
      const env = {
        payloadType: IN_TOTO_PAYLOAD_TYPE,
        payload: payload.toString('base64'),
        signatures: [{ keyid: 'k', sig: sig.toString('base64') }],
      };
      const r = judge(
        env,
        parsePublicKeys(kp.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
        { expectedDigest: sha('2') },
        new Date(),
      );
      assert.deepEqual(r.failures, []);
    }
  });
});
