// The CIPD sink against a local pRPC server built from the same proto
// (test/helpers/cipd-server.ts, CIPD's own Repository messages): no CIPD
// server can run here. The sink reaches the loopback host over plain http (and
// without a token) only because the test sets the test-only insecureLoopback
// option; what it sends a real, https host is checked by recording the calls.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CIPD_METADATA_CONTENT_TYPE,
  CIPD_METADATA_KEY,
  CipdSink,
  parseCipdTarget,
} from '../../functions/adapters/publish/cipd-sink.js';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { canonicalCipdHost } from '../../functions/domain/publish-names.js';
import type { HttpCall } from '../../functions/adapters/publish/http-call.js';
import { HashAlgo } from '../../functions/gen/cipd/cipd_pb.js';
import { AttachMetadataRequestSchema } from '../../functions/gen/cipd/repo_pb.js';
import { fromBinary } from '@bufbuild/protobuf';
import type { SignedProvenance } from '../../functions/ports/publisher.js';
import { CipdStandIn } from '../helpers/cipd-server.js';
import { signedProvenance as signed } from '../helpers/signed-provenance.js';

const TOKEN = 'ya29.test-token';
const PKG = 'infra/tools/app/linux-amd64';
const signer = LocalSigner.ephemeral();
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** CIPD's current instance id: base64url of the SHA-256 digest followed by the algorithm byte (2). */
function instanceId(hex: string): string {
  return Buffer.concat([Buffer.from(hex, 'hex'), Buffer.from([2])]).toString('base64url');
}

/** A really signed provenance for one CIPD package instance. */
const signedProvenance = (taskId: string, subjectHex: string, padding = 0) =>
  signed(signer, { taskId, subjectName: PKG, subjectSha256: subjectHex, padding });

