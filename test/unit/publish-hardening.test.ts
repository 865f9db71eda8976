// Publishing under attack: names a hostile reporter chooses (every spelling
// that might slip past an allowlist), a hostile or broken destination server
// (redirects, forged referrers, slow-drip and huge bodies, terminal escapes
// in its errors), and a task with thousands of targets (a bounded status and
// event). Each server here is a loopback server the test starts and stops.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OciSink } from '../../functions/adapters/publish/oci-sink.js';
import { GcsSink } from '../../functions/adapters/publish/gcs-sink.js';
import { CipdSink } from '../../functions/adapters/publish/cipd-sink.js';
import { parseOciRule } from '../../functions/domain/oci-allowlist.js';
import type { Publication, SignedProvenance } from '../../functions/ports/publisher.js';
import { MAX_REASON_LENGTH, publishAll, TIMEOUTS_BEFORE_GIVING_UP } from '../../functions/provenance/publish.js';
import { MAX_STATUS_PUBLICATIONS, taskStatus } from '../../functions/provenance/status.js';
import { MAX_EVENT_PUBLICATIONS, publishFailedEvents } from '../../functions/provenance/events.js';
import type { TaskRecord } from '../../functions/domain/task.js';

const D = 'a'.repeat(64);
const at = new Date('2026-05-01T00:00:00Z');

describe('hostile names never pass an allowlist they are not on', () => {
  it('OCI: host spellings, userinfo, ports, traversal and encodings are refused', () => {
    const sink = new OciSink([parseOciRule('registry.example.com/release'), parseOciRule('127.0.0.1:5000')]);
    assert.equal(sink.refuses(`registry.example.com/release/app@sha256:${D}`), undefined);
    assert.equal(sink.refuses(`127.0.0.1:5000/app@sha256:${D}`), undefined);
    for (const name of [
      'Registry.Example.com/release/app',
      'registry.example.com./release/app',
      'registry.example.com:443/release/app',
      'u@registry.example.com/release/app',
      'registry.example.com@evil.example/release/app',
      'evil.example#@registry.example.com/release/app',
      'registry.example.com/release/../app',
      'registry.example.com/release-evil/app',
      'registry.example.com/releases/app',
      'registry.example.com/release%2fapp',
      'registry.example.com\\release/app',
      'registry.example.com/release/app\n',
      'registry.example.com/release/app\u0000',
      'registry.example.com/RELEASE/app',
      'registry.example.com/release//app',
      'registry.exampl\u0435.com/release/app', // Cyrillic e
      'xn--registry-example.com/release/app',
      '[::1]:5000/app',
      '127.1:5000/app',
      '2130706433:5000/app',
      '0x7f.0.0.1:5000/app',
      '127.0.0.01:5000/app',
      'localhost:5000/app',
      '127.0.0.1/app',
      '127.0.0.1:05000/app',
    ]) {
      const refusal = sink.refuses(`${name}@sha256:${D}`);
      assert.ok(refusal, `${JSON.stringify(name)} must be refused`);
      assert.match(refusal, /^[\x20-\x7e…]*$/, 'the reason is printable ASCII');
    }
  });

  it('GCS: bucket spellings and object names with traversal or control characters are refused', () => {
    const sink = new GcsSink(['release-bkt'], {
      apiEndpoint: 'http://127.0.0.1:9',
      customEndpoint: true,
      authClient: { getRequestHeaders: async () => new Headers() },
    });
    assert.equal(sink.refuses('gs://release-bkt/app.tgz'), undefined);
    for (const t of [
      'gs://Release-bkt/app.tgz',
      'gs://release-bkt./app.tgz',
      'gs://release-bkt@other-bkt/app.tgz',
      'gs://other-bkt/x?release-bkt',
      'gs://release-bkt/../other/app.tgz',
      'gs://release-bkt/a/./app.tgz',
      'gs://release-bkt/x\r\nInjected: 1',
      'gs://release-bkt/x\u0000',
      'gs://release-bkt/\ud800',
      'gs://release-bkt/',
      'gs://release-bkt\\app.tgz',
      'gs://release-bkt/.well-known/acme-challenge/t',
      `gs://release-bkt/${'a'.repeat(1011)}`,
      'https://storage.googleapis.com/release-bkt/app.tgz',
    ])
      assert.ok(sink.refuses(t), `${JSON.stringify(t.slice(0, 60))} must be refused`);
  });

  it('CIPD: host spellings and package names with traversal or dots-only components are refused', () => {
    const sink = new CipdSink({ hosts: ['cipd.example.com'], accessToken: async () => 'token' });
    const iid = 'b'.repeat(40);
    assert.equal(sink.refuses(`cipd://cipd.example.com/infra/tool@${iid}`), undefined);
    for (const t of [
      `cipd://cipd.example.com./infra/tool@${iid}`,
      `cipd://u@cipd.example.com/infra/tool@${iid}`,
      `cipd://cipd.example.com:8443/infra/tool@${iid}`,
      `cipd://evil.example/infra/tool@${iid}`,
      `cipd://cipd.example.com/../tool@${iid}`,
      `cipd://cipd.example.com/infra/../../tool@${iid}`,
      `cipd://cipd.example.com/infra/.../tool@${iid}`,
      `cipd://cipd.example.com/infra/./tool@${iid}`,
      `cipd://cipd.example.com/infra//tool@${iid}`,
      `cipd://cipd.example.com/infra%2ftool@${iid}`,
      `cipd://cipd.example.com/Infra/tool@${iid}`,
      `cipd://cipd.example.com/infra/tool@${iid}/x`,
      `cipd://cipd.example.com/infra/tool@${iid}\n`,
    ])
      assert.ok(sink.refuses(t), `${JSON.stringify(t)} must be refused`);
  });
});

