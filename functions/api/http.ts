// A plain request/response pair, so handlers can be called from tests, from
// functions-framework and from the local server alike.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, pipeline } from 'node:stream';
import { log } from '../log.js';

/** What handlers read of request headers; case-insensitive. */
export interface HeaderReader {
  get(name: string): string | null;
  /** A full fetch Headers copy, for code that needs one (built on demand: it is costly per request). */
  toHeaders(): Headers;
}

export interface HttpRequest {
  method: string;
  /** Path and query, e.g. "/provenance.snooperpb.SelfReport/ReportGit". */
  url: string;
  headers: HeaderReader;
  body: Uint8Array;
  /**
   * The body is already decoded (functions-framework's body parser inflates a
   * gzip body before the function runs), so Content-Encoding no longer applies.
   */
  bodyDecoded?: boolean;
}

/** Headers over node's already-lowercased header object, without copying it. */
export class NodeHeaders implements HeaderReader {
  constructor(private readonly raw: IncomingMessage['headers']) {}
  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  }
  toHeaders(): Headers {
    const h = new Headers();
    for (const [k, v] of Object.entries(this.raw)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) h.append(k, x);
      else h.set(k, v);
    }
    return h;
  }
}

/** HeaderReader over a fetch Headers (tests, and callers that have one). */
export function fetchHeaders(h: Headers): HeaderReader {
  return { get: (n) => h.get(n), toHeaders: () => h };
}

export interface HttpResponse {
  status: number;
  /** A content-length given here is sent as is (a HEAD answer, a stream); otherwise it is the body's. */
  headers: Record<string, string>;
  body: Uint8Array | string;
  /**
   * A large answer written piece by piece with backpressure instead of `body`
   * (which is then empty); its headers carry the exact content-length.
   */
  stream?: () => AsyncIterable<string | Uint8Array>;
}

/** HEAD: the headers a GET would send, content-length included, and no body. */
export function headOf(res: HttpResponse): HttpResponse {
  const length = res.stream
    ? res.headers['content-length']
    : String(typeof res.body === 'string' ? Buffer.byteLength(res.body) : res.body.byteLength);
  const { stream: _s, ...rest } = res;
  return { ...rest, headers: { ...res.headers, 'content-length': length ?? '0' }, body: '' };
}

/** The whole answer as bytes, stream or not (tests, and small answers). */
export async function responseBytes(res: HttpResponse): Promise<Buffer> {
  if (!res.stream) return typeof res.body === 'string' ? Buffer.from(res.body) : Buffer.from(res.body);
  const parts: Buffer[] = [];
  for await (const piece of res.stream())
    parts.push(typeof piece === 'string' ? Buffer.from(piece) : Buffer.from(piece));
  return Buffer.concat(parts);
}

/** Answers synchronously when it can (refusals), so the hot path creates fewer promises. */
export type HttpHandler = (req: HttpRequest) => HttpResponse | Promise<HttpResponse>;

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

/** Express/functions-framework request → HttpRequest (the body is already read into rawBody). */
export function fromExpress(req: IncomingMessage & { rawBody?: Buffer; originalUrl?: string }): HttpRequest {
  return {
    method: req.method ?? 'GET',
    url: req.originalUrl ?? req.url ?? '/',
    headers: new NodeHeaders(req.headers),
    body: req.rawBody ?? new Uint8Array(),
    bodyDecoded: true,
  };
}

/** What reading a plain node request gave: the request, or that its body is over the limit. */
export type ReadResult = { request: HttpRequest; tooLarge?: false } | { request?: undefined; tooLarge: true };

/**
 * Plain node request → HttpRequest. Reads at most maxBytes of the body; one
 * byte more and the whole request is refused (tooLarge), never cut short:
 * a truncated body could still decode and be stored.
 */
export async function fromNode(req: IncomingMessage, maxBytes: number): Promise<ReadResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return { tooLarge: true };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return { tooLarge: true };
    chunks.push(chunk as Buffer);
  }
  return {
    request: {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: new NodeHeaders(req.headers),
      body: Buffer.concat(chunks),
    },
  };
}

export function send(res: ServerResponse, out: HttpResponse): void {
  if (out.stream) {
    res.writeHead(out.status, out.headers);
    // A piece that fails after the headers went out ends the connection short of
    // content-length: the client sees a truncated answer, never a wrong one.
    pipeline(Readable.from(out.stream(), { objectMode: false }), res, (err) => {
      if (err && err.code !== 'ERR_STREAM_PREMATURE_CLOSE')
        log('ERROR', 'answer cut short: reading it from the store failed', { error: String(err) });
    });
    return;
  }
  const body = typeof out.body === 'string' ? Buffer.from(out.body) : out.body;
  res.writeHead(out.status, { 'content-length': String(body.byteLength), ...out.headers });
  res.end(body);
}
