// `provenance verify`: decide whether an artifact's provenance holds, with the
// public key alone. Passes when at least one envelope passes every check (an
// artifact may have provenance from several tasks); otherwise every failure of
// every entry is reported, one line each. Malformed entries are failures of
// their own; they never stop the others from being checked.
import { readFileSync } from 'node:fs';
import { envelopeEntries, type EnvelopeEntry } from '../provenance/dsse.js';
import { bundleToEnvelope } from '../provenance/bundle.js';
import { keysFor, parseKeySet } from '../provenance/key-set.js';
import {
  parsePublicKeys,
  printable,
  verifyEnvelope,
  type TrustedKey,
  type VerifyPolicy,
} from '../provenance/verify.js';
import { ReadApiClient, ReadApiError } from './read-client.js';
import { parseDigest, sha256File } from './digest.js';
import { UsageError } from './exit-codes.js';
import { readFlagFile } from './flag-file.js';

export interface VerifyOptions {
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
  builderId?: string;
  reporter?: string[];
  sourceUri?: string;
  sourceRef?: string[];
}

export interface VerifyReport {
  ok: boolean;
  /** Lines to print: the passing envelope's summary, or every failure. */
  lines: string[];
  /** When it passed: entries that were malformed or failed, for a note on stderr. */
  notes?: string[];
}

export async function runVerify(opts: VerifyOptions): Promise<VerifyReport> {
  const oneInput = 'give exactly one of --artifact <file> or --digest sha256:<hex>';
  if ((opts.artifact === undefined) === (opts.digest === undefined)) throw new UsageError(oneInput);
  if ([opts.provenance, opts.bundle, opts.url].filter((x) => x !== undefined).length > 1)
    throw new UsageError('give at most one of --provenance <file>, --bundle <file> or --url <service>');
  for (const r of opts.reporter ?? [])
    if (!/^[^\s@]+@[^\s@]+$/.test(r)) throw new UsageError(`--reporter: "${printable(r)}" is not an email address`);
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
  if (opts.key !== undefined && opts.keys !== undefined)
    throw new UsageError('give at most one of --key <pem> or --keys <key set>');
  const trusted = await trustedKeys(opts);
  if ('failure' in trusted) return { ok: false, lines: [trusted.failure] };
  const { keys, keySet } = trusted;
  const entries = await entriesToCheck(opts, digest);
  if ('failure' in entries) return { ok: false, lines: [entries.failure] };
  if (entries.length === 0) return { ok: false, lines: [`no provenance for sha256:${digest}`] };

  const policy: VerifyPolicy = {
    digest,
    ...(opts.builderId !== undefined ? { builderId: opts.builderId } : {}),
    ...(opts.reporter?.length ? { reporters: opts.reporter } : {}),
    ...(opts.sourceUri !== undefined ? { sourceUri: opts.sourceUri } : {}),
    ...(opts.sourceRef?.length ? { sourceRefs: opts.sourceRef } : {}),
  };
  const check = (e: (typeof entries)[number]) => {
    if (e.error !== undefined) return { ok: false, failures: [e.error] };
    if (!keySet) return verifyEnvelope(e.value, keys, policy);
    const pick = keysFor(e.value, keys);
    if ('missing' in pick)
      return {
        ok: false,
        failures: [
          `signed with key "${printable(pick.missing)}", which is not in the key set (${keys.map((k) => printable(k.name)).join(', ')})`,
        ],
      };
    return verifyEnvelope(e.value, pick.keys, policy);
  };
  const results = entries.map((e) => ({ where: e.where, result: check(e) }));
  const prefix = (where: string) => (entries.length > 1 ? `${where}: ` : '');
  const failures = results.flatMap(({ where, result: r }) =>
    r.ok ? [] : r.failures.map((f) => `${prefix(where)}${f}`),
  );
  const passed = results.map((r) => r.result).find((r) => r.ok);
  if (passed && 'statement' in passed && passed.statement && passed.verifiedBy) {
    const s = passed.statement as unknown as {
      predicate: {
        runDetails: { builder: { id: unknown }; metadata?: { invocationId?: unknown } };
        buildDefinition: { internalParameters?: { reporter?: unknown } };
      };
    };
    const detail = [
      `builder ${printable(s.predicate.runDetails.builder.id)}`,
      `task ${printable(s.predicate.runDetails.metadata?.invocationId)}`,
      `reporter ${printable(s.predicate.buildDefinition.internalParameters?.reporter)}`,
    ];
    return {
      ok: true,
      lines: [`verified sha256:${digest}: signed by ${printable(passed.verifiedBy.name)}; ${detail.join('; ')}`],
      notes: failures,
    };
  }
  return { ok: false, lines: failures };
}