describe('a task with thousands of targets', () => {
  const task = {
    key: 'k',
    taskId: 'big',
    owner: { issuer: 'https://accounts.google.com', subject: '1', email: 'b@example.com' },
    state: 'COMPLETE',
    recipe: 'r',
    pid: 1,
    stageTimes: { UPLOAD_COMPLETE: at },
    timeline: [],
    findings: [],
    createdAt: at,
    updatedAt: at,
  } as unknown as TaskRecord;
  const publications: Publication[] = Array.from({ length: 5000 }, (_, i) => ({
    sink: 'gcs',
    target: `gs://release-bkt/${'x'.repeat(900)}/${i}`,
    state: i % 1000 === 7 ? 'failed' : i % 500 === 3 ? 'conflict' : 'published',
    ...(i % 500 === 3 || i % 1000 === 7 ? { error: 'e'.repeat(MAX_REASON_LENGTH) } : {}),
    at,
  }));

  it('the status lists a bounded number of publications, those needing attention first, and counts them all', () => {
    const status = taskStatus(task, {
      taskKey: 'k',
      state: 'signed',
      subjects: [],
      attempts: 1,
      updatedAt: at,
      publications,
    });
    const listed = status.provenance.publications ?? [];
    assert.equal(listed.length, MAX_STATUS_PUBLICATIONS);
    assert.deepEqual(
      listed.slice(0, 15).map((p) => p.state),
      [...Array(5).fill('failed'), ...Array(10).fill('conflict')],
    );
    assert.deepEqual(status.provenance.publicationCounts, { published: 4985, failed: 5, conflict: 10 });
    assert.equal(status.provenance.publicationsOmitted, 5000 - MAX_STATUS_PUBLICATIONS);
    assert.ok(JSON.stringify(status).length < 200_000, 'the status stays small');
  });

  it('the publish_failed event lists a bounded number and says how many it left out', () => {
    const failing = publications.map((p) => ({ ...p, state: 'failed' as const, error: 'down' }));
    const [event] = publishFailedEvents(task, failing, true, at);
    assert.ok(event?.type === 'provenance.publish_failed');
    assert.equal(event.publications.length, MAX_EVENT_PUBLICATIONS);
    assert.equal(event.publicationsOmitted, 5000 - MAX_EVENT_PUBLICATIONS);
  });
});

