// `provenance verify`: decide whether an artifact's provenance holds, with the
// public key alone. The flags become one VerificationPolicy (buildPolicyFromFlags;
// a policy file can hand runVerify its own), the engine (functions/verify/)
// judges every envelope, and this module reads the inputs and renders the
// verdicts. Passes when at least one envelope passes every check (an artifact
// may have provenance from several tasks); otherwise every failure of every
// entry is reported. Malformed entries are failures of their own; they never
// stop the others from being checked.
import { defaultServiceUrl } from './options.js';
import { bundleToEnvelope } from '../provenance/bundle.js';
import { keysFor } from '../provenance/key-set.js';
import { unreadableVerdict, verifyEnvelope } from '../verify/engine.js';
import { parseStrictJson } from '../domain/strict-json-text.js';
import { envelopeEntries, strictJsonError, type EnvelopeEntry } from '../verify/entries.js';
import type { TrustedKey } from '../verify/keys.js';
import type { EnvelopeVerdict, VerificationPolicy } from '../verify/policy.js';
import { repositoryKey } from '../verify/repository.js';
import { at, printable, safeJsonLine } from '../verify/text.js';
import { ReadApiClient, ReadApiError } from './read-client.js';
import { parseDigest, sha256File } from './digest.js';
import { UsageError } from './exit-codes.js';
import { readFlagFile, readStandardInput } from './flag-file.js';
import { keySetOrFailure, pemKeys, readKeyFile } from './trusted-keys.js';

/** The policy flags (each repeatable one is a list). */
export interface PolicyFlags {
  builderId?: string[];
  reporter?: string[];
  sourceUri?: string[];
  sourceRef?: string[];
  configSourceUri?: string[];
  configSourceEntryPoint?: string;
  refuseFinding?: string[];
  maxAge?: string;
  subjectPattern?: string[];
}

export interface VerifyOptions extends PolicyFlags {
  /** PEM file (one or more public keys). */
  key?: string;
  /** Key set file: GET /v1/keys JSON. Without --key or --keys, the key set comes from --url. */
  keys?: string;
  artifact?: string;
  digest?: string;
  provenance?: string;
  /** A Sigstore bundle file (.sigstore.json) instead of envelopes. */
  bundle?: string;
  url?: string;
  token?: string;
  /** One JSON verdict per envelope on stdout instead of the text lines. */
  json?: boolean;
}

/** A policy without the artifact's digest: the digest comes from --artifact or --digest. */
export type PolicyRules = Omit<VerificationPolicy, 'expectedDigest'>;

export interface EntryVerdict {
  /** Where the envelope was: "line 3", "entry 2", "the file" or the bundle file. */
  entry: string;
  verdict: EnvelopeVerdict;
}

export interface VerifyReport {
  ok: boolean;
  /** sha256 hex of the artifact. */
  digest: string;
  /** One verdict per envelope checked (empty when none could be: no provenance, an unreadable key set). */
  verdicts: EntryVerdict[];
  /** Text lines: the passing envelope's summary, or every failure. */
  lines: string[];
  /** When it passed: entries that were malformed or failed, for a note on stderr. */
  notes?: string[];
}

const FULL_REF = /^refs\/[^\s]+$/;
const FINDING_CODE = /^[A-Za-z0-9_.-]+$/;

