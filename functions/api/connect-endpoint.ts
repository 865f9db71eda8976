// Serves one protobuf service over the Connect protocol (unary POST; JSON and
// binary bodies, identity or gzip). Every request takes one path: route,
// method, content type, size (64 KiB, before and after gunzip), strict decode,
// the method's logic, encode. Decoding is done here with @bufbuild/protobuf
// and Connect's error helpers rather than Connect's general router: it is
// stricter (invalid UTF-8, a BOM, duplicate keys and inexact numbers are
// refused, see domain/strict-json-text.ts; non-decimal int64 strings, see
// strict-json.ts) and cheaper (functions-framework runs each request in a node
// `domain`, which taxes every promise; the router makes ~45 per call).
import { Code, ConnectError } from '@connectrpc/connect';
import { codeToHttpStatus, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import type { Compression } from '@connectrpc/connect/protocol';
import {
  create,
  fromBinary,
  fromJson,
  toBinary,
  toJsonString,
  type DescMessage,
  type DescMethod,
  type DescService,
  type MessageShape,
} from '@bufbuild/protobuf';
import { lazy } from '../lazy.js';
import { toConnectError } from './errors.js';
import { InvalidFieldError, ServiceError } from '../domain/errors.js';
import { JsonTextError, parseStrictJson } from '../domain/strict-json-text.js';
import { hasIntegerFields, strictJson } from './strict-json.js';
import type { HeaderReader, HttpHandler, HttpRequest, HttpResponse } from './http.js';

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
}

type Codec = 'json' | 'proto';

// connect-node (for its gzip) costs ~20 ms to load: only a compressed request pays it.
const gzip = lazy(async (): Promise<Compression> => (await import('@connectrpc/connect-node')).compressionGzip);

export function connectEndpoint(service: DescService, impls: Record<string, UnaryImpl>): HttpHandler {
  const routes = new Map<string, Route>();
  for (const method of service.methods) {
    const impl = impls[method.localName];
    if (impl && method.methodKind === 'unary')
      routes.set(`/${service.typeName}/${method.name}`, { method, impl, empty: create(method.output) });
  }
  const known = [...routes.keys()].sort();

  return (req: HttpRequest): HttpResponse | Promise<HttpResponse> => {
    const path = pathOf(req.url);
    const route = routes.get(path);
    if (!route)
      return errorResponse(
        new ConnectError(`no such method "${path}"; this service has: ${known.join(', ')}`, Code.Unimplemented),
        404,
      );
    if (req.method !== 'POST') {
      return errorResponse(
        new ConnectError(`${req.method} is not allowed: call ${path} with POST`, Code.Unimplemented),
        405,
        { allow: 'POST' },
      );
    }
    const contentType = req.headers.get('content-type') ?? '';
    const codec = codecOf(contentType);
    if (!codec) {
      return errorResponse(
        new ConnectError(
          `content-type "${contentType}" is not supported: use application/json or application/proto`,
          Code.InvalidArgument,
        ),
        415,
      );
    }
    const version = req.headers.get('connect-protocol-version');
    if (version !== null && version !== '1') {
      return errorResponse(
        new ConnectError(`connect-protocol-version "${version}" is not supported: send 1`, Code.InvalidArgument),
      );
    }
    if (req.body.byteLength > MAX_BODY_BYTES) return bodyTooLarge();
    // functions-framework's body parser has already inflated a gzip body; npm start has not.
    const encoding = req.bodyDecoded
      ? 'identity'
      : (req.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
    if (encoding === 'identity') return unary(route, codec, req.body, req.headers);
    if (encoding !== 'gzip') {
      return errorResponse(
        new ConnectError(`content-encoding "${encoding}" is not supported: send gzip or identity`, Code.Unimplemented),
        415,
        { 'accept-encoding': 'gzip' },
      );
    }
    return gzip()
      .then((g) => g.decompress(req.body, MAX_BODY_BYTES))
      .then(
        (body) => unary(route, codec, body, req.headers),
        (err: unknown) => {
          const e = ConnectError.from(err);
          return e.code === Code.ResourceExhausted
            ? bodyTooLarge('after gunzip')
            : errorResponse(new ConnectError(`request body is not valid gzip: ${e.rawMessage}`, Code.InvalidArgument));
        },
      );
  };
}

function codecOf(contentType: string): Codec | undefined {
  const [base = '', ...params] = contentType.split(';').map((s) => s.trim().toLowerCase());
  if (params.some((p) => p !== '' && !/^charset=utf-?8$/.test(p))) return undefined;
  return base === 'application/json' ? 'json' : base === 'application/proto' ? 'proto' : undefined;
}

function unary(
  route: Route,
  codec: Codec,
  body: Uint8Array,
  headers: HeaderReader,
): HttpResponse | Promise<HttpResponse> {
  let input: MessageShape<DescMessage>;
  try {
    input = codec === 'json' ? decodeJson(route.method.input, body) : fromBinary(route.method.input, body);
  } catch (err) {
    // Our own refusals (strict JSON, UTF-8) carry their code; the decoder's errors are bad input.
    if (err instanceof ConnectError || err instanceof ServiceError) return errorResponse(toConnectError(err));
    return errorResponse(
      new ConnectError(
        `cannot decode ${route.method.input.typeName} from ${codec === 'json' ? 'JSON' : 'binary'}: ${(err as Error).message}`,
        Code.InvalidArgument,
      ),
    );
  }
  const encode = (output: unknown): HttpResponse => {
    const out = (output ?? route.empty) as MessageShape<DescMessage>;
    return codec === 'json'
      ? { status: 200, headers: { 'content-type': 'application/json' }, body: toJsonString(route.method.output, out) }
      : { status: 200, headers: { 'content-type': 'application/proto' }, body: toBinary(route.method.output, out) };
  };
  return route.impl(input as never, headers).then(encode, (err: unknown) => errorResponse(toConnectError(err)));
}

function decodeJson(schema: DescMessage, body: Uint8Array): MessageShape<DescMessage> {
  // One strict reader for the service and the CLI (domain/strict-json-text.ts):
  // invalid UTF-8, a BOM, duplicate keys, inexact numbers, lone surrogates and
  // deep nesting are refused here, naming the path; integer spellings are
  // checked only for the messages that have integer fields.
  let json: unknown;
  try {
    json = body.byteLength === 0 ? {} : parseStrictJson(body);
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    if (err.path) throw new InvalidFieldError(err.path, err.detail);
    throw new ConnectError(`request body: ${err.detail}`, Code.InvalidArgument);
  }
  const message = fromJson(schema, json as never, { ignoreUnknownFields: false });
  if (hasIntegerFields(schema)) strictJson(schema, json);
  return message;
}

/** 429: the body is over MAX_BODY_BYTES (as sent, or `when` e.g. after gunzip). */
export function bodyTooLarge(when = '', headers: Record<string, string> = {}): HttpResponse {
  return errorResponse(
    new ConnectError(
      `request body is larger than ${MAX_BODY_BYTES} bytes${when ? ` ${when}` : ''}: nothing was stored`,
      Code.ResourceExhausted,
    ),
    undefined,
    headers,
  );
}

export function errorResponse(
  err: ConnectError,
  status = codeToHttpStatus(err.code),
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: errorToJsonBytes(err, undefined),
  };
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
