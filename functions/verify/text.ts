// Untrusted values made safe to read and to print. Everything the verifier
// reports about an envelope goes through printable, so a hostile envelope
// cannot drive the user's terminal or hide text with bidirectional controls.

/** A JSON object (not null, not a list). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at a path of object keys, or undefined when any step is not an object. */
export function at(value: unknown, ...path: string[]): unknown {
  let v = value;
  for (const key of path) {
    if (!isObject(v) || !Object.hasOwn(v, key)) return undefined;
    v = v[key];
  }
  return v;
}

/**
 * A string from untrusted input, made safe to print: control characters (C0,
 * C1, DEL, so no escape sequences), bidirectional and invisible format
 * characters and separators are shown as \u{…}; long strings are cut.
 */
export function printable(value: unknown, max = 200): string {
  const s = typeof value === 'string' ? value : String(value);
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters to escape is this pattern's job
    /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]/gu,
    // Every character of the class is in the BMP (lone surrogates included): one UTF-16 unit.
    (c) => `\\u{${c.charCodeAt(0).toString(16)}}`,
  );
}

/** An untrusted value in a message: a string quoted and escaped, anything else by its type. */
export function quote(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string') return `"${printable(value)}"`;
  return describeType(value);
}

export function describeType(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' || typeof v === 'boolean') return `a ${typeof v} (${String(v)})`;
  return `a ${typeof v}`;
}

/**
 * One JSON line that is safe on a terminal: JSON.stringify leaves DEL, C1
 * controls and bidirectional characters raw inside strings; they are written
 * as \u escapes (the same JSON value, only spelled differently).
 */
export function safeJsonLine(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
