// Freshness: runDetails.metadata.finishedOn (RFC 3339) at most maxAgeSeconds
// before `now`. A missing or unreadable time fails; so does one further in
// the future than clock skew explains, which would make any age pass.
import type { VerificationFailure, VerificationPolicy } from '../policy.js';
import type { UntrustedStatement } from '../statement.js';
import { at, quote } from '../text.js';

export const FINISHED_ON_FIELD = 'predicate.runDetails.metadata.finishedOn';
/** Clock skew tolerated between the service that signed and the verifier. */
export const MAX_CLOCK_SKEW_SECONDS = 300;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

export function checkAge(statement: UntrustedStatement, policy: VerificationPolicy, now: Date): VerificationFailure[] {
  const max = policy.maxAgeSeconds;
  if (max === undefined) return [];
  const fail = (message: string): VerificationFailure[] => [
    { code: 'PROVENANCE_TOO_OLD', message, field: FINISHED_ON_FIELD },
  ];
  if (!Number.isFinite(max) || max < 0)
    return fail(`the policy's maximum age ${String(max)} is not a number of seconds`);
  const finishedOn = at(statement, 'predicate', 'runDetails', 'metadata', 'finishedOn');
  const time = typeof finishedOn === 'string' && RFC3339.test(finishedOn) ? Date.parse(finishedOn) : Number.NaN;
  if (Number.isNaN(time))
    return fail(`finishedOn is ${quote(finishedOn)}, not an RFC 3339 time: the age cannot be checked`);
  const age = (now.getTime() - time) / 1000;
  if (age < -MAX_CLOCK_SKEW_SECONDS)
    return fail(`finishedOn ${quote(finishedOn)} is ${Math.round(-age)} s after now (${now.toISOString()})`);
  if (age > max)
    return fail(
      `the provenance finished ${Math.round(age)} s ago (${quote(finishedOn)}), more than the ${max} s allowed`,
    );
  return [];
}
