// A policy file from disk, with its trusted keys read or fetched: PEM and
// key-set files are relative to the policy file; a key-set URL is fetched with
// a deadline and a size bound (https, or http to localhost). Problems are
// UsageErrors (exit 2) naming the file, line and column.
import { dirname, resolve } from 'node:path';
import type { TrustedKey } from '../verify/keys.js';
import { printable } from '../verify/text.js';
import {
  formatProblem,
  MAX_POLICY_BYTES,
  parsePolicyFile,
  type KeySource,
  type PolicyFile,
} from '../verify/policy-file.js';
import { sha256Hex } from '../domain/digest.js';
import { UsageError } from './exit-codes.js';
import { readAtMost } from './flag-file.js';
import { keySetFrom, MAX_KEY_FILE_BYTES, pemKeys, readKeyFile } from './trusted-keys.js';

const KEY_FETCH_DEADLINE_MS = 10_000;

export interface LoadedPolicy {
  /** The path as given (the VSA's policy.uri). */
  path: string;
  /** sha256 hex of the file's bytes (the VSA's policy.digest). */
  sha256: string;
  file: PolicyFile;
}

/** Reads and parses the file; every problem at once, as one UsageError. */
export function readPolicy(path: string): LoadedPolicy {
  // One byte past the limit is enough to refuse it (parsePolicyFile says so); /dev/zero cannot fill memory.
  const bytes = readAtMost(path, MAX_POLICY_BYTES + 1, '--policy');
  const parsed = parsePolicyFile(bytes.toString('utf8'));
  if ('problems' in parsed)
    throw new UsageError(
      `${path} is not a valid policy:\n${parsed.problems.map((p) => `  ${formatProblem(path, p)}`).join('\n')}`,
    );
  return { path, sha256: sha256Hex(bytes), file: parsed.policy };
}

/** The keys the policy trusts, each named as its source names it (key-set ids, PEM comments or fingerprints). */
export async function policyKeys(policy: LoadedPolicy): Promise<{ keys: TrustedKey[]; keySet: boolean }> {
  const base = dirname(policy.path);
  const all: TrustedKey[] = [];
  // Key ids pick the key only when every source is a key set; PEM keys are tried whatever the envelope claims.
  let keySet = true;
  for (const source of policy.file.keys) {
    const where = `${policy.path}:${source.at.line}:${source.at.col}: keys`;
    const got = await keysOf(source, base, where);
    if (got.length === 0) throw new UsageError(`${where}: ${describeSource(source)} holds no public key`);
    if (source.kind === 'pem') keySet = false;
    all.push(...got);
  }
  return { keys: all, keySet };
}

function describeSource(s: KeySource): string {
  return s.kind === 'url' ? printable(s.url) : printable(s.path);
}

async function keysOf(source: KeySource, base: string, where: string): Promise<TrustedKey[]> {
  if (source.kind === 'url') {
    let text: string;
    try {
      // One deadline for the whole exchange, body included; no redirects (the policy names the host it trusts).
      const res = await fetch(source.url, { signal: AbortSignal.timeout(KEY_FETCH_DEADLINE_MS), redirect: 'error' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await boundedText(res, MAX_KEY_FILE_BYTES);
    } catch (err) {
      const e = err as Error & { cause?: Error };
      throw new UsageError(
        `${where}: cannot fetch ${printable(source.url)}: ${printable(e.cause?.message ?? e.message)}`,
      );
    }
    return keySetFrom(text, where);
  }
  const file = resolve(base, source.path);
  const text = readKeyFile(file, where);
  return source.kind === 'keySet' ? keySetFrom(text, where) : pemKeys(text, `${where}: ${file}`);
}

/** The body as text, refused (and the stream cancelled) once it passes `max` bytes. */
async function boundedText(res: Response, max: number): Promise<string> {
  if (Number(res.headers.get('content-length') ?? 0) > max) throw new Error('the key set is larger than 1 MiB');
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  if (!reader) return '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new Error('the key set is larger than 1 MiB');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
