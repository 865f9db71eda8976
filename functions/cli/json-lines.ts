// JSON lines as the CLI reads them (`report batch`, the step-outputs folder):
// blank lines skipped, each other line a JSON object or the reason it is not,
// with its 1-based line number for the message.
export type JsonLine = { line: number; object: Record<string, unknown> } | { line: number; error: string };

export function jsonObjectLines(text: string): JsonLine[] {
  const out: JsonLine[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    const line = i + 1;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      return void out.push({ line, error: 'not JSON' });
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return void out.push({ line, error: 'not a JSON object' });
    out.push({ line, object: v as Record<string, unknown> });
  });
  return out;
}
