// The single-file CLI a Cloud Build step runs with nothing installed
// (`node provenance.cjs …` on the node:24 image): built here with
// scripts/bundle-cli.js into an empty folder, run from there (no
// node_modules in reach), against the local server.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../functions/config.js';
import { localRoutes } from '../../functions/local/routes.js';
import { listen, localServer } from '../../functions/local/server.js';
import { DEV_DEFAULT_EMAIL } from '../../functions/adapters/dev-issuer.js';

const root = join(__dirname, '..', '..', '..');

it('builds into one file that reports and runs with no node_modules in reach', async () => {
  const out = mkdtempSync(join(tmpdir(), 'bundle-'));
  const bundle = join(out, 'provenance.cjs');
  execFileSync(process.execPath, [join(root, 'scripts', 'bundle-cli.js'), bundle], { encoding: 'utf8' });
  assert.ok(!existsSync(join(out, 'node_modules')));
  const devDir = mkdtempSync(join(tmpdir(), 'bundle-dev-'));
  const routes = await localRoutes(
    loadConfig({
      AUTH_MODE: 'dev',
      DEV_ISSUER_DIR: devDir,
      TASK_STORE: 'memory',
      EVENTS: 'none',
      AUDIENCE: 'https://provenance.test',
    }),
  );
  const server = localServer(routes.routes);
  const url = (await listen(server, 0)).replace('localhost', '127.0.0.1');
  try {
    const env = {
      PATH: process.env.PATH,
      HOME: out,
      PROVENANCE_URL: url,
      PROVENANCE_AUDIENCE: 'https://provenance.test',
      DEV_ISSUER_DIR: devDir,
      PROVENANCE_TASK_ID: 'bundled-1',
    };
    // Asynchronous: the server answering it lives in this process.
    const node = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await promisify(execFile)(process.execPath, [bundle, ...args], {
          cwd: out,
          env,
          encoding: 'utf8',
        });
        return { status: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { status: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    };
    assert.match((await node('--version')).stdout.trim(), /^\d+\.\d+\.\d+$/);
    const run = await node(
      'run',
      '--',
      process.execPath,
      bundle,
      'report',
      'gcs',
      '--uri',
      'gs://deps/lib.tar',
      '--digest',
      'ab'.repeat(32),
    );
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '', 'no warning: every report was delivered');
    const [task] = await routes.stores.tasks.findTasks('bundled-1', DEV_DEFAULT_EMAIL);
    assert.equal(task?.state, 'COMPLETE');
    assert.equal((await routes.stores.tasks.listReports(task!.key)).length, 1);
  } finally {
    server.close();
  }
});
