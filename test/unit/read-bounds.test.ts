// Bounded read answers: the by-digest routes page their envelopes (a Link to
// the next page; hostile page tokens refused), envelopes are written piece by
// piece as stored (never joined), every read route's HEAD sends the
// content-length its GET sends, on the handler and on the wire, and the CLI's
// client follows the pages.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { taskKey } from '../../functions/domain/task.js';
import type { Sha256Hex } from '../../functions/domain/report.js';
import { OWNER, readFixture, readerTokens } from '../helpers/read-api.js';
import { envelopeToBundle } from '../../functions/provenance/bundle.js';
import { parseEnvelopes } from '../../functions/provenance/dsse.js';
import { provenanceApi } from '../../functions/api/provenance-api.js';
import { fetchHeaders, responseBytes, type HttpResponse } from '../../functions/api/http.js';
import { reportsPageToken, subjectPageToken } from '../../functions/api/page-token.js';
import { envelopeShape } from '../../functions/ports/envelope-shape.js';
import { localServer, listen } from '../../functions/local/server.js';
import { ReadApiClient } from '../../functions/cli/read-client.js';

const SHA = '34'.repeat(32) as Sha256Hex;
const OTHER = '56'.repeat(32) as Sha256Hex;

async function setup(opts: { pageSize?: number; pieceChars?: number } = {}) {
  const { tasks, provenance, signer, clock, ingest, assembler } = readFixture({ pieceChars: opts.pieceChars });
  const handler = provenanceApi({
    tasks,
    provenance,
    keys: async () => [await signer.publicKey()],
    verifier: readerTokens('a').verifier,
    access: { mode: 'public', readers: new Set() },
    ...(opts.pageSize ? { pageSize: opts.pageSize } : {}),
  });
  /** A signed task with SHA as subject (and `deps` git dependencies, to make it large). */
  const task = async (id: string, deps = 0) => {
    await ingest.reportStage(OWNER, id, { stage: 'STARTED', recipe: 'r', pid: 1 });
    for (let i = 0; i < deps; i++)
      await ingest.addReport(OWNER, id, {
        kind: 'git',
        repo: `https://github.com/example/dependency-with-a-long-name-${i}`,
        commit: i.toString(16).padStart(40, '0'),
        refs: ['refs/heads/main'],
      });
    await ingest.addReport(OWNER, id, {
      kind: 'artifact',
      sha256: SHA,
      location: { type: 'gcs', uri: `gs://out/${id}` },
      sbomSubjects: [],
    });
    clock.advance(1000);
    await ingest.reportStage(OWNER, id, { stage: 'UPLOAD_COMPLETE' });
    assert.equal((await assembler.assemble(taskKey(OWNER, id))).status, 'signed');
  };
  const call = (url: string, method = 'GET') =>
    Promise.resolve(handler({ method, url, headers: fetchHeaders(new Headers()), body: new Uint8Array() }));
  const get = async (url: string) => {
    const res = await call(url);
    return { res, text: (await responseBytes(res)).toString() };
  };
  return { task, call, get, handler, provenance, signer };
}

const invocation = (line: string) =>
  JSON.parse(Buffer.from(parseEnvelopes(line)[0]!.payload, 'base64').toString()).predicate.runDetails.metadata
    .invocationId as string;

