// A file named by a flag (--keys, --bundle, --provenance, --file), read whole.
// One that cannot be read is wrong usage, named by its flag.
import { readFileSync } from 'node:fs';
import { UsageError } from './exit-codes.js';

export function readFlagFile(path: string, flag: string): string;
export function readFlagFile(path: string, flag: string, as: 'bytes'): Buffer;
export function readFlagFile(path: string, flag: string, as: 'text' | 'bytes' = 'text'): string | Buffer {
  try {
    return as === 'bytes' ? readFileSync(path) : readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}
