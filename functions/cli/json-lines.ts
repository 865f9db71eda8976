// JSON lines as the CLI reads them (`report batch`, the step-outputs folder):
// blank lines skipped, each other line a JSON object or the reason it is not,
// with its 1-based line number for the message.
export type JsonLine = { line: number; object: Record<string, unknown> } | { line: number; error: string };

export function jsonObjectLines(text: string): JsonLine[] {
  const out: JsonLine[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    if (raw.trim() === '') continue;
    const line = i + 1;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      out.push({ line, error: 'not JSON' });
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) out.push({ line, error: 'not a JSON object' });
    else out.push({ line, object: v as Record<string, unknown> });
  }
  return out;
}
