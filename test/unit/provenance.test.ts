// Provenance format (golden JSON), DSSE signing and verification with policy.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync, sign as cryptoSign, constants } from 'node:crypto';
import { applyStage, type TaskRecord } from '../../functions/domain/task.js';
import { reportId, type ContentReport, type StoredReport, type Sha256Hex } from '../../functions/domain/report.js';
import type { Stage } from '../../functions/domain/stage.js';
import { assembleProvenance, NoSubjectsError } from '../../functions/provenance/statement.js';
import { pae, signStatement, IN_TOTO_PAYLOAD_TYPE, type Envelope } from '../../functions/provenance/dsse.js';
import { verifyEnvelope } from '../../functions/provenance/verify.js';
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
  stage('STARTED', 0, { recipe: 'cloudbuild.yaml', pid: 10, configSource: { uri: 'git+https://github.com/example/app', digest: { sha1: 'f'.repeat(40) }, entryPoint: 'cloudbuild.yaml' } });
  stage('FETCH', 1);
  stage('COMPILE', 10);
  stage('UPLOAD', 20);
  stage('UPLOAD_COMPLETE', 30);
  const r = (report: ContentReport, at: number): StoredReport => ({ id: reportId(report), report, receivedAt: t(at), expireAt: t(at + 1000) });
  const reports = [
    r({ kind: 'git', repo: 'https://github.com/example/app', commit: 'a'.repeat(40), refs: ['refs/heads/main'] }, 2),
    r({ kind: 'git', repo: 'https://github.com/example/app', commit: 'a'.repeat(40), refs: ['refs/heads/release'] }, 3),
    r({ kind: 'cipd', packageName: 'infra/tools/go/linux-amd64', instanceId: 'c'.repeat(40), tags: ['version:1.22'], refs: ['latest'] }, 4),
    r({ kind: 'gcs', uri: 'gs://example-deps/lib.tar.gz', sha256: sha('1') }, 12), // after COMPILE: a finding
    r({ kind: 'artifact', sha256: sha('2'), location: { type: 'gcs', uri: 'gs://example-out/app.tar.gz' }, sbomSubjects: [] }, 21),
    r({ kind: 'artifact', sha256: sha('3'), location: { type: 'oci', image: 'us-docker.pkg.dev/example/apps/app', tag: 'v1' }, sbomSubjects: [] }, 22),
    r({ kind: 'artifact', sha256: sha('4'), location: { type: 'gcs', uri: 'gs://example-out/app.spdx.json' }, sbomSubjects: [sha('2')] }, 23),
    r({ kind: 'git', repo: 'https://github.com/example/tests', commit: 'e'.repeat(40), refs: [] }, 40), // after UPLOAD_COMPLETE: kept out
  ];
  return { task: task!, reports };
}

function golden(name: string, value: unknown): void {
  const file = join(GOLDEN, name);
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
  assert.equal(text, readFileSync(file, 'utf8'), `${name} differs (UPDATE_GOLDEN=1 npm test rewrites it; review the diff)`);
}

describe('assembleProvenance', () => {
  it('matches the golden statement', () => {
    const { task, reports } = fixture();
    golden('statement-basic.json', assembleProvenance(task, reports, { builderId: 'https://provenance.example/builders/cloudbuild' }));
  });

  it('is deterministic whatever the report order', () => {
    const { task, reports } = fixture();
    const a = assembleProvenance(task, reports, { builderId: 'b' });
    const b = assembleProvenance(task, [...reports].reverse(), { builderId: 'b' });
    assert.deepEqual(a, b);
  });

  it('refuses a task without artifacts', () => {
    const { task, reports } = fixture();
    assert.throws(() => assembleProvenance(task, reports.filter((r) => r.report.kind !== 'artifact'), { builderId: 'b' }), NoSubjectsError);
  });
});

describe('DSSE and verify', () => {
  const policy = { digest: `sha256:${sha('2')}`, builderId: 'b', sourceUri: 'https://github.com/example/app', sourceRefs: ['refs/heads/main'] };

  it('signs over the PAE and verifies with the public key alone', async () => {
    const { task, reports } = fixture();
    const signer = LocalSigner.ephemeral();
    const env = await signStatement(assembleProvenance(task, reports, { builderId: 'b' }), signer);
    assert.equal(env.payloadType, IN_TOTO_PAYLOAD_TYPE);
    const { pem } = await signer.publicKey();
    const r = verifyEnvelope(env, pem, policy);
    assert.deepEqual(r.failures, []);
    assert.equal(r.ok, true);
  });

  it('PAE is the DSSE v1 encoding', () => {
    assert.equal(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('refuses each policy or integrity failure with a reason', async () => {
    const { task, reports } = fixture();
    const signer = LocalSigner.ephemeral();
    const env = await signStatement(assembleProvenance(task, reports, { builderId: 'b' }), signer);
    const { pem } = await signer.publicKey();
    const cases: [string, Envelope, object, RegExp][] = [
      ['other key', env, {}, /no signature verifies/],
      ['tampered payload', { ...env, payload: Buffer.from(Buffer.from(env.payload, 'base64').toString().replace('build-42', 'build-43')).toString('base64') }, {}, /no signature verifies/],
      ['wrong digest', env, { digest: sha('9') }, /no subject has sha256/],
      ['wrong builder', env, { builderId: 'evil' }, /builder id/],
      ['wrong repo', env, { sourceUri: 'https://github.com/evil/app' }, /no git dependency/],
      ['wrong ref', env, { sourceRefs: ['refs/heads/stable'] }, /not on refs\/heads\/stable/],
      ['wrong payload type', { ...env, payloadType: 'text/plain' }, {}, /payloadType/],
    ];
    for (const [name, e, over, re] of cases) {
      const key = name === 'other key' ? (await LocalSigner.ephemeral().publicKey()).pem : pem;
      const r = verifyEnvelope(e, key, { ...policy, ...over });
      assert.equal(r.ok, false, name);
      assert.ok(r.failures.some((f) => re.test(f)), `${name}: ${r.failures.join('; ')}`);
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
      [rsa, cryptoSign('sha256', msg, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })],
    ] as const) {
      const env = { payloadType: IN_TOTO_PAYLOAD_TYPE, payload: payload.toString('base64'), signatures: [{ keyid: 'k', sig: sig.toString('base64') }] };
      const r = verifyEnvelope(env, kp.publicKey.export({ type: 'spki', format: 'pem' }).toString(), { digest: sha('2') });
      assert.deepEqual(r.failures, []);
    }
  });
});