/** The keys to verify with: --key's PEM, or a key set (--keys, else the service's /v1/keys) picked from by keyid. */
async function trustedKeys(
  opts: VerifyOptions,
): Promise<{ keys: TrustedKey[]; keySet: boolean } | { failure: string }> {
  if (opts.key !== undefined) {
    let keys: TrustedKey[];
    try {
      keys = parsePublicKeys(readFileSync(opts.key, 'utf8'));
    } catch (err) {
      throw new UsageError(`--key: ${(err as Error).message}`);
    }
    if (keys.length === 0) throw new UsageError(`--key: ${opts.key} holds no PEM public key`);
    return { keys, keySet: false };
  }
  let text: string;
  let from: string;
  if (opts.keys !== undefined) {
    from = opts.keys;
    text = readFlagFile(opts.keys, '--keys');
  } else {
    if (opts.url === undefined)
      throw new UsageError('give --key <pem>, --keys <key set>, or --url <service> to fetch its key set');
    from = `${opts.url}/v1/keys`;
    text = await new ReadApiClient(opts.url).keysText();
  }
  try {
    return { keys: parseKeySet(text.trim() === '' ? [] : JSON.parse(text)), keySet: true };
  } catch (err) {
    return {
      failure: `${printable(from)}: ${err instanceof SyntaxError ? 'the key set is not JSON' : printable((err as Error).message)}`,
    };
  }
}

/** What to check: a bundle file, an envelopes file, or the service's envelopes naming the digest. */
async function entriesToCheck(opts: VerifyOptions, digest: string): Promise<EnvelopeEntry[] | { failure: string }> {
  if (opts.bundle !== undefined) return [bundleEntry(readInput(opts.bundle, '--bundle'), opts.bundle)];
  if (opts.provenance !== undefined) return envelopeEntries(readInput(opts.provenance, '--provenance'));
  try {
    return envelopeEntries(await new ReadApiClient(opts.url ?? defaultUrl(), opts.token).provenanceText(digest));
  } catch (err) {
    if (err instanceof ReadApiError && err.status === 404) return { failure: err.message };
    throw err;
  }
}

/** A file named by a flag, or standard input for "-" (`gcloud storage cat gs://b/app.tgz.intoto.jsonl | provenance verify --provenance - …`). */
function readInput(path: string, flag: string): string {
  if (path !== '-') return readFlagFile(path, flag);
  try {
    return readFileSync(0, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag}: standard input: ${(err as Error).message}`);
  }
}

export function defaultUrl(): string {
  return process.env.PROVENANCE_URL || `http://localhost:${process.env.PORT || 8080}`;
}

/** A bundle file → the one envelope it wraps, or the reason it is not a usable bundle (a FAIL line). */
function bundleEntry(text: string, file: string): EnvelopeEntry {
  if (text.trim() === '') return { where: file, error: `${file} is empty: not a Sigstore bundle` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { where: file, error: `${file} is not JSON: not a Sigstore bundle` };
  }
  try {
    return { where: file, value: bundleToEnvelope(json).envelope };
  } catch (err) {
    return { where: file, error: `${file}: ${printable((err as Error).message)}` };
  }
}
