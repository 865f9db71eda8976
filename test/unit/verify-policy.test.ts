// The verification policy checks the source it names and passes only what it
// names: a ref rule is about one repository (every checkout of it, however its
// URI is spelled), never the pool of every git dependency; builder, reporter
// and config source must be one string among the allowed (absent, of another
// type, or several values fail); the digest counts only as a subject's
// "sha256"; findings, age and subject names are enforced. Every failure has
// its code and the field or dependency it is about. The bin: --source-ref
// without --source-uri is a usage error, --json prints one verdict per envelope.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { signStatement } from '../../functions/provenance/dsse.js';
import { verifyEnvelope, verifyEnvelopeText } from '../../functions/verify/engine.js';
import { parsePublicKeys, type TrustedKey } from '../../functions/verify/keys.js';
import type { FailureCode, VerificationPolicy } from '../../functions/verify/policy.js';
import { parsedRepositoryKey, repositoryKey, sameRepository } from '../../functions/verify/repository.js';
import { globToRegExp } from '../../functions/verify/glob.js';

const SHA = 'cd'.repeat(32);
const APP = 'https://github.com/example/app';
const CONFIG = 'https://github.com/example/shared-config';
const MAIN = 'refs/heads/main';
const NOW = new Date('2026-06-01T12:00:00Z');
const bin = join(__dirname, '..', '..', '..', 'bin', 'provenance.js');

const git = (repo: string, refs: unknown, commit = 'a'.repeat(40)) => ({
  uri: `git+${repo}`,
  digest: { gitCommit: commit },
  annotations: { refs },
});

function inlineJson(name: string, value: unknown) {
  return { name, content: Buffer.from(JSON.stringify(value)).toString('base64'), mediaType: 'application/json' };
}

/** A statement as the assembler writes it, with parts replaced. */
function statement(
  over: {
    subject?: unknown;
    deps?: unknown;
    builderId?: unknown;
    reporter?: unknown;
    configSource?: unknown;
    byproducts?: unknown;
    finishedOn?: unknown;
  } = {},
) {
  const has = (k: keyof typeof over) => Object.hasOwn(over, k);
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: has('subject') ? over.subject : [{ name: 'gs://out/app.tar', digest: { sha256: SHA } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://example/bt',
        externalParameters: {
          recipe: 'cloudbuild.yaml',
          ...(has('configSource')
            ? { configSource: over.configSource }
            : {
                configSource: {
                  uri: `git+${APP}`,
                  digest: { gitCommit: 'a'.repeat(40) },
                  entryPoint: 'cloudbuild.yaml',
                },
              }),
        },
        internalParameters: has('reporter') ? { reporter: over.reporter } : { reporter: 'builder@example.com' },
        resolvedDependencies: has('deps') ? over.deps : [git(APP, [MAIN]), git(CONFIG, [MAIN], 'b'.repeat(40))],
      },
      runDetails: {
        builder: has('builderId') ? { id: over.builderId } : { id: 'https://builder.example' },
        metadata: {
          invocationId: 'build-1',
          startedOn: '2026-06-01T11:00:00.000Z',
          ...(has('finishedOn') ? { finishedOn: over.finishedOn } : { finishedOn: '2026-06-01T11:30:00.000Z' }),
        },
        byproducts: has('byproducts')
          ? over.byproducts
          : [inlineJson('stage-timeline', { stages: [] }), inlineJson('findings', { findings: [] })],
      },
    },
  };
}

let signer: LocalSigner;
let keys: TrustedKey[];
async function setup() {
  signer ??= LocalSigner.ephemeral();
  keys ??= parsePublicKeys((await signer.publicKey()).pem);
}
async function judge(s: unknown, policy: Partial<VerificationPolicy>) {
  await setup();
  const env = await signStatement(s as never, signer);
  return verifyEnvelope(env, keys, { expectedDigest: SHA, ...policy }, NOW);
}
const codes = (v: { failures: { code: FailureCode }[] }) => v.failures.map((f) => f.code);

