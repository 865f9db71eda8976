// The CLI's JSON-lines inputs: `report batch` (a bad line kept as an item
// with its line number and why, so the summary can count it) and the
// step-outputs folder of `collect` (every problem as file:line: reason).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchItems } from '../../functions/cli/commands/report/batch.js';
import { collectOutputs, MAX_OUTPUTS_FILE_BYTES } from '../../functions/cli/collect.js';

it('reads JSON lines into batch items, naming the line and the problem of each bad one', () => {
  const text = [
    '{"method": "ReportGit", "gitReport": {"repo": "https://github.com/example/app"}}',
    '',
    'not json',
    '[1]',
    '{"method": "ReportNothing"}',
    '{"gcsReport": {}}',
  ].join('\n');
  assert.deepEqual(batchItems(text), [
    { line: 1, method: 'ReportGit', body: { gitReport: { repo: 'https://github.com/example/app' } } },
    { line: 3, error: 'not JSON: expected a JSON value at character 1' },
    { line: 4, error: 'not a JSON object' },
    {
      line: 5,
      error:
        '"method" must be one of ReportTaskStage, ReportGit, ReportCipd, ReportGcs, ReportArtifactDigest, ReportPID',
    },
    {
      line: 6,
      error:
        '"method" must be one of ReportTaskStage, ReportGit, ReportCipd, ReportGcs, ReportArtifactDigest, ReportPID',
    },
  ]);
});

it("collects outputs lines, keeping each file's own line numbers across blank lines", () => {
  const dir = mkdtempSync(join(tmpdir(), 'outputs-'));
  const digest = `sha256:${'ab'.repeat(32)}`;
  writeFileSync(
    join(dir, 'a.jsonl'),
    `\n{"gcs": "gs://my-bucket/o.tar", "digest": "${digest}"}\n\n["gcs"]\n{"image": "r.example/app", "gcs": "gs://b/x", "digest": "${digest}"}\n`,
  );
  writeFileSync(join(dir, 'b.jsonl'), `{oops\n{"image": "r.example/app:1", "digest": "${digest}"}\n`);
  const found = collectOutputs(dir);
  assert.ok(!('missing' in found));
  assert.deepEqual(found.problems, [
    `${dir}/a.jsonl:4: not a JSON object`,
    `${dir}/a.jsonl:5: needs exactly one of "image", "gcs" or "cipd"`,
    `${dir}/b.jsonl:1: not JSON: expected a key (a string) at character 2`,
  ]);
  assert.deepEqual(
    found.items.map((i) => [i.line, i.method, i.body]),
    [
      [1, 'ReportArtifactDigest', { digest, artifact: { gcs: 'gs://my-bucket/o.tar' } }],
      [2, 'ReportArtifactDigest', { digest, artifact: { oci: { image: 'r.example/app', tag: '1' } } }],
    ],
  );
});

it('reads batch lines with the strict reader: a key twice, a BOM, invalid UTF-8, 2^53 + 1 are each a bad line', () => {
  const gcs = `"gcsReport": {"gcsUri": "gs://b/o", "digest": "${'ab'.repeat(32)}"}`;
  const text = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(`{"method": "ReportGcs", ${gcs}}\n`),
    Buffer.from(`{"method": "ReportGcs", ${gcs}, ${gcs}}\n`),
    Buffer.from('{"method": "ReportGcs", "gcsReport": {"gcsUri": "gs://b/'),
    Buffer.from([0xfe]),
    Buffer.from('"}}\r\n'),
    Buffer.from('{"method": "ReportPID", "pid": 9007199254740993, "reporter": "/r"}\n'),
    Buffer.from(`{"method": "ReportGcs", ${gcs}}\r\n`),
  ]);
  assert.deepEqual(
    batchItems(text).map((i) => [i.line, i.error ?? i.method]),
    [
      [1, 'starts with a byte order mark (U+FEFF): send UTF-8 without one'],
      [2, 'gcsReport: the key appears twice in one object'],
      [3, 'not valid UTF-8'],
      [4, 'pid: 9007199254740993 is beyond ±(2^53 − 1) and cannot be read exactly: send it as a decimal string'],
      [5, 'ReportGcs'],
    ],
  );
});