const PROV: SignedProvenance = {
  taskId: 't',
  keyId: 'k',
  envelopeJson: '{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}',
  envelopeSha256: '0'.repeat(64),
  bundleJson: '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}',
};
const BUNDLE_DIGEST = `sha256:${createHash('sha256').update(PROV.bundleJson).digest('hex')}`;
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** A loopback HTTP server playing a registry (or anything), recording every request and socket. */
async function hostile(handler: Handler) {
  const requests: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let closedSockets = 0;
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks)));
  });
  server.on('connection', (s) => s.on('close', () => closedSockets++));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    get closedSockets() {
      return closedSockets;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Answers the image manifest's HEAD as a registry holding it would. */
function imageManifest(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'HEAD' && req.url === `/v2/app/manifests/sha256:${D}`) {
    res.writeHead(200, { 'content-type': IMAGE_MANIFEST, 'content-length': '512' }).end();
    return true;
  }
  return false;
}

const publishOpts = (deadlineMs = 5000, concurrency = 4) => ({ concurrency, deadlineMs, now: () => at });

async function publishTo(host: string, targets: string[], deadlineMs?: number, concurrency?: number) {
  const sink = new OciSink([parseOciRule(host)]);
  return publishAll(
    [sink],
    targets.map((target) => ({ sink: 'oci' as const, target })),
    PROV,
    publishOpts(deadlineMs, concurrency),
  );
}

describe('a hostile or broken registry', () => {
  it('a referrer claiming our bundle with another manifest is a conflict, and nothing is pushed', async () => {
    const registry = await hostile((req, res) => {
      if (imageManifest(req, res)) return;
      if (req.method === 'GET' && req.url === `/v2/app/referrers/sha256:${D}`) {
        const forged = { mediaType: IMAGE_MANIFEST, digest: `sha256:${'f'.repeat(64)}`, size: 9 };
        const annotations = { 'dev.sigstore.bundle.digest': BUNDLE_DIGEST };
        res.writeHead(200, { 'content-type': OCI_INDEX });
        res.end(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ ...forged, annotations }] }));
        return;
      }
      res.writeHead(500).end();
    });
    try {
      const [p] = await publishTo(registry.host, [`${registry.host}/app@sha256:${D}`]);
      assert.equal(p?.state, 'conflict');
      assert.match(p?.error ?? '', /claims this bundle but is another manifest/);
      assert.deepEqual(
        registry.requests.filter((r) => !r.startsWith('GET') && !r.startsWith('HEAD')),
        [],
        'no blob, manifest or tag was written',
      );
    } finally {
      await registry.close();
    }
  });

  it('a redirect is not followed, to another host or anywhere', async () => {
    const elsewhere = await hostile((_req, res) => res.writeHead(200).end('{}'));
    const registry = await hostile((_req, res) => {
      res.writeHead(307, { location: `http://${elsewhere.host}/v2/app/referrers/sha256:${D}` }).end();
    });
    try {
      const [p] = await publishTo(registry.host, [`${registry.host}/app@sha256:${D}`]);
      assert.equal(p?.state, 'failed');
      assert.match(p?.error ?? '', /HTTP 307/);
      assert.deepEqual(elsewhere.requests, []);
    } finally {
      await registry.close();
      await elsewhere.close();
    }
  });

  it('a slow-drip body is cut by the deadline and its socket closed', async () => {
    const timers: NodeJS.Timeout[] = [];
    const registry = await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': OCI_INDEX, 'content-length': '1000000' });
      timers.push(setInterval(() => res.write(' '), 20));
    });
    try {
      const [p] = await publishTo(registry.host, [`${registry.host}/app@sha256:${D}`], 300);
      assert.equal(p?.state, 'failed');
      assert.match(p?.error ?? '', /deadline/);
      for (let i = 0; i < 100 && registry.closedSockets === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(registry.closedSockets, 1, 'the dripping connection was closed');
    } finally {
      for (const t of timers) clearInterval(t);
      await registry.close();
    }
  });

  it('a huge body is read only up to the cap', async () => {
    const registry = await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': OCI_INDEX });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on('drain', pump);
      res.on('error', () => undefined);
      pump();
    });
    try {
      const [p] = await publishTo(registry.host, [`${registry.host}/app@sha256:${D}`]);
      assert.equal(p?.state, 'failed');
      assert.match(p?.error ?? '', /larger than \d+ bytes/);
    } finally {
      await registry.close();
    }
  });

  it('an error body with terminal escapes and newlines is recorded as one short printable line', async () => {
    const registry = await hostile((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`\u001b[2J\u001b]0;pwned\u0007\r\nFAKE LOG LINE\u0000${'\u202e'.repeat(50)}${'z'.repeat(10_000)}`);
    });
    try {
      const [p] = await publishTo(registry.host, [`${registry.host}/app@sha256:${D}`]);
      assert.equal(p?.state, 'failed');
      const error = p?.error ?? '';
      assert.ok(error.length <= MAX_REASON_LENGTH);
      assert.match(error, /^[\x20-\x7e…]+$/, 'printable ASCII only');
      assert.match(error, /HTTP 500/);
    } finally {
      await registry.close();
    }
  });

  it('a storm of 503s on every target keeps the concurrency bound', async () => {
    const registry = await hostile((_req, res) => {
      setTimeout(() => res.writeHead(503, { 'retry-after': '0' }).end('busy'), 5);
    });
    try {
      const targets = Array.from({ length: 200 }, (_, i) => `${registry.host}/app${i}@sha256:${D}`);
      const publications = await publishTo(registry.host, targets, 5000, 4);
      assert.equal(publications.length, 200);
      assert.ok(publications.every((p) => p.state === 'failed'));
      assert.ok(registry.maxInFlight <= 4, `at most 4 requests at once, saw ${registry.maxInFlight}`);
      assert.ok(registry.requests.length <= 200 * 2, 'no retry storm inside one pass');
    } finally {
      await registry.close();
    }
  });

  it('a referrers tag replaced by a concurrent writer is read back and written again, keeping both', async () => {
    const tagPath = `/v2/app/manifests/sha256-${D}`;
    const other = { mediaType: IMAGE_MANIFEST, digest: `sha256:${'c'.repeat(64)}`, size: 7 };
    let tag: { manifests: { digest: string }[] } | undefined;
    let tagWrites = 0;
    const registry = await hostile((req, res, body) => {
      if (imageManifest(req, res)) return;
      if (req.url?.startsWith('/v2/app/referrers/')) return void res.writeHead(404).end();
      if (req.method === 'GET' && req.url === tagPath) {
        if (!tag) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': OCI_INDEX }).end(JSON.stringify(tag));
        return;
      }
      if (req.method === 'PUT' && req.url === tagPath) {
        tagWrites++;
        // Another task's writer, having read the empty tag too, replaces ours with its own list.
        tag = tagWrites === 1 ? ({ mediaType: OCI_INDEX, manifests: [other] } as never) : JSON.parse(body.toString());
        return void res.writeHead(201).end();
      }
      if (req.method === 'HEAD' && req.url?.startsWith('/v2/app/blobs/')) return void res.writeHead(200).end();
      if (req.method === 'PUT' && req.url?.startsWith('/v2/app/manifests/sha256:'))
        return void res.writeHead(201).end();
      res.writeHead(500).end(`unexpected ${req.method} ${req.url}`);
    });
    try {
      const [p] = await publishTo(registry.host, [`${registry.host}/app@sha256:${D}`]);
      assert.equal(p?.state, 'published', p?.error);
      assert.equal(tagWrites, 2);
      const digests = (tag?.manifests ?? []).map((m) => m.digest);
      assert.equal(digests.length, 2);
      assert.ok(digests.includes(other.digest), "the other writer's referrer is kept");
    } finally {
      await registry.close();
    }
  });
});

