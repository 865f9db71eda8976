// JSON text as the service and the `provenance` CLI both read it: one reader,
// so the CLI refuses exactly what the server refuses. Stricter than
// JSON.parse, which silently keeps the last of two equal keys, rounds
// 9007199254740993 to ...992, turns 1e400 into Infinity and keeps lone UTF-16
// surrogates (which become U+FFFD when stored). Refused, with the path of the
// value at fault:
//   - bytes that are not UTF-8 (fatal decoding, no U+FFFD);
//   - a leading byte order mark;
//   - a key twice in one object, at any depth ("a" and "\u0061" are one key);
//   - a number beyond ±(2^53 − 1), where JSON.parse holds integers inexactly
//     (9007199254740993 → ...992) or not at all (1e400 → Infinity); proto3
//     JSON sends 64-bit integers as decimal strings;
//   - a \u escape that is a lone surrogate;
//   - nesting deeper than MAX_JSON_DEPTH;
//   - a key longer than MAX_JSON_KEY_CHARS (keys are names; see there);
//   - anything that is not JSON (trailing text, control characters in strings).
// Two readings, one answer. A text with no backslash (no escapes: the usual
// case) is read by JSON.parse, and what it made is checked (well-formed
// strings and keys, safe numbers) against one pass over the text (nesting
// depth, and the members, ":" outside strings: a key given twice leaves fewer
// keys in the parsed objects than there are members). A text with a backslash
// is read by the scanner below, which builds the value itself and decodes
// escapes itself: V8's JSON.parse (Node 24, nodejs/node#63785) can read an
// escaped key as another key seen before (`{"x":{"b":0,"\\":0},"y":{"b":1,
// "\u0063":2}}` gives y a key "\\", not "c"), so it is never trusted with an
// escape. Any text the first reading refuses goes to the scanner, which names
// the first problem and where; a test checks the readings agree.

export const MAX_JSON_DEPTH = 64;
/**
 * Keys are names (field names, digest algorithms), never data. A longer one is
 * refused before anything hashes it: V8 hashes strings over 16,383 characters
 * by their length alone, so many long keys of one length make every object's
 * key table (JSON.parse's and the duplicate check's) quadratic.
 */
export const MAX_JSON_KEY_CHARS = 1024;

export type JsonTextProblem =
  | 'not_utf8'
  | 'bom'
  | 'syntax'
  | 'duplicate_key'
  | 'number_out_of_range'
  | 'lone_surrogate'
  | 'too_deep'
  | 'key_too_long';

export class JsonTextError extends Error {
  constructor(
    readonly problem: JsonTextProblem,
    /** Where, as a JSON path (`gcsReport.digest`, `sbomSubjects[2]`); '' for the whole text. */
    readonly path: string,
    readonly detail: string,
  ) {
    super(path ? `${path}: ${detail}` : detail);
    this.name = 'JsonTextError';
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 bytes → text; invalid bytes are an error, never U+FFFD. A BOM is kept (and refused by the parser). */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new JsonTextError('not_utf8', '', 'not valid UTF-8');
  }
}

/** Parses JSON text (or UTF-8 bytes) strictly; throws JsonTextError. */
export function parseStrictJson(input: string | Uint8Array): unknown {
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  if (text.charCodeAt(0) === 0xfeff)
    throw new JsonTextError('bom', '', 'starts with a byte order mark (U+FEFF): send UTF-8 without one');
  if (text.includes('\\')) return scanStrictJson(text);
  // Depth first, from the text: JSON.parse would build any nesting before a check of its value could refuse it.
  const members = outline(text);
  if (members === undefined) return scanStrictJson(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    scanStrictJson(text); // throws the scanner's precise error
    throw new JsonTextError('syntax', '', `not JSON: ${(err as Error).message}`);
  }
  if (keysIfStrict(value) !== members) {
    scanStrictJson(text);
    // Unreachable while the two readings agree (test/unit/strict-json-text.test.ts checks they do).
    throw new JsonTextError('syntax', '', 'not JSON as this reader accepts it');
  }
  return value;
}

/** The scanner alone: the value, built and checked from the text itself; or the first problem, with its path. */
export function scanStrictJson(text: string): unknown {
  return new Scanner(text).document();
}

/**
 * The number of keys in every object of a parsed value, or undefined if a
 * string or key is not well-formed UTF-16, a number is beyond ±(2^53 − 1), or
 * containers nest deeper than MAX_JSON_DEPTH (so the walk never recurses deeper).
 */