describe('source rules are per named repository, never pooled', () => {
  const rule = { expectedSources: [{ uri: APP, refs: [MAIN] }] };

  it('passes when every checkout of the named repository is on an allowed ref', async () => {
    const v = await judge(statement(), rule);
    assert.deepEqual(v.failures, []);
    assert.equal(v.ok, true);
    // A commit on several refs, one of them allowed, is on an allowed ref.
    assert.ok((await judge(statement({ deps: [git(APP, ['refs/heads/x', MAIN])] }), rule)).ok);
  });

  it('(a) fails the app on a feature branch although another dependency is on main, naming the app', async () => {
    const v = await judge(statement({ deps: [git(APP, ['refs/heads/evil-feature']), git(CONFIG, [MAIN])] }), rule);
    assert.equal(v.ok, false);
    assert.deepEqual(codes(v), ['SOURCE_REF_MISMATCH']);
    assert.equal(v.failures[0]!.field, `git+${APP}`);
    assert.match(
      v.failures[0]!.message,
      /example\/app@a{40} is on refs\/heads\/evil-feature, not on refs\/heads\/main/,
    );
  });

  it('(b) fails two checkouts of the same repository, one on a feature branch, however the URI is spelled', async () => {
    for (const spelling of [
      APP,
      `${APP}.git`,
      `${APP}/`,
      'https://GitHub.com/Example/App',
      'ssh://git@github.com/example/app.git',
      'git://github.com:9418/example/app',
      'http://github.com/example/app',
    ]) {
      const v = await judge(
        statement({ deps: [git(APP, [MAIN]), git(spelling, ['refs/heads/feature'], 'f'.repeat(40))] }),
        rule,
      );
      assert.deepEqual(codes(v), ['SOURCE_REF_MISMATCH'], spelling);
      assert.equal(v.failures[0]!.field, `git+${spelling}`);
    }
    // The rule's own URI may be spelled either way too.
    const v = await judge(statement({ deps: [git(APP, ['refs/heads/feature'])] }), {
      expectedSources: [{ uri: `git+${APP}.git`, refs: [MAIN] }],
    });
    assert.deepEqual(codes(v), ['SOURCE_REF_MISMATCH']);
  });

  it('fails a checkout with no refs, refs of the wrong type, or only non-string refs', async () => {
    for (const refs of [undefined, [], 'refs/heads/main', { 0: MAIN }, [1, null], null]) {
      const v = await judge(statement({ deps: [git(APP, refs)] }), rule);
      assert.deepEqual(codes(v), ['SOURCE_REF_MISMATCH'], JSON.stringify(refs));
    }
  });

  it('(d) fails SOURCE_MISSING when no dependency is from the named repository, or dependencies are unreadable', async () => {
    for (const deps of [
      [git(CONFIG, [MAIN])],
      [git('https://github.com/example/app-fork', [MAIN]), git('https://github.com/example/app/sub', [MAIN])],
      [],
      [null, 1, { uri: 5 }, { uri: ['git+https://github.com/example/app'] }],
      'git+https://github.com/example/app',
      { uri: `git+${APP}` },
      undefined,
    ]) {
      const v = await judge(statement({ deps }), rule);
      assert.deepEqual(codes(v), ['SOURCE_MISSING'], JSON.stringify(deps));
    }
    // Without refs a rule only asks that the repository is there.
    assert.ok(
      (await judge(statement({ deps: [git(APP, ['refs/heads/any'])] }), { expectedSources: [{ uri: APP }] })).ok,
    );
  });

  it('checks each rule on its own', async () => {
    const v = await judge(statement({ deps: [git(APP, [MAIN]), git(CONFIG, ['refs/heads/wip'])] }), {
      expectedSources: [
        { uri: APP, refs: [MAIN] },
        { uri: CONFIG, refs: [MAIN] },
      ],
    });
    assert.deepEqual(codes(v), ['SOURCE_REF_MISMATCH']);
    assert.equal(v.failures[0]!.field, `git+${CONFIG}`);
  });

  it('tells repositories apart by host and path only', () => {
    assert.ok(sameRepository('git+https://github.com/a/b', 'ssh://git@GITHUB.com:22/a/b.git/'));
    assert.ok(!sameRepository('https://github.com/a/b', 'https://github.com/a/bc'));
    assert.ok(!sameRepository('https://github.com/a/b', 'https://gitlab.com/a/b'));
    assert.ok(!sameRepository('https://github.com/a/b', 'https://github.com/a/b/c'));
    assert.ok(!sameRepository('gs://bucket/a/b', 'https://bucket/a/b'));
    assert.ok(sameRepository('gs://bucket/x', 'git+gs://bucket/x'));
    // Spellings a URL parser (and so git) reads as the same path.
    assert.ok(sameRepository('https://github.com/a/b', 'https://github.com/a/x/../b'));
    assert.ok(sameRepository('https://github.com/a/b', 'https://github.com/a/./b'));
    assert.ok(sameRepository('https://github.com/a/b', 'https://github.com/a/%62'));
    assert.ok(sameRepository('https://github.com/a/b', ' git+https://github.com/a/b\n'));
    assert.ok(
      sameRepository('https://github.com/a/app', 'https://\uff27\uff29\uff34\uff28\uff35\uff22.com/A/APP'),
      'IDNA-mapped host',
    );
    assert.ok(sameRepository('https://github.com/a/app', 'https://github.com/a/%41pp'));
    assert.ok(sameRepository('https://github.com/a/app', 'https://github.com/a/a\tpp'));
    // A backslash is "/" to the URL parser and not to curl: no sure repository (held to ref rules instead, see
    // verify-attacks.test.ts).
    assert.ok(!sameRepository('https://github.com/a/app.git', 'https://github.com/x/..\\a\\APP.GIT'));
    assert.ok(!sameRepository('https://github.com/a/app', 'https://github.com/a/app-config'));
    assert.ok(sameRepository('https://github.com/a/b', 'git+ht\ttps://github.com/a/\nb'));
    assert.ok(!sameRepository('https://github.com/a/b', 'https://github.com\\a\\b'));
    assert.ok(
      sameRepository('https://github.com/a/b', 'https://github.com./a/b'),
      'a trailing dot is the same DNS name',
    );
    // The fast reading of plain URIs gives what the URL parse gives.
    for (const uri of [
      'git+https://github.com/example/app',
      'https://github.com/Example/App.GIT/',
      'ssh://source.example.co.uk/a_b/c~d/e.f-g',
      'git://x-y.example/a/b//',
      'http://github.com',
      'https://github.com/a/b.git.git',
    ])
      assert.equal(repositoryKey(uri), parsedRepositoryKey(uri), uri);
  });
});

