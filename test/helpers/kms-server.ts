// A local Cloud KMS gRPC server built from the protos shipped in
// @google-cloud/kms: GetPublicKey and AsymmetricSign over real keys, so the
// real KMS client can be tested here. `corrupt` makes it lie, to test that
// the signer refuses bad responses.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { constants, createHash, generateKeyPairSync, privateEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';
import { dirname, join } from 'node:path';
import { crc32c } from '@aws-crypto/crc32c';

export type KmsAlgorithm = 'EC_SIGN_P256_SHA256' | 'EC_SIGN_P384_SHA384' | 'RSA_SIGN_PSS_2048_SHA256';

export interface KmsKey {
  name: string;
  algorithm: KmsAlgorithm;
  privateKey: KeyObject;
  pem: string;
  state: 'ENABLED' | 'DISABLED' | 'DESTROYED';
  createTime: Date;
}

export interface LocalKms {
  port: number;
  keys: Map<string, KmsKey>;
  addKey(name: string, algorithm: KmsAlgorithm): KmsKey;
  corrupt: { signatureCrc: boolean; digestNotVerified: boolean; pemCrc: boolean };
  calls: { sign: number; getPublicKey: number };
  stop(): Promise<void>;
}

export async function startLocalKms(): Promise<LocalKms> {
  const kmsProtos = join(dirname(require.resolve('@google-cloud/kms/package.json')), 'build', 'protos');
  const gaxProtos = join(dirname(require.resolve('google-gax')), '..', 'protos');
  const def = protoLoader.loadSync('google/cloud/kms/v1/service.proto', {
    includeDirs: [kmsProtos, gaxProtos],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: false,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    google: { cloud: { kms: { v1: { KeyManagementService: { service: grpc.ServiceDefinition } } } } };
  };
  const keys = new Map<string, KmsKey>();
  const corrupt = { signatureCrc: false, digestNotVerified: false, pemCrc: false };
  const calls = { sign: 0, getPublicKey: 0 };

  const addKey = (name: string, algorithm: KmsAlgorithm): KmsKey => {
    const { privateKey, publicKey } =
      algorithm === 'RSA_SIGN_PSS_2048_SHA256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: algorithm === 'EC_SIGN_P384_SHA384' ? 'P-384' : 'P-256' });
    const key: KmsKey = {
      name,
      algorithm,
      privateKey,
      pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      state: 'ENABLED',
      createTime: new Date(Date.now() + keys.size * 1000),
    };
    keys.set(name, key);
    return key;
  };

  const notFound = (name: string) => ({ code: grpc.status.NOT_FOUND, details: `key ${name} not found` });
  const server = new grpc.Server();
  server.addService(pkg.google.cloud.kms.v1.KeyManagementService.service, {
    // Every version under the key, as KMS lists them (one page).
    ListCryptoKeyVersions: (
      call: grpc.ServerUnaryCall<{ parent: string }, unknown>,
      cb: grpc.sendUnaryData<unknown>,
    ) => {
      const versions = [...keys.values()].filter((k) => k.name.startsWith(`${call.request.parent}/cryptoKeyVersions/`));
      cb(null, {
        cryptoKeyVersions: versions.map((k) => ({
          name: k.name,
          state: k.state,
          algorithm: k.algorithm,
          createTime: { seconds: String(Math.floor(k.createTime.getTime() / 1000)), nanos: 0 },
        })),
        nextPageToken: '',
        totalSize: versions.length,
      });
    },
    GetPublicKey: (call: grpc.ServerUnaryCall<{ name: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      calls.getPublicKey++;
      const key = keys.get(call.request.name);
      if (!key) return cb(notFound(call.request.name));
      const crc = crc32c(Buffer.from(key.pem)) + (corrupt.pemCrc ? 1 : 0);
      cb(null, {
        pem: key.pem,
        algorithm: key.algorithm,
        pemCrc32c: { value: String(crc) },
        name: key.name,
        protectionLevel: 'SOFTWARE',
      });
    },
    AsymmetricSign: (
      call: grpc.ServerUnaryCall<
        { name: string; digest: Record<string, Buffer>; digestCrc32c?: { value: string } },
        unknown
      >,
      cb: grpc.sendUnaryData<unknown>,
    ) => {
      calls.sign++;
      const key = keys.get(call.request.name);
      if (!key) return cb(notFound(call.request.name));
      const [hash, digest] = Object.entries(call.request.digest ?? {}).find(([, v]) => v?.length) ?? [];
      if (!hash || !digest) return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'digest required' });
      const wantHash = key.algorithm === 'EC_SIGN_P384_SHA384' ? 'sha384' : 'sha256';
      if (hash !== wantHash) return cb({ code: grpc.status.INVALID_ARGUMENT, details: `digest must be ${wantHash}` });
      if (call.request.digestCrc32c && Number(call.request.digestCrc32c.value) !== crc32c(digest)) {
        return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'digest_crc32c mismatch' });
      }
      // Sign the given digest as-is (null hash = no hashing here), as KMS does.
      const signature =
        key.algorithm === 'RSA_SIGN_PSS_2048_SHA256'
          ? signDigestRsaPss(key.privateKey, digest)
          : signDigestEc(key.privateKey, digest, key.algorithm);
      cb(null, {
        signature,
        signatureCrc32c: { value: String(crc32c(signature) + (corrupt.signatureCrc ? 1 : 0)) },
        verifiedDigestCrc32c: !corrupt.digestNotVerified && Boolean(call.request.digestCrc32c),
        name: key.name,
        protectionLevel: 'SOFTWARE',
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { port, keys, addKey, corrupt, calls, stop: () => new Promise((r) => server.tryShutdown(() => r())) };
}

// KMS signs a digest it is given; node:crypto only signs messages. ECDSA over a
// digest comes from @noble/curves; RSA-PSS is EMSA-PSS (RFC 8017 §9.1.1)
// encoded here and raised to the private exponent by node.
function signDigestEc(key: KeyObject, digest: Buffer, algorithm: KmsAlgorithm): Buffer {
  const d = Buffer.from(key.export({ format: 'jwk' }).d!, 'base64url');
  const curve = algorithm === 'EC_SIGN_P384_SHA384' ? p384 : p256;
  return Buffer.from(curve.sign(digest, d, { prehash: false, lowS: false, format: 'der' }));
}

function signDigestRsaPss(key: KeyObject, digest: Buffer): Buffer {
  const modBits = key.asymmetricKeyDetails!.modulusLength!;
  const emLen = Math.ceil((modBits - 1) / 8);
  const hLen = digest.length;
  const salt = randomBytes(hLen);
  const h = createHash('sha256')
    .update(Buffer.concat([Buffer.alloc(8), digest, salt]))
    .digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(h, emLen - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - (modBits - 1));
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  const padded = Buffer.concat([Buffer.alloc(Math.ceil(modBits / 8) - em.length), em]);
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, padded);
}

function mgf1(seed: Buffer, len: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; out.length * 32 < len; i++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(i);
    out.push(
      createHash('sha256')
        .update(Buffer.concat([seed, c]))
        .digest(),
    );
  }
  return Buffer.concat(out).subarray(0, len);
}
