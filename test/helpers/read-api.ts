// What the read-API unit tests stand on: in-memory stores, a manual clock, the
// ingest that reports as OWNER, the assembler that signs, a dev-issuer verifier
// for reader tokens, and a GET that calls a handler as a plain function.
import { DevIssuer, DEV_ISSUER } from '../../functions/adapters/dev-issuer.js';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { OidcVerifier } from '../../functions/adapters/oidc-verifier.js';
import { fetchHeaders, responseBytes, type HttpHandler } from '../../functions/api/http.js';
import type { Identity } from '../../functions/domain/task.js';
import { ProvenanceAssembler } from '../../functions/provenance/assembler.js';
import { memoryIngest } from './memory-ingest.js';

/** The one reporter the fixture's ingest accepts. */
export const OWNER: Identity = { issuer: DEV_ISSUER, subject: '42', email: 'builder@example.com' };

/** Memory stores, a clock at 2026-06-01, an ingest allowing OWNER and an assembler with a fresh key. */
export function readFixture(opts: { pieceChars?: number } = {}) {
  const { tasks, provenance, clock, ingest } = memoryIngest(OWNER, {
    now: new Date('2026-06-01T00:00:00Z'),
    reportRetentionMs: 1e9,
    ...(opts.pieceChars === undefined ? {} : { pieceChars: opts.pieceChars }),
  });
  const signer = LocalSigner.ephemeral();
  const assembler = new ProvenanceAssembler({ tasks, provenance, signer, clock, builderId: 'b', leaseMs: 60_000 });
  return { tasks, provenance, signer, clock, ingest, assembler };
}

/** A verifier of reader tokens from a fresh dev issuer, and a way to mint them. */
export function readerTokens(audience: string) {
  const issuer = DevIssuer.ephemeral();
  const certs = issuer.certificates();
  const verifier = new OidcVerifier({ audience, issuers: [DEV_ISSUER], certificates: async () => certs });
  return { verifier, token: (email: string) => issuer.mint({ audience, email }) };
}

/** Calls `handler` without HTTP: a bearer token, a method and headers optional; the body read as text. */
export function getter(handler: HttpHandler) {
  return async (url: string, o: { token?: string; method?: string; headers?: Record<string, string> } = {}) => {
    const headers = new Headers({ ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...o.headers });
    const res = await handler({
      method: o.method ?? 'GET',
      url,
      headers: fetchHeaders(headers),
      body: new Uint8Array(),
    });
    const text = (await responseBytes(res)).toString();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  };
}
