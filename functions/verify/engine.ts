// The verification engine: one envelope, trusted keys, a policy and the time
// in; a verdict out (ok, the key that verified, the subjects, every failure
// with its code). No I/O: the CLI and policy files hand everything in. The
// envelope is untrusted input of any shape: nothing in it can throw.
import { sha256Hex } from '../domain/digest.js';
import { parseStrictJson } from '../domain/strict-json-text.js';
import { checkAge } from './checks/age.js';
import type { PolicyCheck } from './checks/check.js';
import { checkConfigSource } from './checks/config-source.js';
import { checkRefusedFindings } from './checks/findings.js';
import { checkBuilderId, checkReporter } from './checks/identity.js';
import { checkSources } from './checks/sources.js';
import { checkSubjectDigest, checkSubjectNames } from './checks/subject.js';
import { strictJsonError } from './entries.js';
import { openEnvelope } from './envelope.js';
import type { TrustedKey } from './keys.js';
import type { EnvelopeVerdict, VerificationPolicy } from './policy.js';
import { readStatement, subjectsOf } from './statement.js';

/** Every policy check, by name (the bench times each). Each answers [] when its policy field is absent. */
export const POLICY_CHECKS: Readonly<Record<string, PolicyCheck>> = {
  subjectDigest: checkSubjectDigest,
  subjectPatterns: checkSubjectNames,
  builderIds: checkBuilderId,
  reporters: checkReporter,
  sources: checkSources,
  configSources: checkConfigSource,
  refusedFindings: checkRefusedFindings,
  maxAge: checkAge,
};
const checks = Object.values(POLICY_CHECKS);

/**
 * The verdict on a parsed envelope. `asRead`, the envelope's JSON text as it
 * was read, is what envelopeSha256 digests; without it, JSON.stringify(envelope).
 */
export function verifyEnvelope(
  envelope: unknown,
  keys: readonly TrustedKey[],
  policy: VerificationPolicy,
  now: Date,
  asRead?: string,
): EnvelopeVerdict {
  let text = asRead ?? '';
  if (asRead === undefined)
    try {
      text = JSON.stringify(envelope) ?? '';
    } catch {
      // Not JSON-serialisable (a BigInt, a cycle): not an envelope either; the digest is of nothing.
    }
  return verdict(envelope, text, keys, policy, now);
}

/** The verdict on one envelope's JSON text as read (an .intoto.jsonl line without its newline), read strictly (entries.ts). */
export function verifyEnvelopeText(
  text: string,
  keys: readonly TrustedKey[],
  policy: VerificationPolicy,
  now: Date,
): EnvelopeVerdict {
  let envelope: unknown;
  try {
    envelope = parseStrictJson(text);
  } catch (err) {
    return unreadableVerdict(text, `the envelope ${strictJsonError(err)}`);
  }
  return verdict(envelope, text, keys, policy, now);
}

/** The verdict on an entry that is not an envelope at all (not JSON, not a bundle): why, and the digest of its text. */
export function unreadableVerdict(text: string, message: string): EnvelopeVerdict {
  return {
    ok: false,
    envelopeSha256: sha256Hex(text),
    subjects: [],
    failures: [{ code: 'MALFORMED_ENVELOPE', message }],
  };
}

function verdict(
  envelope: unknown,
  text: string,
  keys: readonly TrustedKey[],
  policy: VerificationPolicy,
  now: Date,
): EnvelopeVerdict {
  const opened = openEnvelope(envelope, keys);
  const base = {
    envelopeSha256: sha256Hex(text),
    ...(opened.verifiedKey ? { verifiedKey: opened.verifiedKey.name } : {}),
  };
  if (!opened.payload) return { ok: false, ...base, subjects: [], failures: opened.failures };
  const { statement, failures: statementFailures } = readStatement(opened.payload);
  if (!statement) return { ok: false, ...base, subjects: [], failures: [...opened.failures, ...statementFailures] };
  // Policy failures are reported even when the signature failed: the user sees everything wrong at once.
  const failures = [
    ...opened.failures,
    ...statementFailures,
    ...checks.flatMap((check) => check(statement, policy, now)),
  ];
  // Never ok without a verified key, whatever else holds (openEnvelope also reports its absence).
  const ok = failures.length === 0 && opened.verifiedKey !== undefined;
  return { ok, ...base, subjects: subjectsOf(statement), failures, statement };
}
