// A local stand-in for a CIPD backend's Repository metadata RPCs over pRPC,
// built from the same proto as the sink (proto/cipd/repo.proto, CIPD's own
// definitions): no CIPD server can run here. It follows the pRPC protocol
// (luci-go grpc/prpc): POST /prpc/cipd.Repository/<Method>, binary or JSON
// encoding by Content-Type/Accept (JSON answers prefixed with ")]}'\n"), the
// gRPC code in X-Prpc-Grpc-Code, UNIMPLEMENTED for unknown methods; and CIPD's
// metadata rules (repo.proto): keys [a-z0-9_-]{1,400}, values under 512 KiB,
// a fingerprint of the first 16 bytes of SHA-256("<key>:<value>") in hex,
// identical pairs stored once, listings most recent first, NOT_FOUND for an
// unknown instance, UNAUTHENTICATED without the expected Bearer token (when
// started with one; else anonymous callers are served).
// Every request is recorded, so a test can assert that none was made.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  create,
  type DescMessage,
  fromBinary,
  fromJson,
  type MessageShape,
  toBinary,
  toJson,
} from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { HashAlgo, type ObjectRef } from '../../functions/gen/cipd/cipd_pb.js';
import {
  AttachMetadataRequestSchema,
  type InstanceMetadata,
  InstanceMetadataSchema,
  ListMetadataRequestSchema,
  ListMetadataResponseSchema,
} from '../../functions/gen/cipd/repo_pb.js';

export interface RecordedCipdRequest {
  method: string;
  path: string;
  authorization?: string;
}

