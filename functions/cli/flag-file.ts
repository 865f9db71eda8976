// A file named by a flag (--bundle, --provenance, --file), read whole, or up
// to a bound (key and policy files), or standard input for "-". One that
// cannot be read is wrong usage, named by its flag.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
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

/**
 * Up to `max` bytes of a file: a device or a huge file is cut, never read
 * whole. One that cannot be read is wrong usage, named by `where` (a flag or a
 * policy entry; '' for none).
 */
export function readAtMost(path: string, max: number, where: string): Buffer {
  try {
    return readUpTo(path, max);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`${where ? `${where}: ` : ''}cannot read ${path}: ${code}`);
  }
}

function readUpTo(path: string, max: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(max);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, max - n, null);
      if (got === 0) break;
      n += got;
      if (n === max) break;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
