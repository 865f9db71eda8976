// A file named by a flag (--keys, --bundle, --provenance, --file), read whole,
// or standard input for "-". One that cannot be read is wrong usage, named by
// its flag.
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

/**
 * Standard input, whole. Read as a stream: readFileSync(0) fails with EAGAIN
 * when the writer left the pipe non-blocking (`gcloud storage cat … |` does).
 */
export async function readStandardInput(flag: string): Promise<Buffer> {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks);
  } catch (err) {
    throw new UsageError(`${flag}: standard input: ${(err as Error).message}`);
  }
}
