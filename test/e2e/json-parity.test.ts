// The step client refuses exactly what the server refuses: a table of hostile
// JSON bodies (duplicate keys, a BOM, invalid UTF-8, numbers beyond 2^53,
// lone surrogates, deep nesting, trailing text, ...) each given to the shared
// reader, to the local service over HTTP, and to `provenance report batch`
// (the bin, one line per body), with the same accept/refuse answer from all
// three, and for the reader's refusals the same message.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { DevIssuer, DEV_DEFAULT_EMAIL } from '../../functions/adapters/dev-issuer.js';
import { JsonTextError, parseStrictJson } from '../../functions/domain/strict-json-text.js';
import { AUDIENCE, type ServedLocally, serveLocally } from '../helpers/local-service.js';

const bin = join(__dirname, '..', '..', '..', 'bin', 'provenance.js');
const SHA = 'ab'.repeat(32);
const GCS = `"gcsReport": {"gcsUri": "gs://example-deps/lib.tar", "digest": "${SHA}"}`;

const b = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

type Case = [name: string, method: 'ReportGcs' | 'ReportPID', body: Buffer];
const pid = (n: string) => b(`{"pid": ${n}, "reporter": "${bin}"}`);
const CASES: Case[] = [
  ['a valid body', 'ReportGcs', b(`{${GCS}}`)],
  ['gcsReport twice', 'ReportGcs', b(`{${GCS}, ${GCS}}`)],
  [
    'gcsUri twice, nested',
    'ReportGcs',
    b(`{"gcsReport": {"gcsUri": "gs://a/b", "gcsUri": "gs://a/c", "digest": "${SHA}"}}`),
  ],
  [
    'one key spelled twice (an escape)',
    'ReportGcs',
    b(`{"gcsReport": {"gcsUri": "gs://a/b", "gcs\\u0055ri": "gs://a/b", "digest": "${SHA}"}}`),
  ],
  [
    'one field by its two names',
    'ReportGcs',
    b(`{"gcsReport": {"gcsUri": "gs://a/b", "gcs_uri": "gs://a/b", "digest": "${SHA}"}}`),
  ],
  ['a leading BOM', 'ReportGcs', b([0xef, 0xbb, 0xbf], `{${GCS}}`)],
  [
    'invalid UTF-8 in a string',
    'ReportGcs',
    b('{"gcsReport": {"gcsUri": "gs://example-deps/', [0xff], `", "digest": "${SHA}"}}`),
  ],
  [
    'an overlong encoding',
    'ReportGcs',
    b('{"gcsReport": {"gcsUri": "gs://example-deps/', [0xc0, 0xaf], `", "digest": "${SHA}"}}`),
  ],
  [
    'a lone surrogate escape',
    'ReportGcs',
    b(`{"gcsReport": {"gcsUri": "gs://example-deps/\\ud800", "digest": "${SHA}"}}`),
  ],
  ['trailing text', 'ReportGcs', b(`{${GCS}} x`)],
  ['trailing whitespace', 'ReportGcs', b(`{${GCS}}  \t`)],
  ['deep nesting', 'ReportGcs', b(`{${GCS}, "x": ${'['.repeat(200)}${']'.repeat(200)}}`)],
  ['an unknown field', 'ReportGcs', b(`{${GCS}, "x": 1}`)],
  ['a raw control character', 'ReportGcs', b(`{"gcsReport": {"gcsUri": "gs://a/\u0001", "digest": "${SHA}"}}`)],
  ['__proto__ as a key', 'ReportGcs', b(`{"__proto__": {}, ${GCS}}`)],
  ['pid 4242', 'ReportPID', pid('4242')],
  ['pid "4242"', 'ReportPID', pid('"4242"')],
  ['pid 4242.0', 'ReportPID', pid('4242.0')],
  ['pid 2^53 − 1', 'ReportPID', pid('9007199254740991')],
  ['pid 2^53 + 1', 'ReportPID', pid('9007199254740993')],
  ['pid "2^53 + 1" as a string', 'ReportPID', pid('"9007199254740993"')],
  ['pid 1e400', 'ReportPID', pid('1e400')],
  ['pid -0', 'ReportPID', pid('-0')],
  ['pid NaN', 'ReportPID', pid('NaN')],
  ['pid 0x10', 'ReportPID', pid('"0x10"')],
];