describe('identity and configuration checks fail on absent, mistyped or several values', () => {
  const wrongTypes: [string, unknown][] = [
    ['absent', undefined],
    ['a number', 7],
    ['a list of the allowed value', ['https://builder.example']],
    ['a list of several values', ['https://builder.example', 'https://evil.example']],
    ['an object', { id: 'https://builder.example' }],
    ['null', null],
    ['another builder', 'https://evil.example'],
    ['another letter case', 'https://Builder.example'],
  ];

  it('(e) builder id', async () => {
    const policy = { expectedBuilderIds: ['https://other.example', 'https://builder.example'] };
    assert.ok((await judge(statement(), policy)).ok);
    for (const [what, id] of wrongTypes) {
      const v = await judge(statement({ builderId: id }), policy);
      assert.deepEqual(codes(v), ['BUILDER_ID_MISMATCH'], what);
      assert.equal(v.failures[0]!.field, 'predicate.runDetails.builder.id');
    }
  });

  it('(e) reporter (letter case of an email does not matter)', async () => {
    const policy = { expectedReporters: ['Builder@Example.com'] };
    assert.ok((await judge(statement(), policy)).ok);
    for (const [what, reporter] of [
      ['absent', undefined],
      ['a number', 1],
      ['a list', ['builder@example.com']],
      ['several', ['builder@example.com', 'evil@example.com']],
      ['an object', { email: 'builder@example.com' }],
      ['another identity', 'evil@example.com'],
    ] as [string, unknown][]) {
      const v = await judge(statement({ reporter }), policy);
      assert.deepEqual(codes(v), ['REPORTER_MISMATCH'], what);
      assert.equal(v.failures[0]!.field, 'predicate.buildDefinition.internalParameters.reporter');
    }
  });

  it('(e) config source', async () => {
    assert.ok((await judge(statement(), { expectedConfigSources: [{ uri: `${APP}.git` }] })).ok);
    assert.ok(
      (
        await judge(statement(), {
          expectedConfigSources: [{ uri: CONFIG }, { uri: APP, entryPoint: 'cloudbuild.yaml' }],
        })
      ).ok,
    );
    const policy = { expectedConfigSources: [{ uri: APP, entryPoint: 'cloudbuild.yaml' }] };
    for (const [what, configSource] of [
      ['absent', undefined],
      ['a string', `git+${APP}`],
      ['a list', [{ uri: `git+${APP}`, entryPoint: 'cloudbuild.yaml' }]],
      ['uri a number', { uri: 5, entryPoint: 'cloudbuild.yaml' }],
      ['uri a list', { uri: [`git+${APP}`], entryPoint: 'cloudbuild.yaml' }],
      ['another repository', { uri: `git+${CONFIG}`, entryPoint: 'cloudbuild.yaml' }],
      ['another entry point', { uri: `git+${APP}`, entryPoint: 'evil.yaml' }],
      ['no entry point', { uri: `git+${APP}` }],
      ['entry point a list', { uri: `git+${APP}`, entryPoint: ['cloudbuild.yaml'] }],
    ] as [string, unknown][]) {
      const v = await judge(statement({ configSource }), policy);
      assert.deepEqual(codes(v), ['CONFIG_SOURCE_MISMATCH'], what);
      assert.equal(v.failures[0]!.field, 'predicate.buildDefinition.externalParameters.configSource');
    }
  });

  it('an empty list of allowed values allows nothing', async () => {
    const v = await judge(statement(), {
      expectedBuilderIds: [],
      expectedReporters: [],
      expectedConfigSources: [],
      expectedSources: [{ uri: APP, refs: [] }],
      subjectPatterns: [],
    });
    assert.deepEqual(codes(v).sort(), [
      'BUILDER_ID_MISMATCH',
      'CONFIG_SOURCE_MISMATCH',
      'REPORTER_MISMATCH',
      'SOURCE_REF_MISMATCH',
      'SUBJECT_NAME_NOT_COVERED',
    ]);
  });
});

