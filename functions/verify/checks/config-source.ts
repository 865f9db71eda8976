// Where the build configuration came from
// (buildDefinition.externalParameters.configSource): its uri names one of the
// allowed repositories (compared as sources are) and, where a rule names an
// entry point, it is that one.
import type { VerificationFailure, VerificationPolicy } from '../policy.js';
import { sameRepository } from '../repository.js';
import type { UntrustedStatement } from '../statement.js';
import { at, describeType, isObject, printable, quote } from '../text.js';

export const CONFIG_SOURCE_FIELD = 'predicate.buildDefinition.externalParameters.configSource';

export function checkConfigSource(statement: UntrustedStatement, policy: VerificationPolicy): VerificationFailure[] {
  const rules = policy.expectedConfigSources;
  if (rules === undefined) return [];
  const source = at(statement, 'predicate', 'buildDefinition', 'externalParameters', 'configSource');
  const fail = (message: string): VerificationFailure[] => [
    { code: 'CONFIG_SOURCE_MISMATCH', message, field: CONFIG_SOURCE_FIELD },
  ];
  if (!isObject(source) || typeof source.uri !== 'string')
    return fail(
      `configSource ${isObject(source) ? `uri is ${describeType(source.uri)}` : `is ${describeType(source)}`}, not a configuration source`,
    );
  const { uri, entryPoint } = source;
  if (entryPoint !== undefined && typeof entryPoint !== 'string')
    return fail(`configSource entryPoint is ${describeType(entryPoint)}, not a string`);
  if (rules.some((r) => sameRepository(uri, r.uri) && (r.entryPoint === undefined || r.entryPoint === entryPoint)))
    return [];
  const wanted = rules.map(
    (r) => `"${printable(r.uri)}"${r.entryPoint !== undefined ? ` (entry point "${printable(r.entryPoint)}")` : ''}`,
  );
  return fail(
    `configSource is ${quote(uri)}${entryPoint !== undefined ? ` (entry point ${quote(entryPoint)})` : ''}, not ${wanted.join(' or ') || 'any (the policy allows none)'}`,
  );
}
