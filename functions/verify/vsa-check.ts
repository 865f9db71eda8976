// Checking a VSA the way a deployer does (slsa-verifier's verify-vsa): the
// DSSE signature with the gate's public key (the envelope read by the same
// rules as `verify` reads provenance), then the statement against what the
// deployer expects: the artifact's digest among the subjects, the verifier id,
// the resource URI, PASSED, and every required level. The envelope is
// untrusted input of any shape; nothing here throws or does I/O, and each
// mismatch is one coded failure (strings from the envelope escaped).
import { STATEMENT_TYPE } from '../provenance/statement.js';
import { parseStrictJson } from '../domain/strict-json-text.js';
import { strictJsonError } from './entries.js';
import { openEnvelope } from './envelope.js';
import type { TrustedKey } from './keys.js';
import { isObject, printable, quote } from './text.js';
import { levelMet } from './levels.js';
import { MAX_CLOCK_SKEW_SECONDS, rfc3339Time } from './checks/age.js';
import { VSA_PREDICATE_TYPE } from './vsa.js';

export type VsaFailureCode =
  | 'VSA_MALFORMED'
  | 'VSA_SIGNATURE_INVALID'
  | 'VSA_PREDICATE_TYPE_MISMATCH'
  | 'VSA_SUBJECT_MISMATCH'
  | 'VSA_VERIFIER_MISMATCH'
  | 'VSA_RESOURCE_URI_MISMATCH'
  | 'VSA_RESULT_FAILED'
  | 'VSA_LEVEL_INSUFFICIENT'
  | 'VSA_TIME_INVALID';

export interface VsaFailure {
  code: VsaFailureCode;
  message: string;
  field?: string;
}

/** What the deployer expects (slsa-verifier verify-vsa's flags). */
export interface VsaExpectations {
  /** sha256 hex of the artifact. */
  expectedDigest: string;
  expectedVerifierId: string;
  expectedResourceUri: string;
  /** Levels that must each be met (SLSA_BUILD_LEVEL_1 is met by _1, _2, _3). */
  expectedLevels?: string[];
}

export interface VsaVerdict {
  ok: boolean;
  failures: VsaFailure[];
  /** Name of the trusted key the signature verified with. */
  verifiedKey?: string;
  timeVerified?: string;
  verifiedLevels?: string[];
}

/** `now` judges timeVerified: a summary from the future (beyond clock skew) was not made by an honest clock. */
export function verifyVsa(
  envelope: unknown,
  keys: TrustedKey[],
  expect: VsaExpectations,
  now: Date = new Date(),
): VsaVerdict {
  const failures: VsaFailure[] = [];
  const fail = (code: VsaFailureCode, message: string, field?: string) =>
    failures.push({ code, message, ...(field ? { field } : {}) });
  const done = (): VsaVerdict => ({ ok: false, failures });
  // The same envelope rules as `verify` (envelope.ts): one reader for every DSSE envelope.
  const opened = openEnvelope(envelope, keys);
  const broken = opened.failures.find((f) => f.code === 'MALFORMED_ENVELOPE' || f.code === 'PAYLOAD_TYPE_MISMATCH');
  if (broken) {
    fail('VSA_MALFORMED', `the VSA: ${broken.message}`, broken.field);
    return done();
  }
  const { payload: body, verifiedKey } = opened;
  if (!verifiedKey || !body) {
    // Nothing in an unsigned statement is worth reading further.
    fail('VSA_SIGNATURE_INVALID', 'no signature on the VSA verifies with the given public key(s)', 'signatures');
    return done();
  }
  let statement: unknown;
  try {
    statement = parseStrictJson(body);
  } catch (err) {
    fail('VSA_MALFORMED', `the payload ${strictJsonError(err)}`, 'payload');
    return done();
  }
  if (!isObject(statement) || statement._type !== STATEMENT_TYPE) {
    fail('VSA_MALFORMED', `the payload is not an in-toto Statement v1 (${STATEMENT_TYPE})`, '_type');
    return done();
  }
  if (statement.predicateType !== VSA_PREDICATE_TYPE) {
    fail(
      'VSA_PREDICATE_TYPE_MISMATCH',
      `predicateType is ${quote(statement.predicateType)}, not ${VSA_PREDICATE_TYPE}`,
      'predicateType',
    );
    return done();
  }
  const digest = expect.expectedDigest.toLowerCase().replace(/^sha256:/, '');
  const subjects = Array.isArray(statement.subject) ? statement.subject : [];
  if (!subjects.some((s) => isObject(s) && isObject(s.digest) && s.digest.sha256 === digest))
    fail('VSA_SUBJECT_MISMATCH', `no subject of the VSA has sha256 ${digest}`, 'subject');
  const p = isObject(statement.predicate) ? statement.predicate : {};
  const verifierId = isObject(p.verifier) ? p.verifier.id : undefined;
  if (verifierId !== expect.expectedVerifierId)
    fail(
      'VSA_VERIFIER_MISMATCH',
      `verifier id is ${quote(verifierId)}, not ${quote(expect.expectedVerifierId)}`,
      'predicate.verifier.id',
    );
  if (p.resourceUri !== expect.expectedResourceUri)
    fail(
      'VSA_RESOURCE_URI_MISMATCH',
      `resource URI is ${quote(p.resourceUri)}, not ${quote(expect.expectedResourceUri)}`,
      'predicate.resourceUri',
    );
  if (p.verificationResult !== 'PASSED')
    fail(
      'VSA_RESULT_FAILED',
      `verification result is ${quote(p.verificationResult)}, not "PASSED"`,
      'predicate.verificationResult',
    );
  // A PASSED result whose levels say FAILED contradicts itself: a deployer cannot know which half is true.
  if (p.verificationResult === 'PASSED' && Array.isArray(p.verifiedLevels) && p.verifiedLevels.includes('FAILED'))
    fail('VSA_RESULT_FAILED', 'verified levels include "FAILED" beside a PASSED result', 'predicate.verifiedLevels');
  if (p.timeVerified !== undefined) {
    const time = typeof p.timeVerified === 'string' ? rfc3339Time(p.timeVerified) : Number.NaN;
    if (Number.isNaN(time))
      fail(
        'VSA_TIME_INVALID',
        `timeVerified ${quote(p.timeVerified)} is not an RFC 3339 time`,
        'predicate.timeVerified',
      );
    else if (time - now.getTime() > MAX_CLOCK_SKEW_SECONDS * 1000)
      fail(
        'VSA_TIME_INVALID',
        `timeVerified ${quote(p.timeVerified)} is after now (${now.toISOString()}) by more than clock skew`,
        'predicate.timeVerified',
      );
  }
  const levels = Array.isArray(p.verifiedLevels)
    ? p.verifiedLevels.filter((l): l is string => typeof l === 'string')
    : [];
  for (const want of expect.expectedLevels ?? [])
    if (!levelMet(want, levels))
      fail(
        'VSA_LEVEL_INSUFFICIENT',
        `verified levels ${levels.length ? levels.map((l) => printable(l)).join(', ') : '(none)'} do not meet ${printable(want)}`,
        'predicate.verifiedLevels',
      );
  return {
    ok: failures.length === 0,
    failures,
    verifiedKey: verifiedKey.name,
    ...(typeof p.timeVerified === 'string' ? { timeVerified: p.timeVerified } : {}),
    verifiedLevels: levels,
  };
}
