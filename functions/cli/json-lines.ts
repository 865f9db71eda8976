// JSON lines as the CLI reads them (`report batch`, the step-outputs folder):
// blank lines skipped, each other line a JSON object or the reason it is not,
// with its 1-based line number for the message. Each line is read with the
// server's own strict reader (domain/strict-json-text.ts) from the raw bytes,
// so a line the server would refuse (invalid UTF-8, a BOM, a key twice,
// 2^53 + 1) is refused here, before anything is sent.
import { decodeUtf8, JsonTextError, parseStrictJson } from '../domain/strict-json-text.js';

export type JsonLine = { line: number; object: Record<string, unknown> } | { line: number; error: string };

export function jsonObjectLines(input: Uint8Array | string): JsonLine[] {
  const bytes =
    typeof input === 'string'
      ? Buffer.from(input, 'utf8')
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const out: JsonLine[] = [];
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    const raw = bytes.subarray(start, end);
    start = end + 1;
    let text: string;
    try {
      text = decodeUtf8(raw);
    } catch (err) {
      out.push({ line, error: (err as Error).message });
      continue;
    }
    if (text.trim() === '') continue;
    let v: unknown;
    try {
      v = parseStrictJson(text);
    } catch (err) {
      if (!(err instanceof JsonTextError)) throw err;
      out.push({ line, error: err.message });
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) out.push({ line, error: 'not a JSON object' });
    else out.push({ line, object: v as Record<string, unknown> });
  }
  return out;
}
