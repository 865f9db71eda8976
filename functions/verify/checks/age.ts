// Freshness: runDetails.metadata.finishedOn (RFC 3339) at most maxAgeSeconds
// before `now`. A missing or unreadable time fails; so does one further in
// the future than clock skew explains, which would make any age pass.
import type { VerificationFailure, VerificationPolicy } from '../policy.js';
import type { UntrustedStatement } from '../statement.js';
import { at, quote } from '../text.js';

export const FINISHED_ON_FIELD = 'predicate.runDetails.metadata.finishedOn';
/** Clock skew tolerated between the service that signed and the verifier. */
export const MAX_CLOCK_SKEW_SECONDS = 300;
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt]([01]\d|2[0-3]):([0-5]\d):([0-5]\d|60)(?:\.\d{1,9})?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/**
 * Milliseconds of an RFC 3339 date-time, or NaN. Stricter than Date.parse,
 * which reads 2026-02-30 as March 2 and 24:00 as the next day: a time that is
 * not on the calendar is not a time. A leap second (:60) is read as :59.
 */
export function rfc3339Time(text: string): number {
  const m = RFC3339.exec(text);
  if (!m) return Number.NaN;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return Number.NaN;
  return Date.parse(m[6] === '60' ? text.replace(/:60(?=[.Zz+-])/, ':59') : text);
}

export function checkAge(statement: UntrustedStatement, policy: VerificationPolicy, now: Date): VerificationFailure[] {
  const max = policy.maxAgeSeconds;
  if (max === undefined) return [];
  const fail = (message: string): VerificationFailure[] => [
    { code: 'PROVENANCE_TOO_OLD', message, field: FINISHED_ON_FIELD },
  ];
  if (!Number.isFinite(max) || max < 0)
    return fail(`the policy's maximum age ${String(max)} is not a number of seconds`);
  const finishedOn = at(statement, 'predicate', 'runDetails', 'metadata', 'finishedOn');
  const time = typeof finishedOn === 'string' ? rfc3339Time(finishedOn) : Number.NaN;
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
