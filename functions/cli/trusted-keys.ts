// Where the CLI's trusted public keys come from, read one way whichever flag
// or policy entry names them: a PEM file (--key, a policy's `pem`), a key set
// (--keys, a policy's `keySet` or `url`, the service's /v1/keys). Files are
// read up to 1 MiB (a device or a huge file is cut, never read whole), key
// sets strictly (no key twice), and every problem names where the keys came from.
import { parseStrictJson } from '../domain/strict-json-text.js';
import { parseKeySet } from '../provenance/key-set.js';
import { strictJsonError } from '../verify/entries.js';
import { parsePublicKeys, type TrustedKey } from '../verify/keys.js';
import { printable } from '../verify/text.js';
import { UsageError } from './exit-codes.js';
import { readAtMost } from './flag-file.js';

export const MAX_KEY_FILE_BYTES = 1024 * 1024;

/** A key file's text; UsageError naming `where` when it cannot be read or is over 1 MiB. */
export function readKeyFile(path: string, where: string): string {
  const bytes = readAtMost(path, MAX_KEY_FILE_BYTES + 1, where);
  if (bytes.length > MAX_KEY_FILE_BYTES) throw new UsageError(`${where}: ${path} is larger than 1 MiB`);
  return bytes.toString('utf8');
}

/** The PEM public keys in `text`; UsageError naming `where` when there is none or one is not a key. */
export function pemKeys(text: string, where: string): TrustedKey[] {
  let keys: TrustedKey[];
  try {
    keys = parsePublicKeys(text);
  } catch (err) {
    throw new UsageError(`${where}: ${printable((err as Error).message)}`);
  }
  if (keys.length === 0) throw new UsageError(`${where} holds no PEM public key`);
  return keys;
}

/** A key set from untrusted JSON text, or why it is not one, naming where it came from. */
export function keySetOrFailure(text: string, from: string): { keys: TrustedKey[] } | { failure: string } {
  let json: unknown;
  try {
    json = text.trim() === '' ? [] : parseStrictJson(text);
  } catch (err) {
    return { failure: `${printable(from)}: the key set ${strictJsonError(err)}` };
  }
  try {
    return { keys: parseKeySet(json) };
  } catch (err) {
    return { failure: `${printable(from)}: ${printable((err as Error).message)}` };
  }
}

/** keySetOrFailure for callers where a bad key set is wrong usage (a policy's keys). */
export function keySetFrom(text: string, where: string): TrustedKey[] {
  const got = keySetOrFailure(text, where);
  if ('failure' in got) throw new UsageError(got.failure);
  return got.keys;
}
