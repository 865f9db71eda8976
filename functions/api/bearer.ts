// The caller's identity from "Authorization: Bearer <OIDC ID token>": one
// parse for the report API and the read API. Answers synchronously when the
// verifier does (a token seen before), so the report hot path awaits nothing.
import { permissionDenied, unauthenticated } from '../domain/errors.js';
import type { Identity } from '../domain/task.js';
import type { IdentityVerifier } from '../ports/identity.js';
import type { HeaderReader } from './http.js';

const BEARER = /^Bearer\s+(\S+)$/i;

/** `why` is added to the message when the header is missing (e.g. why this service needs it). */
export function bearerIdentity(
  headers: HeaderReader,
  verifier: IdentityVerifier,
  why = '',
): Identity | Promise<Identity> {
  const token = BEARER.exec(headers.get('authorization') ?? '')?.[1];
  if (!token) throw unauthenticated(`missing "Authorization: Bearer <OIDC ID token>" header${why}`);
  return verifier.verify(token);
}

/** Who may read: anyone, or the identities on the reader allowlist (READER_ALLOWLIST). */
export interface ReadAccess {
  mode: 'public' | 'allowlist';
  readers: ReadonlySet<string>;
}

/** The read API's and the pages' one access rule. */
export async function authorizeReader(
  headers: HeaderReader,
  verifier: IdentityVerifier,
  access: ReadAccess,
): Promise<void> {
  if (access.mode === 'public') return;
  const identity = await bearerIdentity(headers, verifier, ' (this service does not allow public reads)');
  if (!access.readers.has(identity.email)) throw permissionDenied(`${identity.email} is not on the reader allowlist`);
}
