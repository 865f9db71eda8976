// PUBLISH_TO=oci against a real registry on loopback (Debian's docker-registry,
// which has no Referrers API, so the sha256-<digest> referrers tag is what
// finds the attestation): a pushed image reported as an artifact gets, after
// UPLOAD_COMPLETE, an OCI 1.1 artifact whose subject is its manifest and whose
// one layer is the task's Sigstore bundle, byte for byte as the read API
// serves it. Also: an image on a registry off OCI_REGISTRIES is skipped and
// its (listening) server sees no connection; a registry that accepts and never
// answers has its socket closed at the deadline; with the registry down,
// signing still succeeds, the failure is recorded and announced, and the
// sweep publishes later, once, however many sweeps run and however often.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { BUNDLE_ARTIFACT_TYPE, OciSink } from '../../functions/adapters/publish/oci-sink.js';
import { parseOciRule } from '../../functions/domain/oci-allowlist.js';
import type { SignedProvenance } from '../../functions/ports/publisher.js';
import { captureLogs } from '../helpers/capture-logs.js';
import { type LocalService, publicationSweeper, startLocalService } from '../helpers/local-service.js';
import { pushImage, startRegistry, type RunningRegistry } from '../helpers/registry.js';

const DEADLINE_SECONDS = 2;

/** A loopback TCP server that records connections and closes, and never answers. */
async function silentServer(): Promise<{
  host: string;
  server: NetServer;
  connections: number;
  closed: Promise<void>;
}> {
  let connections = 0;
  let onClose: () => void = () => undefined;
  const closed = new Promise<void>((r) => {
    onClose = r;
  });
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    connections++;
    sockets.push(socket);
    socket.on('data', () => undefined); // read the request, answer nothing
    socket.on('close', () => onClose());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  return {
    host: `127.0.0.1:${port}`,
    server,
    get connections() {
      return connections;
    },
    closed,
  };
}

