// VSAs signed with Cloud KMS (`--vsa-key gcpkms://…`): the real
// @google-cloud/kms client against the local KMS gRPC server
// (test/helpers/kms-server.ts), an EC P-256 key (others refused); the VSA verifies with the
// key's public PEM (verify-vsa's checks and @sigstore/verify as a bundle), and
// the CLI signs one end to end and exits (the KMS channel is closed).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { envelopeToBundle } from '../../functions/provenance/bundle.js';
import { signStatement } from '../../functions/provenance/dsse.js';
import type { Statement } from '../../functions/provenance/statement.js';
import { vsaSigner } from '../../functions/cli/vsa-key.js';
import { UsageError } from '../../functions/cli/exit-codes.js';
import { parsePublicKeys } from '../../functions/verify/keys.js';
import { signVsa, vsaStatement } from '../../functions/verify/vsa.js';
import { verifyVsa } from '../../functions/verify/vsa-check.js';
import { schemaErrors } from '../helpers/schema-check.js';
import { statementOf } from '../helpers/statement-spec.js';
import { startLocalKms, type LocalKms } from '../helpers/kms-server.js';
import { sigstoreVerify } from '../helpers/sigstore-verify.js';

const run = promisify(execFile);
const root = join(__dirname, '..', '..', '..');
const KEY = (n: string) => `projects/p/locations/global/keyRings/r/cryptoKeys/${n}/cryptoKeyVersions/1`;
const SHA = '9a'.repeat(32);

/** `provenance verify` arguments that check app.intoto.jsonl with key.pem and write a VSA signed by the KMS key. */
const VERIFY_WITH_KMS_VSA = [
  'verify',
  '--key',
  'key.pem',
  '--digest',
  `sha256:${SHA}`,
  '--provenance',
  'app.intoto.jsonl',
  '--vsa',
  'app.vsa.intoto.jsonl',
  '--vsa-key',
  `gcpkms://${KEY('gate-p256')}`,
  '--verifier-id',
  'https://gate.example.com',
  '--resource-uri',
  'gs://b/app.tar',
];

/** Writes dir/app.intoto.jsonl, a provenance for gs://b/app.tar signed by a fresh key, and that key as dir/key.pem. */
async function writeSignedProvenance(dir: string): Promise<void> {
  const signer = LocalSigner.ephemeral();
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'gs://b/app.tar', digest: { sha256: SHA } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: { buildType: 'x', externalParameters: {}, internalParameters: {}, resolvedDependencies: [] },
      runDetails: { builder: { id: 'https://b' }, metadata: { invocationId: 't' }, byproducts: [] },
    },
  } as unknown as Statement;
  writeFileSync(join(dir, 'app.intoto.jsonl'), `${JSON.stringify(await signStatement(statement, signer))}\n`);
  writeFileSync(join(dir, 'key.pem'), (await signer.publicKey()).pem);
}

