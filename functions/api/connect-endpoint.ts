// Serves one protobuf service over the Connect protocol (unary; JSON and
// binary bodies). Every request is checked here first: path, method, content
// type, a 64 KiB body cap. Then:
//  - the common case (uncompressed application/json or application/proto) is
//    decoded and encoded directly with @bufbuild/protobuf and Connect's own
//    error helpers. functions-framework runs each request inside a node
//    `domain`, which taxes every promise; Connect's general handler makes ~45
//    of them per unary call and cost 60% of throughput in bench:ingest;
//  - anything else (compressed bodies, other protocol options) goes to
//    @connectrpc/connect's own router, with the same implementation.
import { Code, ConnectError, createConnectRouter } from '@connectrpc/connect';
import { codeToHttpStatus, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import type { Compression, UniversalHandler } from '@connectrpc/connect/protocol';
import { lazy } from '../lazy.js';
import { toConnectError } from './errors.js';
import { create, fromBinary, fromJsonString, toBinary, toJsonString, type DescMessage, type DescMethod, type DescService, type MessageShape } from '@bufbuild/protobuf';
import { fetchHeaders, type HeaderReader, type HttpHandler, type HttpRequest, type HttpResponse } from './http.js';

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * One unary method's logic: the decoded request and the request headers in,
 * the response out (undefined: the empty message). Errors may be domain
 * errors: they are mapped to Connect codes here.
 */
export type UnaryImpl = (req: never, headers: HeaderReader) => Promise<unknown>;

interface Route {
  method: DescMethod;
  impl: UnaryImpl;
  /** The output message with no fields set: what an impl's undefined stands for. */
  empty: MessageShape<DescMessage>;
  accepts(contentType: string): boolean;
  /** Connect's own handler for this method, with gzip: for everything the fast path does not take. */
  fallback(): Promise<UniversalHandler>;
}

const JSON_OPTIONS = { ignoreUnknownFields: false } as const;

export function connectEndpoint(service: DescService, impls: Record<string, UnaryImpl>): HttpHandler {
  const serviceImpl: Record<string, (req: unknown, ctx: { requestHeader: Headers }) => Promise<unknown>> = {};
  for (const [name, impl] of Object.entries(impls)) {
    serviceImpl[name] = (req, ctx) => impl(req as never, fetchHeaders(ctx.requestHeader)).then((out) => out ?? {}, (err: unknown) => Promise.reject(toConnectError(err)));
  }
  const makeRouter = (acceptCompression: Compression[]) => {
    const router = createConnectRouter({ grpc: false, grpcWeb: false, connect: true, readMaxBytes: MAX_BODY_BYTES, jsonOptions: JSON_OPTIONS, acceptCompression });
    router.service(service, serviceImpl as never);
    return router;
  };
  // connect-node (for its gzip) costs ~20 ms to load: only a compressed request pays it.
  const compressing = lazy(async () => {
    const { compressionGzip } = await import('@connectrpc/connect-node');
    return new Map(makeRouter([compressionGzip]).handlers.map((h) => [h.requestPath, h]));
  });

  const routes = new Map<string, Route>();
  for (const h of makeRouter([]).handlers) {
    const impl = impls[h.method.localName];
    if (impl) routes.set(h.requestPath, { method: h.method, impl, empty: create(h.method.output), accepts: (ct) => h.supportedContentType(ct), fallback: async () => (await compressing()).get(h.requestPath)! });
  }
  const known = [...routes.keys()].sort();

  return (req: HttpRequest): HttpResponse | Promise<HttpResponse> => {
    const path = pathOf(req.url);
    const route = routes.get(path);
    if (!route) return errorResponse(new ConnectError(`no such method "${path}"; this service has: ${known.join(', ')}`, Code.Unimplemented), 404);
    if (req.method !== 'POST') {
      return errorResponse(new ConnectError(`${req.method} is not allowed: call ${path} with POST`, Code.Unimplemented), 405, { allow: 'POST' });
    }
    const contentType = req.headers.get('content-type') ?? '';
    if (!route.accepts(contentType)) {
      return errorResponse(new ConnectError(`content-type "${contentType}" is not supported: use application/json or application/proto`, Code.InvalidArgument), 415);
    }
    if (req.body.byteLength > MAX_BODY_BYTES) {
      return errorResponse(new ConnectError(`request body is larger than ${MAX_BODY_BYTES} bytes`, Code.ResourceExhausted));
    }
    const codec = simpleCodec(req.headers, contentType);
    return codec ? unary(route, codec, req) : route.fallback().then((h) => viaConnect(h, req));
  };
}

type Codec = 'json' | 'proto';

/** The fast path applies to plain unary requests only; the rest is Connect's to judge. */
function simpleCodec(headers: HeaderReader, contentType: string): Codec | undefined {
  const encoding = headers.get('content-encoding');
  if (encoding && encoding !== 'identity') return undefined;
  const version = headers.get('connect-protocol-version');
  if (version !== null && version !== '1') return undefined;
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  return base === 'application/json' ? 'json' : base === 'application/proto' ? 'proto' : undefined;
}

function unary(route: Route, codec: Codec, req: HttpRequest): HttpResponse | Promise<HttpResponse> {
  let input: MessageShape<DescMessage>;
  try {
    input =
      codec === 'json'
        ? fromJsonString(route.method.input, Buffer.from(req.body).toString('utf8') || '{}', JSON_OPTIONS)
        : fromBinary(route.method.input, req.body);
  } catch (err) {
    return errorResponse(new ConnectError(`cannot decode ${route.method.input.typeName} from ${codec === 'json' ? 'JSON' : 'binary'}: ${(err as Error).message}`, Code.InvalidArgument));
  }
  const encode = (output: unknown): HttpResponse => {
    const out = (output ?? route.empty) as MessageShape<DescMessage>;
    return codec === 'json'
      ? { status: 200, headers: { 'content-type': 'application/json' }, body: toJsonString(route.method.output, out) }
      : { status: 200, headers: { 'content-type': 'application/proto' }, body: toBinary(route.method.output, out) };
  };
  return route.impl(input as never, req.headers).then(encode, (err: unknown) => errorResponse(toConnectError(err)));
}

async function viaConnect(handler: UniversalHandler, req: HttpRequest): Promise<HttpResponse> {
  const res = await handler({
    httpVersion: '1.1',
    method: req.method,
    url: new URL(req.url, `http://${req.headers.get('host') ?? 'localhost'}`).toString(), // Connect wants it absolute
    header: req.headers.toHeaders(),
    body: (async function* () {
      yield req.body;
    })(),
    signal: new AbortController().signal,
  });
  const headers: Record<string, string> = {};
  res.header?.forEach((v, k) => (headers[k] = v));
  const parts: Uint8Array[] = [];
  if (res.body) for await (const p of res.body) parts.push(p);
  return { status: res.status, headers, body: Buffer.concat(parts) };
}

export function errorResponse(err: ConnectError, status = codeToHttpStatus(err.code), headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: errorToJsonBytes(err, undefined) };
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
