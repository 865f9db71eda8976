// The deployed shape: the `selfReport` entry module under functions-framework's
// own test server, over real HTTP, on the Firestore emulator. Also `buf curl`
// (from @bufbuild/buf) as an independent Connect client, in JSON and binary.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { Firestore } from '@google-cloud/firestore';
import { DevIssuer } from '../../functions/adapters/dev-issuer.js';
import { requireEmulator } from '../helpers/emulator-env.js';
import { serveEntry } from '../helpers/entry-server.js';
import { firestoreOps, installFirestoreOpCounter } from '../helpers/firestore-ops.js';

const run = promisify(execFile);
const root = join(__dirname, '..', '..', '..');
const SHA = 'd'.repeat(64);

describe('selfReport over HTTP (functions-framework, Firestore emulator)', () => {
  let server: Server;
  let url: string;
  let issuer: DevIssuer;
  let db: Firestore;
  const projectId = `it-${process.pid}`;

  before(async () => {
    requireEmulator('FIRESTORE_EMULATOR_HOST');
    installFirestoreOpCounter();
    const devDir = mkdtempSync(join(tmpdir(), 'dev-issuer-'));
    Object.assign(process.env, {
      AUTH_MODE: 'dev',
      DEV_ISSUER_DIR: devDir,
      TASK_STORE: 'firestore',
      GOOGLE_CLOUD_PROJECT: projectId,
      AUDIENCE: 'http://provenance.test',
      REPORTER_ALLOWLIST: 'builder@example.com',
    });
    issuer = DevIssuer.fromDirectory(devDir);
    const entry = await serveEntry('selfReport', () => import('../../functions/entry/self-report.js'));
    server = entry.server;
    url = entry.url;
    db = new Firestore({ projectId });
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    await db.terminate();
  });

  const token = (email = 'builder@example.com') => issuer.mint({ audience: 'http://provenance.test', email });
  const post = (method: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}/provenance.snooperpb.SelfReport/${method}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token()}`,
        'x-task-id': 'it-build-1',
        ...headers,
      },
      body: JSON.stringify(body),
    });
  const tasksFor = async (taskId: string) => (await db.collection('tasks').where('taskId', '==', taskId).get()).docs;

  it('starts a task and stores a git report; the report costs one write and no reads', async () => {
    const started = await post('ReportTaskStage', { taskStage: 'STARTED', recipe: 'cloudbuild.yaml', pid: '100' });
    assert.equal(started.status, 200);
    assert.deepEqual(await started.json(), {});
    const [task] = await tasksFor('it-build-1');
    assert.equal(task?.get('state'), 'STARTED');

    const before = { ...firestoreOps };
    const git = await post('ReportGit', {
      gitReport: { repo: 'https://github.com/example/repo', commit: 'a'.repeat(40), refs: 'refs/heads/main' },
    });
    assert.equal(git.status, 200);
    assert.deepEqual(
      { reads: firestoreOps.reads - before.reads, writes: firestoreOps.writes - before.writes },
      { reads: 0, writes: 1 },
    );
    const reports = await task!.ref.collection('reports').get();
    assert.equal(reports.size, 1);
    assert.equal(reports.docs[0]!.get('kind'), 'git');
    assert.ok(reports.docs[0]!.get('expireAt'), 'reports carry a TTL timestamp');
  });

  it('answers errors in Connect format over HTTP and writes nothing', async () => {
    const before = (await db.collection('tasks').get()).size;
    const noAuth = await fetch(`${url}/provenance.snooperpb.SelfReport/ReportGit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-task-id': 'x' },
      body: '{}',
    });
    assert.equal(noAuth.status, 401);
    assert.equal(((await noAuth.json()) as { code: string }).code, 'unauthenticated');
    const bad = await post(
      'ReportTaskStage',
      { taskStage: 'STARTED', recipe: 'r', pid: '1' },
      { authorization: `Bearer ${token('stranger@example.com')}`, 'x-task-id': 'it-other' },
    );
    assert.equal(bad.status, 403);
    const invalid = await post('ReportGcs', { gcsReport: { gcsUri: 'http://nope', digest: SHA } });
    assert.equal(invalid.status, 400);
    assert.match(((await invalid.json()) as { message: string }).message, /^gcs_report\.gcs_uri:/);
    assert.equal((await db.collection('tasks').get()).size, before);
  });

  // buf curl always puts binary protobuf on the wire (its --data is JSON that it
  // encodes); the JSON wire format is exercised with plain curl, as the README does.
  /** One selfReport call with buf curl over the Connect protocol, from the repository's proto schema. */
  const bufCurl = (taskId: string, method: string, data: object, flags: string[] = []) =>
    run(
      join(root, 'node_modules', '.bin', 'buf'),
      [
        'curl',
        ...flags,
        '--schema',
        root,
        '--protocol',
        'connect',
        '-H',
        `Authorization: Bearer ${token()}`,
        '-H',
        `X-Task-Id: ${taskId}`,
        '--data',
        JSON.stringify(data),
        `${url}/provenance.snooperpb.SelfReport/${method}`,
      ],
      { cwd: root },
    );

  it('works with buf curl (binary on the wire) and curl (JSON on the wire) as clients', async () => {
    const started = await bufCurl(
      'it-buf-1',
      'ReportTaskStage',
      { taskStage: 'STARTED', recipe: 'cloudbuild.yaml', pid: 7 },
      ['-v'],
    );
    assert.equal(started.stdout.trim(), '{}');
    assert.match(started.stderr, /Content-Type: application\/proto/i);
    const artifact = await bufCurl(
      'it-buf-1',
      'ReportArtifactDigest',
      { digest: `sha256:${SHA}`, artifact: { gcs: 'gs://example-bucket/out/app.tar.gz' } },
      ['-v'],
    );
    assert.equal(artifact.stdout.trim(), '{}');
    const git = await run('curl', [
      '-sS',
      '-w',
      '\n%{http_code}',
      '-H',
      'Content-Type: application/json',
      '-H',
      `Authorization: Bearer ${token()}`,
      '-H',
      'X-Task-Id: it-buf-1',
      '-d',
      JSON.stringify({ gitReport: { repo: 'https://github.com/example/repo', commit: 'c'.repeat(40) } }),
      `${url}/provenance.snooperpb.SelfReport/ReportGit`,
    ]);
    assert.deepEqual(git.stdout.trim().split('\n'), ['{}', '200']);
    const [task] = await tasksFor('it-buf-1');
    const reports = await task!.ref.collection('reports').get();
    assert.deepEqual(reports.docs.map((d) => d.get('kind')).sort(), ['artifact', 'git']);
    assert.deepEqual(
      reports.docs.filter((d) => d.get('kind') === 'artifact').map((d) => d.get('report.sha256')),
      [SHA],
    );
  });

  it('buf curl surfaces a Connect error code from the server', async () => {
    const res: { stderr?: string } = await bufCurl('it-buf-2', 'ReportGit', {
      gitReport: { repo: 'ftp://x', commit: 'a'.repeat(40) },
    }).catch((e) => e);
    assert.match(String(res.stderr), /invalid_argument/);
    assert.match(String(res.stderr), /git_report\.repo/);
  });
});
