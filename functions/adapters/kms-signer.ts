// Signer backed by Cloud KMS. The algorithm comes from the key itself
// (getPublicKey); signing sends the digest with its CRC32C and checks the
// response the way KMS documents: the server verified our CRC32C, the response
// names our key version, and the signature's CRC32C matches. Any mismatch is
// an integrity error (thrown, so the caller retries).
import { createHash } from 'node:crypto';
import { crc32c } from '@aws-crypto/crc32c';
import type { KeyManagementServiceClient } from '@google-cloud/kms';
import type { PublicKeyInfo, Signer, SigningAlgorithm, VerificationKey } from '../ports/signer.js';
import { lazy } from '../lazy.js';
import { backendCall, DEFAULT_BACKEND_DEADLINE_MS } from './backend-call.js';

export class KmsIntegrityError extends Error {
  override name = 'KmsIntegrityError';
}

const ALGORITHMS: Record<string, { alg: SigningAlgorithm; hash: 'sha256' | 'sha384' | 'sha512' }> = {
  EC_SIGN_P256_SHA256: { alg: 'ECDSA_P256_SHA256', hash: 'sha256' },
  EC_SIGN_P384_SHA384: { alg: 'ECDSA_P384_SHA384', hash: 'sha384' },
  RSA_SIGN_PSS_2048_SHA256: { alg: 'RSA_PSS_2048_SHA256', hash: 'sha256' },
  RSA_SIGN_PSS_3072_SHA256: { alg: 'RSA_PSS_3072_SHA256', hash: 'sha256' },
  RSA_SIGN_PSS_4096_SHA256: { alg: 'RSA_PSS_4096_SHA256', hash: 'sha256' },
  RSA_SIGN_PSS_4096_SHA512: { alg: 'RSA_PSS_4096_SHA512', hash: 'sha512' },
};

type Int64Value = { value?: string | number | { toString(): string } | null } | null | undefined;
const int64 = (v: Int64Value): number | undefined =>
  v?.value === undefined || v.value === null ? undefined : Number(String(v.value));

export class KmsSigner implements Signer {
  private readonly key = lazy(() => this.fetchKey());

  /** keyVersion: projects/…/locations/…/keyRings/…/cryptoKeys/…/cryptoKeyVersions/N */
  constructor(
    private readonly client: KeyManagementServiceClient,
    private readonly keyVersion: string,
    /** Each KMS call's deadline: past it the call is `unavailable` (BACKEND_DEADLINE_SECONDS). */
    private readonly deadlineMs = DEFAULT_BACKEND_DEADLINE_MS,
  ) {}

  async publicKey(): Promise<PublicKeyInfo> {
    const { keyId, algorithm, pem } = await this.key();
    return { keyId, algorithm, pem }; // the hash is ours; /v1/keys promises exactly these three
  }

  private fetchKey(): Promise<PublicKeyInfo & { hash: 'sha256' | 'sha384' | 'sha512' }> {
    return this.fetchPublicKey(this.keyVersion);
  }

  /**
   * Every version of the key that is not destroyed (or scheduled for it): the
   * ones that may have signed provenance still served, each with its public
   * key (CRC32C-checked), state and creation time.
   */
  async verificationKeys(): Promise<VerificationKey[]> {
    const parent = this.keyVersion.slice(0, this.keyVersion.lastIndexOf('/cryptoKeyVersions/'));
    const [versions] = await backendCall('kms listCryptoKeyVersions', this.deadlineMs, () =>
      this.client.listCryptoKeyVersions({ parent }, { timeout: this.deadlineMs, autoPaginate: true }),
    );
    const live = versions.filter(
      (v): v is typeof v & { name: string } =>
        !['DESTROYED', 'DESTROY_SCHEDULED', 'IMPORT_FAILED', 'GENERATION_FAILED'].includes(String(v.state)) && !!v.name,
    );
    const keys = await Promise.all(
      live.map(async (v) => {
        const { keyId, algorithm, pem } = await this.fetchPublicKey(v.name);
        const seconds = Number(String(v.createTime?.seconds ?? 0));
        return { keyId, algorithm, pem, state: String(v.state), createTime: new Date(seconds * 1000).toISOString() };
      }),
    );
    return keys.sort((a, b) => (a.createTime < b.createTime ? -1 : a.createTime > b.createTime ? 1 : 0));
  }

  private async fetchPublicKey(name: string): Promise<PublicKeyInfo & { hash: 'sha256' | 'sha384' | 'sha512' }> {
    const [pk] = await backendCall('kms getPublicKey', this.deadlineMs, () =>
      this.client.getPublicKey({ name }, { timeout: this.deadlineMs }),
    );
    if (pk.name !== name) throw new KmsIntegrityError(`getPublicKey answered for "${pk.name}", not ${name}`);
    const pem = pk.pem ?? '';
    const crc = int64(pk.pemCrc32c);
    if (crc === undefined || crc32c(Buffer.from(pem)) !== crc)
      throw new KmsIntegrityError('public key PEM failed its CRC32C check');
    const known = ALGORITHMS[String(pk.algorithm)];
    if (!known)
      throw new Error(
        `key algorithm ${String(pk.algorithm)} is not supported for provenance signing (use EC P-256/P-384 or RSA-PSS)`,
      );
    return { keyId: name, algorithm: known.alg, pem, hash: known.hash };
  }

  async sign(data: Uint8Array): Promise<{ keyId: string; signature: Uint8Array }> {
    const key = await this.key();
    const digest = createHash(key.hash).update(data).digest();
    const [res] = await backendCall('kms asymmetricSign', this.deadlineMs, () =>
      this.client.asymmetricSign(
        { name: this.keyVersion, digest: { [key.hash]: digest }, digestCrc32c: { value: crc32c(digest) } },
        { timeout: this.deadlineMs },
      ),
    );
    if (!res.verifiedDigestCrc32c) throw new KmsIntegrityError('KMS did not verify the request digest CRC32C');
    if (res.name !== this.keyVersion)
      throw new KmsIntegrityError(`asymmetricSign answered for "${res.name}", not ${this.keyVersion}`);
    const signature = Buffer.from(res.signature as Uint8Array);
    if (crc32c(signature) !== int64(res.signatureCrc32c))
      throw new KmsIntegrityError('signature failed its CRC32C check (corrupted in transit)');
    return { keyId: this.keyVersion, signature };
  }
}
