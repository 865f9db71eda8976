// The function source really builds and runs, the way Cloud Functions'
// Node.js buildpack treats it: `npm run package`'s archive is unpacked into an
// empty folder, installed with `npm ci` (production dependencies, as the
// buildpack does; `gcp-build` would run too if package.json had one), and each
// of the four functions is started from there with the functions-framework
// binary the archive installed, on this Node (24), against the Firestore
// emulator: a report, a CloudEvent, a read. Nothing of the repository's own
// node_modules or dist is in reach of that folder.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { unzipSync } from 'fflate';
import { DevIssuer, DEV_ISSUER, DEV_DEFAULT_EMAIL } from '../../functions/adapters/dev-issuer.js';
import { taskKey } from '../../functions/domain/task.js';
import { freePort } from '../../functions/local/emulators.js';
import { requireEmulator } from '../helpers/emulator-env.js';
import { deliverCloudEvent, pubSubMessage } from '../helpers/cloud-events.js';

const run = promisify(execFile);
const root = join(__dirname, '..', '..', '..');
const AUDIENCE = 'https://provenance.test';
const FUNCTIONS = [
  ['selfReport', 'http'],
  ['assembleProvenance', 'cloudevent'],
  ['provenanceApi', 'http'],
  ['expireTasks', 'cloudevent'],
] as const;

describe('the function source, built as the buildpack builds it', () => {
  let dir: string;
  const urls: Record<string, string> = {};
  const children: ChildProcess[] = [];
  let devDir: string;

  before(async () => {
    const firestore = requireEmulator('FIRESTORE_EMULATOR_HOST');
    const work = mkdtempSync(join(tmpdir(), 'function-source-'));
    const zip = join(work, 'function-source.zip');
    await run(process.execPath, [join(root, 'scripts', 'package-functions.js'), zip]);
    dir = join(work, 'workspace');
    for (const [name, bytes] of Object.entries(unzipSync(readFileSync(zip)))) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), bytes);
    }
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      main: string;
    };
    await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts=false'], {
      cwd: dir,
      env: { ...process.env, NODE_ENV: 'production' },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (pkg.scripts['gcp-build']) await run('npm', ['run', 'gcp-build'], { cwd: dir });

    devDir = mkdtempSync(join(tmpdir(), 'function-source-dev-'));
    const env = {
      PATH: process.env.PATH,
      HOME: work,
      FIRESTORE_EMULATOR_HOST: firestore,
      GOOGLE_CLOUD_PROJECT: `source-${process.pid}`,
      AUTH_MODE: 'dev',
      DEV_ISSUER_DIR: devDir,
      AUDIENCE,
      REPORTER_ALLOWLIST: DEV_DEFAULT_EMAIL,
      READ_ACCESS: 'public',
      EVENTS: 'none',
      METADATA_SERVER_DETECTION: 'none',
    };
    const ff = join(dir, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js');
    await Promise.all(
      FUNCTIONS.map(async ([target, signature]) => {
        const port = await freePort();
        // The sweep republishes through Pub/Sub (the emulator: with nothing due it publishes nothing).
        const own =
          target === 'expireTasks'
            ? { EVENTS: 'pubsub', PUBSUB_EMULATOR_HOST: requireEmulator('PUBSUB_EMULATOR_HOST') }
            : {};
        const child = spawn(
          process.execPath,
          [ff, `--target=${target}`, `--signature-type=${signature}`, `--port=${port}`],
          { cwd: dir, env: { ...env, ...own }, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        children.push(child);
        let log = '';
        child.stdout!.on('data', (b: Buffer) => (log += b));
        child.stderr!.on('data', (b: Buffer) => (log += b));
        const url = `http://127.0.0.1:${port}`;
        // A time budget, not a count of tries: four cold processes start at once on two cores.
        const until = Date.now() + 60_000;
        for (;;) {
          if (child.exitCode !== null) throw new Error(`${target} exited: ${log}`);
          try {
            await fetch(url, { signal: AbortSignal.timeout(500) });
            break;
          } catch {
            if (Date.now() > until) throw new Error(`${target} did not listen: ${log}`);
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        urls[target] = url;
      }),
    );
  });
  after(() => {
    for (const c of children) c.kill('SIGTERM');
  });

  it('holds only the compiled functions and the lock file: nothing of the repository leaks in', () => {
    assert.ok(existsSync(join(dir, 'dist', 'functions', 'index.js')));
    for (const absent of [
      'dist/test',
      'dist/bench',
      'dist/functions/cli',
      'dist/functions/local',
      'bin',
      'test',
      'functions',
      'tsconfig.json',
    ]) {
      assert.ok(!existsSync(join(dir, absent)), `${absent} is in the archive`);
    }
    const req = createRequire(join(dir, 'package.json'));
    for (const mod of ['@google-cloud/functions-framework', '@google-cloud/firestore', '@bufbuild/protobuf']) {
      assert.ok(realpathSync(req.resolve(mod)).startsWith(realpathSync(dir)), `${mod} resolves outside the folder`);
    }
    assert.ok(!existsSync(join(dir, 'node_modules', 'typescript')), 'dev dependencies are not installed');
  });

  it('serves a report, a CloudEvent and a read from the installed folder', async () => {
    const token = DevIssuer.fromDirectory(devDir).mint({ audience: AUDIENCE, email: DEV_DEFAULT_EMAIL });
    const post = (method: string, body: object) =>
      fetch(`${urls.selfReport}/provenance.snooperpb.SelfReport/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-task-id': 'packaged-1' },
        body: JSON.stringify(body),
      });
    assert.equal(
      (await post('ReportTaskStage', { taskStage: 'STARTED', recipe: 'cloudbuild.yaml', pid: '1' })).status,
      200,
    );
    assert.equal(
      (await post('ReportArtifactDigest', { digest: 'ab'.repeat(32), artifact: { gcs: 'gs://out/app.tar' } })).status,
      200,
    );
    assert.equal((await post('ReportTaskStage', { taskStage: 'UPLOAD_COMPLETE' })).status, 200);

    const key = taskKey(
      { issuer: DEV_ISSUER, subject: DevIssuer.fromDirectory(devDir).subjectFor(DEV_DEFAULT_EMAIL) },
      'packaged-1',
    );
    const status = await deliverCloudEvent(urls.assembleProvenance!, pubSubMessage({ taskKey: key }));
    assert.ok(status >= 200 && status < 300, `assembleProvenance answered ${status}`);

    const read = await fetch(`${urls.provenanceApi}/v1/tasks/packaged-1?reporter=${DEV_DEFAULT_EMAIL}`);
    assert.equal(read.status, 200);
    assert.equal(((await read.json()) as { provenance: { state: string } }).provenance.state, 'signed');
    assert.equal((await fetch(`${urls.provenanceApi}/v1/artifacts/sha256:${'ab'.repeat(32)}/provenance`)).status, 200);
    // The pages for people ship in the archive and are served with their CSP.
    const page = await fetch(`${urls.provenanceApi}/ui/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await page.text(), /assets\/app\.js/);
    assert.equal((await fetch(`${urls.provenanceApi}/ui/assets/app.js`)).status, 200);

    const sweep = await deliverCloudEvent(urls.expireTasks!, pubSubMessage({}));
    assert.ok(sweep >= 200 && sweep < 300, `expireTasks answered ${sweep}`);
  });
});
