// The README walkthrough's task, reported over HTTP as its curl commands do:
// STARTED, the app's git checkout, app.tar's digest, UPLOAD_COMPLETE.
import assert from 'node:assert/strict';

export async function reportReadmeTask(
  reportUrl: string,
  token: string,
  taskId: string,
  digest: string,
): Promise<void> {
  const report = async (method: string, body: unknown) => {
    const res = await fetch(`${reportUrl}/provenance.snooperpb.SelfReport/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-task-id': taskId, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, `${method}: ${await res.text()}`);
  };
  await report('ReportTaskStage', { taskStage: 'STARTED', recipe: 'cloudbuild.yaml', pid: '4242' });
  await report('ReportGit', {
    gitReport: {
      repo: 'https://github.com/example/app',
      commit: '0123456789abcdef0123456789abcdef01234567',
      refs: 'refs/heads/main',
    },
  });
  await report('ReportArtifactDigest', { artifact: { gcs: 'gs://example-bucket/app.tar' }, digest });
  await report('ReportTaskStage', { taskStage: 'UPLOAD_COMPLETE' });
}
