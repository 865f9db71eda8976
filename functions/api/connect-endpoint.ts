// Serves one protobuf service over the Connect protocol (unary, JSON and
// binary), using @connectrpc/connect's own protocol handling. What it adds:
// a body size cap, strict JSON (unknown fields rejected), and Connect-format
// errors for the cases Connect leaves to the HTTP server (unknown path, wrong
// method, unsupported content type).
import { Code, ConnectError, createConnectRouter, type ConnectRouter } from '@connectrpc/connect';
import { codeToHttpStatus, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import type { UniversalHandler } from '@connectrpc/connect/protocol';
import type { HttpHandler, HttpRequest, HttpResponse } from './http.js';

export const MAX_BODY_BYTES = 64 * 1024;

export function connectEndpoint(register: (router: ConnectRouter) => void): HttpHandler {
  const router = createConnectRouter({
    grpc: false,
    grpcWeb: false,
    connect: true,
    readMaxBytes: MAX_BODY_BYTES,
    jsonOptions: { ignoreUnknownFields: false },
  });
  register(router);
  const byPath = new Map<string, UniversalHandler>(router.handlers.map((h) => [h.requestPath, h]));
  const methods = [...byPath.keys()].sort();

  return async (req: HttpRequest): Promise<HttpResponse> => {
    const path = new URL(req.url, 'http://x').pathname;
    const handler = byPath.get(path);
    if (!handler) {
      return connectError(Code.Unimplemented, `no such method "${path}"; this service has: ${methods.join(', ')}`, { status: 404 });
    }
    if (req.method !== 'POST') {
      return connectError(Code.Unimplemented, `${req.method} is not allowed: call ${path} with POST`, { status: 405, headers: { allow: 'POST' } });
    }
    const contentType = req.headers.get('content-type') ?? '';
    if (!handler.supportedContentType(contentType)) {
      return connectError(Code.InvalidArgument, `content-type "${contentType}" is not supported: use application/json or application/proto`, { status: 415 });
    }
    if (req.body.byteLength > MAX_BODY_BYTES) {
      return connectError(Code.ResourceExhausted, `request body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    const res = await handler({
      httpVersion: '1.1',
      method: req.method,
      url: new URL(req.url, `http://${req.headers.get('host') ?? 'localhost'}`).toString(), // Connect wants it absolute
      header: req.headers,
      body: once(req.body),
      signal: new AbortController().signal,
    });
    const headers: Record<string, string> = {};
    res.header?.forEach((v, k) => (headers[k] = v));
    return { status: res.status, headers, body: res.body ? await collect(res.body) : new Uint8Array() };
  };
}

export function connectError(code: Code, message: string, opts: { status?: number; headers?: Record<string, string> } = {}): HttpResponse {
  return {
    status: opts.status ?? codeToHttpStatus(code),
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: errorToJsonBytes(new ConnectError(message, code), undefined),
  };
}

async function* once(body: Uint8Array): AsyncIterable<Uint8Array> {
  yield body;
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of body) parts.push(p);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
