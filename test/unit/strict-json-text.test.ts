// The one strict JSON reader shared by the service and the CLI: what it
// refuses (with the problem and the path of the value at fault) and that what
// it accepts is exactly JSON.parse's value.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import {
  JsonTextError,
  MAX_JSON_DEPTH,
  MAX_JSON_KEY_CHARS,
  parseStrictJson,
  scanStrictJson,
} from '../../functions/domain/strict-json-text.js';
import { readStatement } from '../../functions/verify/statement.js';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

const REFUSED: [name: string, input: string | Buffer, problem: string, path: string][] = [
  ['duplicate key at the top', '{"a": 1, "b": 2, "a": 3}', 'duplicate_key', 'a'],
  ['duplicate key nested', '{"gcsReport": {"gcsUri": "x", "gcsUri": "y"}}', 'duplicate_key', 'gcsReport.gcsUri'],
  ['duplicate key spelled with an escape', '{"gcsUri": "x", "gcs\\u0055ri": "y"}', 'duplicate_key', 'gcsUri'],
  ['duplicate key in an array element', '{"l": [{}, {"k": 1, "k": 1}]}', 'duplicate_key', 'l[1].k'],
  ['duplicate odd key, quoted in the path', '{"a b": 1, "a b": 2}', 'duplicate_key', '["a b"]'],
  ['a leading BOM', '\ufeff{}', 'bom', ''],
  ['a leading BOM as bytes', bytes([0xef, 0xbb, 0xbf], '{}'), 'bom', ''],
  ['a lone continuation byte', bytes('{"a": "', [0x80], '"}'), 'not_utf8', ''],
  ['an overlong "/"', bytes('{"a": "', [0xc0, 0xaf], '"}'), 'not_utf8', ''],
  ['a surrogate encoded in UTF-8', bytes('{"a": "', [0xed, 0xa0, 0x80], '"}'), 'not_utf8', ''],
  ['a truncated sequence at the end', bytes('{"a": "x"}', [0xe2, 0x82]), 'not_utf8', ''],
  ['2^53 + 1', '{"pid": 9007199254740993}', 'number_out_of_range', 'pid'],
  ['-(2^53 + 1)', '{"pid": -9007199254740993}', 'number_out_of_range', 'pid'],
  ['1e20 (an integer beyond 2^53)', '{"n": [1e20]}', 'number_out_of_range', 'n[0]'],
  ['1.5e300 (a double beyond 2^53)', '[1.5e300]', 'number_out_of_range', '[0]'],
  ['1e400 (overflows)', '{"n": 1e400}', 'number_out_of_range', 'n'],
  ['-1e400', '{"n": -1e400}', 'number_out_of_range', 'n'],
  ['a lone high surrogate escape', '{"s": "a\\ud800"}', 'lone_surrogate', 's'],
  ['a lone low surrogate escape', '{"s": "\\udc00b"}', 'lone_surrogate', 's'],
  ['a high surrogate escape before a plain escape', '{"s": "\\ud800\\u0041"}', 'lone_surrogate', 's'],
  ['a lone surrogate as a key', '{"\\ud800": 1}', 'lone_surrogate', ''],
  ['a raw lone surrogate (JS string input)', '{"s": "\ud800"}', 'lone_surrogate', 's'],
  ['nesting one level too deep', `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`, 'too_deep', ''],
  ['very deep nesting', `{"a": ${'['.repeat(100_000)}`, 'too_deep', ''],
  ['trailing garbage', '{"a": 1} x', 'syntax', ''],
  ['two values', '{} {}', 'syntax', ''],
  ['NaN', '{"n": NaN}', 'syntax', ''],
  ['Infinity', '{"n": Infinity}', 'syntax', ''],
  ['a leading +', '{"n": +1}', 'syntax', ''],
  ['a leading zero', '{"n": 01}', 'syntax', ''],
  ['a hex number', '{"n": 0x10}', 'syntax', ''],
  ['a trailing comma', '{"a": 1,}', 'syntax', ''],
  ['single quotes', "{'a': 1}", 'syntax', ''],
  ['a raw control character in a string', '{"a": "x\u0001"}', 'syntax', ''],
  ['a raw newline in a string', '{"a": "x\ny"}', 'syntax', ''],
  ['an invalid escape', '{"a": "\\x41"}', 'syntax', ''],
  ['a short \\u escape', '{"a": "\\u41"}', 'syntax', ''],
  ['unterminated', '{"a": "x', 'syntax', ''],
  ['empty', '', 'syntax', ''],
  ['a comment', '{"a": 1 /* no */}', 'syntax', ''],
  ['a non-breaking space as whitespace', '{\u00a0"a": 1}', 'syntax', ''],
  ['a key over the limit', `{"a": {"${'k'.repeat(MAX_JSON_KEY_CHARS + 1)}": 1}}`, 'key_too_long', 'a'],
  ['a key over the limit, spelled with an escape', `{"\\n${'k'.repeat(MAX_JSON_KEY_CHARS)}": 1}`, 'key_too_long', ''],
  [
    'a key over the limit, far from its colon',
    `{"${'k'.repeat(MAX_JSON_KEY_CHARS + 1)}"${' '.repeat(500)}: 1}`,
    'key_too_long',
    '',
  ],
];