describe('CIPD sink (local pRPC stand-in from the same proto)', () => {
  let cipd: CipdStandIn;
  let sink: CipdSink;
  let provenance: SignedProvenance;
  const digest = sha256('package instance bytes');
  const iid = instanceId(digest);
  const ref = { hashAlgo: HashAlgo.SHA256, hexDigest: digest };
  let target: string;

  before(async () => {
    cipd = await CipdStandIn.start();
    cipd.addInstance(PKG, ref);
    sink = new CipdSink({ hosts: [cipd.host], accessToken: async () => TOKEN, insecureLoopback: true });
    provenance = await signedProvenance('task-cipd-1', digest);
    target = `cipd://${cipd.host}/${PKG}@${iid}`;
  });
  after(() => cipd.close());

  it('attaches the envelope as instance metadata, which verifies from there', async () => {
    assert.equal(await sink.publish(target, provenance, AbortSignal.timeout(5000)), 'published');
    const entries = cipd.metadata(PKG, ref) ?? [];
    assert.equal(entries.length, 1);
    const [entry] = entries;
    assert.equal(entry?.key, CIPD_METADATA_KEY);
    assert.equal(entry?.contentType, CIPD_METADATA_CONTENT_TYPE);
    assert.equal(Buffer.from(entry?.value ?? []).toString(), provenance.envelopeJson);
    assert.ok(
      cipd.requests.every((r) => r.authorization === undefined),
      'no credential over plain http',
    );

    const dir = mkdtempSync(join(tmpdir(), 'cipd-verify-'));
    const key = join(dir, 'key.pem');
    writeFileSync(key, (await signer.publicKey()).pem);
    const cli = join(__dirname, '..', '..', '..', 'bin', 'provenance.js');
    const verify = spawnSync(
      process.execPath,
      [cli, 'verify', '--provenance', '-', '--digest', `sha256:${digest}`, '--key', key],
      { input: Buffer.from(entry?.value ?? []), encoding: 'utf8' },
    );
    assert.equal(verify.status, 0, verify.stderr);
  });

  it('publishes once across retries and concurrent publishers', async () => {
    const attaches = cipd.calls('AttachMetadata').length;
    for (let i = 0; i < 3; i++)
      assert.equal(await sink.publish(target, provenance, AbortSignal.timeout(5000)), 'already-published');
    assert.equal(cipd.calls('AttachMetadata').length, attaches, 'a retry lists, finds its entry and attaches nothing');

    const fresh = sha256('another instance');
    const freshRef = { hashAlgo: HashAlgo.SHA256, hexDigest: fresh };
    cipd.addInstance(PKG, freshRef);
    const other = new CipdSink({ hosts: [cipd.host], accessToken: async () => TOKEN, insecureLoopback: true });
    const freshTarget = `cipd://${cipd.host}/${PKG}@${instanceId(fresh)}`;
    const outcomes = await Promise.all([
      sink.publish(freshTarget, provenance, AbortSignal.timeout(5000)),
      other.publish(freshTarget, provenance, AbortSignal.timeout(5000)),
    ]);
    assert.ok(outcomes.every((o) => o === 'published' || o === 'already-published'));
    assert.equal(cipd.metadata(PKG, freshRef)?.length, 1, 'one entry, whatever the interleaving');
  });

  it("another value under the key (another task's provenance) is kept beside ours, not a conflict", async () => {
    const d = sha256('shared instance');
    const r = { hashAlgo: HashAlgo.SHA256, hexDigest: d };
    cipd.addInstance(PKG, r);
    cipd.seed(PKG, r, CIPD_METADATA_KEY, Buffer.from('{"someone":"else"}\n'));
    assert.equal(
      await sink.publish(`cipd://${cipd.host}/${PKG}@${instanceId(d)}`, provenance, AbortSignal.timeout(5000)),
      'published',
    );
    const values = (cipd.metadata(PKG, r) ?? []).map((e) => Buffer.from(e.value).toString());
    assert.deepEqual(values, ['{"someone":"else"}\n', provenance.envelopeJson]);
  });

  it('CIPD errors are failures that say what to do: unknown instance, no permission, legacy SHA-1 ids work', async () => {
    await assert.rejects(
      sink.publish(
        `cipd://${cipd.host}/${PKG}@${instanceId(sha256('never uploaded'))}`,
        provenance,
        AbortSignal.timeout(5000),
      ),
      /NOT_FOUND/,
    );
    const guarded = await CipdStandIn.start(TOKEN);
    try {
      guarded.addInstance(PKG, ref);
      const anonymous = new CipdSink({ hosts: [guarded.host], accessToken: async () => TOKEN, insecureLoopback: true });
      await assert.rejects(
        anonymous.publish(`cipd://${guarded.host}/${PKG}@${iid}`, provenance, AbortSignal.timeout(5000)),
        /UNAUTHENTICATED/,
      );
    } finally {
      await guarded.close();
    }
    const sha1 = createHash('sha1').update('legacy').digest('hex');
    cipd.addInstance(PKG, { hashAlgo: HashAlgo.SHA1, hexDigest: sha1 });
    assert.equal(
      await sink.publish(`cipd://${cipd.host}/${PKG}@${sha1}`, provenance, AbortSignal.timeout(5000)),
      'published',
    );
  });

  it("an https host gets pRPC in binary with the service account's token", async () => {
    const calls: HttpCall[] = [];
    const http = {
      call: async (c: HttpCall) => {
        calls.push(c);
        const headers = { 'x-prpc-grpc-code': '0', 'content-type': 'application/prpc; encoding=binary' };
        return { status: 200, headers, body: Buffer.alloc(0) }; // empty list, Empty
      },
    };
    const prod = new CipdSink({
      hosts: ['chrome-infra-packages.appspot.com'],
      accessToken: async () => TOKEN,
      insecureLoopback: true, // no effect on a non-loopback host
      http,
    });
    const t = `cipd://chrome-infra-packages.appspot.com/${PKG}@${iid}`;
    assert.equal(await prod.publish(t, provenance, AbortSignal.timeout(5000)), 'published');
    assert.deepEqual(
      calls.map((c) => [c.url, c.headers.authorization, c.headers['content-type']]),
      ['ListMetadata', 'AttachMetadata'].map((m) => [
        `https://chrome-infra-packages.appspot.com/prpc/cipd.Repository/${m}`,
        `Bearer ${TOKEN}`,
        'application/prpc; encoding=binary',
      ]),
    );
    const attach = fromBinary(AttachMetadataRequestSchema, calls[1]?.body ?? Buffer.alloc(0));
    assert.equal(attach.package, PKG);
    assert.deepEqual([attach.instance?.hashAlgo, attach.instance?.hexDigest], [HashAlgo.SHA256, digest]);
    assert.deepEqual(
      attach.metadata.map((m) => [m.key, m.contentType, Buffer.from(m.value).toString()]),
      [[CIPD_METADATA_KEY, CIPD_METADATA_CONTENT_TYPE, provenance.envelopeJson]],
    );
  });

  it('an envelope too large for CIPD metadata fails with the reason, before any request', async () => {
    const big = await signedProvenance('task-big', digest, 600 * 1024);
    const before = cipd.requests.length;
    await assert.rejects(sink.publish(target, big, AbortSignal.timeout(5000)), /smaller than 524288 bytes/);
    assert.equal(cipd.requests.length, before);
  });

  it('an off-list host, plain http to a non-loopback host, and hostile names get no request', async () => {
    const before = cipd.requests.length;
    const [, port] = cipd.host.split(':');
    const hostile = [
      `cipd://[::1]:${port}/${PKG}@${iid}`, // loopback, but not the listed spelling
      `cipd://localhost:${port}/${PKG}@${iid}`,
      `cipd://127.1:${port}/${PKG}@${iid}`,
      `cipd://2130706433:${port}/${PKG}@${iid}`,
      `cipd://user@${cipd.host}/${PKG}@${iid}`,
      `cipd://${cipd.host}/../../etc/passwd@${iid}`,
      `cipd://${cipd.host}/infra/./app@${iid}`,
      `cipd://${cipd.host}/infra//app@${iid}`,
      `cipd://${cipd.host}/Infra/App@${iid}`,
      `cipd://${cipd.host}/infra/app%2f..@${iid}`,
      `cipd://${cipd.host}/${'a'.repeat(501)}@${iid}`,
      `cipd://${cipd.host}/${PKG}@${iid}x`,
      `cipd://${cipd.host}/${PKG}@${iid.toUpperCase()}`,
      `cipd://${cipd.host}/${PKG}@latest`,
      `cipd://${cipd.host}/${PKG}`,
      `cipd://${cipd.host}/${PKG}@${iid}\r\nx: y`,
      `cipd://${cipd.host}:99999/${PKG}@${iid}`,
      `https://${cipd.host}/${PKG}@${iid}`,
      `cipd://chrome-infra-packages.appspot.com/${PKG}@${iid}`,
    ];
    for (const t of hostile) {
      const reason = sink.refuses(t);
      assert.ok(reason, `refused: ${JSON.stringify(t)}`);
      assert.ok(reason.length <= 300 && !/[\r\n]/.test(reason), reason);
      await assert.rejects(sink.publish(t, provenance, AbortSignal.timeout(5000)));
    }
    // A listed production host is reached over https only: without the test-only flag, no plain-http request.
    const strict = new CipdSink({ hosts: [cipd.host], accessToken: async () => TOKEN });
    await assert.rejects(strict.publish(target, provenance, AbortSignal.timeout(5000)));
    assert.equal(cipd.requests.length, before, 'no request reached the server');
    assert.equal(canonicalCipdHost('Chrome-Infra-Packages.appspot.com:443'), 'chrome-infra-packages.appspot.com');
    const parsed = parseCipdTarget(`cipd://${cipd.host.toUpperCase()}/${PKG}@${iid}`);
    assert.ok(typeof parsed !== 'string');
    assert.deepEqual(
      [parsed.host, parsed.package, parsed.instanceId, parsed.instance.hexDigest],
      [cipd.host, PKG, iid, digest],
    );
  });

  it('a server that accepts and never answers: the deadline closes the socket', async () => {
    const sockets: Socket[] = [];
    let closed = 0;
    const silent = createServer((s) => {
      sockets.push(s);
      s.resume();
      s.on('close', () => closed++);
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const hung = new CipdSink({ hosts: [host], accessToken: async () => TOKEN, insecureLoopback: true });
      await assert.rejects(hung.publish(`cipd://${host}/${PKG}@${iid}`, provenance, AbortSignal.timeout(2000)), {
        name: 'TimeoutError',
      });
      assert.ok(sockets.length >= 1);
      const deadline = Date.now() + 10_000;
      while (closed < sockets.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(closed, sockets.length, 'every socket the sink opened is closed after its deadline');
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