interface Ran {
  code: number | null;
  stderr: string;
}
function cli(args: string[], env: Record<string, string>, input: Buffer): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, PROVENANCE_TOKEN: undefined, BUILD_ID: undefined, ...env }, timeout: 60_000 },
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
    );
    child.stdin?.end(input);
  });
}

describe('one strict JSON reader: the CLI and the server give the same answer', () => {
  let service: ServedLocally;
  let url: string;
  let devDir: string;
  before(async () => {
    service = await serveLocally();
    ({ url, devDir } = service);
  });
  after(() => service.close());

  it(`has the same answer for each of ${CASES.length} bodies from the reader, the server and report batch`, async () => {
    const token = DevIssuer.fromDirectory(devDir).mint({ audience: AUDIENCE, email: DEV_DEFAULT_EMAIL });
    const post = async (method: string, body: Buffer) => {
      const r = await fetch(`${url}/provenance.snooperpb.SelfReport/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-task-id': 'parity-1' },
        body: new Uint8Array(body),
      });
      return { status: r.status, json: (await r.json()) as { code?: string; message?: string } };
    };
    const started = await post('ReportTaskStage', b('{"taskStage": "STARTED", "recipe": "r", "pid": "1"}'));
    assert.equal(started.status, 200, JSON.stringify(started.json));

    // The same bodies as batch lines: "method" added after the opening brace (a BOM stays first).
    const lines = [
      b('{"method": "ReportTaskStage", "taskStage": "STARTED", "recipe": "r", "pid": "1"}'),
      ...CASES.map(([, method, body]) => {
        const at = body.indexOf('{') + 1;
        return Buffer.concat([body.subarray(0, at), b(`"method": "${method}", `), body.subarray(at)]);
      }),
    ];
    const batch = await cli(
      ['report', 'batch', '--keep-going'],
      { PROVENANCE_URL: url, PROVENANCE_AUDIENCE: AUDIENCE, DEV_ISSUER_DIR: devDir, PROVENANCE_TASK_ID: 'parity-2' },
      Buffer.concat(lines.flatMap((l) => [l, b('\n')])),
    );
    const batchErrors = new Map(
      [...batch.stderr.matchAll(/^batch line (\d+): (.*)$/gm)].map((m) => [Number(m[1]) - 1, m[2]!]),
    );

    const answers: string[] = [];
    let accepted = 0;
    for (const [i, [name, method, body]] of CASES.entries()) {
      let reader: JsonTextError | undefined;
      try {
        parseStrictJson(body);
      } catch (err) {
        assert.ok(err instanceof JsonTextError, `${name}: ${err}`);
        reader = err;
      }
      const server = await post(method, body);
      const serverOk = server.status === 200;
      const line = batchErrors.get(i + 1);
      answers.push(`${name}: server ${server.status} ${server.json.message ?? ''} | batch ${line ?? 'sent'}`);
      assert.equal(line === undefined, serverOk, `${name}: the server and report batch disagree\n${answers.at(-1)}`);
      if (serverOk) accepted++;
      if (reader) {
        assert.equal(server.status, 400, `${name}: the reader refused it: ${reader.message}`);
        assert.equal(server.json.code, 'invalid_argument');
        assert.ok(server.json.message?.endsWith(reader.detail), `${name}: ${server.json.message}`);
        // The batch line has "method" added, so a syntax error is some characters further on.
        const at = / at character \d+$/;
        assert.equal(line?.replace(at, ''), reader.message.replace(at, ''), name);
      }
    }
    // Both answers occur: the table is not all-refused or all-accepted.
    assert.ok(accepted >= 4 && accepted <= CASES.length - 10, answers.join('\n'));
    assert.equal(batch.code, 1, batch.stderr);
    assert.match(
      batch.stderr,
      new RegExp(`batch: ${accepted + 1} sent, 0 refused, ${CASES.length - accepted} malformed`),
    );
  });
});
