// Signer with a local EC P-256 key file (npm start, tests). The key is made on
// first use, mode 0600, beside the dev issuer's key.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PublicKeyInfo, Signer, VerificationKey } from '../ports/signer.js';

export class LocalSigner implements Signer {
  private readonly info: PublicKeyInfo;

  constructor(
    private readonly key: KeyObject,
    private readonly createdAt = new Date(),
  ) {
    const pub = createPublicKey(key);
    const der = pub.export({ type: 'spki', format: 'der' });
    this.info = {
      keyId: `local:sha256:${createHash('sha256').update(der).digest('hex')}`,
      algorithm: 'ECDSA_P256_SHA256',
      pem: pub.export({ type: 'spki', format: 'pem' }).toString(),
    };
  }

  static fromDirectory(dir: string): LocalSigner {
    const file = join(dir, 'signing-key.pem');
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      try {
        writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    return new LocalSigner(createPrivateKey(readFileSync(file)), statSync(file).mtime);
  }

  static ephemeral(): LocalSigner {
    return new LocalSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  }

  async publicKey(): Promise<PublicKeyInfo> {
    return this.info;
  }

  async verificationKeys(): Promise<VerificationKey[]> {
    return [{ ...this.info, state: 'ENABLED', createTime: this.createdAt.toISOString() }];
  }

  async sign(data: Uint8Array): Promise<{ keyId: string; signature: Uint8Array }> {
    return { keyId: this.info.keyId, signature: sign('sha256', data, this.key) };
  }
}
