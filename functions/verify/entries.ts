// The entries of an untrusted envelope file, without judging them: a JSON
// array, a single JSON value, or JSON lines (the .intoto.jsonl layout). Each
// keeps its JSON text as read (a line without its line break), which is what
// a verdict's envelopeSha256 digests. A line that is not JSON is an entry
// with an error; it does not hide the others.

export interface EnvelopeEntry {
  /** "line 3", "entry 2" or "the file". */
  where: string;
  /** The entry's JSON text as read (for an array element: JSON.stringify of it). */
  text: string;
  value?: unknown;
  error?: string;
}

export function envelopeEntries(fileText: string): EnvelopeEntry[] {
  const trimmed = fileText.trim();
  if (trimmed === '') return [];
  let whole: unknown;
  try {
    whole = JSON.parse(trimmed);
  } catch {
    return fileText.split('\n').flatMap((raw, i): EnvelopeEntry[] => {
      const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (text.trim() === '') return [];
      try {
        return [{ where: `line ${i + 1}`, text, value: JSON.parse(text) as unknown }];
      } catch {
        return [{ where: `line ${i + 1}`, text, error: 'is not JSON' }];
      }
    });
  }
  return Array.isArray(whole)
    ? whole.map((value: unknown, i) => ({ where: `entry ${i + 1}`, text: JSON.stringify(value) ?? '', value }))
    : [{ where: 'the file', text: trimmed, value: whole }];
}
