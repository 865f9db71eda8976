// Sources: each rule names one repository and is checked on its own. Every
// dependency from that repository (however its URI is spelled, see
// repository.ts) must be on one of the rule's refs, and at least one must
// exist. Refs are never pooled across dependencies: a second checkout on
// another branch, or another repository on an allowed branch, cannot make a
// rule hold.
import type { SourceRule, VerificationFailure, VerificationPolicy } from '../policy.js';
import { mayNameRepository, repositoryMatcher } from '../repository.js';
import type { UntrustedStatement } from '../statement.js';
import { at, describeType, isObject, printable } from '../text.js';

export const DEPENDENCIES_FIELD = 'predicate.buildDefinition.resolvedDependencies';

export function checkSources(statement: UntrustedStatement, policy: VerificationPolicy): VerificationFailure[] {
  const rules = policy.expectedSources;
  if (rules === undefined) return [];
  const deps = at(statement, 'predicate', 'buildDefinition', 'resolvedDependencies');
  if (!Array.isArray(deps))
    return [
      {
        code: 'SOURCE_MISSING',
        message: `resolvedDependencies is ${describeType(deps)}, not a list`,
        field: DEPENDENCIES_FIELD,
      },
    ];
  const objects = deps.filter(isObject);
  return rules.flatMap((rule) => checkRule(rule, objects));
}

function checkRule(rule: SourceRule, deps: Record<string, unknown>[]): VerificationFailure[] {
  const same = repositoryMatcher(rule.uri);
  // A dependency whose URI no parser reads surely but which names this repository is held to the refs too.
  const doubtful = mayNameRepository(rule.uri);
  const from: Record<string, unknown>[] = [];
  const alike: Record<string, unknown>[] = [];
  for (const d of deps) {
    if (typeof d.uri !== 'string') continue;
    if (same(d.uri)) from.push(d);
    else if (doubtful(d.uri)) alike.push(d);
  }
  if (from.length === 0)
    return [
      {
        code: 'SOURCE_MISSING',
        message: `no git dependency from "${printable(rule.uri)}"`,
        field: rule.uri,
      },
    ];
  const allowed = rule.refs;
  if (allowed === undefined) return [];
  return [...from, ...alike].flatMap((d): VerificationFailure[] => {
    const annotated = at(d, 'annotations', 'refs');
    const refs = Array.isArray(annotated) ? annotated.filter((r): r is string => typeof r === 'string') : [];
    if (refs.some((r) => allowed.includes(r))) return [];
    const uri = String(d.uri);
    const commit = at(d, 'digest', 'gitCommit');
    return [
      {
        code: 'SOURCE_REF_MISMATCH',
        message: `source ${printable(uri)}${typeof commit === 'string' ? `@${printable(commit, 40)}` : ''} is on ${
          refs.map((r) => printable(r)).join(', ') || 'no reported ref'
        }, not on ${allowed.map((r) => printable(r)).join(' or ') || 'any ref (the policy allows none)'}`,
        field: uri,
      },
    ];
  });
}
