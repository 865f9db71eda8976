// The in-toto statement inside a verified envelope, still untrusted in shape:
// read as strict UTF-8 JSON (no key twice, no BOM: parseStrictJson), its types checked, its subjects listed. Policy checks
// then read fields from it with `at`, each checking the type it needs.
import { parseStrictJson } from '../domain/strict-json-text.js';
import { strictJsonError } from './entries.js';
import { SLSA_PROVENANCE_V1, STATEMENT_TYPE } from '../provenance/statement.js';
import type { EnvelopeVerdict, VerificationFailure } from './policy.js';
import { describeType, isObject, quote } from './text.js';

export type UntrustedStatement = Record<string, unknown>;

export function readStatement(payload: Buffer): { statement?: UntrustedStatement; failures: VerificationFailure[] } {
  let parsed: unknown;
  try {
    // Strictly: a key given twice would let another verifier read another statement from the same signed bytes.
    parsed = parseStrictJson(payload);
  } catch (err) {
    return {
      failures: [{ code: 'MALFORMED_STATEMENT', message: `the payload ${strictJsonError(err)}`, field: 'payload' }],
    };
  }
  if (!isObject(parsed))
    return {
      failures: [
        {
          code: 'MALFORMED_STATEMENT',
          message: `the payload is ${describeType(parsed)}, not an in-toto statement`,
          field: 'payload',
        },
      ],
    };
  const failures: VerificationFailure[] = [];
  if (parsed._type !== STATEMENT_TYPE)
    failures.push({
      code: 'STATEMENT_TYPE_MISMATCH',
      message: `statement _type is ${quote(parsed._type)}, not ${STATEMENT_TYPE}`,
      field: '_type',
    });
  if (parsed.predicateType !== SLSA_PROVENANCE_V1)
    failures.push({
      code: 'PREDICATE_TYPE_MISMATCH',
      message: `predicateType is ${quote(parsed.predicateType)}, not ${SLSA_PROVENANCE_V1}`,
      field: 'predicateType',
    });
  if (!isObject(parsed.predicate))
    failures.push({
      code: 'MALFORMED_STATEMENT',
      message: `predicate is ${describeType(parsed.predicate)}, not an object`,
      field: 'predicate',
    });
  if (!Array.isArray(parsed.subject))
    failures.push({
      code: 'MALFORMED_STATEMENT',
      message: `statement subject is ${describeType(parsed.subject)}, not a list`,
      field: 'subject',
    });
  return { statement: parsed, failures };
}

/** The well-formed subjects (a string name, string digest values); others are left out. */
export function subjectsOf(statement: UntrustedStatement): EnvelopeVerdict['subjects'] {
  if (!Array.isArray(statement.subject)) return [];
  return statement.subject.flatMap((s: unknown) => {
    if (!isObject(s) || typeof s.name !== 'string' || !isObject(s.digest)) return [];
    const digest = Object.fromEntries(
      Object.entries(s.digest).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    return [{ name: s.name, digest }];
  });
}
