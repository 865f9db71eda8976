// Refused findings: the statement's "findings" byproducts (inline JSON,
// {"findings": [{"code", "message", "at"}]}, see docs/buildtype-v1.md) must
// hold none of the refused codes. Every byproduct named "findings" is read,
// and one that cannot be read fails: absence of a finding must be shown, not
// assumed.
import { parseStrictJson } from '../../domain/strict-json-text.js';
import { strictBase64 } from '../envelope.js';
import type { VerificationFailure, VerificationPolicy } from '../policy.js';
import type { UntrustedStatement } from '../statement.js';
import { at, describeType, isObject, printable } from '../text.js';

export const BYPRODUCTS_FIELD = 'predicate.runDetails.byproducts';

export function checkRefusedFindings(statement: UntrustedStatement, policy: VerificationPolicy): VerificationFailure[] {
  const refused = policy.refusedFindings;
  if (refused === undefined || refused.length === 0) return [];
  const unreadable = (message: string, field = BYPRODUCTS_FIELD): VerificationFailure[] => [
    { code: 'REFUSED_FINDING', message: `${message}: refused findings cannot be ruled out`, field },
  ];
  const byproducts = at(statement, 'predicate', 'runDetails', 'byproducts');
  if (!Array.isArray(byproducts)) return unreadable(`byproducts is ${describeType(byproducts)}, not a list`);
  const lists = byproducts.flatMap((b: unknown, i) =>
    isObject(b) && b.name === 'findings' ? [{ field: `${BYPRODUCTS_FIELD}[${i}]`, findings: findingsIn(b) }] : [],
  );
  if (lists.length === 0) return unreadable('the statement has no findings byproduct');
  return lists.flatMap(({ field, findings }): VerificationFailure[] => {
    if (findings === undefined) return unreadable('a findings byproduct is not inline JSON {"findings": [...]}', field);
    return findings.flatMap((f, k): VerificationFailure[] => {
      if (!isObject(f) || typeof f.code !== 'string') return unreadable(`finding ${k + 1} has no string code`, field);
      if (!refused.includes(f.code)) return [];
      const message = typeof f.message === 'string' ? `: ${printable(f.message)}` : '';
      return [{ code: 'REFUSED_FINDING', message: `finding ${printable(f.code)}${message}`, field }];
    });
  });
}

/** The findings list of an inline-JSON byproduct, or undefined when it is not one. */
function findingsIn(byproduct: Record<string, unknown>): unknown[] | undefined {
  if (typeof byproduct.content !== 'string') return undefined;
  const bytes = strictBase64(byproduct.content);
  if (!bytes) return undefined;
  try {
    // Strictly: with "findings" twice, one reader would see the refused finding and another not.
    const list = at(parseStrictJson(bytes), 'findings');
    return Array.isArray(list) ? list : undefined;
  } catch {
    return undefined;
  }
}
