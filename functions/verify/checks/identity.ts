// Who built and who reported: the builder id (runDetails.builder.id) and the
// identity that reported the task (internalParameters.reporter, an email,
// compared without letter case) must each be one string among the allowed.
import type { VerificationFailure, VerificationPolicy } from '../policy.js';
import type { UntrustedStatement } from '../statement.js';
import { at, quote } from '../text.js';
import { anyOf } from './check.js';

export const BUILDER_ID_FIELD = 'predicate.runDetails.builder.id';
export const REPORTER_FIELD = 'predicate.buildDefinition.internalParameters.reporter';

export function checkBuilderId(statement: UntrustedStatement, policy: VerificationPolicy): VerificationFailure[] {
  const allowed = policy.expectedBuilderIds;
  if (allowed === undefined) return [];
  const id = at(statement, 'predicate', 'runDetails', 'builder', 'id');
  if (typeof id === 'string' && allowed.includes(id)) return [];
  return [
    {
      code: 'BUILDER_ID_MISMATCH',
      message: `builder id is ${quote(id)}, not ${anyOf(allowed)}`,
      field: BUILDER_ID_FIELD,
    },
  ];
}

export function checkReporter(statement: UntrustedStatement, policy: VerificationPolicy): VerificationFailure[] {
  const allowed = policy.expectedReporters;
  if (allowed === undefined) return [];
  const reporter = at(statement, 'predicate', 'buildDefinition', 'internalParameters', 'reporter');
  if (typeof reporter === 'string' && allowed.some((r) => r.toLowerCase() === reporter.toLowerCase())) return [];
  return [
    {
      code: 'REPORTER_MISMATCH',
      message: `the task was reported by ${quote(reporter)}, not by ${anyOf(allowed)}`,
      field: REPORTER_FIELD,
    },
  ];
}
