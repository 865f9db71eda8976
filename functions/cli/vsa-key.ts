// The deploy gate's own signing key for VSAs (`verify --vsa-key`): a PEM
// private key file, or a Cloud KMS key version as gcpkms://projects/…/cryptoKeyVersions/N
// (cosign's form); EC P-256 either way. KMS_EMULATOR_HOST points the client at a local KMS server, as for the service.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PemSigner } from '../adapters/pem-signer.js';
import type { Signer } from '../ports/signer.js';
import { DEFAULT_BACKEND_DEADLINE_MS } from '../adapters/backend-call.js';
import { UsageError } from './exit-codes.js';

const KMS_VERSION =
  /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+\/cryptoKeyVersions\/[0-9]+$/;

export interface VsaKey {
  signer: Signer;
  /** Closes the KMS client's channel (a no-op for a PEM key), so the CLI can exit. */
  close(): Promise<void>;
}

export async function vsaSigner(spec: string): Promise<VsaKey> {
  if (spec.startsWith('gcpkms://')) {
    const name = spec.slice('gcpkms://'.length);
    if (!KMS_VERSION.test(name))
      throw new UsageError(
        `--vsa-key: expected gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N`,
      );
    // Required at run time, not bundled: the single-file CLI leaves the KMS client out
    // (scripts/bundle-cli.js), and require (unlike import()) also looks on NODE_PATH.
    const load = createRequire(__filename);
    let kms: typeof import('@google-cloud/kms');
    try {
      kms = load('@google-cloud/kms') as typeof import('@google-cloud/kms');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
      // The single-file CLI leaves the KMS client out (scripts/bundle-cli.js).
      throw new UsageError(
        '--vsa-key gcpkms://: this single-file CLI has no Cloud KMS client; install it beside the file (npm i @google-cloud/kms@6, or NODE_PATH=<dir>/node_modules) or run the npm package',
      );
    }
    const { KeyManagementServiceClient } = kms;
    const { KmsSigner } = await import('../adapters/kms-signer.js');
    let options = {};
    const local = process.env.KMS_EMULATOR_HOST;
    if (local) {
      const i = local.lastIndexOf(':');
      const port = Number(local.slice(i + 1));
      if (i <= 0 || !Number.isInteger(port)) throw new UsageError(`KMS_EMULATOR_HOST="${local}": expected host:port`);
      // A local KMS server needs no Google credentials: don't spend seconds probing for a metadata server.
      process.env.METADATA_SERVER_DETECTION ??= 'none';
      const { grpc } = load('google-gax') as typeof import('google-gax'); // installed with @google-cloud/kms
      options = { apiEndpoint: local.slice(0, i), port, sslCreds: grpc.credentials.createInsecure() };
    }
    const client = new KeyManagementServiceClient(options);
    const signer = new KmsSigner(client, name, DEFAULT_BACKEND_DEADLINE_MS);
    // EC P-256 only, as for a PEM key: what every VSA verifier checks by default.
    let algorithm: string;
    try {
      algorithm = (await signer.publicKey()).algorithm;
    } catch (err) {
      await client.close();
      throw new UsageError(`--vsa-key: cannot read ${name}'s public key: ${(err as Error).message}`);
    }
    if (algorithm !== 'ECDSA_P256_SHA256') {
      await client.close();
      throw new UsageError(`--vsa-key: ${name} is ${algorithm}; a gate's key must be EC_SIGN_P256_SHA256`);
    }
    return { signer, close: () => client.close() };
  }
  let pem: Buffer;
  try {
    pem = readFileSync(spec);
  } catch (err) {
    throw new UsageError(`--vsa-key: cannot read ${spec}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return { signer: PemSigner.fromPem(pem), close: async () => {} };
  } catch (err) {
    throw new UsageError(`--vsa-key: ${spec}: ${(err as Error).message}`);
  }
}
