// What every policy check is: a pure function of the statement (untrusted in
// shape), the policy and the time, answering the failures it finds. A check
// whose policy field is absent answers none; a field it needs that is
// missing or of the wrong type is a failure, never a pass.
import type { VerificationFailure, VerificationPolicy } from '../policy.js';
import type { UntrustedStatement } from '../statement.js';
import { printable } from '../text.js';

export type PolicyCheck = (
  statement: UntrustedStatement,
  policy: VerificationPolicy,
  now: Date,
) => VerificationFailure[];

/** Allowed values in a message: "a" or "b". An empty list allows nothing and says so. */
export function anyOf(values: readonly string[]): string {
  return values.length ? values.map((v) => `"${printable(v)}"`).join(' or ') : 'any value (the policy allows none)';
}