describe('paging the by-digest routes', () => {
  it('answers at most a page, oldest first, with the next page in Link and X-Next-Page-Token', async () => {
    const s = await setup({ pageSize: 2 });
    for (const id of ['t1', 't2', 't3', 't4', 't5']) await s.task(id);
    for (const form of ['provenance', 'bundle'] as const) {
      const seen: number[] = [];
      let url: string | undefined = `/v1/artifacts/sha256:${SHA}/${form}`;
      const ids: string[] = [];
      while (url) {
        const { res, text } = await s.get(url);
        assert.equal(res.status, 200);
        const lines = text.split('\n').filter(Boolean);
        seen.push(lines.length);
        for (const line of lines)
          ids.push(
            form === 'provenance'
              ? invocation(line)
              : invocation(
                  JSON.stringify({
                    payloadType: 'x',
                    payload: JSON.parse(line).dsseEnvelope.payload,
                    signatures: [],
                  }),
                ),
          );
        const token = res.headers['x-next-page-token'];
        if (token) {
          assert.equal(res.headers.link, `<${form}?pageToken=${token}>; rel="next"`);
          // The Link is relative to the route: resolve it as a client would.
          url = new URL(`${form}?pageToken=${token}`, `http://x/v1/artifacts/sha256:${SHA}/${form}`).pathname;
          url += `?pageToken=${token}`;
        } else {
          assert.equal(res.headers.link, undefined);
          url = undefined;
        }
      }
      assert.deepEqual(seen, [2, 2, 1], form);
      assert.deepEqual(ids, ['t1', 't2', 't3', 't4', 't5'], form);
    }
  });

  it('a page past the end is empty, not 404; a digest with nothing is still 404', async () => {
    const s = await setup({ pageSize: 2 });
    await s.task('t1');
    const past = subjectPageToken({ signedAt: new Date('2030-01-01T00:00:00Z'), taskKey: 'f'.repeat(40) });
    const r = await s.get(`/v1/artifacts/sha256:${SHA}/provenance?pageToken=${past}`);
    assert.equal(r.res.status, 200);
    assert.equal(r.text, '');
    assert.equal((await s.get(`/v1/artifacts/sha256:${OTHER}/provenance`)).res.status, 404);
  });

  it('refuses a page token that is not one of its own with 400 naming pageToken', async () => {
    const s = await setup({ pageSize: 2 });
    await s.task('t1');
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    for (const bad of [
      '',
      'x'.repeat(200),
      '%21%21%21',
      b64('v1.abc.def'),
      b64(`v1.1.${'A'.repeat(40)}`),
      b64(`v1.1.${'a'.repeat(39)}`),
      b64(`v2.1.${'a'.repeat(40)}`),
      b64(`v1.${'9'.repeat(16)}.${'a'.repeat(40)}`),
      b64(`v1.1.${'a'.repeat(40)}\n`),
      b64(`v1..${'a'.repeat(40)}`),
      reportsPageToken({ receivedAt: new Date(1), id: 'a'.repeat(40) }), // another route's token
    ]) {
      for (const form of ['provenance', 'bundle']) {
        const { res, text } = await s.get(`/v1/artifacts/sha256:${SHA}/${form}?pageToken=${bad}`);
        assert.equal(res.status, 400, `${form} ${bad}`);
        assert.match(JSON.parse(text).message, /^pageToken: /, bad);
      }
    }
  });
});

describe('streaming envelopes as stored', () => {
  it('writes no piece larger than the store gives, and each line is exactly the envelope (or its bundle)', async () => {
    const s = await setup({ pieceChars: 1000 });
    await s.task('big', 300); // a statement of ~100 KB
    const [envelope] = await s.provenance.envelopesForSubject(SHA);
    assert.ok(envelope && JSON.stringify(envelope).length > 50_000);
    const expected = {
      provenance: `${JSON.stringify(envelope)}\n`,
      bundle: `${JSON.stringify(envelopeToBundle(envelope))}\n`,
    };
    for (const form of ['provenance', 'bundle'] as const) {
      for (const url of [`/v1/artifacts/sha256:${SHA}/${form}`, `/v1/tasks/big/${form}?reporter=${OWNER.email}`]) {
        const res = await s.call(url);
        assert.ok(res.stream, `${url} is streamed`);
        let largest = 0;
        let text = '';
        for await (const piece of res.stream()) {
          largest = Math.max(largest, piece.length);
          text += typeof piece === 'string' ? piece : Buffer.from(piece).toString();
        }
        // Frames are a few hundred bytes; a piece near the envelope's size would mean it was joined.
        assert.ok(largest <= 1000, `${url}: a piece of ${largest}`);
        assert.equal(text, expected[form], url);
        assert.equal(Number(res.headers['content-length']), Buffer.byteLength(text), url);
      }
    }
  });
});

it('writes the same bytes when the store gives pieces smaller than the frame (7 characters)', async () => {
  const s = await setup({ pieceChars: 7 });
  await s.task('small', 3);
  const [envelope] = await s.provenance.envelopesForSubject(SHA);
  assert.ok(envelope);
  assert.equal(
    (await s.get(`/v1/tasks/small/bundle?reporter=${OWNER.email}`)).text,
    `${JSON.stringify(envelopeToBundle(envelope))}\n`,
  );
  assert.equal((await s.get(`/v1/artifacts/sha256:${SHA}/provenance`)).text, `${JSON.stringify(envelope)}\n`);
});

describe('a store that fails mid-answer', () => {
  it('cuts the answer short of its content-length (never a wrong answer that looks whole)', async () => {
    const s = await setup({ pieceChars: 500 });
    await s.task('t1', 20);
    const real = s.provenance.storedForTask.bind(s.provenance);
    s.provenance.storedForTask = async (key: string) => {
      const stored = await real(key);
      if (!stored) return undefined;
      return {
        ...stored,
        async *text() {
          let n = 0;
          for await (const piece of stored.text()) {
            if (++n === 3) throw new Error('chunk 2 is missing');
            yield piece;
          }
        },
      };
    };
    const server = localServer([{ prefix: '/v1/', handler: s.handler }]);
    const base = (await listen(server, 0)).replace('localhost', '127.0.0.1');
    try {
      const res = await fetch(`${base}/v1/tasks/t1/provenance?reporter=${OWNER.email}`);
      assert.equal(res.status, 200);
      assert.ok(Number(res.headers.get('content-length')) > 1000);
      await assert.rejects(res.arrayBuffer());
    } finally {
      server.close();
    }
  });
});

