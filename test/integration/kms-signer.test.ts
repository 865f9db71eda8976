// KmsSigner with the real @google-cloud/kms client against a local gRPC KMS
// server built from the protos in that package: EC P-256, EC P-384 and
// RSA-PSS keys sign provenance that verifies with the public key alone; a
// corrupted response is refused.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { KmsIntegrityError, KmsSigner } from '../../functions/adapters/kms-signer.js';
import { IN_TOTO_PAYLOAD_TYPE, signStatement } from '../../functions/provenance/dsse.js';
import { verifyEnvelope } from '../../functions/verify/engine.js';
import { parsePublicKeys } from '../../functions/verify/keys.js';
import { keysFor, parseKeySet } from '../../functions/provenance/key-set.js';
import type { Statement } from '../../functions/provenance/statement.js';
import { startLocalKms, type LocalKms } from '../helpers/kms-server.js';

const KEY = (n: string) => `projects/p/locations/global/keyRings/r/cryptoKeys/${n}/cryptoKeyVersions/1`;
const statement = {
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'gs://b/app', digest: { sha256: '2'.repeat(64) } }],
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: {
    buildDefinition: { buildType: 'x', externalParameters: {}, internalParameters: {}, resolvedDependencies: [] },
    runDetails: {
      builder: { id: 'b' },
      metadata: { invocationId: 't', startedOn: '', finishedOn: '' },
      byproducts: [],
    },
  },
} as Statement;

describe('KmsSigner against a local KMS gRPC server', () => {
  let kms: LocalKms;
  let client: KeyManagementServiceClient;
  before(async () => {
    kms = await startLocalKms();
    kms.addKey(KEY('p256'), 'EC_SIGN_P256_SHA256');
    kms.addKey(KEY('p384'), 'EC_SIGN_P384_SHA384');
    kms.addKey(KEY('rsa'), 'RSA_SIGN_PSS_2048_SHA256');
    client = new KeyManagementServiceClient({
      apiEndpoint: '127.0.0.1',
      port: kms.port,
      sslCreds: grpc.credentials.createInsecure(),
    });
  });
  after(async () => {
    await client.close();
    await kms.stop();
  });

  for (const [name, alg] of [
    ['p256', 'ECDSA_P256_SHA256'],
    ['p384', 'ECDSA_P384_SHA384'],
    ['rsa', 'RSA_PSS_2048_SHA256'],
  ] as const) {
    it(`${name}: algorithm from the key, signature verifies with the public key`, async () => {
      const signer = new KmsSigner(client, KEY(name));
      const pk = await signer.publicKey();
      assert.equal(pk.algorithm, alg);
      assert.equal(pk.keyId, KEY(name));
      const env = await signStatement(statement, signer);
      assert.equal(env.payloadType, IN_TOTO_PAYLOAD_TYPE);
      assert.equal(env.signatures[0]!.keyid, KEY(name));
      assert.deepEqual(
        verifyEnvelope(env, parsePublicKeys(pk.pem), { expectedDigest: '2'.repeat(64) }, new Date()).failures,
        [],
      );
    });
  }

  it('refuses a response whose signature CRC32C does not match', async () => {
    const signer = new KmsSigner(client, KEY('p256'));
    await signer.publicKey();
    kms.corrupt.signatureCrc = true;
    try {
      await assert.rejects(signStatement(statement, signer), KmsIntegrityError);
    } finally {
      kms.corrupt.signatureCrc = false;
    }
  });

  it('refuses a response that did not verify the request CRC32C', async () => {
    const signer = new KmsSigner(client, KEY('p256'));
    kms.corrupt.digestNotVerified = true;
    try {
      await assert.rejects(signStatement(statement, signer), /did not verify the request digest/);
    } finally {
      kms.corrupt.digestNotVerified = false;
    }
  });

  it('refuses a public key whose PEM CRC32C does not match', async () => {
    const signer = new KmsSigner(client, KEY('p384'));
    kms.corrupt.pemCrc = true;
    try {
      await assert.rejects(signer.publicKey(), /CRC32C/);
    } finally {
      kms.corrupt.pemCrc = false;
    }
    assert.equal((await signer.publicKey()).algorithm, 'ECDSA_P384_SHA384', 'a failed fetch is not cached');
  });

  it('rotates: envelopes signed by version 1 and version 2 both verify with the key set; one without version 1 says which key is missing', async () => {
    const v = (n: number) => `projects/p/locations/global/keyRings/r/cryptoKeys/rot/cryptoKeyVersions/${n}`;
    kms.addKey(v(1), 'EC_SIGN_P256_SHA256');
    const old = await signStatement(statement, new KmsSigner(client, v(1)));
    kms.addKey(v(2), 'EC_SIGN_P256_SHA256'); // rotation: the configured version is now 2
    const signer = new KmsSigner(client, v(2));
    const fresh = await signStatement(statement, signer);
    const set = await signer.verificationKeys();
    assert.deepEqual(
      set.map((k) => [k.keyId, k.state]),
      [
        [v(1), 'ENABLED'],
        [v(2), 'ENABLED'],
      ],
    );
    assert.ok(
      set.every(
        (k) =>
          /^\d{4}-\d\d-\d\dT/.test(k.createTime) &&
          k.pem.includes('BEGIN PUBLIC KEY') &&
          k.algorithm === 'ECDSA_P256_SHA256',
      ),
    );
    const keys = parseKeySet(JSON.parse(JSON.stringify(set)));
    for (const env of [old, fresh]) {
      const pick = keysFor(env, keys);
      assert.ok('keys' in pick);
      const r = verifyEnvelope(env, pick.keys, { expectedDigest: '2'.repeat(64) }, new Date());
      assert.deepEqual(r.failures, []);
      assert.equal(r.verifiedKey, env.signatures[0]!.keyid);
    }
    const withoutV1 = parseKeySet(JSON.parse(JSON.stringify(set.filter((k) => k.keyId !== v(1)))));
    assert.deepEqual(keysFor(old, withoutV1), { missing: v(1) });
    // A destroyed version is no longer listed.
    kms.keys.get(v(1))!.state = 'DESTROYED';
    assert.deepEqual(
      (await signer.verificationKeys()).map((k) => k.keyId),
      [v(2)],
    );
  });
});
