// Signer with a private key from a PEM file (a deploy gate's own VSA key).
// EC P-256 only: what every VSA verifier checks by default (slsa-verifier's
// SHA-256, @sigstore/verify, the openssl recipe, Binary Authorization's PKIX
// attestors); the key id is the public key's SPKI sha256, as `provenance
// verify` names keys without one.
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import type { PublicKeyInfo, Signer, VerificationKey } from '../ports/signer.js';

export class PemSigner implements Signer {
  private readonly info: PublicKeyInfo;
  constructor(private readonly key: KeyObject) {
    const curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
    if (curve !== 'prime256v1') throw new Error('the key is not an EC P-256 private key');
    const pub = createPublicKey(key);
    this.info = {
      keyId: `sha256:${createHash('sha256')
        .update(pub.export({ type: 'spki', format: 'der' }))
        .digest('hex')}`,
      algorithm: 'ECDSA_P256_SHA256',
      pem: pub.export({ type: 'spki', format: 'pem' }).toString(),
    };
  }

  /** Throws an Error naming the problem when the text is not a usable private key. */
  static fromPem(pem: string | Buffer): PemSigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch {
      throw new Error('not a PEM private key');
    }
    return new PemSigner(key);
  }

  async publicKey(): Promise<PublicKeyInfo> {
    return this.info;
  }

  async verificationKeys(): Promise<VerificationKey[]> {
    return [{ ...this.info, state: 'ENABLED', createTime: new Date(0).toISOString() }];
  }

  async sign(data: Uint8Array): Promise<{ keyId: string; signature: Uint8Array }> {
    return { keyId: this.info.keyId, signature: sign('sha256', data, this.key) };
  }
}