describe('subjects', () => {
  it("(f) counts the digest only as a subject's digest.sha256", async () => {
    for (const [what, subject] of [
      ['in an annotation', [{ name: 'a', digest: { sha256: 'ee'.repeat(32) }, annotations: { sha256: SHA } }]],
      [
        "in another subject's sbomFor",
        [{ name: 'sbom', digest: { sha256: 'ee'.repeat(32) }, annotations: { sbomFor: [`sha256:${SHA}`] } }],
      ],
      ['under SHA256', [{ name: 'a', digest: { SHA256: SHA } }]],
      ['under sha512', [{ name: 'a', digest: { sha512: SHA } }]],
      ['with a prefix', [{ name: 'a', digest: { sha256: `sha256:${SHA}` } }]],
      ['in upper case', [{ name: 'a', digest: { sha256: SHA.toUpperCase() } }]],
      ['as the name', [{ name: SHA, digest: {} }]],
      ['a list of digests', [{ name: 'a', digest: { sha256: [SHA] } }]],
      ['digest a list', [{ name: 'a', digest: [{ sha256: SHA }] }]],
      ['subject an object', { name: 'a', digest: { sha256: SHA } }],
      ['no subjects', []],
    ] as [string, unknown][]) {
      const v = await judge(statement({ subject }), {});
      assert.ok(codes(v).includes('NO_SUBJECT'), `${what}: ${JSON.stringify(v.failures)}`);
      assert.equal(v.ok, false, what);
    }
    // The expected digest may be given with its prefix or in upper case.
    assert.ok((await judge(statement(), { expectedDigest: `sha256:${SHA.toUpperCase()}` })).ok);
  });

  it('(g) subject patterns: * within a segment, ** across, on the subject that carries the digest', async () => {
    const subject = [
      { name: 'gs://out/release/app.tar', digest: { sha256: SHA } },
      { name: 'gs://out/other.tar', digest: { sha256: 'ee'.repeat(32) } },
    ];
    for (const p of ['gs://out/release/*.tar', 'gs://out/**', 'gs://**/app.tar', 'gs://out/release/app.tar'])
      assert.ok((await judge(statement({ subject }), { subjectPatterns: ['nope', p] })).ok, p);
    for (const p of ['gs://out/*.tar', 'gs://out/other.tar', 'gs://out/release/app.ta', 'gs://out/release/app.tar?'])
      assert.deepEqual(
        codes(await judge(statement({ subject }), { subjectPatterns: [p] })),
        ['SUBJECT_NAME_NOT_COVERED'],
        p,
      );
    assert.ok(globToRegExp('a.b').test('a.b') && !globToRegExp('a.b').test('axb'), 'regex characters are literal');
  });

  it('lists the subjects in the verdict', async () => {
    const v = await judge(statement(), {});
    assert.deepEqual(v.subjects, [{ name: 'gs://out/app.tar', digest: { sha256: SHA } }]);
  });
});

