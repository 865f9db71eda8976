// OCI_ATTACH against a real registry on loopback (Debian's docker-registry,
// which has no Referrers API, so the sha256-<digest> referrers tag is what
// finds the attestation): a pushed image reported as an artifact gets, after
// UPLOAD_COMPLETE, an OCI 1.1 artifact whose subject is its manifest and whose
// one layer is the task's Sigstore bundle, byte for byte as the read API
// serves it. With the registry down, signing still succeeds, the failure is
// recorded and announced, and the sweep's recovery pass attaches it later.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { loadConfig } from '../../functions/config.js';
import { localRoutes } from '../../functions/local/routes.js';
import { listen, localServer } from '../../functions/local/server.js';
import { DevIssuer, DEV_DEFAULT_EMAIL } from '../../functions/adapters/dev-issuer.js';
import { BUNDLE_ARTIFACT_TYPE } from '../../functions/adapters/oci-attacher.js';
import { captureLogs } from '../helpers/capture-logs.js';
import { pushImage, startRegistry, type RunningRegistry } from '../helpers/registry.js';

const AUDIENCE = 'https://provenance.test';

describe('attaching provenance to OCI images (docker-registry on loopback)', () => {
  let registry: RunningRegistry;
  let server: Server;
  let url: string;
  let token: string;
  let routes: Awaited<ReturnType<typeof localRoutes>>;

  before(async () => {
    registry = await startRegistry();
    const dir = mkdtempSync(join(tmpdir(), 'oci-'));
    routes = await localRoutes(
      loadConfig({
        AUTH_MODE: 'dev',
        DEV_ISSUER_DIR: dir,
        TASK_STORE: 'memory',
        EVENTS: 'in-process',
        AUDIENCE,
        READ_ACCESS: 'public',
        OCI_ATTACH: 'true',
        BACKEND_DEADLINE_SECONDS: '5',
      }),
    );
    server = localServer(routes.routes);
    url = (await listen(server, 0)).replace('localhost', '127.0.0.1');
    token = DevIssuer.fromDirectory(dir).mint({ audience: AUDIENCE, email: DEV_DEFAULT_EMAIL });
  });
  after(async () => {
    server.close();
    await registry.stop();
  });

  const report = (taskId: string, method: string, body: object) =>
    fetch(`${url}/provenance.snooperpb.SelfReport/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-task-id': taskId },
      body: JSON.stringify(body),
    });

  async function build(taskId: string, image: string, digest: string): Promise<void> {
    assert.equal(
      (await report(taskId, 'ReportTaskStage', { taskStage: 'STARTED', recipe: 'r', pid: '1' })).status,
      200,
    );
    assert.equal(
      (await report(taskId, 'ReportArtifactDigest', { digest, artifact: { oci: { image, tag: 'v1' } } })).status,
      200,
    );
    assert.equal((await report(taskId, 'ReportTaskStage', { taskStage: 'UPLOAD_COMPLETE' })).status, 200);
  }

  async function status(taskId: string) {
    for (let i = 0; i < 100; i++) {
      const s = (await (await fetch(`${url}/v1/tasks/${taskId}?reporter=${DEV_DEFAULT_EMAIL}`)).json()) as {
        provenance: { state: string; attachments?: { image: string; state: string; error?: string }[] };
      };
      if (s.provenance.state === 'signed' && s.provenance.attachments) return s;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`task ${taskId} was not signed with attachments`);
  }

  async function referrerLayer(
    name: string,
    digest: string,
  ): Promise<{ artifactType: string; subject: string; layer: Buffer }> {
    const base = `http://${registry.host}/v2/${name}`;
    const index = (await (
      await fetch(`${base}/manifests/${digest.replace(':', '-')}`, {
        headers: { accept: 'application/vnd.oci.image.index.v1+json' },
      })
    ).json()) as { manifests: { digest: string; artifactType: string }[] };
    assert.equal(index.manifests.length, 1);
    const manifest = (await (
      await fetch(`${base}/manifests/${index.manifests[0]!.digest}`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      })
    ).json()) as { artifactType: string; subject: { digest: string }; layers: { digest: string; mediaType: string }[] };
    const layer = Buffer.from(await (await fetch(`${base}/blobs/${manifest.layers[0]!.digest}`)).arrayBuffer());
    return {
      artifactType: manifest.artifactType ?? manifest.layers[0]!.mediaType,
      subject: manifest.subject.digest,
      layer,
    };
  }

  it('attaches the bundle as an artifact whose subject is the image, byte for byte as served', async () => {
    const digest = await pushImage(registry.host, 'apps/app', 'v1');
    await build('oci-1', `${registry.host}/apps/app`, digest);
    const s = await status('oci-1');
    assert.deepEqual(
      s.provenance.attachments!.map((a) => [a.image, a.state]),
      [[`${registry.host}/apps/app@${digest}`, 'attached']],
    );
    const found = await referrerLayer('apps/app', digest);
    assert.equal(found.subject, digest);
    assert.equal(found.artifactType, BUNDLE_ARTIFACT_TYPE);
    const served = (await (await fetch(`${url}/v1/tasks/oci-1/bundle?reporter=${DEV_DEFAULT_EMAIL}`)).text()).trim();
    assert.equal(found.layer.toString(), served);
  });

  it('never fails signing when the registry is down: the failure is recorded and announced, and the sweep attaches later', async () => {
    const digest = await pushImage(registry.host, 'apps/later', 'v1');
    await registry.stop();
    const logs = captureLogs();
    try {
      await build('oci-2', `${registry.host}/apps/later`, digest);
      const s = await status('oci-2');
      assert.equal(s.provenance.state, 'signed');
      assert.equal(s.provenance.attachments![0]!.state, 'failed');
      assert.ok(s.provenance.attachments![0]!.error);
    } finally {
      logs.restore();
    }
    assert.ok(
      logs.lines().some((l) => l.includes('provenance.attach_failed')),
      'the event is announced',
    );
    await registry.restart();
    // The sweep's recovery pass, once the check is due.
    const { TaskSweeper } = await import('../../functions/lifecycle/sweep.js');
    const { OciAttacher } = await import('../../functions/adapters/oci-attacher.js');
    const { ManualClock } = await import('../helpers/manual-clock.js');
    const sweeper = new TaskSweeper({
      tasks: routes.stores.tasks,
      provenance: routes.stores.provenance,
      uploadComplete: { publishUploadComplete: async () => undefined },
      notifier: { notify: async () => undefined },
      clock: new ManualClock(new Date(Date.now() + 3_600_000)),
      heartbeatTtlSeconds: 86_400,
      recoveryGraceMs: 300_000,
      maxRecoveryAttempts: 5,
      maxTasksPerRun: 100,
      attacher: new OciAttacher(async () => 'unused'),
    });
    const r = await sweeper.sweep();
    assert.equal(r.reattached, 1);
    const after = await status('oci-2');
    assert.equal(after.provenance.attachments![0]!.state, 'attached');
    assert.equal((await referrerLayer('apps/later', digest)).subject, digest);
  });
});