describe('publishing provenance to OCI images (docker-registry on loopback)', () => {
  let registry: RunningRegistry;
  let offList: Awaited<ReturnType<typeof silentServer>>;
  let hanging: Awaited<ReturnType<typeof silentServer>>;
  let service: LocalService;

  before(async () => {
    registry = await startRegistry();
    offList = await silentServer();
    hanging = await silentServer();
    service = await startLocalService({
      PUBLISH_TO: 'oci',
      // The registry, and the never-answering server under one repository prefix only.
      OCI_REGISTRIES: `${registry.host},${hanging.host}/slow`,
      PUBLISH_DEADLINE_SECONDS: String(DEADLINE_SECONDS),
      BACKEND_DEADLINE_SECONDS: '5',
    });
  });
  after(async () => {
    await service.close();
    offList.server.close();
    hanging.server.close();
    await registry.stop();
  });

  const build = (taskId: string, images: { image: string; digest: string }[]) =>
    service.build(
      taskId,
      images.map(({ image, digest }) => ({ digest, artifact: { oci: { image, tag: 'v1' } } })),
    );
  const status = (taskId: string) => service.published(taskId);

  async function referrers(name: string, digest: string): Promise<{ digest: string; artifactType: string }[]> {
    const res = await fetch(`http://${registry.host}/v2/${name}/manifests/${digest.replace(':', '-')}`, {
      headers: { accept: 'application/vnd.oci.image.index.v1+json' },
    });
    if (res.status === 404) return [];
    return ((await res.json()) as { manifests: { digest: string; artifactType: string }[] }).manifests;
  }

  async function referrerLayer(
    name: string,
    digest: string,
  ): Promise<{ artifactType: string; subject: string; layer: Buffer }> {
    const base = `http://${registry.host}/v2/${name}`;
    const index = await referrers(name, digest);
    assert.equal(index.length, 1);
    const manifest = (await (
      await fetch(`${base}/manifests/${index[0]!.digest}`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      })
    ).json()) as { artifactType: string; subject: { digest: string }; layers: { digest: string; mediaType: string }[] };
    const layer = Buffer.from(await (await fetch(`${base}/blobs/${manifest.layers[0]!.digest}`)).arrayBuffer());
    return { artifactType: manifest.artifactType, subject: manifest.subject.digest, layer };
  }

  it('publishes the bundle as an artifact whose subject is the image, byte for byte as served', async () => {
    const digest = await pushImage(registry.host, 'apps/app', 'v1');
    await build('oci-1', [{ image: `${registry.host}/apps/app`, digest }]);
    const s = await status('oci-1');
    assert.deepEqual(
      s.provenance.publications!.map((p) => [p.sink, p.target, p.state]),
      [['oci', `${registry.host}/apps/app@${digest}`, 'published']],
    );
    const found = await referrerLayer('apps/app', digest);
    assert.equal(found.subject, digest);
    assert.equal(found.artifactType, BUNDLE_ARTIFACT_TYPE);
    const served = await service.served('oci-1', 'bundle');
    assert.equal(found.layer.toString(), served);
  });

  it('skips an image on a registry off OCI_REGISTRIES: its server sees no connection; a listed one is published', async () => {
    const digest = await pushImage(registry.host, 'apps/listed', 'v1');
    const offDigest = `sha256:${'e'.repeat(64)}`;
    const outsidePrefix = `sha256:${'d'.repeat(64)}`;
    await build('oci-off', [
      { image: `${offList.host}/apps/app`, digest: offDigest },
      { image: `${hanging.host}/fast/app`, digest: outsidePrefix }, // listed host, repository outside its prefix
      { image: `${registry.host}/apps/listed`, digest },
    ]);
    const s = await status('oci-off');
    const byTarget = new Map(s.provenance.publications!.map((p) => [p.target, p]));
    const off = byTarget.get(`${offList.host}/apps/app@${offDigest}`);
    assert.equal(off?.state, 'skipped');
    assert.match(off?.error ?? '', /is not on OCI_REGISTRIES/);
    assert.equal(byTarget.get(`${hanging.host}/fast/app@${outsidePrefix}`)?.state, 'skipped');
    assert.equal(byTarget.get(`${registry.host}/apps/listed@${digest}`)?.state, 'published');
    assert.equal(offList.connections, 0, 'no request to the registry off the allowlist');
    assert.equal(hanging.connections, 0, 'no request to a repository outside the prefix');
  });

  it('closes the socket of a registry that never answers at the deadline, and records the timeout', async () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    await build('oci-hang', [{ image: `${hanging.host}/slow/app`, digest }]);
    // The server observes the close (an event, not a timing): within this test's own bounded wait.
    const bound = new Promise<string>((r) => setTimeout(() => r('still open'), DEADLINE_SECONDS * 1000 + 10_000));
    assert.equal(await Promise.race([hanging.closed.then(() => 'closed'), bound]), 'closed');
    assert.equal(hanging.connections, 1);
    const s = await status('oci-hang');
    const [p] = s.provenance.publications!;
    assert.equal(p?.state, 'failed');
    assert.match(p?.error ?? '', new RegExp(`no answer within the ${DEADLINE_SECONDS}s deadline`));
  });

  it('never fails signing when the registry is down; the sweep publishes later, once across retries and concurrent sweeps', async () => {
    const digest = await pushImage(registry.host, 'apps/later', 'v1');
    await registry.stop();
    const logs = captureLogs();
    try {
      await build('oci-2', [{ image: `${registry.host}/apps/later`, digest }]);
      const s = await status('oci-2');
      assert.equal(s.provenance.state, 'signed');
      assert.equal(s.provenance.publications![0]!.state, 'failed');
      assert.ok(s.provenance.publications![0]!.error);
    } finally {
      logs.restore();
    }
    const events = logs.lines().filter((l) => l.includes('provenance.publish_failed'));
    assert.ok(events.length > 0, 'the event is announced');
    await registry.restart();

    // Two sweeps at once over the same stores, through a sink that counts publish() calls.
    let published = 0;
    const real = new OciSink([parseOciRule(registry.host), parseOciRule(`${hanging.host}/slow`)]);
    const counting = {
      name: 'oci' as const,
      refuses: (t: string) => real.refuses(t),
      publish: async (t: string, p: SignedProvenance, signal: AbortSignal) => {
        published++;
        return real.publish(t, p, signal);
      },
    };
    // A cold, just restarted registry: the deadline is not under test here.
    const sweeper = () => publicationSweeper(service, [counting], 5000);
    const [a, b] = await Promise.all([sweeper().sweep(), sweeper().sweep()]);
    // oci-2 and oci-hang have failed publications; each is retried by one sweep only.
    assert.equal(a.publicationsRetried + b.publicationsRetried, 2);
    assert.equal(a.publicationsRecovered + b.publicationsRecovered, 1);
    assert.equal(published, 2, 'each failed target published by one sweep');
    const after = await status('oci-2');
    assert.equal(after.provenance.publications![0]!.state, 'published');
    assert.equal((await referrerLayer('apps/later', digest)).subject, digest);
  });

  it('publishing the same provenance again finds it and adds no second referrer', async () => {
    const digest = await pushImage(registry.host, 'apps/again', 'v1');
    await build('oci-3', [{ image: `${registry.host}/apps/again`, digest }]);
    assert.equal((await status('oci-3')).provenance.publications![0]!.state, 'published');
    const bundleJson = await service.served('oci-3', 'bundle');
    const requests: string[] = [];
    const sink = new OciSink([parseOciRule(registry.host)], { onRequest: (m, u) => requests.push(`${m} ${u}`) });
    const provenance: SignedProvenance = {
      taskId: 'oci-3',
      keyId: 'k',
      envelopeJson: '{}',
      envelopeSha256: '',
      bundleJson,
    };
    const target = `${registry.host}/apps/again@${digest}`;
    assert.equal(await sink.publish(target, provenance, AbortSignal.timeout(5000)), 'already-published');
    assert.ok(
      requests.every((r) => r.startsWith('GET ') || r.startsWith('HEAD ')),
      `only reads: ${requests.join(', ')}`,
    );
    assert.equal((await referrers('apps/again', digest)).length, 1);
  });
});