it('collect: an entry that cannot be read is path: reason, and never hides the files beside it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outputs-'));
  const outside = mkdtempSync(join(tmpdir(), 'outside-'));
  const digest = `sha256:${'cd'.repeat(32)}`;
  writeFileSync(join(dir, 'a.jsonl'), `{"gcs": "gs://my-bucket/a.tar", "digest": "${digest}"}\n`);
  writeFileSync(join(outside, 'stolen.jsonl'), `{"gcs": "gs://my-bucket/elsewhere.tar", "digest": "${digest}"}\n`);
  writeFileSync(join(dir, 'z.jsonl'), `{"gcs": "gs://my-bucket/z.tar", "digest": "${digest}"}\n`);
  symlinkSync(join(dir, 'gone.jsonl'), join(dir, 'dangling.jsonl'));
  symlinkSync(join(outside, 'stolen.jsonl'), join(dir, 'out.jsonl'));
  symlinkSync('a.jsonl', join(dir, 'inside.jsonl'));
  mkdirSync(join(dir, 'sub.jsonl'));
  execFileSync('mkfifo', [join(dir, 'pipe.jsonl')]);
  writeFileSync(join(dir, 'big.jsonl'), '');
  truncateSync(join(dir, 'big.jsonl'), MAX_OUTPUTS_FILE_BYTES + 1); // sparse: no disk used
  const found = collectOutputs(dir);
  assert.ok(!('missing' in found));
  assert.deepEqual(found.unreadable, [
    `${dir}/big.jsonl: ${MAX_OUTPUTS_FILE_BYTES + 1} bytes, more than an outputs list may hold (${MAX_OUTPUTS_FILE_BYTES})`,
    `${dir}/dangling.jsonl: a dangling symbolic link`,
    `${dir}/out.jsonl: a symbolic link out of the folder (to ${realpathSync(outside)}/stolen.jsonl)`,
    `${dir}/pipe.jsonl: not a regular file (a FIFO)`,
    `${dir}/sub.jsonl: a directory, not a file`,
  ]);
  assert.deepEqual(found.problems, []);
  assert.equal(found.files, 3);
  assert.deepEqual(
    found.items.map((i) => (i.body as { artifact: { gcs: string } }).artifact.gcs),
    ['gs://my-bucket/a.tar', 'gs://my-bucket/a.tar', 'gs://my-bucket/z.tar'],
  );
});

it('collect: a file without read permission is path: reason (run as nobody when the tests run as root)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outputs-'));
  chmodSync(dir, 0o755);
  const digest = `sha256:${'cd'.repeat(32)}`;
  writeFileSync(join(dir, 'a.jsonl'), `{"gcs": "gs://my-bucket/a.tar", "digest": "${digest}"}\n`, { mode: 0o644 });
  writeFileSync(join(dir, 'secret.jsonl'), '{}\n', { mode: 0o000 });
  chmodSync(join(dir, 'secret.jsonl'), 0o000);
  // Root reads any file whatever its mode: the check runs as nobody (setpriv, util-linux) then.
  const script = `const c = require(${JSON.stringify(require.resolve('../../functions/cli/collect.js'))}).collectOutputs(${JSON.stringify(dir)}); process.stdout.write(JSON.stringify({ unreadable: c.unreadable, files: c.files, items: c.items.length }))`;
  const argv = [process.execPath, '-e', script];
  const asRoot = process.getuid?.() === 0;
  const out = asRoot
    ? execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', ...argv], { encoding: 'utf8' })
    : execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), {
    unreadable: [`${dir}/secret.jsonl: cannot be read: permission denied`],
    files: 1,
    items: 1,
  });
});

it('collect: names from the folder are printed with control characters escaped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outputs-'));
  writeFileSync(join(dir, 'evil\u001b[2J\n.jsonl'), 'nope\n');
  const found = collectOutputs(dir);
  assert.ok(!('missing' in found));
  assert.deepEqual(found.problems, [
    `${dir}/evil\\u{1b}[2J\\u{a}.jsonl:1: not JSON: expected a JSON value at character 1`,
  ]);
});
