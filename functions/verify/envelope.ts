// A DSSE envelope (https://github.com/secure-systems-lab/dsse) from untrusted
// input: every field checked before use, base64 only in its canonical form,
// and the signature checked over @sigstore/core's pre-authentication encoding
// against trusted keys only. The keyid an envelope claims never decides
// anything: the verified key is the trusted key a signature verified with.
import { dsse } from '@sigstore/core';
import { IN_TOTO_PAYLOAD_TYPE } from '../provenance/dsse.js';
import { signatureVerifies, type TrustedKey } from './keys.js';
import type { VerificationFailure } from './policy.js';
import { describeType, isObject, quote } from './text.js';

export interface OpenedEnvelope {
  /** The payload's bytes, when the envelope has a payload in canonical base64 (signed or not). */
  payload?: Buffer;
  /** The trusted key a signature verified with. */
  verifiedKey?: TrustedKey;
  failures: VerificationFailure[];
}

/** The bytes of RFC 4648 standard base64 with padding, only if `text` is exactly how they encode. */
export function strictBase64(text: string): Buffer | undefined {
  // Node's decoder skips what is not base64 and accepts the URL-safe alphabet; encoding the bytes
  // again gives the one canonical spelling, so only a text equal to it is canonical.
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined; // non-zero padding bits are not canonical
}

const malformed = (message: string, field?: string): VerificationFailure => ({
  code: 'MALFORMED_ENVELOPE',
  message,
  ...(field ? { field } : {}),
});

/** Checks the envelope's shape and its signatures; the payload is returned for the statement checks. */
export function openEnvelope(envelope: unknown, keys: readonly TrustedKey[]): OpenedEnvelope {
  if (!isObject(envelope))
    return { failures: [malformed(`the entry is ${describeType(envelope)}, not a DSSE envelope`)] };
  const { payloadType, payload, signatures } = envelope;
  if (typeof payloadType !== 'string')
    return { failures: [malformed(`payloadType is ${describeType(payloadType)}, not a string`, 'payloadType')] };
  const failures: VerificationFailure[] = [];
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE)
    failures.push({
      code: 'PAYLOAD_TYPE_MISMATCH',
      message: `payloadType is ${quote(payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`,
      field: 'payloadType',
    });
  if (typeof payload !== 'string')
    return { failures: [...failures, malformed(`payload is ${describeType(payload)}, not a string`, 'payload')] };
  const body = strictBase64(payload);
  if (!body)
    return {
      failures: [
        ...failures,
        malformed('payload is not canonical base64 (RFC 4648, standard alphabet, padded)', 'payload'),
      ],
    };
  if (!Array.isArray(signatures) || signatures.length === 0)
    return { payload: body, failures: [...failures, malformed('signatures is missing or empty', 'signatures')] };
  if (keys.length === 0)
    return {
      payload: body,
      failures: [...failures, { code: 'NO_TRUSTED_KEY', message: 'no trusted public key given' }],
    };

  const message = dsse.preAuthEncoding(payloadType, body);
  let verifiedKey: TrustedKey | undefined;
  for (const [i, s] of (signatures as unknown[]).entries()) {
    const field = `signatures[${i}]`;
    if (!isObject(s) || typeof s.sig !== 'string') {
      failures.push(malformed(`${field} is not an object with a string sig`, field));
      continue;
    }
    if (s.keyid !== undefined && typeof s.keyid !== 'string') {
      failures.push(malformed(`${field}.keyid is not a string`, `${field}.keyid`));
      continue;
    }
    const sig = strictBase64(s.sig);
    if (!sig) {
      failures.push(malformed(`${field}.sig is not canonical base64`, `${field}.sig`));
      continue;
    }
    verifiedKey ??= keys.find((k) => signatureVerifies(k.key, message, sig));
  }
  if (!verifiedKey)
    failures.push({
      code: 'SIGNATURE_INVALID',
      message: 'no signature verifies with the given public key(s)',
      field: 'signatures',
    });
  return { payload: body, ...(verifiedKey ? { verifiedKey } : {}), failures };
}
