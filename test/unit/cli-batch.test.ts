// `provenance report batch` input: JSON lines → batch items, a bad line kept
// as an item with its line number and why, so the summary can count it.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { batchItems } from '../../functions/cli/step-commands.js';

it('reads JSON lines into batch items, naming the line and the problem of each bad one', () => {
  const text = ['{"method": "ReportGit", "gitReport": {"repo": "https://github.com/example/app"}}', '', 'not json', '[1]', '{"method": "ReportNothing"}', '{"gcsReport": {}}'].join('\n');
  assert.deepEqual(batchItems(text), [
    { line: 1, method: 'ReportGit', body: { gitReport: { repo: 'https://github.com/example/app' } } },
    { line: 3, error: 'not JSON' },
    { line: 4, error: 'not a JSON object' },
    { line: 5, error: '"method" must be one of ReportTaskStage, ReportGit, ReportCipd, ReportGcs, ReportArtifactDigest, ReportPID' },
    { line: 6, error: '"method" must be one of ReportTaskStage, ReportGit, ReportCipd, ReportGcs, ReportArtifactDigest, ReportPID' },
  ]);
});
