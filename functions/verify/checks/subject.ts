// The artifact: a subject must carry its sha256 under the in-toto name
// "sha256" (never in an annotation, another subject's field or another
// algorithm's key), and, with subjectPatterns, one such subject's name must
// be covered by a pattern.
import { matchesAny, uncoverableName } from '../glob.js';
import type { VerificationFailure, VerificationPolicy } from '../policy.js';
import type { UntrustedStatement } from '../statement.js';
import { isObject, printable } from '../text.js';
import { anyOf } from './check.js';

/** The expected digest as 64 lowercase hex characters ("sha256:" and letter case ignored). */
export function expectedSha256(policy: VerificationPolicy): string {
  return policy.expectedDigest.toLowerCase().replace(/^sha256:/, '');
}

/** Subjects whose digest.sha256 is the expected digest. */
function subjectsCarrying(statement: UntrustedStatement, sha256: string): unknown[] {
  if (!/^[0-9a-f]{64}$/.test(sha256) || !Array.isArray(statement.subject)) return [];
  return statement.subject.filter(
    (s: unknown) =>
      isObject(s) && isObject(s.digest) && Object.hasOwn(s.digest, 'sha256') && s.digest.sha256 === sha256,
  );
}

export function checkSubjectDigest(statement: UntrustedStatement, policy: VerificationPolicy): VerificationFailure[] {
  const sha256 = expectedSha256(policy);
  if (subjectsCarrying(statement, sha256).length) return [];
  return [{ code: 'NO_SUBJECT', message: `no subject has sha256 ${printable(sha256)}`, field: 'subject' }];
}

export function checkSubjectNames(statement: UntrustedStatement, policy: VerificationPolicy): VerificationFailure[] {
  const patterns = policy.subjectPatterns;
  if (patterns === undefined) return [];
  const carrying = subjectsCarrying(statement, expectedSha256(policy));
  if (carrying.length === 0) return []; // NO_SUBJECT already says it
  const names = carrying.map((s) => (isObject(s) ? s.name : undefined));
  if (names.some((n) => typeof n === 'string' && matchesAny(n, patterns))) return [];
  const why = names.flatMap((n) => {
    const problem = typeof n === 'string' ? uncoverableName(n) : undefined;
    return problem ? [`"${printable(n)}" cannot be covered: ${problem}`] : [];
  });
  return [
    {
      code: 'SUBJECT_NAME_NOT_COVERED',
      message: `the subject with sha256 ${expectedSha256(policy)} is named ${names
        .map((n) => (typeof n === 'string' ? `"${printable(n)}"` : 'nothing'))
        .join(', ')}, which matches no pattern of ${anyOf(patterns)}${why.length ? ` (${why.join('; ')})` : ''}`,
      field: 'subject[].name',
    },
  ];
}
