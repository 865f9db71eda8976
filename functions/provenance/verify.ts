// Kept for importers written before the verification engine (functions/verify/):
// the key helpers and printable, re-exported from where they now live, and
// the old verifyEnvelope(envelope, keys, VerifyPolicy) as a thin adapter onto
// the engine. New code calls functions/verify/engine.ts directly.
import { verifyEnvelope as verifyWithPolicy } from '../verify/engine.js';
import { parsePublicKeys, type TrustedKey } from '../verify/keys.js';
import type { VerificationPolicy } from '../verify/policy.js';
import type { Statement } from './statement.js';

export { strictBase64 } from '../verify/envelope.js';
export { fingerprint, parsePublicKeys, type TrustedKey } from '../verify/keys.js';
export { printable } from '../verify/text.js';

/** @deprecated The engine's VerificationPolicy says the same with Expected* fields. */
export interface VerifyPolicy {
  /** sha256 hex of the artifact the provenance must name. */
  digest: string;
  builderId?: string;
  /** The identity that reported the task must be one of these emails (internalParameters.reporter). */
  reporters?: string[];
  /** Repository that must appear among the git dependencies (with or without "git+"). */
  sourceUri?: string;
  /** Every dependency from sourceUri must be on one of these refs; needs sourceUri. */
  sourceRefs?: string[];
}

export interface VerifyResult {
  ok: boolean;
  failures: string[];
  statement?: Statement;
  /** The trusted key a signature verified with (only that one). */
  verifiedBy?: TrustedKey;
}

/** @deprecated Use verifyEnvelope from functions/verify/engine.ts (coded failures, the full policy). */
export function verifyEnvelope(envelope: unknown, keys: string | TrustedKey[], policy: VerifyPolicy): VerifyResult {
  let trusted: TrustedKey[];
  try {
    trusted = typeof keys === 'string' ? parsePublicKeys(keys) : keys;
  } catch {
    trusted = [];
  }
  if (trusted.length === 0) return { ok: false, failures: ['the key file holds no PEM public key'] };
  if (policy.sourceRefs?.length && policy.sourceUri === undefined)
    return { ok: false, failures: ['a source ref rule needs the source repository it applies to (sourceUri)'] };
  const engine: VerificationPolicy = {
    expectedDigest: policy.digest,
    ...(policy.builderId !== undefined ? { expectedBuilderIds: [policy.builderId] } : {}),
    ...(policy.reporters?.length ? { expectedReporters: policy.reporters } : {}),
    ...(policy.sourceUri !== undefined
      ? {
          expectedSources: [
            { uri: policy.sourceUri, ...(policy.sourceRefs?.length ? { refs: policy.sourceRefs } : {}) },
          ],
        }
      : {}),
  };
  const v = verifyWithPolicy(envelope, trusted, engine, new Date());
  const verifiedBy = trusted.find((k) => k.name === v.verifiedKey);
  return {
    ok: v.ok,
    failures: v.failures.map((f) => f.message),
    ...(v.statement ? { statement: v.statement as unknown as Statement } : {}),
    ...(verifiedBy ? { verifiedBy } : {}),
  };
}
