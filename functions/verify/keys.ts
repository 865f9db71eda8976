// Trusted public keys and signature checks with them. Keys are read and
// signatures checked with @sigstore/core's crypto (as @sigstore/verify does);
// the only choice made here is the digest (and for RSA the padding) that
// Cloud KMS signs with for each key type.
import { constants, verify as nodeVerify } from 'node:crypto';
import { crypto } from '@sigstore/core';

/** A public key the verifier trusts, and the name to report when it verifies. */
export interface TrustedKey {
  /** The key id from the trust material (e.g. the KMS key version), else the key's fingerprint. */
  name: string;
  key: crypto.KeyObject;
}

const PEM_BLOCK = /(?:^[ \t]*#[ \t]*(\S+)[^\n]*\n)?(-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----)/gm;

/**
 * Every public key in a PEM text (one file may hold several, e.g. across a key
 * rotation). A "# <key id> ..." line right above a block (as `provenance keys`
 * writes) names the key; otherwise it is named by its SPKI sha256.
 */
export function parsePublicKeys(pemText: string): TrustedKey[] {
  // The block (group 2) is not optional in PEM_BLOCK: every match has one.
  return [...pemText.matchAll(PEM_BLOCK)].flatMap(([, name, pem]) => {
    if (pem === undefined) return [];
    const key = crypto.createPublicKey(pem);
    return [{ name: name ?? fingerprint(key), key }];
  });
}

export function fingerprint(key: crypto.KeyObject): string {
  return `sha256:${crypto.digest('sha256', key.export({ type: 'spki', format: 'der' })).toString('hex')}`;
}

/** Whether `sig` is a signature of `message` by `key`, as Cloud KMS makes them for the key's type. */
export function signatureVerifies(key: crypto.KeyObject, message: Buffer, sig: Buffer): boolean {
  if (key.asymmetricKeyType === 'ec') return crypto.verify(message, key, sig, ecdsaDigest(key));
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    // KMS RSA-PSS: salt length = digest length; SHA-256 except the SHA-512 variant.
    // @sigstore/core's verify takes no padding options, so node's is called directly.
    return ['sha256', 'sha512'].some((hash) => {
      try {
        return nodeVerify(
          hash,
          message,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
          sig,
        );
      } catch {
        return false;
      }
    });
  }
  return false;
}

/** The digest KMS signs with on the key's curve; kept per key (reading the curve allocates, and it is asked per signature). */
const curveDigests = new WeakMap<crypto.KeyObject, string>();
function ecdsaDigest(key: crypto.KeyObject): string {
  let digest = curveDigests.get(key);
  if (digest === undefined) {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    digest = curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
    curveDigests.set(key, digest);
  }
  return digest;
}
