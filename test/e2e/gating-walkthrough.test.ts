// The "Gating a deploy" walkthrough, run exactly as docs/gating.md writes it
// (the block after <!-- walkthrough: gating -->, which the README carries
// too), against the service as `npm start` serves it (one port, in-process
// events, local key, the dev token issuer), after the README walkthrough's
// reports for demo/app.tar. `npx provenance` is this checkout's CLI. Then the
// refusal the page describes: a policy the build does not meet writes a FAILED
// VSA, exit 1, and verify-vsa refuses it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevIssuer } from '../../functions/adapters/dev-issuer.js';
import { schemaErrors } from '../helpers/schema-check.js';
import { statementOf } from '../helpers/statement-spec.js';
import { reportReadmeTask } from '../helpers/readme-task.js';
import { type ServedLocally, serveLocally } from '../helpers/local-service.js';

const run = promisify(execFile);
const root = join(__dirname, '..', '..', '..');
// As `npm start` on its default port: the builder id the example policy names.
const AUDIENCE = 'http://localhost:8080';

/** The sh block that follows the marker in a docs page. */
function block(page: string, marker: string): string {
  const text = readFileSync(join(root, page), 'utf8');
  const at = text.indexOf(`<!-- ${marker} -->`);
  assert.ok(at >= 0, `${page} has no ${marker} block`);
  const start = text.indexOf('```sh\n', at) + '```sh\n'.length;
  return text.slice(start, text.indexOf('\n```', start));
}

async function sh(script: string, cwd: string, env: Record<string, string>) {
  // `npx provenance …` as the walkthrough types it, served by this checkout's CLI.
  const prelude = `npx() { [ "$1" = provenance ] && shift; node ${JSON.stringify(join(root, 'bin', 'provenance.js'))} "$@"; }\n`;
  try {
    const { stdout, stderr } = await run('bash', ['-euo', 'pipefail', '-c', prelude + script], {
      cwd,
      env: { ...process.env, ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('docs/gating.md walkthrough against the service as npm start serves it', () => {
  let service: ServedLocally;
  let url: string;
  let work: string;
  let digest: string;

  before(async () => {
    service = await serveLocally((dir) => ({ SIGNING_KEY_DIR: dir, AUDIENCE }));
    ({ url } = service);

    // The README walkthrough's state: demo/app.tar reported by the dev identity, provenance signed.
    work = mkdtempSync(join(tmpdir(), 'gating-walk-'));
    mkdirSync(join(work, 'demo'));
    mkdirSync(join(work, 'examples'));
    writeFileSync(join(work, 'examples', 'policy.yaml'), readFileSync(join(root, 'examples', 'policy.yaml')));
    writeFileSync(join(work, 'demo', 'app.tar'), 'hello, provenance\n');
    digest = createHash('sha256')
      .update(readFileSync(join(work, 'demo', 'app.tar')))
      .digest('hex');
    const token = DevIssuer.fromDirectory(service.devDir).mint({
      audience: AUDIENCE,
      email: 'builder@dev.provenance.local',
    });
    await reportReadmeTask(url, token, 'demo-1', digest);
    for (const until = Date.now() + 30_000; Date.now() < until; ) {
      if ((await fetch(`${url}/v1/artifacts/sha256:${digest}/provenance`)).status === 200) return;
      await new Promise((r) => setTimeout(r, 100)); // assembly is asynchronous
    }
    assert.fail('no provenance was assembled');
  });
  after(() => service.close());

  it('runs as written: policy check, verify --policy with a VSA, verify-vsa', async () => {
    const r = await sh(block('docs/gating.md', 'walkthrough: gating'), work, { PROVENANCE_URL: url });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^examples\/policy\.yaml: a valid policy \(/m);
    assert.match(
      r.stdout,
      new RegExp(
        `^verified sha256:${digest}: signed by local:sha256:[0-9a-f]{64}; builder ${AUDIENCE}; task demo-1; reporter builder@dev\\.provenance\\.local$`,
        'm',
      ),
    );
    assert.match(
      r.stderr,
      /VSA \(PASSED\) written to demo\/app\.vsa\.intoto\.jsonl and demo\/app\.vsa\.sigstore\.json/,
    );
    assert.match(
      r.stdout,
      new RegExp(
        `^verified VSA for sha256:${digest}: PASSED by https://gate\\.example\\.com/release at \\S+; levels SLSA_BUILD_LEVEL_1; signed by sha256:[0-9a-f]{64}$`,
        'm',
      ),
    );
    const vsa = statementOf(JSON.parse(readFileSync(join(work, 'demo', 'app.vsa.intoto.jsonl'), 'utf8'))) as {
      predicate: { policy: { uri: string; digest: { sha256: string } }; inputAttestations: unknown[] };
    };
    assert.deepEqual(schemaErrors('test/schema/slsa-vsa-v1.schema.json', vsa), []);
    assert.equal(vsa.predicate.policy.uri, 'file:examples/policy.yaml');
    assert.equal(
      vsa.predicate.policy.digest.sha256,
      createHash('sha256')
        .update(readFileSync(join(work, 'examples', 'policy.yaml')))
        .digest('hex'),
    );
    assert.equal(vsa.predicate.inputAttestations.length, 1);
  });

  it('the README carries the same block, when it carries one', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    if (!readme.includes('<!-- walkthrough: gating -->')) return; // the walkthrough lives in docs/gating.md only
    assert.equal(block('README.md', 'walkthrough: gating'), block('docs/gating.md', 'walkthrough: gating'));
  });

  it('refuses a policy the build does not meet, writes a FAILED VSA, and verify-vsa refuses that', async () => {
    writeFileSync(
      join(work, 'examples', 'release-branch.yaml'),
      readFileSync(join(root, 'examples', 'policy.yaml'), 'utf8').replace('refs/heads/main', 'refs/heads/release'),
    );
    const gate = await sh(
      `npx provenance keys -o demo/provenance-key.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out demo/gate-key.pem 2>/dev/null
openssl pkey -in demo/gate-key.pem -pubout -out demo/gate-key.pub.pem
npx provenance verify --policy examples/release-branch.yaml --artifact demo/app.tar \\
  --vsa demo/refused.vsa.intoto.jsonl --vsa-key demo/gate-key.pem \\
  --verifier-id https://gate.example.com/release --resource-uri gs://example-bucket/app.tar`,
      work,
      { PROVENANCE_URL: url },
    );
    assert.equal(gate.code, 1, gate.stderr);
    assert.match(
      gate.stderr,
      /FAIL: source git\+https:\/\/github\.com\/example\/app@0123456789abcdef.* is on refs\/heads\/main, not on refs\/heads\/release/,
    );
    assert.match(gate.stderr, /VSA \(FAILED\) written to demo\/refused\.vsa\.intoto\.jsonl/);
    const deployer = await sh(
      `npx provenance verify-vsa --vsa demo/refused.vsa.intoto.jsonl --key demo/gate-key.pub.pem \\
  --digest "sha256:$(sha256sum demo/app.tar | cut -d' ' -f1)" --resource-uri gs://example-bucket/app.tar \\
  --verifier-id https://gate.example.com/release --level SLSA_BUILD_LEVEL_1`,
      work,
      {},
    );
    assert.equal(deployer.code, 1);
    assert.match(deployer.stderr, /^FAIL: \[VSA_RESULT_FAILED\] verification result is "FAILED", not "PASSED"$/m);
    assert.match(deployer.stderr, /^FAIL: \[VSA_LEVEL_INSUFFICIENT\]/m);
  });
});
