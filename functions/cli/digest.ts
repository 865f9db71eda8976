// What the CLI accepts as "the artifact": a sha256 (hex, or sha256:<hex>) or a
// file, hashed here as it streams.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { UsageError } from './exit-codes.js';

const DIGEST = /^(?:sha256:)?([0-9a-fA-F]{64})$/;

/** The lowercase hex of a "sha256:<hex>" / "<hex>" argument; undefined if it is not one. */
export function parseDigest(value: string): string | undefined {
  return DIGEST.exec(value)?.[1]?.toLowerCase();
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A digest argument as given, or the sha256 of the file it names. */
export async function digestOf(arg: string): Promise<string> {
  const digest = parseDigest(arg);
  if (digest) return digest;
  if (!existsSync(arg)) throw new UsageError(`"${arg}" is neither a sha256 digest (sha256:<64 hex>) nor a file`);
  return sha256File(arg);
}