describe('findings and age', () => {
  const findings = (...codes: string[]) =>
    inlineJson('findings', { findings: codes.map((code) => ({ code, message: `${code} happened`, at: 'x' })) });

  it('(g) refused findings fail; a statement that cannot show their absence fails too', async () => {
    const policy = { refusedFindings: ['FETCH_AFTER_COMPILE'] };
    assert.ok((await judge(statement(), policy)).ok);
    assert.ok((await judge(statement({ byproducts: [findings('OTHER')] }), policy)).ok);
    const v = await judge(statement({ byproducts: [findings('OTHER', 'FETCH_AFTER_COMPILE')] }), policy);
    assert.deepEqual(codes(v), ['REFUSED_FINDING']);
    assert.match(v.failures[0]!.message, /FETCH_AFTER_COMPILE: FETCH_AFTER_COMPILE happened/);
    assert.equal(v.failures[0]!.field, 'predicate.runDetails.byproducts[0]');
    for (const [what, byproducts] of [
      ['a second findings byproduct', [findings(), findings('FETCH_AFTER_COMPILE')]],
      ['no findings byproduct', [inlineJson('stage-timeline', {})]],
      ['byproducts absent', undefined],
      ['byproducts an object', { findings: [] }],
      ['content not base64', [{ name: 'findings', content: '!!' }]],
      ['content not JSON', [{ name: 'findings', content: Buffer.from('nope').toString('base64') }]],
      ['findings not a list', [inlineJson('findings', { findings: 'FETCH_AFTER_COMPILE' })]],
      ['a finding without a code', [inlineJson('findings', { findings: [{ message: 'x' }] })]],
      ['the old annotations form', [{ name: 'findings', annotations: { findings: [] } }]],
    ] as [string, unknown][]) {
      assert.deepEqual(codes(await judge(statement({ byproducts }), policy)), ['REFUSED_FINDING'], what);
    }
  });

  it('(g) maximum age against now', async () => {
    assert.ok((await judge(statement(), { maxAgeSeconds: 3600 })).ok); // finished 30 min before NOW
    assert.ok((await judge(statement({ finishedOn: '2026-06-01T13:00:00+01:00' }), { maxAgeSeconds: 60 })).ok);
    for (const [what, finishedOn, max] of [
      ['older', '2026-06-01T11:30:00.000Z', 600],
      ['absent', undefined, 3600],
      ['a number', Date.parse('2026-06-01T11:30:00Z'), 3600],
      ['not RFC 3339', 'June 1, 2026', 3600],
      ['impossible date', '2026-02-31T11:30:00Z', 3600],
      ['far in the future', '2026-06-02T11:30:00Z', 3600],
      ['a negative maximum', '2026-06-01T11:30:00Z', -1],
      ['a NaN maximum', '2026-06-01T11:30:00Z', Number.NaN],
    ] as [string, unknown, number][]) {
      const v = await judge(statement({ finishedOn }), { maxAgeSeconds: max });
      assert.deepEqual(codes(v), ['PROVENANCE_TOO_OLD'], what);
      assert.equal(v.failures[0]!.field, 'predicate.runDetails.metadata.finishedOn');
    }
  });
});

