// A plain request/response pair, so handlers can be called from tests, from
// functions-framework and from the local server alike.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface HttpRequest {
  method: string;
  /** Path and query, e.g. "/provenance.snooperpb.SelfReport/ReportGit". */
  url: string;
  headers: Headers;
  body: Uint8Array;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

export type HttpHandler = (req: HttpRequest) => Promise<HttpResponse>;

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

/** Express/functions-framework request → HttpRequest (the body is already read into rawBody). */
export function fromExpress(req: IncomingMessage & { rawBody?: Buffer; originalUrl?: string }): HttpRequest {
  return { method: req.method ?? 'GET', url: req.originalUrl ?? req.url ?? '/', headers: toHeaders(req), body: req.rawBody ?? new Uint8Array() };
}

/** Plain node request → HttpRequest, reading at most maxBytes + 1 of the body. */
export async function fromNode(req: IncomingMessage, maxBytes: number): Promise<HttpRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes + 1) break; // enough to know it is too big
    chunks.push(chunk as Buffer);
  }
  return { method: req.method ?? 'GET', url: req.url ?? '/', headers: toHeaders(req), body: Buffer.concat(chunks) };
}

export function send(res: ServerResponse, out: HttpResponse): void {
  res.statusCode = out.status;
  for (const [k, v] of Object.entries(out.headers)) res.setHeader(k, v);
  res.end(out.body);
}

function toHeaders(req: IncomingMessage): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) h.append(k, x);
    else h.set(k, v);
  }
  return h;
}