function keysIfStrict(value: unknown): number | undefined {
  let keys = 0;
  const visit = (v: unknown, depth: number): boolean => {
    if (typeof v === 'string') return v.isWellFormed();
    if (typeof v === 'number') return Math.abs(v) <= MAX_SAFE;
    if (v === null || typeof v !== 'object') return true;
    if (depth >= MAX_JSON_DEPTH) return false;
    if (Array.isArray(v)) {
      for (const x of v) if (!visit(x, depth + 1)) return false;
      return true;
    }
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      keys++;
      if (!k.isWellFormed() || !visit(o[k], depth + 1)) return false;
    }
    return true;
  };
  return visit(value, 0) ? keys : undefined;
}

/**
 * For a text without backslashes: its members (":" outside strings), or
 * undefined when containers nest deeper than MAX_JSON_DEPTH or a string is
 * not closed. Strings are jumped over with indexOf (no escapes: the next quote
 * closes); only the text between strings is read character by character.
 */
function outline(text: string): number | undefined {
  let count = 0;
  let depth = 0;
  let i = 0;
  for (;;) {
    const open = text.indexOf('"', i);
    const end = open < 0 ? text.length : open;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x3a /* : */) count++;
      else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        if (++depth > MAX_JSON_DEPTH) return undefined;
      } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
    }
    if (open < 0) return count;
    const close = text.indexOf('"', open + 1);
    if (close < 0) return undefined;
    i = close + 1;
    if (close - open - 1 > MAX_JSON_KEY_CHARS) {
      // A long string that is a key (":" next, after any whitespace): the scanner refuses it.
      let j = i;
      for (let c = text.charCodeAt(j); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++j));
      if (text.charCodeAt(j) === 0x3a) return undefined;
    }
  }
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const LITERALS = ['true', 'false', 'null'] as const;
/** \" \\ \/ \b \f \n \r \t, by the character after the backslash. */
const ESCAPES = new Map<number, string>([
  [0x22, '"'],
  [0x5c, '\\'],
  [0x2f, '/'],
  [0x62, '\b'],
  [0x66, '\f'],
  [0x6e, '\n'],
  [0x72, '\r'],
  [0x74, '\t'],
]);
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters end a plain run so they can be refused
const PLAIN = /[^"\\\u0000-\u001f\ud800-\udfff]*/y;

class Scanner {
  private i = 0;
  private readonly path: (string | number)[] = [];

  constructor(private readonly s: string) {}

  document(): unknown {
    this.ws();
    const value = this.value(0);
    this.ws();
    if (this.i < this.s.length) this.syntax('unexpected text after the JSON value');
    return value;
  }

  private value(depth: number): unknown {
    const c = this.s.charCodeAt(this.i);
    if (c === 0x7b /* { */) return this.object(depth + 1);
    if (c === 0x5b /* [ */) return this.array(depth + 1);
    if (c === 0x22 /* " */) return this.string();
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return this.number();
    return this.literal();
  }

  private literal(): boolean | null {
    const word = LITERALS.find((w) => this.s.startsWith(w, this.i));
    if (word) {
      this.i += word.length;
      return word === 'null' ? null : word === 'true';
    }
    return this.syntax(this.i >= this.s.length ? 'unexpected end of the text' : 'expected a JSON value');
  }

  private object(depth: number): Record<string, unknown> {
    if (depth > MAX_JSON_DEPTH) this.fail('too_deep', `nested deeper than ${MAX_JSON_DEPTH} levels`);
    const out: Record<string, unknown> = {};
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x7d /* } */) {
      this.i++;
      return out;
    }
    // Most objects have a few keys: a list is cheaper to make and search than a Set until it grows.
    const keys: string[] = [];
    let many: Set<string> | undefined;
    for (;;) {
      if (this.s.charCodeAt(this.i) !== 0x22) this.syntax('expected a key (a string)');
      const key = this.string();
      if (key.length > MAX_JSON_KEY_CHARS)
        this.fail('key_too_long', `a key is longer than ${MAX_JSON_KEY_CHARS} characters`);
      this.path.push(key);
      if (many ? many.has(key) : keys.includes(key)) this.fail('duplicate_key', 'the key appears twice in one object');
      if (many) many.add(key);
      else if (keys.push(key) > 16) many = new Set(keys);
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x3a /* : */) this.syntax('expected ":"');
      this.i++;
      this.ws();
      const value = this.value(depth);
      // An own data property, as JSON.parse makes it: "__proto__" stays a key, never a prototype.
      if (key === '__proto__')
        Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
      else out[key] = value;
      this.path.pop();
      this.ws();
      const c = this.s.charCodeAt(this.i++);
      if (c === 0x7d) return out;
      if (c !== 0x2c /* , */) this.syntax('expected "," or "}"', -1);
      this.ws();
    }
  }

  private array(depth: number): unknown[] {
    if (depth > MAX_JSON_DEPTH) this.fail('too_deep', `nested deeper than ${MAX_JSON_DEPTH} levels`);
    const out: unknown[] = [];
    this.i++;
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x5d /* ] */) {
      this.i++;
      return out;
    }
    for (let n = 0; ; n++) {
      this.path.push(n);
      out.push(this.value(depth));
      this.path.pop();
      this.ws();
      const c = this.s.charCodeAt(this.i++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.syntax('expected "," or "]"', -1);
      this.ws();
    }
  }

  /** A string at this.i (its opening quote): its value, escapes decoded here (never by JSON.parse). */
  private string(): string {
    let segment = ++this.i;
    let out = '';
    for (;;) {
      // Skip a run of plain characters at the regex engine's speed; stop at what needs a look.
      PLAIN.lastIndex = this.i;
      PLAIN.test(this.s);
      this.i = PLAIN.lastIndex;
      const c = this.s.charCodeAt(this.i);
      if (Number.isNaN(c)) this.syntax('unterminated string');
      if (c === 0x22) break;
      if (c < 0x20) this.syntax('control character in a string (escape it)');
      if (c === 0x5c /* \ */) {
        out += this.s.slice(segment, this.i) + this.escape();
        segment = this.i;
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        // Only reachable from a JS string input: UTF-8 bytes cannot hold a surrogate.
        const next = this.s.charCodeAt(this.i + 1);
        if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff))
          this.fail('lone_surrogate', 'a lone UTF-16 surrogate is not text');
        this.i += 2;
        continue;
      }
      this.i++;
    }
    out += this.s.slice(segment, this.i);
    this.i++;
    return out;
  }

  /** The escape at this.i, checked and decoded; this.i moves past it. */
  private escape(): string {
    const e = this.s.charCodeAt(this.i + 1);
    if (e !== 0x75 /* u */) {
      const decoded = ESCAPES.get(e);
      if (decoded === undefined) this.syntax('invalid escape in a string');
      this.i += 2;
      return decoded;
    }
    const unit = this.hex4(this.i + 2);
    this.i += 6;
    if (unit >= 0xdc00 && unit <= 0xdfff) this.fail('lone_surrogate', 'a \\u escape is a lone UTF-16 surrogate');
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = this.s.startsWith('\\u', this.i) ? this.hex4(this.i + 2) : -1;
      if (!(low >= 0xdc00 && low <= 0xdfff)) this.fail('lone_surrogate', 'a \\u escape is a lone UTF-16 surrogate');
      this.i += 6;
      return String.fromCharCode(unit, low);
    }
    return String.fromCharCode(unit);
  }

  private hex4(at: number): number {
    const h = this.s.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.syntax('invalid \\u escape');
    return Number.parseInt(h, 16);
  }

  private number(): number {
    const start = this.i;
    NUMBER.lastIndex = start;
    const found = NUMBER.exec(this.s);
    if (!found) this.syntax('invalid number');
    const literal = found[0];
    this.i = start + literal.length;
    const value = Number(literal);
    // Beyond 2^53 every double is an integer and most integers have no double: refuse them all.
    if (!(Math.abs(value) <= MAX_SAFE))
      this.fail(
        'number_out_of_range',
        `${clip(literal)} is beyond ±(2^53 − 1) and cannot be read exactly: send it as a decimal string`,
      );
    return value;
  }

  private ws(): void {
    for (;;) {
      const c = this.s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else return;
    }
  }

  private syntax(why: string, offset = 0): never {
    return this.fail('syntax', `not JSON: ${why} at character ${this.i + offset + 1}`, false);
  }

  private fail(problem: JsonTextProblem, detail: string, withPath = true): never {
    throw new JsonTextError(problem, withPath ? pathText(this.path) : '', detail);
  }
}

/** ["a", 0, "b c"] → a[0]["b c"]; keys are clipped and escaped, they are the sender's text. */
function pathText(path: (string | number)[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(p)) out += out ? `.${p}` : p;
    else
      out += `[${JSON.stringify(clip(p)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}]`;
  }
  return out.length > 100 ? `${out.slice(0, 97)}...` : out;
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 37)}...` : s);
