// A small local stand-in for Cloud Storage's JSON API, because no real
// GCS-API server can run here (firebase-tools' storage emulator downloads a
// rules runtime on start; fake-gcs-server is not installable). It implements
// what an uploader and a reader use, as the JSON API reference describes it:
//   POST /upload/storage/v1/b/{bucket}/o?uploadType=media|multipart|resumable
//   PUT  the resumable session URI (Content-Range; 308 + Range for a partial chunk)
//   GET  /storage/v1/b/{bucket}/o/{object} (the object resource; alt=media for the bytes,
//        with x-goog-hash; optional generation) — also at the mediaLink's
//        /download/storage/v1 prefix (gcloud) and without a prefix (how
//        @google-cloud/storage addresses STORAGE_EMULATOR_HOST)
// with generations, ifGenerationMatch / ifGenerationNotMatch (412 conditionNotMet),
// md5Hash and crc32c (base64, CRC32C big-endian) checked on upload when sent and
// reported on every object, and GCS's error JSON {error:{code,message,errors}}.
// Every request is recorded, so a test can assert that none was made.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32cBase64 } from '../../functions/adapters/publish/gcs-sink.js';

export interface GcsObject {
  bucket: string;
  name: string;
  bytes: Buffer;
  contentType: string;
  metadata: Record<string, string>;
  generation: number;
  metageneration: number;
  /** Absent on composite objects. */
  md5Hash: string | undefined;
  crc32c: string;
  created: Date;
}

export interface RecordedGcsRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  /** The uploadType of an upload request (media, multipart, resumable), else undefined. */
  uploadType?: string;
}

interface Session {
  bucket: string;
  name: string;
  contentType: string;
  metadata: Record<string, string>;
  preconditions: URLSearchParams;
  received: Buffer[];
  size: number;
}

