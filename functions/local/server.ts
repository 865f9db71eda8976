// The whole service behind one local HTTP port: the SelfReport RPCs and the
// read API. Used by npm start, the e2e test and the bench. Hardened like a
// front end: a body over the limit is refused whole (429) and the connection
// closed; slow requests, slow headers and idle connections time out; oversized
// headers are refused with a Connect error body; a client that goes away is
// one log line, never a stack trace.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { fromNode, jsonResponse, NodeHeaders, send, type HttpHandler } from '../api/http.js';
import { bodyTooLarge, MAX_BODY_BYTES } from '../api/connect-endpoint.js';
import { traceFromHeaders } from '../api/trace-context.js';
import { functionName, log, withLogContext } from '../log.js';

export interface Route {
  prefix: string;
  handler: HttpHandler;
}

export interface ServerLimits {
  /** Whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** Headers must arrive within this. */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Largest request header block accepted. */
  maxHeaderBytes: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 16 * 1024,
};

const ABORTED = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'HPE_INVALID_EOF_STATE']);

export function localServer(routes: Route[], limits: ServerLimits = DEFAULT_LIMITS): Server {
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      // Node checks the two timeouts on this interval (30 s by default): check often enough to honour them.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 2))),
    },
    traced(async (req, res) => {
      try {
        const read = await fromNode(req, MAX_BODY_BYTES);
        if (read.tooLarge) {
          // Not reading the rest: answer and close, so nothing of it is ever stored.
          res.shouldKeepAlive = false;
          send(res, bodyTooLarge('', { connection: 'close' }));
          return;
        }
        const request = read.request;
        const route = routes.find((r) => request.url.startsWith(r.prefix));
        if (!route) {
          send(
            res,
            jsonResponse(404, {
              code: 'not_found',
              message: `no route for ${request.method} ${request.url.split('?')[0]}`,
            }),
          );
          return;
        }
        const out = route.handler(request);
        send(res, out instanceof Promise ? await out : out);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (req.destroyed || (code && ABORTED.has(code))) {
          log('INFO', 'client closed the request before it was answered', {
            method: req.method,
            path: req.url?.split('?')[0],
            code: code ?? 'aborted',
          });
          return;
        }
        log('ERROR', 'unhandled error', {
          method: req.method,
          path: req.url?.split('?')[0],
          error: err,
        });
        if (!res.headersSent) send(res, jsonResponse(500, { code: 'internal', message: 'internal error' }));
      }
    }),
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // Errors before a request exists (oversized or malformed headers, timeouts):
  // node would answer with a bare status line; answer with Connect's error body.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || socket.destroyed) return;
    const [status, code, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'resource_exhausted', `request headers are larger than ${limits.maxHeaderBytes} bytes`]
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'deadline_exceeded', `the request did not arrive within ${limits.requestTimeoutMs / 1000}s`]
          : ABORTED.has(err.code ?? '')
            ? [0, '', '']
            : [400, 'invalid_argument', 'malformed HTTP request'];
    if (status === 0) {
      socket.destroy();
      return;
    }
    log('INFO', 'request refused before it was read', { status, reason: err.code ?? err.message });
    const body = JSON.stringify({ code, message });
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

/** Every line logged while a request is handled carries its trace. */
function traced(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return (req, res) =>
    withLogContext(
      { function: functionName('provenance-local'), trace: traceFromHeaders(new NodeHeaders(req.headers)) },
      () => handle(req, res),
    );
}

export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(`http://localhost:${(server.address() as { port: number }).port}`));
  });
}