describe('VSA signed with Cloud KMS (local KMS gRPC server)', () => {
  let kms: LocalKms;
  const saved = process.env.KMS_EMULATOR_HOST;
  before(async () => {
    kms = await startLocalKms();
    kms.addKey(KEY('gate-p256'), 'EC_SIGN_P256_SHA256');
    kms.addKey(KEY('gate-p384'), 'EC_SIGN_P384_SHA384');
    process.env.KMS_EMULATOR_HOST = `127.0.0.1:${kms.port}`;
  });
  after(async () => {
    if (saved === undefined) delete process.env.KMS_EMULATOR_HOST;
    else process.env.KMS_EMULATOR_HOST = saved;
    await kms.stop();
  });

  for (const name of ['gate-p256']) {
    it(`${name}: signs a VSA that verify-vsa and @sigstore/verify accept with the public key; another key refused`, async () => {
      const key = await vsaSigner(`gcpkms://${KEY(name)}`);
      try {
        const statement = vsaStatement({
          verifierId: 'https://gate.example.com',
          timeVerified: new Date('2026-06-01T00:00:00Z'),
          resourceUri: 'gs://b/app.tar',
          digest: SHA,
          policy: { uri: 'file:policy.yaml', sha256: 'ab'.repeat(32) },
          inputAttestations: [],
          passed: true,
        });
        const envelope = await signVsa(statement, key.signer);
        assert.equal(envelope.signatures[0].keyid, KEY(name));
        assert.deepEqual(schemaErrors('test/schema/slsa-vsa-v1.schema.json', statementOf(envelope)), []);
        const pem = kms.keys.get(KEY(name))!.pem;
        const v = verifyVsa(envelope, parsePublicKeys(pem), {
          expectedDigest: SHA,
          expectedVerifierId: 'https://gate.example.com',
          expectedResourceUri: 'gs://b/app.tar',
          expectedLevels: ['SLSA_BUILD_LEVEL_1'],
        });
        assert.deepEqual(v.failures, []);
        sigstoreVerify(envelopeToBundle(envelope), pem);
        const other = kms.keys.get(KEY('gate-p384'))!.pem;
        assert.equal(
          verifyVsa(envelope, parsePublicKeys(other), {
            expectedDigest: SHA,
            expectedVerifierId: 'https://gate.example.com',
            expectedResourceUri: 'gs://b/app.tar',
          }).failures[0]!.code,
          'VSA_SIGNATURE_INVALID',
        );
      } finally {
        await key.close();
      }
    });
  }

  it('refuses a key that is not EC P-256, and a gcpkms:// name that is not a key version, as wrong usage', async () => {
    await assert.rejects(
      vsaSigner(`gcpkms://${KEY('gate-p384')}`),
      (e: Error) => e instanceof UsageError && /EC_SIGN_P256_SHA256/.test(e.message),
    );
    await assert.rejects(
      vsaSigner(`gcpkms://${KEY('missing')}`),
      (e: Error) => e instanceof UsageError && /cannot read/.test(e.message),
    );
    await assert.rejects(vsaSigner('gcpkms://projects/p/keyRings/r'), UsageError);
    await assert.rejects(vsaSigner('/no/such/key.pem'), UsageError);
  });

  it('the single-file CLI: no KMS client inside; with @google-cloud/kms on NODE_PATH it signs, without it says what to install', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsa-kms-bundle-'));
    const bundle = join(dir, 'provenance.cjs');
    execFileSync(process.execPath, [join(root, 'scripts', 'bundle-cli.js'), bundle], { stdio: 'ignore' });
    assert.ok(
      !readFileSync(bundle, 'utf8').includes('google.cloud.kms.v1.KeyManagementService'),
      'the KMS client is not bundled',
    );
    await writeSignedProvenance(dir);
    const args = [bundle, ...VERIFY_WITH_KMS_VSA];
    const env: NodeJS.ProcessEnv = { ...process.env, KMS_EMULATOR_HOST: `127.0.0.1:${kms.port}` };
    delete env.NODE_PATH;
    await assert.rejects(
      run(process.execPath, args, { cwd: dir, env }),
      (e: { code: number; stderr: string }) =>
        e.code === 2 && /this single-file CLI has no Cloud KMS client; install it beside the file/.test(e.stderr),
    );
    const ok = await run(process.execPath, args, {
      cwd: dir,
      env: { ...env, NODE_PATH: join(root, 'node_modules') },
      timeout: 60_000,
    });
    assert.match(ok.stderr, /VSA \(PASSED\) written to app\.vsa\.intoto\.jsonl/);
    assert.equal(
      JSON.parse(readFileSync(join(dir, 'app.vsa.intoto.jsonl'), 'utf8')).signatures[0].keyid,
      KEY('gate-p256'),
    );
  });

  it('the CLI: verify --vsa-key gcpkms://… writes a KMS-signed VSA and exits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsa-kms-cli-'));
    await writeSignedProvenance(dir);
    const { stdout, stderr } = await run(
      process.execPath,
      [join(root, 'bin', 'provenance.js'), ...VERIFY_WITH_KMS_VSA],
      { cwd: dir, env: { ...process.env, KMS_EMULATOR_HOST: `127.0.0.1:${kms.port}` }, timeout: 60_000 },
    );
    assert.match(stdout, /^verified sha256:/);
    assert.match(stderr, /VSA \(PASSED\) written to app\.vsa\.intoto\.jsonl and app\.vsa\.sigstore\.json/);
    const envelope = JSON.parse(readFileSync(join(dir, 'app.vsa.intoto.jsonl'), 'utf8'));
    assert.equal(envelope.signatures[0].keyid, KEY('gate-p256'));
    const pemFile = join(dir, 'gate.pub.pem');
    writeFileSync(pemFile, kms.keys.get(KEY('gate-p256'))!.pem);
    const checked = await run(
      process.execPath,
      [
        join(root, 'bin', 'provenance.js'),
        'verify-vsa',
        '--vsa',
        'app.vsa.sigstore.json',
        '--key',
        pemFile,
        '--digest',
        `sha256:${SHA}`,
        '--resource-uri',
        'gs://b/app.tar',
        '--verifier-id',
        'https://gate.example.com',
        '--level',
        'SLSA_BUILD_LEVEL_1',
      ],
      { cwd: dir },
    );
    assert.match(checked.stdout, /^verified VSA for sha256:9a9a.*: PASSED by https:\/\/gate\.example\.com/);
  });
});
