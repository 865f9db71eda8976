// Checks a Sigstore bundle with @sigstore/verify and nothing but a public key:
// the way a consumer verifies the service's (and the gate's) keyed bundles.
import { createPublicKey } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';

/** Throws unless `json` is a bundle whose signature verifies with `pem`. */
export function sigstoreVerify(json: unknown, pem: string): void {
  const key = createPublicKey(pem);
  // No Sigstore infrastructure is involved: an empty trusted root, and the key for the hint.
  const trust = toTrustMaterial(
    { mediaType: '', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] } as never,
    () => ({ publicKey: key, validFor: () => true }),
  );
  // These bundles carry no transparency-log entry and no timestamp by design: thresholds 0.
  new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(
    toSignedEntity(bundleFromJSON(json)),
  );
}