describe('the verdict', () => {
  it('digests the envelope text as read, and codes every failure of a hostile envelope', async () => {
    await setup();
    const env = await signStatement(statement() as never, signer);
    const text = ` ${JSON.stringify(env, null, 1)}`;
    const { createHash } = await import('node:crypto');
    const v = verifyEnvelopeText(text, keys, { expectedDigest: SHA }, NOW);
    assert.ok(v.ok);
    assert.equal(v.envelopeSha256, createHash('sha256').update(text).digest('hex'));
    assert.equal(
      verifyEnvelopeText('nope', keys, { expectedDigest: SHA }, NOW).failures[0]!.code,
      'MALFORMED_ENVELOPE',
    );
    const other = parsePublicKeys((await LocalSigner.ephemeral().publicKey()).pem);
    assert.deepEqual(codes(verifyEnvelope(env, other, { expectedDigest: SHA }, NOW)), ['SIGNATURE_INVALID']);
    assert.deepEqual(codes(verifyEnvelope(env, [], { expectedDigest: SHA }, NOW)), ['NO_TRUSTED_KEY']);
    assert.deepEqual(codes(verifyEnvelope({ ...env, payloadType: 'text/plain' }, keys, { expectedDigest: SHA }, NOW)), [
      'PAYLOAD_TYPE_MISMATCH',
      'SIGNATURE_INVALID',
    ]);
    const typed = await judge({ ...statement(), _type: 'x', predicateType: 'y', predicate: 'z' }, {});
    assert.deepEqual(codes(typed), ['STATEMENT_TYPE_MISMATCH', 'PREDICATE_TYPE_MISMATCH', 'MALFORMED_STATEMENT']);
  });
});

