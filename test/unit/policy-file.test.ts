// Policy files: every problem reported with its field, line and column, never
// a throw; a valid file read into the typed policy; and the JSON Schema for
// editors (schemas/policy-v1.schema.json) agreeing with the parser on every
// case here, so the two cannot drift apart unnoticed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { formatProblem, parsePolicyFile } from '../../functions/verify/policy-file.js';
import { schemaErrors } from '../helpers/schema-check.js';

const root = join(__dirname, '..', '..', '..');
const SCHEMA = 'schemas/policy-v1.schema.json';
const HEAD = 'apiVersion: build-provenance/policy/v1\nkeys:\n  - pem: key.pem\n';

/** The problems as "line:col field: message" (message start only). */
function problems(text: string): string[] {
  const r = parsePolicyFile(text);
  return 'problems' in r ? r.problems.map((p) => `${p.line}:${p.col} ${p.field}: ${p.message}`) : [];
}

const BAD: [string, string, RegExp][] = [
  ['unknown field', `${HEAD}reporter: [a@b.c]\n`, /^4:1 reporter: unknown field/],
  ['wrong type (a string, not a list)', `${HEAD}reporters: a@b.c\n`, /^4:12 reporters: is a string, not a list/],
  [
    'wrong type (a number, not a string)',
    `${HEAD}builderIds: [42]\n`,
    /^4:14 builderIds\[0\]: is a number \(42\), not a string/,
  ],
  [
    'empty key list',
    'apiVersion: build-provenance/policy/v1\nkeys: []\n',
    /^2:7 keys: is empty: a policy must trust some key/,
  ],
  ['missing keys', 'apiVersion: build-provenance/policy/v1\n', /^1:1 keys: is missing/],
  [
    'a key entry with two sources',
    `apiVersion: build-provenance/policy/v1\nkeys:\n  - {pem: a.pem, url: "https://k.example/v1/keys"}\n`,
    /^3:5 keys\[0\]: give exactly one of pem/,
  ],
  [
    'a key-set URL that is not https',
    `apiVersion: build-provenance/policy/v1\nkeys:\n  - url: http://keys.example/v1/keys\n`,
    /^3:10 keys\[0\]\.url: .*https only/,
  ],
  [
    'a pattern that matches nothing (** inside a segment)',
    `${HEAD}subjects:\n  - "gs://b/app**"\n`,
    /^5:5 subjects\[0\]: "gs:\/\/b\/app\*\*" matches no subject name/,
  ],
  [
    'a pattern that matches nothing (space)',
    `${HEAD}subjects: ["us-docker.pkg.dev/p/r/ app"]\n`,
    /^4:12 subjects\[0\]: .* matches no subject name/,
  ],
  [
    'a pattern that matches nothing (trailing /)',
    `${HEAD}subjects: ["gs://b/"]\n`,
    /^4:12 subjects\[0\]: .* none ends with/,
  ],
  [
    'wrong apiVersion',
    'apiVersion: v2\nkeys: [{pem: k.pem}]\n',
    /^1:13 apiVersion: "v2" is not a version this tool reads/,
  ],
  ['duplicate field', `${HEAD}maxAge: 1d\nmaxAge: 2d\n`, /^5:1 maxAge: is given twice/],
  ['bad duration', `${HEAD}maxAge: 1 week\n`, /^4:9 maxAge: "1 week" is not a duration/],
  ['negative seconds', `${HEAD}maxAge: -5\n`, /^4:9 maxAge: -5 is not a positive whole number of seconds/],
  [
    'unknown field in a source',
    `${HEAD}sources:\n  - repository: https://github.com/e/app\n    branch: main\n`,
    /^6:5 sources\[0\]\.branch: unknown field/,
  ],
  [
    'a source without repository',
    `${HEAD}sources:\n  - refs: [refs/heads/main]\n`,
    /^5:5 sources\[0\]\.repository: is missing/,
  ],
  [
    'a short ref',
    `${HEAD}sources:\n  - repository: https://github.com/e/app\n    refs: [main]\n`,
    /^6:12 sources\[0\]\.refs\[0\]: "main" is not a full ref name/,
  ],
  [
    'not a repository',
    `${HEAD}sources:\n  - repository: github.com/e/app\n`,
    /^5:17 sources\[0\]\.repository: .* is not a repository URL/,
  ],
  [
    'config source wrong type',
    `${HEAD}configSources: [{uri: https://github.com/e/app, entryPoint: 3}]\n`,
    /^4:61 configSources\[0\]\.entryPoint: is a number/,
  ],
  [
    'a reporter that is not an email',
    `${HEAD}reporters: [builder]\n`,
    /^4:13 reporters\[0\]: "builder" is not an email address/,
  ],
  [
    'a finding code with spaces',
    `${HEAD}refuseFindings: ["FETCH AFTER"]\n`,
    /^4:18 refuseFindings\[0\]: .* is not a finding code/,
  ],
  ['an empty optional list', `${HEAD}builderIds: []\n`, /^4:13 builderIds: is an empty list/],
  ['a list, not a mapping', '- apiVersion\n', /^1:1 : the policy is a list/],
  ['YAML that does not parse', `${HEAD}subjects: [gs://a\n`, /^\d+:\d+ : /],
];

