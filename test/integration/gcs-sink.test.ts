// The GCS sink against a local stand-in for Cloud Storage's JSON API
// (test/helpers/gcs-server.ts): no real GCS-API server can run here
// (firebase-tools' storage emulator downloads a rules runtime on start, and
// fake-gcs-server is not installable), so the stand-in implements the JSON
// API's uploads and gets as its reference describes them, and is itself
// checked against @google-cloud/storage below. The sink reaches it the way the
// client library supports emulators (STORAGE_EMULATOR_HOST).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { GcsSink, parseGcsTarget } from '../../functions/adapters/publish/gcs-sink.js';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { PublishConflictError, type SignedProvenance } from '../../functions/ports/publisher.js';
import { GcsStandIn } from '../helpers/gcs-server.js';
import { signedProvenance as signed } from '../helpers/signed-provenance.js';

const BUCKET = 'release-artifacts';
const OTHER_BUCKET = 'someone-elses-bucket';
const signer = LocalSigner.ephemeral();

/** A really signed provenance for one artifact, as the assembler hands it to the sinks. */
const signedProvenance = (taskId: string, artifactSha256: string) =>
  signed(signer, { taskId, subjectName: 'app.tgz', subjectSha256: artifactSha256 });

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('GCS sink (local stand-in for the Cloud Storage JSON API)', () => {
  let gcs: GcsStandIn;
  let storage: Storage;
  let sink: GcsSink;
  let provenance: SignedProvenance;
  const artifact = sha256('app.tgz bytes');

  before(async () => {
    gcs = await GcsStandIn.start([BUCKET, OTHER_BUCKET]);
    process.env.STORAGE_EMULATOR_HOST = gcs.url;
    storage = new Storage({ projectId: 'test-project' });
    sink = new GcsSink([BUCKET], storage);
    provenance = await signedProvenance('task-gcs-1', artifact);
  });
  after(async () => {
    delete process.env.STORAGE_EMULATOR_HOST;
    await gcs.close();
  });

  it('the stand-in answers @google-cloud/storage like GCS: multipart, resumable, create-only, download with hashes', async () => {
    const bucket = storage.bucket(OTHER_BUCKET);
    await bucket.file('lib/multipart.txt').save('hello', { resumable: false, contentType: 'text/plain' });
    await bucket.file('lib/resumable.txt').save(Buffer.alloc(300_000, 7), { resumable: true });
    assert.deepEqual(
      gcs.uploads().map((u) => u.uploadType),
      ['multipart', 'resumable', 'resumable'],
    );
    const [text] = await bucket.file('lib/multipart.txt').download(); // the library checks x-goog-hash
    assert.equal(text.toString(), 'hello');
    const [big] = await bucket.file('lib/resumable.txt').download();
    assert.equal(big.length, 300_000);
    const [meta] = await bucket.file('lib/multipart.txt').getMetadata();
    assert.equal(meta.md5Hash, createHash('md5').update('hello').digest('base64'));
    await assert.rejects(
      bucket.file('lib/multipart.txt').save('other', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
      (err: { code?: number }) => err.code === 412,
    );
    assert.equal(gcs.object(OTHER_BUCKET, 'lib/multipart.txt')?.bytes.toString(), 'hello');
  });

  it('writes object.intoto.jsonl and object.sigstore.json beside the artifact, byte for byte, that verify from there', async () => {
    const before = gcs.requests.length;
    const outcome = await sink.publish(`gs://${BUCKET}/app/1.0/app.tgz`, provenance, AbortSignal.timeout(5000));
    assert.equal(outcome, 'published');
    const envelope = gcs.object(BUCKET, 'app/1.0/app.tgz.intoto.jsonl');
    const bundle = gcs.object(BUCKET, 'app/1.0/app.tgz.sigstore.json');
    assert.ok(envelope && bundle);
    assert.equal(envelope.bytes.toString(), provenance.envelopeJson);
    assert.equal(bundle.bytes.toString(), provenance.bundleJson);
    assert.equal(envelope.contentType, 'application/x-ndjson');
    assert.equal(bundle.contentType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const metadata = { task: 'task-gcs-1', keyId: provenance.keyId, envelopeSha256: provenance.envelopeSha256 };
    assert.deepEqual(envelope.metadata, metadata);
    assert.deepEqual(bundle.metadata, metadata);
    assert.equal(gcs.requests.length - before, 2, 'one create-only upload per object');
    assert.ok(gcs.requests.slice(before).every((r) => r.url.includes('ifGenerationMatch=0')));

    // A consumer reads it with any GCS client and pipes it to the verifier, as docs/publishing.md says.
    const dir = mkdtempSync(join(tmpdir(), 'gcs-verify-'));
    const key = join(dir, 'key.pem');
    writeFileSync(key, (await signer.publicKey()).pem);
    const [downloaded] = await storage.bucket(BUCKET).file('app/1.0/app.tgz.intoto.jsonl').download();
    const cli = join(__dirname, '..', '..', '..', 'bin', 'provenance.js');
    const verify = (flag: string, input: Buffer, digest: string) =>
      spawnSync(process.execPath, [cli, 'verify', flag, '-', '--digest', `sha256:${digest}`, '--key', key], {
        input,
        encoding: 'utf8',
      });
    const ok = verify('--provenance', downloaded, artifact);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /verified sha256:/);
    const [bundleBytes] = await storage.bucket(BUCKET).file('app/1.0/app.tgz.sigstore.json').download();
    assert.equal(verify('--bundle', bundleBytes, artifact).status, 0);
    const wrongDigest = verify('--provenance', downloaded, sha256('another artifact'));
    assert.notEqual(wrongDigest.status, 0, 'the verifier really checks the subject');
  });

  it('publishes once across retries: a retry finds its own bytes and writes nothing', async () => {
    const target = `gs://${BUCKET}/retry/app.tgz`;
    assert.equal(await sink.publish(target, provenance, AbortSignal.timeout(5000)), 'published');
    const generation = gcs.object(BUCKET, 'retry/app.tgz.intoto.jsonl')?.generation;
    const creations = gcs.creations;
    for (let i = 0; i < 3; i++)
      assert.equal(await sink.publish(target, provenance, AbortSignal.timeout(5000)), 'already-published');
    assert.equal(gcs.creations, creations, 'no object created or replaced by a retry');
    assert.equal(gcs.object(BUCKET, 'retry/app.tgz.intoto.jsonl')?.generation, generation);
  });

  it('two concurrent publishers of the same target create each object once', async () => {
    const target = `gs://${BUCKET}/concurrent/app.tgz`;
    const creations = gcs.creations;
    const outcomes = await Promise.all([
      sink.publish(target, provenance, AbortSignal.timeout(5000)),
      new GcsSink([BUCKET], new Storage({ projectId: 'test-project' })).publish(
        target,
        provenance,
        AbortSignal.timeout(5000),
      ),
    ]);
    assert.equal(gcs.creations - creations, 2, 'two objects, each created once');
    assert.ok(outcomes.includes('published'));
    assert.ok(outcomes.every((o) => o === 'published' || o === 'already-published'));
  });

  it('a name holding other bytes is a conflict, recorded and never overwritten', async () => {
    const squatted = gcs.seed(BUCKET, 'conflict/app.tgz.intoto.jsonl', Buffer.from('{"not":"ours"}\n'));
    await assert.rejects(
      sink.publish(`gs://${BUCKET}/conflict/app.tgz`, provenance, AbortSignal.timeout(5000)),
      (err: Error) =>
        err instanceof PublishConflictError &&
        /conflict\/app\.tgz\.intoto\.jsonl exists with other content/.test(err.message),
    );
    const after = gcs.object(BUCKET, 'conflict/app.tgz.intoto.jsonl');
    assert.equal(after?.generation, squatted.generation);
    assert.equal(after?.bytes.toString(), '{"not":"ours"}\n');
    // Same length, other bytes: the hashes tell them apart.
    const sameSize = Buffer.alloc(Buffer.byteLength(provenance.bundleJson), 'x');
    gcs.seed(BUCKET, 'conflict2/app.tgz.sigstore.json', sameSize);
    await assert.rejects(
      sink.publish(`gs://${BUCKET}/conflict2/app.tgz`, provenance, AbortSignal.timeout(5000)),
      PublishConflictError,
    );
    assert.ok(gcs.object(BUCKET, 'conflict2/app.tgz.sigstore.json')?.bytes.equals(sameSize));
  });

  it('a composite object (no MD5) is compared by its bytes', async () => {
    const ours = Buffer.from(provenance.envelopeJson);
    gcs.seed(BUCKET, 'composite/a.tgz.intoto.jsonl', ours, { composite: true });
    gcs.seed(BUCKET, 'composite/a.tgz.sigstore.json', Buffer.from(provenance.bundleJson), { composite: true });
    assert.equal(
      await sink.publish(`gs://${BUCKET}/composite/a.tgz`, provenance, AbortSignal.timeout(5000)),
      'already-published',
    );
    const flipped = Buffer.from(ours);
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    gcs.seed(BUCKET, 'composite/b.tgz.intoto.jsonl', flipped, { composite: true });
    await assert.rejects(
      sink.publish(`gs://${BUCKET}/composite/b.tgz`, provenance, AbortSignal.timeout(5000)),
      PublishConflictError,
    );
  });

  it('an off-list bucket is refused and gets no request at all', async () => {
    const before = gcs.requests.length;
    const target = `gs://${OTHER_BUCKET}/app.tgz`;
    assert.equal(sink.refuses(target), `bucket "${OTHER_BUCKET}" is not in GCS_BUCKETS`);
    await assert.rejects(sink.publish(target, provenance, AbortSignal.timeout(5000)), /not in GCS_BUCKETS/);
    assert.equal(gcs.requests.length, before);
  });

  it('hostile names are refused without a request', async () => {
    const hostile = [
      `gs://${BUCKET}/`,
      `gs://${BUCKET}`,
      `gs://${BUCKET}/..`,
      `gs://${BUCKET}/.`,
      `gs://${BUCKET}/a/../../b`,
      `gs://${BUCKET}/a/./b`,
      `gs://${BUCKET}/a\r\nx-goog-meta: 1`,
      `gs://${BUCKET}/a\u0000b`,
      `gs://${BUCKET}/a\u0085b`,
      `gs://${BUCKET}/${'é'.repeat(506)}`, // 1012 bytes: no room for ".sigstore.json"
      `gs://${BUCKET}/${'x'.repeat(5000)}`,
      `gs://${BUCKET}/\ud800`,
      `gs://${BUCKET}/.well-known/acme-challenge/token`,
      `gs://${BUCKET.toUpperCase()}/app.tgz`,
      `gs://${BUCKET}.evil.example/app.tgz`,
      `gs://${BUCKET}:443/app.tgz`,
      `gs://user@${BUCKET}/app.tgz`,
      `gs://${BUCKET}%2Fx/app.tgz`,
      `gs://google-${BUCKET}/app.tgz`,
      `gs://127.0.0.1/app.tgz`,
      `http://127.0.0.1/${BUCKET}/app.tgz`,
      ` gs://${BUCKET}/app.tgz`,
    ];
    const before = gcs.requests.length;
    for (const target of hostile) {
      const reason = sink.refuses(target);
      assert.ok(reason, `refused: ${JSON.stringify(target)}`);
      assert.ok(
        reason.length <= 200 && !/[\r\n]/.test(reason) && !reason.includes('\u0000'),
        `a bounded printable reason: ${reason}`,
      );
      await assert.rejects(sink.publish(target, provenance, AbortSignal.timeout(5000)));
    }
    assert.equal(gcs.requests.length, before, 'no request for any of them');
    // Names GCS allows and the sink keeps: unicode, spaces, a 1010-byte name.
    for (const fine of ['app/ünïcödé 名前.tgz', `a/${'x'.repeat(1008)}`, 'a..b/c...d'])
      assert.deepEqual(parseGcsTarget(`gs://${BUCKET}/${fine}`), { bucket: BUCKET, object: fine });
    assert.equal(
      await sink.publish(`gs://${BUCKET}/app/ünïcödé 名前.tgz`, provenance, AbortSignal.timeout(5000)),
      'published',
    );
    assert.ok(gcs.object(BUCKET, 'app/ünïcödé 名前.tgz.intoto.jsonl'));
  });

  it('a server that accepts and never answers: the deadline closes the socket', async () => {
    const sockets: Socket[] = [];
    let closed = 0;
    const silent = createServer((s) => {
      sockets.push(s);
      s.resume(); // read (and drop) the request, so the peer's FIN is seen
      s.on('close', () => closed++);
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const hung = new GcsSink([BUCKET], new Storage({ apiEndpoint: `http://127.0.0.1:${port}`, projectId: 'p' }));
      await assert.rejects(hung.publish(`gs://${BUCKET}/hang/app.tgz`, provenance, AbortSignal.timeout(2000)), {
        name: 'TimeoutError',
      });
      assert.ok(sockets.length >= 1, 'the request reached the server');
      // The abort closes every connection the request used: the server sees each end
      // (a bounded wait for an event, not a timing), and none opens afterwards.
      const allClosed = async () => {
        const deadline = Date.now() + 10_000;
        while (closed < sockets.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      };
      await allClosed();
      await new Promise((r) => setTimeout(r, 200));
      await allClosed();
      assert.equal(closed, sockets.length, 'every socket the sink opened is closed after its deadline');
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