describe('provenance verify (the bin): policy flags and --json', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args], {
      encoding: 'utf8',
      env: { ...process.env, PROVENANCE_URL: 'http://127.0.0.1:9' },
    });
  async function files(...statements: unknown[]) {
    await setup();
    const dir = mkdtempSync(join(tmpdir(), 'verify-policy-'));
    writeFileSync(join(dir, 'key.pem'), (await signer.publicKey()).pem);
    const lines = [];
    for (const s of statements) lines.push(JSON.stringify(await signStatement(s as never, signer)));
    writeFileSync(join(dir, 'p.jsonl'), `${lines.join('\n')}\nnot json\n`);
    return ['--key', join(dir, 'key.pem'), '--digest', `sha256:${SHA}`, '--provenance', join(dir, 'p.jsonl')];
  }

  it('(c) --source-ref without --source-uri is wrong usage (exit 2) that says to add --source-uri', async () => {
    const r = cli('verify', ...(await files(statement())), '--source-ref', MAIN);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--source-ref needs --source-uri/);
    assert.ok(!/ {4}at /.test(r.stderr), r.stderr);
    for (const [flags, re] of [
      [['--source-uri', APP, '--source-ref', 'main'], /did you mean refs\/heads\/main/],
      [['--source-uri', 'example/app'], /is not a repository URL/],
      [['--max-age', '3 days'], /--max-age: "3 days" is not a duration/],
      [['--refuse-finding', 'a b'], /--refuse-finding/],
      [['--config-source-entry-point', 'x'], /needs --config-source-uri/],
    ] as [string[], RegExp][]) {
      const u = cli('verify', ...(await files(statement())), ...flags);
      assert.equal(u.status, 2, flags.join(' '));
      assert.match(u.stderr, re);
    }
  });

  it('(a) through the bin: the app on a feature branch fails although the config repository is on main', async () => {
    const input = await files(statement({ deps: [git(APP, ['refs/heads/evil-feature']), git(CONFIG, [MAIN])] }));
    const r = cli('verify', ...input, '--source-uri', APP, '--source-ref', MAIN);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /FAIL: line 1: source git\+https:\/\/github.com\/example\/app@a{40} is on refs\/heads\/evil-feature, not on refs\/heads\/main/,
    );
    const ok = cli(
      'verify',
      ...input,
      '--source-uri',
      CONFIG,
      '--source-ref',
      MAIN,
      '--builder-id',
      'x',
      '--builder-id',
      'https://builder.example',
    );
    assert.equal(ok.status, 0, ok.stderr);
  });

  it('never pools across envelopes: each must pass every check on its own', async () => {
    // One envelope has the right source, the other the right reporter: neither has both.
    const input = await files(
      statement({ reporter: 'someone@example.com' }),
      statement({ deps: [git(APP, ['refs/heads/feature'])] }),
    );
    const r = cli('verify', ...input, '--reporter', 'builder@example.com', '--source-uri', APP, '--source-ref', MAIN);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /FAIL: line 1: the task was reported by "someone@example.com"/);
    assert.match(
      r.stderr,
      /FAIL: line 2: source git\+https:\/\/github.com\/example\/app@a{40} is on refs\/heads\/feature/,
    );
  });

  it('--json with a key set: an envelope signed by a key the set lacks is NO_TRUSTED_KEY, naming the key', async () => {
    const input = await files(statement());
    const other = LocalSigner.ephemeral();
    const set = await other.verificationKeys();
    const dir = mkdtempSync(join(tmpdir(), 'verify-keyset-'));
    writeFileSync(join(dir, 'keys.json'), JSON.stringify(set));
    const r = cli('verify', '--keys', join(dir, 'keys.json'), ...input.slice(2), '--json');
    assert.equal(r.status, 1, r.stderr);
    const [first] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(first.verifiedKey, null);
    assert.deepEqual(
      first.failures.map((f: { code: string }) => f.code),
      ['NO_TRUSTED_KEY'],
    );
    assert.match(first.failures[0].message, /signed with key "local:sha256:[0-9a-f]{64}", which is not in the key set/);
    // The statement was still read: its subjects are listed.
    assert.deepEqual(first.subjects, [{ name: 'gs://out/app.tar', digest: { sha256: SHA } }]);
  });

  it('(h) --json: one verdict per envelope, codes and fields, exit codes unchanged, no stack trace', async () => {
    const input = await files(
      statement(),
      statement({ builderId: 7, deps: [git(APP, ['refs/heads/feature\u001b[2J'])] }),
    );
    const flags = ['--source-uri', APP, '--source-ref', MAIN, '--builder-id', 'https://builder.example', '--json'];
    const r = cli('verify', ...input, ...flags);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.ok(!r.stdout.includes('\u001b'), 'no raw escape character');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    for (const l of lines)
      assert.deepEqual(Object.keys(l), ['entry', 'ok', 'verifiedKey', 'subjects', 'failures', 'envelopeSha256']);
    assert.equal(lines[0].entry, 'line 1');
    assert.equal(lines[0].ok, true);
    assert.match(lines[0].verifiedKey, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(lines[0].subjects, [{ name: 'gs://out/app.tar', digest: { sha256: SHA } }]);
    assert.deepEqual(lines[0].failures, []);
    assert.match(lines[0].envelopeSha256, /^[0-9a-f]{64}$/);
    assert.equal(lines[1].ok, false);
    assert.deepEqual(
      lines[1].failures.map((f: { code: string; field: string }) => [f.code, f.field]),
      [
        ['BUILDER_ID_MISMATCH', 'predicate.runDetails.builder.id'],
        ['SOURCE_REF_MISMATCH', `git+${APP}`],
      ],
    );
    assert.match(lines[1].failures[1].message, /feature\\u\{1b\}\[2J/);
    assert.deepEqual(lines[2], {
      entry: 'line 3',
      ok: false,
      verifiedKey: null,
      subjects: [],
      failures: [
        { code: 'MALFORMED_ENVELOPE', message: 'is not JSON: expected a JSON value at character 1', field: null },
      ],
      envelopeSha256: (await import('node:crypto')).createHash('sha256').update('not json').digest('hex'),
    });
    // None passes: exit 1, still one verdict per envelope on stdout.
    const none = cli('verify', ...input, ...flags, '--reporter', 'release@example.com');
    assert.equal(none.status, 1);
    assert.equal(none.stdout.trim().split('\n').length, 3);
    assert.ok(
      none.stdout
        .split('\n')
        .filter(Boolean)
        .every((l) => JSON.parse(l).ok === false),
    );
    assert.ok(!/ {4}at |TypeError/.test(none.stderr), none.stderr);
  });
});