export class GcsStandIn {
  readonly requests: RecordedGcsRequest[] = [];
  private readonly objects = new Map<string, GcsObject>();
  private readonly sessions = new Map<string, Session>();
  private generation = Date.now() * 1000;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly buckets: Set<string>,
  ) {}

  /** Listens on a free loopback port; `buckets` are the buckets that exist. */
  static async start(buckets: string[]): Promise<GcsStandIn> {
    let standIn: GcsStandIn | undefined;
    const server = createServer((req, res) => {
      standIn?.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendError(res, 500, 'backendError', String(err));
        else res.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    standIn = new GcsStandIn(server, `http://127.0.0.1:${port}`, new Set(buckets));
    return standIn;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Creates a bucket (the others answer 404, as GCS does for a bucket that does not exist). */
  addBucket(bucket: string): void {
    this.buckets.add(bucket);
  }

  /** The stored object, or undefined. */
  object(bucket: string, name: string): GcsObject | undefined {
    return this.objects.get(key(bucket, name));
  }

  /** Objects created so far (by any upload or seed), overwrites included. */
  creations = 0;

  /**
   * Puts an object there directly (a test's pre-existing state). A composite
   * object (made by objects.compose) has a CRC32C but no MD5, as in GCS.
   */
  seed(bucket: string, name: string, bytes: Buffer, opts: { composite?: boolean } = {}): GcsObject {
    const o = this.store(bucket, name, bytes, 'application/octet-stream', {});
    if (opts.composite) o.md5Hash = undefined;
    return o;
  }

  /** Upload requests made so far (objects.insert and resumable PUTs). */
  uploads(): RecordedGcsRequest[] {
    return this.requests.filter((r) => r.uploadType !== undefined);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<Done> {
    const url = new URL(req.url ?? '/', this.url);
    const body = await readBody(req);
    const uploadType = url.pathname.startsWith('/upload/') ? (url.searchParams.get('uploadType') ?? '') : undefined;
    this.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      ...(uploadType !== undefined ? { uploadType } : {}),
    });

    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (upload) {
      const bucket = decodeURIComponent(upload[1] ?? '');
      if (!this.buckets.has(bucket)) return sendError(res, 404, 'notFound', 'The specified bucket does not exist.');
      if (req.method === 'POST') return this.insert(req, res, url, bucket, body);
      if (req.method === 'PUT') return this.resume(req, res, url, body);
      return sendError(res, 405, 'methodNotAllowed', 'Method not allowed');
    }
    // objects.get: /storage/v1/b/…, the mediaLink /download/storage/v1/b/… (gcloud downloads there),
    // and /b/… (@google-cloud/storage's STORAGE_EMULATOR_HOST base).
    const get = /^(?:\/download)?(?:\/storage\/v1)?\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
    if (get && req.method === 'GET') {
      const bucket = decodeURIComponent(get[1] ?? '');
      const name = decodeURIComponent(get[2] ?? '');
      if (!this.buckets.has(bucket)) return sendError(res, 404, 'notFound', 'The specified bucket does not exist.');
      const o = this.objects.get(key(bucket, name));
      const generation = url.searchParams.get('generation');
      if (!o || (generation !== null && generation !== String(o.generation)))
        return sendError(res, 404, 'notFound', `No such object: ${bucket}/${name}`);
      const failed = preconditionFails(url.searchParams, o);
      if (failed) return sendError(res, 412, 'conditionNotMet', failed);
      if (url.searchParams.get('alt') === 'media') {
        res.writeHead(200, {
          'content-type': o.contentType,
          'content-length': o.bytes.length,
          'x-goog-hash': o.md5Hash ? `crc32c=${o.crc32c},md5=${o.md5Hash}` : `crc32c=${o.crc32c}`,
          'x-goog-generation': String(o.generation),
          'x-goog-metageneration': String(o.metageneration),
          'x-goog-stored-content-length': String(o.bytes.length),
          'x-goog-stored-content-encoding': 'identity',
        });
        res.end(o.bytes);
        return true;
      }
      return sendJson(res, 200, this.resource(o));
    }
    return sendError(res, 404, 'notFound', 'Not Found');
  }

  /** objects.insert in its three upload types. */
  private insert(req: IncomingMessage, res: ServerResponse, url: URL, bucket: string, body: Buffer): Done {
    const q = url.searchParams;
    const type = q.get('uploadType');
    if (type === 'media') {
      const name = q.get('name');
      if (!name) return sendError(res, 400, 'required', 'Required parameter: name');
      return this.finish(res, q, bucket, name, body, header(req, 'content-type') ?? 'application/octet-stream', {});
    }
    if (type === 'multipart') {
      const parts = multipart(header(req, 'content-type') ?? '', body);
      if (parts?.length !== 2 || !parts[0] || !parts[1])
        return sendError(res, 400, 'invalid', 'Multipart upload needs exactly a metadata part and a media part');
      let resource: ObjectResourceIn;
      try {
        resource = JSON.parse(parts[0].body.toString('utf8')) as ObjectResourceIn;
      } catch {
        return sendError(res, 400, 'parseError', 'Parse Error');
      }
      const name = q.get('name') ?? resource.name;
      if (!name) return sendError(res, 400, 'required', 'Required');
      const contentType = resource.contentType ?? parts[1].contentType ?? 'application/octet-stream';
      const bad = checkHashes(resource, parts[1].body);
      if (bad) return sendError(res, 400, 'invalid', bad);
      return this.finish(res, q, bucket, name, parts[1].body, contentType, resource.metadata ?? {});
    }
    if (type === 'resumable') {
      let resource: ObjectResourceIn = {};
      if (body.length > 0) {
        try {
          resource = JSON.parse(body.toString('utf8')) as ObjectResourceIn;
        } catch {
          return sendError(res, 400, 'parseError', 'Parse Error');
        }
      }
      const name = q.get('name') ?? resource.name;
      if (!name) return sendError(res, 400, 'required', 'Required');
      const existing = this.objects.get(key(bucket, name));
      const failed = preconditionFails(q, existing);
      if (failed) return sendError(res, 412, 'conditionNotMet', failed);
      const id = randomBytes(12).toString('hex');
      this.sessions.set(id, {
        bucket,
        name,
        contentType: resource.contentType ?? header(req, 'x-upload-content-type') ?? 'application/octet-stream',
        metadata: resource.metadata ?? {},
        preconditions: new URLSearchParams(q),
        received: [],
        size: 0,
      });
      const location = `${this.url}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
      res.writeHead(200, { location, 'content-length': 0 });
      res.end();
      return true;
    }
    return sendError(res, 400, 'invalidParameter', `Invalid upload type: ${type ?? ''}`);
  }

  /** A chunk (or the status query `bytes *\/total`) of a resumable session. */
  private resume(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Done {
    const id = url.searchParams.get('upload_id') ?? '';
    const s = this.sessions.get(id);
    if (!s) return sendError(res, 404, 'notFound', 'No such upload session');
    const range = header(req, 'content-range') ?? `bytes 0-${body.length - 1}/${body.length}`;
    // "bytes a-b/total", "bytes */total" (a status query), or "bytes a-*/*": the rest of the object,
    // of a length unknown until this request ends (how a streaming client sends its one request).
    const m = /^bytes (?:(\d+)-(\d+|\*)|\*)\/(\d+|\*)$/.exec(range);
    if (!m) return sendError(res, 400, 'invalid', `Invalid Content-Range: ${range}`);
    if (m[1] !== undefined) {
      if (Number(m[1]) !== s.size) return sendError(res, 400, 'invalid', 'Chunk does not start at the persisted size');
      if (m[2] !== '*' && Number(m[2]) - Number(m[1]) + 1 !== body.length)
        return sendError(res, 400, 'invalid', 'Content-Range does not match the body length');
      s.received.push(body);
      s.size += body.length;
    }
    const total = m[3] === '*' ? (m[2] === '*' ? s.size : undefined) : Number(m[3]);
    if (total === undefined || s.size < total) {
      res.writeHead(
        308,
        s.size > 0 ? { range: `bytes=0-${s.size - 1}`, 'content-length': 0 } : { 'content-length': 0 },
      );
      res.end();
      return true;
    }
    this.sessions.delete(id);
    return this.finish(res, s.preconditions, s.bucket, s.name, Buffer.concat(s.received), s.contentType, s.metadata);
  }

  private finish(
    res: ServerResponse,
    q: URLSearchParams,
    bucket: string,
    name: string,
    bytes: Buffer,
    contentType: string,
    metadata: Record<string, string>,
  ): Done {
    const failed = preconditionFails(q, this.objects.get(key(bucket, name)));
    if (failed) return sendError(res, 412, 'conditionNotMet', failed);
    return sendJson(res, 200, this.resource(this.store(bucket, name, bytes, contentType, metadata)));
  }

  private store(
    bucket: string,
    name: string,
    bytes: Buffer,
    contentType: string,
    metadata: Record<string, string>,
  ): GcsObject {
    const o: GcsObject = {
      bucket,
      name,
      bytes,
      contentType,
      metadata,
      generation: ++this.generation,
      metageneration: 1,
      md5Hash: createHash('md5').update(bytes).digest('base64'),
      crc32c: crc32cBase64(bytes),
      created: new Date(),
    };
    this.objects.set(key(bucket, name), o);
    this.creations++;
    return o;
  }

  private resource(o: GcsObject): object {
    const path = `b/${encodeURIComponent(o.bucket)}/o/${encodeURIComponent(o.name)}`;
    return {
      kind: 'storage#object',
      id: `${o.bucket}/${o.name}/${o.generation}`,
      selfLink: `${this.url}/storage/v1/${path}`,
      mediaLink: `${this.url}/download/storage/v1/${path}?generation=${o.generation}&alt=media`,
      name: o.name,
      bucket: o.bucket,
      generation: String(o.generation),
      metageneration: String(o.metageneration),
      contentType: o.contentType,
      storageClass: 'STANDARD',
      size: String(o.bytes.length),
      ...(o.md5Hash ? { md5Hash: o.md5Hash } : { componentCount: 2 }),
      crc32c: o.crc32c,
      etag: Buffer.from(String(o.generation)).toString('base64'),
      timeCreated: o.created.toISOString(),
      updated: o.created.toISOString(),
      timeStorageClassUpdated: o.created.toISOString(),
      ...(Object.keys(o.metadata).length > 0 ? { metadata: o.metadata } : {}),
    };
  }
}

interface ObjectResourceIn {
  name?: string;
  contentType?: string;
  metadata?: Record<string, string>;
  md5Hash?: string;
  crc32c?: string;
}

const key = (bucket: string, name: string) => `${bucket}\u0000${name}`;

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The JSON API's generation preconditions; the message GCS gives when one fails. */
function preconditionFails(q: URLSearchParams, existing: GcsObject | undefined): string | undefined {
  const current = existing?.generation ?? 0;
  const match = q.get('ifGenerationMatch');
  const notMatch = q.get('ifGenerationNotMatch');
  if ((match !== null && Number(match) !== current) || (notMatch !== null && Number(notMatch) === current))
    return 'At least one of the pre-conditions you specified did not hold.';
  return undefined;
}

function checkHashes(resource: ObjectResourceIn, bytes: Buffer): string | undefined {
  const md5 = createHash('md5').update(bytes).digest('base64');
  if (resource.md5Hash !== undefined && resource.md5Hash !== md5)
    return `Provided MD5 hash "${resource.md5Hash}" doesn't match calculated MD5 hash "${md5}".`;
  const crc = crc32cBase64(bytes);
  if (resource.crc32c !== undefined && resource.crc32c !== crc)
    return `Provided CRC32C "${resource.crc32c}" doesn't match calculated CRC32C "${crc}".`;
  return undefined;
}

/** multipart/related: each part's Content-Type and body. */
function multipart(contentType: string, body: Buffer): { contentType?: string; body: Buffer }[] | undefined {
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  if (!/^multipart\/related/i.test(contentType) || !m?.[1]) return undefined;
  const delimiter = Buffer.from(`--${m[1]}`);
  const parts: { contentType?: string; body: Buffer }[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    let start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break; // the closing delimiter
    if (body.subarray(start, start + 2).toString() === '\r\n') start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) return undefined;
    let part = body.subarray(start, next);
    if (part.subarray(part.length - 2).toString() === '\r\n') part = part.subarray(0, part.length - 2);
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) return undefined;
    const headers = part.subarray(0, split).toString('utf8');
    const ct = /^content-type:\s*(.+)$/im.exec(headers)?.[1]?.trim();
    parts.push({ ...(ct ? { contentType: ct } : {}), body: part.subarray(split + 4) });
    at = next;
  }
  return parts;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A response was sent (handlers return it, so every path ends in one). */
type Done = true;

function sendJson(res: ServerResponse, status: number, body: object): Done {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
  return true;
}

function sendError(res: ServerResponse, code: number, reason: string, message: string): Done {
  return sendJson(res, code, { error: { code, message, errors: [{ message, domain: 'global', reason }] } });
}
