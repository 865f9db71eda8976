// PUBLISH_TO=gcs,cipd through the whole service (npm start's routes, memory
// stores): a task's GCS and CIPD artifacts get its provenance beside them, byte
// for byte what the read API serves, recorded per target in the task status.
// GCS is a local stand-in of the JSON API reached through STORAGE_EMULATOR_HOST
// and CIPD a local pRPC server from CIPD's proto (test/helpers): no real
// server of either can run here. Also: an off-list bucket is skipped with no
// request; `gcloud storage cat … | provenance verify --provenance -` as the
// docs show it; a squatted name is a recorded conflict, unchanged; a publication
// that failed is retried by the sweep, once across two concurrent sweeps.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { GcsSink } from '../../functions/adapters/publish/gcs-sink.js';
import { HashAlgo } from '../../functions/gen/cipd/cipd_pb.js';
import { CipdStandIn } from '../helpers/cipd-server.js';
import { GcsStandIn } from '../helpers/gcs-server.js';
import { type LocalService, publicationSweeper, startLocalService } from '../helpers/local-service.js';

const BUCKET = 'release-out';
const LATE_BUCKET = 'release-late'; // listed, but absent until the sweep test creates it
const OFF_BUCKET = 'not-listed';
const PKG = 'infra/tools/app/linux-amd64';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const instanceId = (hex: string) => Buffer.concat([Buffer.from(hex, 'hex'), Buffer.from([2])]).toString('base64url');

