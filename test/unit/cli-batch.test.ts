// The CLI's JSON-lines inputs: `report batch` (a bad line kept as an item
// with its line number and why, so the summary can count it) and the
// step-outputs folder of `collect` (every problem as file:line: reason).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchItems } from '../../functions/cli/step-commands.js';
import { collectOutputs } from '../../functions/cli/collect.js';

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
    { line: 3, error: 'not JSON' },
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
    `${dir}/b.jsonl:1: not JSON`,
  ]);
  assert.deepEqual(
    found.items.map((i) => [i.line, i.method, i.body]),
    [
      [1, 'ReportArtifactDigest', { digest, artifact: { gcs: 'gs://my-bucket/o.tar' } }],
      [2, 'ReportArtifactDigest', { digest, artifact: { oci: { image: 'r.example/app', tag: '1' } } }],
    ],
  );
});