/** The policy the flags ask for; wrong usage throws a UsageError (exit 2) that says what to do. */
export function buildPolicyFromFlags(opts: PolicyFlags): PolicyRules {
  for (const r of opts.reporter ?? [])
    if (!/^[^\s@]+@[^\s@]+$/.test(r)) throw new UsageError(`--reporter: "${printable(r)}" is not an email address`);
  for (const b of opts.builderId ?? []) if (b.trim() === '') throw new UsageError('--builder-id: empty');
  const sourceUris = opts.sourceUri ?? [];
  const sourceRefs = opts.sourceRef ?? [];
  if (sourceRefs.length && sourceUris.length === 0)
    throw new UsageError(
      '--source-ref needs --source-uri: name the repository whose checkouts must be on the ref, e.g. --source-uri https://github.com/example/app --source-ref refs/heads/main',
    );
  for (const u of [...sourceUris, ...(opts.configSourceUri ?? [])])
    if (repositoryKey(u) === undefined)
      throw new UsageError(
        `"${printable(u)}" is not a repository URL (https, http, ssh or git, with or without git+), e.g. https://github.com/example/app`,
      );
  for (const r of sourceRefs)
    if (!FULL_REF.test(r))
      throw new UsageError(
        `--source-ref: "${printable(r)}" is not a full ref name${/^[^\s/]+$/.test(r) ? `; did you mean refs/heads/${printable(r)}?` : ' (refs/heads/<branch> or refs/tags/<tag>)'}`,
      );
  if (opts.configSourceEntryPoint !== undefined && !opts.configSourceUri?.length)
    throw new UsageError('--config-source-entry-point needs --config-source-uri');
  for (const f of opts.refuseFinding ?? [])
    if (!FINDING_CODE.test(f))
      throw new UsageError(`--refuse-finding: "${printable(f)}" is not a finding code (e.g. FETCH_AFTER_COMPILE)`);
  for (const p of opts.subjectPattern ?? []) if (p === '') throw new UsageError('--subject-pattern: empty');
  const maxAge = opts.maxAge === undefined ? undefined : parseDuration(opts.maxAge);
  return {
    ...(opts.builderId?.length ? { expectedBuilderIds: opts.builderId } : {}),
    ...(opts.reporter?.length ? { expectedReporters: opts.reporter } : {}),
    ...(sourceUris.length
      ? { expectedSources: sourceUris.map((uri) => ({ uri, ...(sourceRefs.length ? { refs: sourceRefs } : {}) })) }
      : {}),
    ...(opts.configSourceUri?.length
      ? {
          expectedConfigSources: opts.configSourceUri.map((uri) => ({
            uri,
            ...(opts.configSourceEntryPoint !== undefined ? { entryPoint: opts.configSourceEntryPoint } : {}),
          })),
        }
      : {}),
    ...(opts.refuseFinding?.length ? { refusedFindings: opts.refuseFinding } : {}),
    ...(maxAge !== undefined ? { maxAgeSeconds: maxAge } : {}),
    ...(opts.subjectPattern?.length ? { subjectPatterns: opts.subjectPattern } : {}),
  };
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "90", "90s", "15m", "12h", "30d" → seconds. */
function parseDuration(text: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(text);
  if (!m) throw new UsageError(`--max-age: "${printable(text)}" is not a duration (seconds, or e.g. 15m, 12h, 30d)`);
  return Number(m[1]) * (UNIT_SECONDS[m[2] || 's'] ?? 1);
}

/**
 * Verifies an artifact's provenance. `rules` default to the policy flags; a
 * caller with a policy from elsewhere (a policy file) hands its own.
 */
export async function runVerify(
  opts: VerifyOptions,
  rules: PolicyRules = buildPolicyFromFlags(opts),
  now: Date = new Date(),
  /** Keys from elsewhere (a policy file's); default: --key, --keys or the service's key set. */
  givenKeys?: Trusted,
): Promise<VerifyReport> {
  const oneInput = 'give exactly one of --artifact <file> or --digest sha256:<hex>';
  if ((opts.artifact === undefined) === (opts.digest === undefined)) throw new UsageError(oneInput);
  if ([opts.provenance, opts.bundle, opts.url].filter((x) => x !== undefined).length > 1)
    throw new UsageError('give at most one of --provenance <file>, --bundle <file> or --url <service>');
  if (opts.key !== undefined && opts.keys !== undefined)
    throw new UsageError('give at most one of --key <pem> or --keys <key set>');
  let digest: string;
  if (opts.digest !== undefined) {
    const d = parseDigest(opts.digest);
    if (!d) throw new UsageError(`--digest: "${printable(opts.digest)}" is not sha256:<64 hex characters>`);
    digest = d;
  } else if (opts.artifact !== undefined) {
    digest = await sha256File(opts.artifact);
  } else {
    throw new UsageError(oneInput);
  }
  const failed = (line: string): VerifyReport => ({ ok: false, digest, verdicts: [], lines: [line] });
  const trusted = givenKeys ?? (await trustedKeys(opts));
  if ('failure' in trusted) return failed(trusted.failure);
  const entries = await entriesToCheck(opts, digest);
  if ('failure' in entries) return failed(entries.failure);
  if (entries.length === 0) return failed(`no provenance for sha256:${digest}`);

  const policy: VerificationPolicy = { ...rules, expectedDigest: digest };
  const verdicts = entries.map((e) => ({ entry: e.where, verdict: judge(e, trusted, policy, now) }));
  const prefix = (where: string) => (entries.length > 1 ? `${where}: ` : '');
  const failures = verdicts.flatMap(({ entry, verdict }) =>
    verdict.ok ? [] : verdict.failures.map((f) => `${prefix(entry)}${f.message}`),
  );
  const passed = verdicts.find((v) => v.verdict.ok)?.verdict;
  if (passed?.verifiedKey === undefined) return { ok: false, digest, verdicts, lines: failures };
  const s = passed.statement;
  const detail = [
    `builder ${printable(at(s, 'predicate', 'runDetails', 'builder', 'id'))}`,
    `task ${printable(at(s, 'predicate', 'runDetails', 'metadata', 'invocationId'))}`,
    `reporter ${printable(at(s, 'predicate', 'buildDefinition', 'internalParameters', 'reporter'))}`,
  ];
  return {
    ok: true,
    digest,
    verdicts,
    lines: [`verified sha256:${digest}: signed by ${printable(passed.verifiedKey)}; ${detail.join('; ')}`],
    notes: failures,
  };
}

/** One JSON object per envelope: for gates that parse the output (`--json`). Safe to print on a terminal. */
export function jsonLines(report: VerifyReport): string[] {
  return report.verdicts.map(({ entry, verdict: v }) =>
    safeJsonLine({
      entry,
      ok: v.ok,
      verifiedKey: v.verifiedKey ?? null,
      subjects: v.subjects,
      failures: v.failures.map((f) => ({ code: f.code, message: f.message, field: f.field ?? null })),
      envelopeSha256: v.envelopeSha256,
    }),
  );
}

export interface Trusted {
  keys: TrustedKey[];
  /** A key set: the key is picked by the envelope's keyid. */
  keySet: boolean;
}

function judge(e: EnvelopeEntry, trusted: Trusted, policy: VerificationPolicy, now: Date): EnvelopeVerdict {
  if (e.error !== undefined) return unreadableVerdict(e.text, e.error);
  if (!trusted.keySet) return verifyEnvelope(e.value, trusted.keys, policy, now, e.text);
  const pick = keysFor(e.value, trusted.keys);
  if ('keys' in pick) return verifyEnvelope(e.value, pick.keys, policy, now, e.text);
  // No key of the set has the keyid it claims: judged with no trusted key, and the message says which key it needs.
  const v = verifyEnvelope(e.value, [], policy, now, e.text);
  const message = `signed with key "${printable(pick.missing)}", which is not in the key set (${trusted.keys.map((k) => printable(k.name)).join(', ')})`;
  return { ...v, failures: v.failures.map((f) => (f.code === 'NO_TRUSTED_KEY' ? { ...f, message } : f)) };
}

/** The keys to verify with: --key's PEM, or a key set (--keys, else the service's /v1/keys) picked from by keyid. */
async function trustedKeys(opts: VerifyOptions): Promise<Trusted | { failure: string }> {
  if (opts.key !== undefined)
    return { keys: pemKeys(readKeyFile(opts.key, '--key'), `--key: ${opts.key}`), keySet: false };
  let text: string;
  let from: string;
  if (opts.keys !== undefined) {
    from = opts.keys;
    text = readKeyFile(opts.keys, '--keys');
  } else {
    if (opts.url === undefined)
      throw new UsageError('give --key <pem>, --keys <key set>, or --url <service> to fetch its key set');
    from = `${opts.url}/v1/keys`;
    text = await new ReadApiClient(opts.url).keysText();
  }
  const got = keySetOrFailure(text, from);
  return 'keys' in got ? { keys: got.keys, keySet: true } : got;
}

/** What to check: a bundle file, an envelopes file, or the service's envelopes naming the digest. */
async function entriesToCheck(opts: VerifyOptions, digest: string): Promise<EnvelopeEntry[] | { failure: string }> {
  if (opts.bundle !== undefined) return [bundleEntry(await readInput(opts.bundle, '--bundle'), opts.bundle)];
  if (opts.provenance !== undefined) return envelopeEntries(await readInput(opts.provenance, '--provenance'));
  try {
    return envelopeEntries(await new ReadApiClient(opts.url ?? defaultServiceUrl(), opts.token).provenanceText(digest));
  } catch (err) {
    if (err instanceof ReadApiError && err.status === 404) return { failure: err.message };
    throw err;
  }
}

/** A file named by a flag, or standard input for "-" (`gcloud storage cat gs://b/app.tgz.intoto.jsonl | provenance verify --provenance - …`). */
async function readInput(path: string, flag: string): Promise<string> {
  return path === '-' ? (await readStandardInput(flag)).toString('utf8') : readFlagFile(path, flag);
}

/** A bundle file → the one envelope it wraps, or the reason it is not a usable bundle (a FAIL line). */
function bundleEntry(text: string, file: string): EnvelopeEntry {
  if (text.trim() === '') return { where: file, text, error: `${printable(file)} is empty: not a Sigstore bundle` };
  let json: unknown;
  try {
    json = parseStrictJson(text);
  } catch (err) {
    return { where: file, text, error: `${printable(file)} ${strictJsonError(err)}: not a Sigstore bundle` };
  }
  try {
    const { envelope } = bundleToEnvelope(json);
    return { where: file, text: JSON.stringify(envelope), value: envelope };
  } catch (err) {
    return { where: file, text, error: `${file}: ${printable((err as Error).message)}` };
  }
}