describe('publishing to GCS and CIPD through the service (local stand-ins)', () => {
  let gcs: GcsStandIn;
  let cipd: CipdStandIn;
  let service: LocalService;
  const savedEmulatorHost = process.env.STORAGE_EMULATOR_HOST;

  before(async () => {
    gcs = await GcsStandIn.start([BUCKET, OFF_BUCKET]);
    cipd = await CipdStandIn.start();
    process.env.STORAGE_EMULATOR_HOST = gcs.url; // how every Google client finds a local GCS
    service = await startLocalService({
      PUBLISH_TO: 'gcs,cipd',
      GCS_BUCKETS: `${BUCKET},${LATE_BUCKET}`,
      CIPD_HOSTS: cipd.host,
      CIPD_INSECURE_LOOPBACK: 'true',
      PUBLISH_DEADLINE_SECONDS: '5',
      BACKEND_DEADLINE_SECONDS: '5',
    });
  });
  after(async () => {
    if (savedEmulatorHost === undefined) delete process.env.STORAGE_EMULATOR_HOST;
    else process.env.STORAGE_EMULATOR_HOST = savedEmulatorHost;
    await service.close();
    await Promise.all([gcs.close(), cipd.close()]);
  });

  const build = (taskId: string, artifacts: { digest: string; artifact: object }[]) => service.build(taskId, artifacts);
  const status = (taskId: string) => service.published(taskId);
  const served = (taskId: string, what: 'provenance' | 'bundle') => service.served(taskId, what);

  it('puts the envelope and bundle beside a GCS artifact and on a CIPD instance, as served, verifiable from there', async () => {
    const app = sha256('app.tgz');
    const pkg = sha256('package');
    cipd.addInstance(PKG, { hashAlgo: HashAlgo.SHA256, hexDigest: pkg });
    await build('pub-1', [
      { digest: app, artifact: { gcs: `gs://${BUCKET}/app/1.0/app.tgz` } },
      { digest: sha256('off'), artifact: { gcs: `gs://${OFF_BUCKET}/app.tgz` } },
      { digest: pkg, artifact: { cipd: { packageName: PKG, instanceId: instanceId(pkg), host: cipd.host } } },
    ]);
    const s = await status('pub-1');
    const byTarget = new Map((s.provenance.publications ?? []).map((p) => [p.target, p]));
    assert.equal(byTarget.get(`gs://${BUCKET}/app/1.0/app.tgz`)?.state, 'published');
    assert.equal(byTarget.get(`cipd://${cipd.host}/${PKG}@${instanceId(pkg)}`)?.state, 'published');
    const off = byTarget.get(`gs://${OFF_BUCKET}/app.tgz`);
    assert.equal(off?.state, 'skipped');
    assert.match(off?.error ?? '', /not in GCS_BUCKETS/);
    assert.equal(
      gcs.requests.filter((r) => r.url.includes(OFF_BUCKET)).length,
      0,
      'no request for the off-list bucket',
    );

    const envelope = await served('pub-1', 'provenance');
    assert.equal(gcs.object(BUCKET, 'app/1.0/app.tgz.intoto.jsonl')?.bytes.toString(), envelope);
    assert.equal(
      gcs.object(BUCKET, 'app/1.0/app.tgz.sigstore.json')?.bytes.toString(),
      await served('pub-1', 'bundle'),
    );
    const [entry] = cipd.metadata(PKG, { hashAlgo: HashAlgo.SHA256, hexDigest: pkg }) ?? [];
    assert.equal(Buffer.from(entry?.value ?? []).toString(), envelope);

    // As docs/publishing.md shows: read the object with a GCS client, pipe it to the verifier.
    const keys = join(mkdtempSync(join(tmpdir(), 'keys-')), 'keys.json');
    writeFileSync(keys, await (await fetch(`${service.url}/v1/keys`)).text());
    const [bytes] = await new Storage().bucket(BUCKET).file('app/1.0/app.tgz.intoto.jsonl').download();
    const cli = join(__dirname, '..', '..', '..', 'bin', 'provenance.js');
    const verify = spawnSync(
      process.execPath,
      [cli, 'verify', '--provenance', '-', '--digest', `sha256:${app}`, '--keys', keys],
      { input: bytes, encoding: 'utf8' },
    );
    assert.equal(verify.status, 0, verify.stderr);

    // The docs' command itself, with gcloud pointed at the stand-in (gcloud is here for the emulators).
    // Asynchronously: the stand-in answers from this process.
    const piped = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'bash',
        [
          '-c',
          `set -o pipefail; gcloud storage cat gs://${BUCKET}/app/1.0/app.tgz.intoto.jsonl | "${process.execPath}" "${cli}" verify --provenance - --digest sha256:${app} --keys "${keys}"`,
        ],
        {
          encoding: 'utf8',
          timeout: 120_000,
          env: {
            ...process.env,
            CLOUDSDK_CONFIG: mkdtempSync(join(tmpdir(), 'gcloud-')),
            CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE: `${gcs.url}/storage/v1/`,
            CLOUDSDK_AUTH_DISABLE_CREDENTIALS: 'true',
            CLOUDSDK_CORE_PROJECT: 'test-project',
          },
        },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, new RegExp(`verified sha256:${app}`));
  });

  it('a name already holding other bytes is recorded as a conflict and left as it was', async () => {
    const squatter = gcs.seed(BUCKET, 'squatted.tgz.intoto.jsonl', Buffer.from('not ours'));
    await build('pub-2', [{ digest: sha256('squatted'), artifact: { gcs: `gs://${BUCKET}/squatted.tgz` } }]);
    const [p] = (await status('pub-2')).provenance.publications ?? [];
    assert.equal(p?.state, 'conflict');
    assert.match(p?.error ?? '', /squatted\.tgz\.intoto\.jsonl exists with other content/);
    assert.equal(gcs.object(BUCKET, 'squatted.tgz.intoto.jsonl')?.generation, squatter.generation);
    assert.equal(gcs.object(BUCKET, 'squatted.tgz.intoto.jsonl')?.bytes.toString(), 'not ours');
  });

  it('a failed publication is retried by the sweep and written once across two concurrent sweeps', async () => {
    await build('pub-3', [{ digest: sha256('late'), artifact: { gcs: `gs://${LATE_BUCKET}/late.tgz` } }]);
    const [failed] = (await status('pub-3')).provenance.publications ?? [];
    assert.equal(failed?.state, 'failed', 'the bucket does not exist yet: GCS answers 404');
    assert.match(failed?.error ?? '', /HTTP 404/);

    gcs.addBucket(LATE_BUCKET);
    const creations = gcs.creations;
    const sweeper = () => publicationSweeper(service, [new GcsSink([BUCKET, LATE_BUCKET], new Storage())], 5000);
    await Promise.all([sweeper().sweep(), sweeper().sweep()]);
    assert.equal(gcs.creations - creations, 2, 'the envelope and the bundle, each created once');
    const [p] = (await status('pub-3')).provenance.publications ?? [];
    assert.equal(p?.state, 'published');
    assert.equal(
      gcs.object(LATE_BUCKET, 'late.tgz.intoto.jsonl')?.bytes.toString(),
      await served('pub-3', 'provenance'),
    );
  });
});
