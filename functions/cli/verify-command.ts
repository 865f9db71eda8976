// `provenance verify`: decide whether an artifact's provenance holds, with the
// public key alone. Passes when at least one envelope passes every check (an
// artifact may have provenance from several tasks); otherwise every failure of
// every envelope is reported, one line each.
import { readFileSync } from 'node:fs';
import { parseEnvelopes, type Envelope } from '../provenance/dsse.js';
import { parsePublicKeys, verifyEnvelope, type VerifyPolicy } from '../provenance/verify.js';
import { ReadApiClient, ReadApiError } from './read-client.js';
import { UsageError, parseDigest, sha256File } from './digest.js';

export interface VerifyOptions {
  key: string;
  artifact?: string;
  digest?: string;
  provenance?: string;
  url?: string;
  token?: string;
  builderId?: string;
  sourceUri?: string;
  sourceRef?: string[];
}

export interface VerifyReport {
  ok: boolean;
  /** Lines to print: the passing envelope's summary, or every failure. */
  lines: string[];
}

export async function runVerify(opts: VerifyOptions): Promise<VerifyReport> {
  if ((opts.artifact === undefined) === (opts.digest === undefined)) throw new UsageError('give exactly one of --artifact <file> or --digest sha256:<hex>');
  if (opts.provenance !== undefined && opts.url !== undefined) throw new UsageError('give at most one of --provenance <file> or --url <service>');
  let digest: string;
  if (opts.digest !== undefined) {
    const d = parseDigest(opts.digest);
    if (!d) throw new UsageError(`--digest: "${opts.digest}" is not sha256:<64 hex characters>`);
    digest = d;
  } else {
    digest = await sha256File(opts.artifact!);
  }
  let keys;
  try {
    keys = parsePublicKeys(readFileSync(opts.key, 'utf8'));
  } catch (err) {
    throw new UsageError(`--key: ${(err as Error).message}`);
  }
  if (keys.length === 0) throw new UsageError(`--key: ${opts.key} holds no PEM public key`);

  let envelopes: Envelope[];
  if (opts.provenance !== undefined) {
    try {
      envelopes = parseEnvelopes(readFileSync(opts.provenance, 'utf8'));
    } catch (err) {
      throw new UsageError(`--provenance: ${(err as Error).message}`);
    }
  } else {
    try {
      envelopes = (await new ReadApiClient(opts.url ?? defaultUrl(), opts.token).provenanceForDigest(digest)).envelopes;
    } catch (err) {
      if (err instanceof ReadApiError && err.status === 404) return { ok: false, lines: [err.message] };
      throw err;
    }
  }
  if (envelopes.length === 0) return { ok: false, lines: [`no provenance for sha256:${digest}`] };

  const policy: VerifyPolicy = {
    digest,
    ...(opts.builderId !== undefined ? { builderId: opts.builderId } : {}),
    ...(opts.sourceUri !== undefined ? { sourceUri: opts.sourceUri } : {}),
    ...(opts.sourceRef?.length ? { sourceRefs: opts.sourceRef } : {}),
  };
  const results = envelopes.map((e) => verifyEnvelope(e, keys, policy));
  const passed = results.find((r) => r.ok);
  if (passed) {
    const s = passed.statement!;
    return {
      ok: true,
      lines: [`verified sha256:${digest}: signed by ${envelopes[results.indexOf(passed)]!.signatures.map((x) => x.keyid).join(', ')}; builder ${s.predicate.runDetails.builder.id}; task ${s.predicate.runDetails.metadata.invocationId}`],
    };
  }
  const prefix = (i: number) => (envelopes.length > 1 ? `envelope ${i + 1}: ` : '');
  return { ok: false, lines: results.flatMap((r, i) => r.failures.map((f) => `${prefix(i)}${f}`)) };
}

export function defaultUrl(): string {
  return process.env.PROVENANCE_URL || `http://localhost:${process.env.PORT || 8080}`;
}