for (const [name, input, problem, path] of REFUSED) {
  it(`refuses ${name}`, () => {
    assert.throws(
      () => parseStrictJson(input),
      (err: unknown) => {
        assert.ok(err instanceof JsonTextError, String(err));
        assert.equal(err.problem, problem, err.message);
        if (path) assert.equal(err.path, path, err.message);
        return true;
      },
    );
  });
}

const ACCEPTED: [string, string][] = [
  ['2^53 − 1', '{"pid": 9007199254740991}'],
  ['-(2^53 − 1)', '[-9007199254740991]'],
  ['-0', '{"n": -0}'],
  ['fractions and exponents', '[0.5, 1e-7, 1.5E+3, 1e-400, -2.5e-300, 4242.0]'],
  ['a big integer as a string', '{"pid": "9007199254740993"}'],
  ['a surrogate pair escape', '{"s": "\\ud83d\\ude00"}'],
  ['a raw astral character', '{"s": "😀"}'],
  ['every escape', '{"s": "\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9"}'],
  ['equal values under different keys', '{"a": 1, "A": 1, "a ": 1}'],
  ['the same key in sibling objects', '[{"a": 1}, {"a": 2}, {"b": {"a": 3}}]'],
  ['__proto__ as a key (an own property, as JSON.parse makes it)', '{"__proto__": {"polluted": true}}'],
  ['whitespace around', ' \t\r\n{"a": [ ]}\r\n '],
  ['nesting at the limit', `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`],
  ['scalars at the top', '"x"'],
  ['a key at the limit', `{"${'k'.repeat(MAX_JSON_KEY_CHARS)}": 1}`],
  ['long strings that are values, not keys', `{"k": "${'v'.repeat(20_000)}", "l": ["${'w'.repeat(20_000)}"]}`],
];

for (const [name, text] of ACCEPTED) {
  it(`accepts ${name}, with JSON.parse's value`, () => {
    assert.deepEqual(parseStrictJson(text), JSON.parse(text));
    assert.deepEqual(parseStrictJson(Buffer.from(text)), JSON.parse(text));
  });
}

