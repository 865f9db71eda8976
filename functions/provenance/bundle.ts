// The same signed envelope as a Sigstore bundle v0.3
// (application/vnd.dev.sigstore.bundle.v0.3+json): the DSSE envelope, its one
// signature, verificationMaterial.publicKey.hint = the key id, and no
// transparency-log entry or timestamp. Built and read with the Sigstore
// project's own @sigstore/bundle, so cosign and sigstore-js read it as theirs.
// No new signature: a bundle only wraps the stored envelope.
import {
  assertBundleLatest,
  bundleFromJSON,
  bundleToJSON,
  isBundleWithDsseEnvelope,
  toDSSEBundle,
  BUNDLE_V03_MEDIA_TYPE,
  type SerializedBundle,
} from '@sigstore/bundle';
import type { Envelope } from './dsse.js';

export const BUNDLE_MEDIA_TYPE = BUNDLE_V03_MEDIA_TYPE;

export function envelopeToBundle(envelope: Envelope): SerializedBundle {
  const [signature] = envelope.signatures;
  if (!signature || envelope.signatures.length !== 1)
    throw new Error('a bundle holds an envelope with exactly one signature');
  return bundleToJSON(
    toDSSEBundle({
      artifact: Buffer.from(envelope.payload, 'base64'),
      artifactType: envelope.payloadType,
      signature: Buffer.from(signature.sig, 'base64'),
      keyHint: signature.keyid,
    }),
  );
}

/** The envelope inside a bundle (untrusted JSON); throws with the problem named. */
export function bundleToEnvelope(json: unknown): { envelope: Envelope; keyHint?: string } {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error('the bundle is not a JSON object');
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !mediaType.startsWith('application/vnd.dev.sigstore.bundle'))
    throw new Error(`mediaType ${JSON.stringify(mediaType)} is not a Sigstore bundle's`);
  const bundle = bundleFromJSON(json);
  assertBundleLatest(bundle);
  if (!isBundleWithDsseEnvelope(bundle))
    throw new Error('the bundle holds no DSSE envelope (a message signature cannot carry provenance)');
  const env = bundle.content.dsseEnvelope;
  const hint =
    bundle.verificationMaterial.content.$case === 'publicKey'
      ? bundle.verificationMaterial.content.publicKey.hint
      : undefined;
  return {
    envelope: {
      payloadType: env.payloadType,
      payload: env.payload.toString('base64'),
      signatures: env.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig.toString('base64') })),
    },
    ...(hint ? { keyHint: hint } : {}),
  };
}