const CODE = { OK: 0, INVALID_ARGUMENT: 3, NOT_FOUND: 5, PERMISSION_DENIED: 7, UNIMPLEMENTED: 12, UNAUTHENTICATED: 16 };
const HTTP = { 0: 200, 3: 400, 5: 404, 7: 403, 12: 501, 16: 401 } as Record<number, number>;

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class CipdStandIn {
  readonly requests: RecordedCipdRequest[] = [];
  /** "<package>\0<algo>:<hex>" → entries, oldest first. */
  private readonly instances = new Map<string, InstanceMetadata[]>();
  private clock = Date.now();

  private constructor(
    private readonly server: Server,
    /** host:port, as a cipd:// target names it. */
    readonly host: string,
    private readonly token: string | undefined,
    private readonly caller: string,
  ) {}

  /** Listens on a free loopback port; `token`, if given, is the one Bearer token it accepts (as `caller`). */
  static async start(token?: string, caller = 'user:provenance@example.iam.gserviceaccount.com'): Promise<CipdStandIn> {
    let standIn: CipdStandIn | undefined;
    const server = createServer((req, res) => {
      standIn?.handle(req, res).catch((err: unknown) => respondError(res, 13, String(err)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    standIn = new CipdStandIn(server, `127.0.0.1:${port}`, token, caller);
    return standIn;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Registers a package instance (registered by an upload in real CIPD). */
  addInstance(pkg: string, instance: { hashAlgo: HashAlgo; hexDigest: string }): void {
    this.instances.set(instanceKey(pkg, instance), []);
  }

  /** An instance's metadata, oldest first (undefined for an unknown instance). */
  metadata(pkg: string, instance: { hashAlgo: HashAlgo; hexDigest: string }): InstanceMetadata[] | undefined {
    return this.instances.get(instanceKey(pkg, instance));
  }

  /** Attaches an entry directly (a test's pre-existing state). */
  seed(pkg: string, instance: { hashAlgo: HashAlgo; hexDigest: string }, key: string, value: Buffer): void {
    this.attach(this.entries(pkg, instance), key, value, 'text/plain', 'user:someone@example.com');
  }

  /** Requests to a method so far. */
  calls(method: string): RecordedCipdRequest[] {
    return this.requests.filter((r) => r.path === `/prpc/cipd.Repository/${method}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    this.requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    const m = /^\/prpc\/cipd\.Repository\/([A-Za-z]+)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return respondError(res, CODE.UNIMPLEMENTED, 'no such service or method');
    const json = (req.headers['content-type'] ?? '').startsWith('application/json');
    const answerJson = /application\/json|encoding=json/.test(req.headers.accept ?? '');
    try {
      if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`)
        throw new RpcError(CODE.UNAUTHENTICATED, 'bad or missing OAuth token');
      if (m[1] === 'AttachMetadata') {
        const r = decode(AttachMetadataRequestSchema, body, json);
        const entries = this.entries(r.package, r.instance);
        for (const md of r.metadata) this.attach(entries, md.key, Buffer.from(md.value), md.contentType, this.caller);
        return respond(res, new Uint8Array(0), answerJson ? '{}' : undefined);
      }
      if (m[1] === 'ListMetadata') {
        const r = decode(ListMetadataRequestSchema, body, json);
        const entries = this.entries(r.package, r.instance);
        const listed = entries.filter((e) => r.keys.length === 0 || r.keys.includes(e.key)).reverse();
        const out = create(ListMetadataResponseSchema, { metadata: listed });
        return respond(
          res,
          toBinary(ListMetadataResponseSchema, out),
          answerJson ? JSON.stringify(toJson(ListMetadataResponseSchema, out)) : undefined,
        );
      }
      throw new RpcError(CODE.UNIMPLEMENTED, `method ${m[1]} is not implemented`);
    } catch (err) {
      if (err instanceof RpcError) return respondError(res, err.code, err.message);
      return respondError(res, CODE.INVALID_ARGUMENT, `bad request: ${(err as Error).message}`);
    }
  }

  private entries(pkg: string, instance: Pick<ObjectRef, 'hashAlgo' | 'hexDigest'> | undefined): InstanceMetadata[] {
    if (!instance || !/^[0-9a-f]+$/.test(instance.hexDigest))
      throw new RpcError(CODE.INVALID_ARGUMENT, 'bad instance ref');
    const want = instance.hashAlgo === HashAlgo.SHA1 ? 40 : instance.hashAlgo === HashAlgo.SHA256 ? 64 : 0;
    if (instance.hexDigest.length !== want) throw new RpcError(CODE.INVALID_ARGUMENT, 'bad instance ref');
    const entries = this.instances.get(instanceKey(pkg, instance));
    if (!entries) throw new RpcError(CODE.NOT_FOUND, 'no such instance');
    return entries;
  }

  private attach(entries: InstanceMetadata[], key: string, value: Buffer, contentType: string, by: string): void {
    if (!/^[a-z0-9_-]{1,400}$/.test(key)) throw new RpcError(CODE.INVALID_ARGUMENT, `bad metadata key "${key}"`);
    if (value.length >= 512 * 1024) throw new RpcError(CODE.INVALID_ARGUMENT, 'the metadata value is too long');
    const fingerprint = createHash('sha256').update(`${key}:`).update(value).digest().subarray(0, 16).toString('hex');
    if (entries.some((e) => e.fingerprint === fingerprint)) return; // identical pair: a no-op
    entries.push(
      create(InstanceMetadataSchema, {
        key,
        value,
        contentType,
        fingerprint,
        attachedBy: by,
        attachedTs: timestampFromDate(new Date(++this.clock)),
      }),
    );
  }
}

function instanceKey(pkg: string, instance: { hashAlgo: HashAlgo; hexDigest: string }): string {
  return `${pkg}\u0000${instance.hashAlgo}:${instance.hexDigest}`;
}

function decode<D extends DescMessage>(schema: D, body: Buffer, json: boolean): MessageShape<D> {
  return json ? fromJson(schema, JSON.parse(body.toString('utf8'))) : fromBinary(schema, body);
}

function respond(res: ServerResponse, binary: Uint8Array, json: string | undefined): void {
  res.writeHead(200, {
    'x-prpc-grpc-code': '0',
    'x-content-type-options': 'nosniff',
    'content-type': json !== undefined ? 'application/json' : 'application/prpc; encoding=binary',
  });
  res.end(json !== undefined ? `)]}'\n${json}` : binary);
}

function respondError(res: ServerResponse, code: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(HTTP[code] ?? 500, {
    'x-prpc-grpc-code': String(code),
    'x-content-type-options': 'nosniff',
    'content-type': 'text/plain; charset=utf-8',
  });
  res.end(`${message}\n`);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
