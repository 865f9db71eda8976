// The pages for people under /ui/ (docs/ui.md): a few static files built by
// scripts/build-ui.js into dist/ui and served by provenanceApi (and npm start)
// on the read API's origin and access rules. Everything on the pages comes
// from the read API and is untrusted, so the answers carry a strict
// Content-Security-Policy (only this origin's own script and style, no inline
// code, no eval, no framing), nosniff and no referrer. Routing is in the page's
// fragment (/ui/#/artifacts/sha256:…), so the server knows only /ui/ and
// /ui/assets/<file>, and every URL the page builds is relative: it works
// behind a path prefix or `gcloud run services proxy` alike.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { notFound, ServiceError } from '../domain/errors.js';
import type { IdentityVerifier } from '../ports/identity.js';
import { authorizeReader, type ReadAccess } from './bearer.js';
import { errorResponse } from './connect-endpoint.js';
import { toConnectError } from './errors.js';
import { headOf, type HttpHandler, type HttpRequest, type HttpResponse } from './http.js';

/** Where the build puts the assets: dist/ui beside dist/functions (also in the function archive). */
export const UI_DIR = join(__dirname, '..', '..', 'ui');

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

export interface UiAssetsDeps {
  verifier: IdentityVerifier;
  access: ReadAccess;
  /** Defaults to UI_DIR. */
  dir?: string;
}

/** Reads the built assets once; a name not among them is never read from disk. */
export function loadAssets(dir: string): Map<string, Asset> {
  if (!existsSync(join(dir, 'index.html')))
    throw new ServiceError(
      'unavailable',
      'the pages are not built: run `node scripts/build-ui.js` (npm run build, npm start and npm run package do)',
    );
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  }
  return assets;
}

/** Is this request path one of the pages' (/ui, /ui/…)? */
export function isUiPath(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return path === '/ui' || path.startsWith('/ui/');
}

export function uiAssets(deps: UiAssetsDeps): HttpHandler {
  let assets: Map<string, Asset> | undefined;
  const load = () => {
    assets ??= loadAssets(deps.dir ?? UI_DIR);
    return assets;
  };

  const authorize = (req: HttpRequest) => authorizeReader(req.headers, deps.verifier, deps.access);

  async function serve(req: HttpRequest): Promise<HttpResponse> {
    const path = req.url.split('?')[0] ?? '';
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return plain(405, `${req.method} is not allowed: the pages answer GET`, { allow: 'GET, HEAD' });
    await authorize(req);
    // Relative, so it also works behind a path prefix.
    if (path === '/ui') return { status: 308, headers: { ...SECURITY_HEADERS, location: 'ui/' }, body: '' };
    const name =
      path === '/ui/' ? 'index.html' : path.startsWith('/ui/assets/') ? path.slice('/ui/assets/'.length) : '';
    const asset = name && !name.includes('/') ? load().get(name) : undefined;
    if (!asset) throw notFound(`no page or asset at ${path.slice(0, 200)} (the pages are at /ui/)`);
    const headers = {
      ...SECURITY_HEADERS,
      'content-type': asset.type,
      etag: asset.etag,
      // Asset names are not content-hashed: revalidate each time (a 304 is cheap).
      'cache-control': 'no-cache',
    };
    if (req.headers.get('if-none-match') === asset.etag) return { status: 304, headers, body: '' };
    return { status: 200, headers, body: asset.body };
  }

  async function answer(req: HttpRequest): Promise<HttpResponse> {
    try {
      return await serve(req);
    } catch (err) {
      const res = errorResponse(toConnectError(err));
      return { ...res, headers: { ...res.headers, ...SECURITY_HEADERS } };
    }
  }

  // HEAD is the GET's answer without its body, errors included, as on the read API.
  return async (req) => (req.method === 'HEAD' ? headOf(await answer(req)) : answer(req));
}

/** The read API and the pages behind one handler: /ui… to the pages, the rest to the API. */
export function withUi(ui: HttpHandler, api: HttpHandler): HttpHandler {
  return (req) => (isUiPath(req.url) ? ui(req) : api(req));
}

function plain(status: number, message: string, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...headers },
    body: message,
  };
}