describe('hostile GCS and CIPD servers, and names that collide', () => {
  it('a GCS artifact whose provenance name is another artifact of the task is a conflict, with no request', async () => {
    const gcs = await hostile((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    try {
      const sink = new GcsSink(['release-bkt'], {
        apiEndpoint: `http://${gcs.host}`,
        customEndpoint: true,
        authClient: { getRequestHeaders: async () => new Headers() },
      });
      const publications = await publishAll(
        [sink],
        [
          { sink: 'gcs', target: 'gs://release-bkt/app.tgz' },
          { sink: 'gcs', target: 'gs://release-bkt/app.tgz.intoto.jsonl' },
        ],
        PROV,
        publishOpts(),
      );
      assert.deepEqual(
        publications.map((p) => [p.target, p.state]),
        [
          ['gs://release-bkt/app.tgz', 'conflict'],
          ['gs://release-bkt/app.tgz.intoto.jsonl', 'published'],
        ],
      );
      assert.match(publications[0]?.error ?? '', /app\.tgz\.intoto\.jsonl is itself an artifact of this task/);
      assert.equal(gcs.requests.length, 2, "only the second artifact's two objects were written");
    } finally {
      await gcs.close();
    }
  });

  it("the sweep's retry of some targets still knows the task's other artifacts", async () => {
    const gcs = await hostile((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    try {
      const sink = new GcsSink(['release-bkt'], {
        apiEndpoint: `http://${gcs.host}`,
        customEndpoint: true,
        authClient: { getRequestHeaders: async () => new Headers() },
      });
      const [p] = await publishAll([sink], [{ sink: 'gcs', target: 'gs://release-bkt/app.tgz' }], PROV, {
        ...publishOpts(),
        taskTargets: [
          { sink: 'gcs', target: 'gs://release-bkt/app.tgz' },
          { sink: 'gcs', target: 'gs://release-bkt/app.tgz.sigstore.json' },
        ],
      });
      assert.equal(p?.state, 'conflict');
      assert.deepEqual(gcs.requests, []);
    } finally {
      await gcs.close();
    }
  });

  it('a CIPD answer that is not binary pRPC fails, and nothing is attached on its word', async () => {
    const cipd = await hostile((_req, res) => {
      res.writeHead(200, { 'x-prpc-grpc-code': '0', 'content-type': 'text/html' }).end();
    });
    try {
      const sink = new CipdSink({ hosts: [cipd.host], accessToken: async () => 'token', insecureLoopback: true });
      const [p] = await publishAll(
        [sink],
        [{ sink: 'cipd', target: `cipd://${cipd.host}/infra/tool@${'b'.repeat(40)}` }],
        PROV,
        publishOpts(),
      );
      assert.equal(p?.state, 'failed');
      assert.match(p?.error ?? '', /not binary pRPC/);
      assert.deepEqual(cipd.requests, ['POST /prpc/cipd.Repository/ListMetadata']);
    } finally {
      await cipd.close();
    }
  });
});

describe('a destination that never answers', () => {
  it('gets no more requests in the pass once it missed a few deadlines in a row; the rest are failed, for the sweep', async () => {
    const registry = await hostile(() => undefined); // reads the request, never answers
    try {
      const targets = Array.from({ length: 50 }, (_, i) => `${registry.host}/app${i}@sha256:${D}`);
      const publications = await publishTo(registry.host, targets, 200, 2);
      assert.equal(publications.length, 50);
      assert.ok(publications.every((p) => p.state === 'failed'));
      const notAttempted = publications.filter((p) =>
        /^not attempted: .* missed \d+ deadlines in a row/.test(p.error ?? ''),
      );
      assert.ok(notAttempted.length >= 50 - (TIMEOUTS_BEFORE_GIVING_UP + 1), `${notAttempted.length} not attempted`);
      assert.ok(
        registry.requests.length <= TIMEOUTS_BEFORE_GIVING_UP + 1,
        `at most ${TIMEOUTS_BEFORE_GIVING_UP} + concurrency - 1 requests, saw ${registry.requests.length}`,
      );
    } finally {
      await registry.close();
    }
  });

  it('a credential that never arrives is cut by the deadline too', async () => {
    const registry = await hostile((_req, res) => res.writeHead(500).end());
    try {
      const sink = new OciSink([parseOciRule(registry.host)], { authorization: () => new Promise(() => undefined) });
      const [p] = await publishAll(
        [sink],
        [{ sink: 'oci', target: `${registry.host}/app@sha256:${D}` }],
        PROV,
        publishOpts(200),
      );
      assert.equal(p?.state, 'failed');
      assert.match(p?.error ?? '', /deadline/);
      assert.deepEqual(registry.requests, []);
    } finally {
      await registry.close();
    }
  });
});

describe('reasons', () => {
  it('an error without a message of its own (an AggregateError of connection attempts) still gets a reason', async () => {
    const sink = {
      name: 'oci' as const,
      refuses: () => undefined,
      publish: async (): Promise<never> => {
        throw new AggregateError([new Error('connect ECONNREFUSED ::1:5000')], '');
      },
    };
    const [p] = await publishAll([sink], [{ sink: 'oci', target: 'r.example/app' }], PROV, publishOpts());
    assert.equal(p?.state, 'failed');
    assert.equal(p?.error, 'connect ECONNREFUSED ::1:5000');
  });
});