it('does not pollute prototypes', () => {
  const v = parseStrictJson('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
});

// The reader takes JSON.parse's value and checks it (keys against the text's members, strings,
// numbers, depth); the scanner reads the text itself. They must accept exactly the same texts.
const accepts = (f: () => unknown) => {
  try {
    f();
    return true;
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    return false;
  }
};

it('accepts exactly what the scanner accepts: crafted texts', () => {
  const texts = [
    ...REFUSED.flatMap(([, input]) => (typeof input === 'string' ? [input] : [])),
    ...ACCEPTED.map(([, text]) => text),
    '{"a:b": 1, "c": "d:e"}',
    '{"a": "x\\":y"}',
    '{"a": "x\\\\\\":y", "b": 1}',
    '{"a\\"": 1, "a\\"": 2}',
    '{"a\\\\": 1, "a\\\\": 2}',
    '{"a\\\\\\"": ":", "b": "\\\\"}',
    '{"k": "\\\\", "k": 1}',
    '{"1": 1, "\\u0031": 2}',
    '{"1": 1, "01": 2}',
    '{"2": {"x": 1}, "1": {"x": 1, "x": 2}}',
    '{"__proto__": 1, "__proto__": 2}',
    '{"a": {"b": 1, "b": {"c": 1, "d": 2}}}',
    '{"a": {"b": {"c": 1, "d": 2}, "b": 1}}',
    '{"a": [1, 2, {"x": ":::"}], "b": "\\":"}',
    '{"": 1, "": 2}',
    '{"": {"": {"": 1}}}',
    '[":", ":", {":": ":"}]',
    '{"s": "\\ud800\\udc00", "\\udbff\\udfff": 1}',
    '{"s": "\\udbff"}',
    '{"n": 9007199254740991.4}',
    '{"n": 9007199254740991.6}',
    '{"n": 0.1e17}',
    '{"n": 1e16}',
    `{"a": ${'{"b": '.repeat(MAX_JSON_DEPTH - 1)}1${'}'.repeat(MAX_JSON_DEPTH - 1)}}`,
    `{"a": ${'{"b": '.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH)}}`,
  ];
  for (const text of texts)
    assert.equal(
      accepts(() => parseStrictJson(text)),
      accepts(() => scanStrictJson(text)),
      JSON.stringify(text),
    );
});

it('accepts exactly what the scanner accepts: 5,000 generated texts', () => {
  // A small deterministic generator of JSON-ish texts rich in the cases that matter:
  // repeated and escaped keys, colons and quotes in strings, backslash runs, surrogates, big numbers, depth.
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = ['a', 'b', ':', '\\"', '\\\\', '\\u0061', '\\ud800', '\\udc00', '\ud83d\ude00', '1', ' '];
  const str = () => `"${Array.from({ length: rnd(4) }, () => pieces[rnd(pieces.length)]).join('')}"`;
  const nums = ['0', '-1', '9007199254740991', '9007199254740992', '1e300', '0.5', '-0'];
  const value = (depth: number): string => {
    const k = rnd(depth > 6 ? 3 : 6);
    if (k === 0) return str();
    if (k === 1) return nums[rnd(nums.length)] ?? '0';
    if (k === 2) return ['true', 'false', 'null'][rnd(3)] ?? 'null';
    if (k === 3) return `[${Array.from({ length: rnd(4) }, () => value(depth + 1)).join(',')}]`;
    return `{${Array.from({ length: rnd(5) }, () => `${str()}:${value(depth + 1)}`).join(',')}}`;
  };
  let accepted = 0;
  for (let n = 0; n < 5000; n++) {
    const text = value(0);
    const fast = accepts(() => parseStrictJson(text));
    assert.equal(
      fast,
      accepts(() => scanStrictJson(text)),
      text,
    );
    if (!fast) continue;
    accepted++;
    // Same value, keys in the same order, whichever reading made it.
    const [a, b] = [parseStrictJson(text), scanStrictJson(text)];
    assert.deepStrictEqual(a, b, text);
    assert.equal(JSON.stringify(a), JSON.stringify(b), text);
  }
  // The corpus holds both kinds in number, or it would test nothing.
  assert.ok(accepted > 500 && accepted < 4500, `${accepted} of 5000 accepted`);
});

// V8's JSON.parse (Node 24, nodejs/node#63785) can read an escaped key as another key it saw
// before. The reader never hands it a text with an escape, so neither a misread nor a
// duplicate hidden by one gets through.
it('reads an escaped key as itself, where JSON.parse reads it as another key', () => {
  const text = String.raw`{"x":{"b":0,"\\":0},"y":{"b":1,"\u0063":2}}`;
  assert.deepEqual(parseStrictJson(text), { x: { b: 0, '\\': 0 }, y: { b: 1, c: 2 } });
  assert.deepEqual(parseStrictJson(Buffer.from(text)), { x: { b: 0, '\\': 0 }, y: { b: 1, c: 2 } });
});

it('refuses a duplicate key that JSON.parse would misread into two different keys', () => {
  const text = String.raw`{"x":{"b":0,"\\":0},"y":{"b":1,"\u0062":2}}`;
  assert.throws(
    () => parseStrictJson(text),
    (err: unknown) => err instanceof JsonTextError && err.problem === 'duplicate_key' && err.path === 'y.b',
  );
});

it('is not misled by what JSON.parse read earlier in the process', () => {
  JSON.parse(String.raw`{"h":[],"\\":0}`); // leaves V8 expecting a key "\\" after "h"
  assert.deepEqual(parseStrictJson(String.raw`{"h":1,"\"":2}`), { h: 1, '"': 2 });
});

it('refuses deep nesting before JSON.parse builds it', () => {
  const deep = `${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}`;
  assert.throws(
    () => parseStrictJson(deep),
    (err: unknown) => err instanceof JsonTextError && err.problem === 'too_deep',
  );
});

it('a statement whose second predicateType JSON.parse would misread is refused by the verifier', () => {
  const payload = String.raw`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app","digest":{"sha256":"${'a'.repeat(64)}"},"annotations":{"_type":0,"subject":0,"predicate":0,"predicateType":0,"predicat\\u006":0}}],"predicate":{},"predicateType":"https://slsa.dev/provenance/v1","predicat\u0065Type":"https://evil.example/v9"}`;
  const { statement, failures } = readStatement(Buffer.from(payload));
  assert.equal(statement, undefined);
  assert.deepEqual(
    failures.map((f) => f.code),
    ['MALFORMED_STATEMENT'],
  );
  assert.match(failures[0]?.message ?? '', /predicateType: the key appears twice/);
});

it('refuses many long keys of one length before hashing them (V8 hashes such strings by length alone)', () => {
  const keys = Array.from({ length: 64 }, (_, i) => `"${'a'.repeat(16_400)}${String(i).padStart(4, '0')}":0`);
  for (const text of [`{${keys.join(',')}}`, `{"\\n":0,${keys.join(',')}}`])
    assert.throws(
      () => parseStrictJson(text),
      (err: unknown) => err instanceof JsonTextError && err.problem === 'key_too_long',
    );
});
