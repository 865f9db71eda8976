// Key sets: what GET /v1/keys serves ([{keyId, algorithm, pem, state,
// createTime}], every key version that may have signed something still
// served). A verifier given a key set picks the key by the envelope's keyid:
// after a rotation, old envelopes name the old version and still verify. The
// keyid is not signed, so it only chooses which key to try; the signature
// must still verify with it.
import { createPublicKey } from 'node:crypto';
import type { TrustedKey } from './verify.js';

/** A key set from untrusted JSON; throws an Error naming the problem. */
export function parseKeySet(json: unknown): TrustedKey[] {
  if (!Array.isArray(json)) throw new Error('the key set is not a JSON list (expected what GET /v1/keys serves)');
  if (json.length === 0) throw new Error('the key set is empty');
  return json.map((k: unknown, i) => {
    const o = k as { keyId?: unknown; pem?: unknown };
    if (typeof k !== 'object' || k === null || typeof o.keyId !== 'string' || typeof o.pem !== 'string')
      throw new Error(`key ${i + 1} has no string keyId and pem`);
    try {
      return { name: o.keyId, key: createPublicKey(o.pem) };
    } catch {
      throw new Error(`key ${i + 1} (${o.keyId.slice(0, 120)}): pem is not a public key`);
    }
  });
}

/** The keys of the set that the envelope says signed it; none → why, naming the key it needs. */
export function keysFor(envelope: unknown, set: TrustedKey[]): { keys: TrustedKey[] } | { missing: string } {
  const sigs = (envelope as { signatures?: unknown })?.signatures;
  const ids = Array.isArray(sigs)
    ? sigs.map((s) => (s as { keyid?: unknown })?.keyid).filter((k): k is string => typeof k === 'string')
    : [];
  const keys = set.filter((k) => ids.includes(k.name));
  if (keys.length) return { keys };
  return { missing: ids[0] ?? '(no keyid)' };
}
