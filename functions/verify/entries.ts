// The entries of an untrusted envelope file, without judging them: a JSON
// array, a single JSON value, or JSON lines (the .intoto.jsonl layout). Each
// keeps its JSON text as read (a line without its line break), which is what
// a verdict's envelopeSha256 digests. JSON is read strictly (parseStrictJson,
// the server's reader): a key given twice, a BOM, invalid UTF-8, an inexact
// number or a lone surrogate make an entry unreadable, so no other verifier
// can read the same bytes as another envelope. A line that cannot be read is
// an entry with an error; it does not hide the others.
import { JsonTextError, parseStrictJson } from '../domain/strict-json-text.js';

export interface EnvelopeEntry {
  /** "line 3", "entry 2" or "the file". */
  where: string;
  /** The entry's JSON text as read (for an array element: JSON.stringify of it). */
  text: string;
  value?: unknown;
  /** Why it cannot be read: one printable line ("is not JSON: …"). */
  error?: string;
}

/** Why a text is not strict JSON, one line naming the place ("is not JSON this verifier reads: payload: the key appears twice …"). */
export function strictJsonError(err: unknown): string {
  if (!(err instanceof JsonTextError)) return 'is not JSON';
  // A syntax error's detail already starts "not JSON: …".
  return err.problem === 'syntax' ? `is ${err.message}` : `is not JSON this verifier reads: ${err.message}`;
}

export function envelopeEntries(fileText: string): EnvelopeEntry[] {
  const trimmed = fileText.trim();
  if (trimmed === '') return [];
  let whole: unknown;
  try {
    whole = parseStrictJson(trimmed);
  } catch (wholeError) {
    const lines = fileText.split('\n').flatMap((raw, i): (EnvelopeEntry & { syntax?: boolean })[] => {
      const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (text.trim() === '') return [];
      try {
        return [{ where: `line ${i + 1}`, text, value: parseStrictJson(text) }];
      } catch (err) {
        const syntax = !(err instanceof JsonTextError) || err.problem === 'syntax';
        return [{ where: `line ${i + 1}`, text, error: strictJsonError(err), syntax }];
      }
    });
    // One JSON value over several lines (not JSON lines) that is refused for what it holds (a key
    // given twice, …): one entry with that reason, not a "not JSON" per line.
    if (!(wholeError instanceof JsonTextError && wholeError.problem === 'syntax') && lines.some((l) => l.syntax))
      return [{ where: 'the file', text: trimmed, error: strictJsonError(wholeError) }];
    return lines.map(({ syntax: _, ...entry }) => entry);
  }
  return Array.isArray(whole)
    ? whole.map((value: unknown, i) => ({ where: `entry ${i + 1}`, text: JSON.stringify(value) ?? '', value }))
    : [{ where: 'the file', text: trimmed, value: whole }];
}