describe('HEAD sends the content-length a GET sends', () => {
  const routes = (token: string) => [
    '/v1/keys',
    `/v1/artifacts/sha256:${SHA}/provenance`,
    `/v1/artifacts/sha256:${SHA}/bundle`,
    `/v1/artifacts/sha256:${SHA}/provenance?pageToken=${token}`,
    `/v1/tasks/t1?reporter=${OWNER.email}`,
    `/v1/tasks/t1/provenance?reporter=${OWNER.email}`,
    `/v1/tasks/t1/bundle?reporter=${OWNER.email}`,
    `/v1/artifacts/sha256:${OTHER}/provenance`, // 404
    '/v1/artifacts/sha256:123/provenance', // 400
    '/v1/nothing', // 404
  ];

  it('on the handler, for every read route and its errors', async () => {
    const s = await setup({ pageSize: 1 });
    await s.task('t1');
    await s.task('t2');
    const first = await s.call(`/v1/artifacts/sha256:${SHA}/provenance`);
    const token = first.headers['x-next-page-token'];
    assert.ok(token);
    for (const url of routes(token)) {
      const get = await s.call(url);
      const head: HttpResponse = await s.call(url, 'HEAD');
      const body = await responseBytes(get);
      assert.equal(head.status, get.status, url);
      assert.equal(head.headers['content-length'], String(body.byteLength), url);
      assert.ok(body.byteLength > 0, url);
      assert.equal(head.stream, undefined, url);
      assert.equal((await responseBytes(head)).byteLength, 0, url);
      assert.equal(head.headers['content-type'], get.headers['content-type'], url);
    }
  });

  it('on the wire (npm start server), and the CLI client follows every page', async () => {
    const s = await setup({ pageSize: 2, pieceChars: 500 });
    for (const id of ['t1', 't2', 't3', 't4', 't5']) await s.task(id, 20);
    await s.task('t6');
    const server = localServer([{ prefix: '/v1/', handler: s.handler }]);
    const base = (await listen(server, 0)).replace('localhost', '127.0.0.1');
    try {
      const first = await fetch(`${base}/v1/artifacts/sha256:${SHA}/provenance`);
      await first.arrayBuffer();
      const token = first.headers.get('x-next-page-token');
      assert.ok(token);
      for (const url of routes(token)) {
        const get = await fetch(base + url);
        const body = Buffer.from(await get.arrayBuffer());
        const head = await fetch(base + url, { method: 'HEAD' });
        assert.equal(get.headers.get('content-length'), String(body.byteLength), `GET ${url}`);
        assert.equal(head.headers.get('content-length'), String(body.byteLength), `HEAD ${url}`);
        assert.equal(head.status, get.status, url);
      }
      const client = new ReadApiClient(base);
      const { envelopes } = await client.provenanceForDigest(SHA);
      assert.deepEqual(
        envelopes.map((e) => invocation(JSON.stringify(e))),
        ['t1', 't2', 't3', 't4', 't5', 't6'],
      );
      assert.equal((await client.bundlesText(SHA)).split('\n').filter(Boolean).length, 6);
    } finally {
      server.close();
    }
  });
});

describe('an envelope shape from the JSON a store already made', () => {
  const envelope = {
    payloadType: 'application/vnd.in-toto+json',
    payload: Buffer.from('{"a":"é"}').toString('base64'),
    signatures: [{ keyid: 'k\u00e9y "1"', sig: 'c2ln' }],
  };
  it('is the same shape as from the envelope alone, and its parts rebuild the text', () => {
    const json = JSON.stringify(envelope);
    const shape = envelopeShape(envelope, json);
    assert.deepEqual(shape, envelopeShape(envelope));
    assert.equal(`${shape.frame.head}${envelope.payload}${shape.frame.tail}`, json);
    assert.equal(shape.bytes, Buffer.byteLength(json));
  });
  it('refuses a text that is not this envelope serialised', () => {
    for (const other of [
      JSON.stringify({ ...envelope, payload: `${envelope.payload}AAAA` }),
      JSON.stringify({ ...envelope, signatures: [] }),
      `${JSON.stringify(envelope)} `,
      JSON.stringify(envelope).replace('c2ln', 'c2lO'),
    ])
      assert.throws(() => envelopeShape(envelope, other), /payload in one place/);
  });
});