describe('policy file: bad input', () => {
  for (const [name, text, expected] of BAD) {
    it(`${name}: one clear problem with its line and column`, () => {
      const p = problems(text);
      assert.ok(p.length >= 1, `no problem found in:\n${text}`);
      assert.match(p[0]!, expected, p.join('\n'));
      // The schema refuses it too (YAML that does not parse has nothing to validate).
      let doc: unknown;
      try {
        doc = parse(text, { uniqueKeys: false });
      } catch {
        return;
      }
      if (!name.startsWith('duplicate'))
        assert.notDeepEqual(schemaErrors(SCHEMA, doc), [], `the schema accepts what the parser refuses (${name})`);
    });
  }

  it('reports every problem at once, in file order, formatted FILE:LINE:COL: field: message', () => {
    const r = parsePolicyFile(`apiVersion: x\nkeys: []\nbogus: 1\nreporters: a\n`);
    assert.ok('problems' in r);
    assert.deepEqual(
      r.problems.map((p) => formatProblem('p.yaml', p).replace(/: (?:"x" is|is|unknown).*$/, '')),
      ['p.yaml:1:13: apiVersion', 'p.yaml:2:7: keys', 'p.yaml:3:1: bogus', 'p.yaml:4:12: reporters'],
    );
  });

  it('never throws, whatever the text', () => {
    for (const text of ['', '\u0000', '{', ']]]', '*a', '&a [*a, *a]', 'a: !!binary x', 'x'.repeat(300_000), '- - - -'])
      assert.doesNotThrow(() => parsePolicyFile(text));
    assert.ok('problems' in parsePolicyFile('x'.repeat(300_000)), 'too large');
  });
});

describe('policy file: valid input', () => {
  it('reads every field into the typed policy, YAML and JSON alike', () => {
    const yaml = `${HEAD}builderIds: [https://b.example]\nreporters: [a@b.example]\nsources:\n  - repository: https://github.com/e/app\n    refs: [refs/heads/main]\nconfigSources: [{uri: git+https://github.com/e/app, entryPoint: cloudbuild.yaml}]\nrefuseFindings: [FETCH_AFTER_COMPILE]\nmaxAge: 12h\nsubjects: ["gs://b/**"]\n`;
    const r = parsePolicyFile(yaml);
    assert.ok('policy' in r, JSON.stringify(r));
    assert.deepEqual(r.policy.policy, {
      expectedBuilderIds: ['https://b.example'],
      expectedReporters: ['a@b.example'],
      expectedSources: [{ uri: 'https://github.com/e/app', refs: ['refs/heads/main'] }],
      expectedConfigSources: [{ uri: 'git+https://github.com/e/app', entryPoint: 'cloudbuild.yaml' }],
      refusedFindings: ['FETCH_AFTER_COMPILE'],
      maxAgeSeconds: 43_200,
      subjectPatterns: ['gs://b/**'],
    });
    assert.deepEqual(r.policy.keys, [{ kind: 'pem', path: 'key.pem', at: { line: 3, col: 5 } }]);
    assert.deepEqual(r.policy.positions.subjects, { line: 12, col: 1 });
    const json = JSON.stringify(parse(yaml));
    const j = parsePolicyFile(json);
    assert.ok('policy' in j);
    assert.deepEqual(j.policy.policy, r.policy.policy);
    assert.deepEqual(schemaErrors(SCHEMA, parse(yaml)), []);
  });

  it('the example policies are valid for the parser and the schema', () => {
    for (const f of ['examples/policy.yaml', 'examples/release-policy.yaml']) {
      const text = readFileSync(join(root, f), 'utf8');
      assert.ok('policy' in parsePolicyFile(text), f);
      assert.deepEqual(schemaErrors(SCHEMA, parse(text)), [], f);
    }
  });
});
