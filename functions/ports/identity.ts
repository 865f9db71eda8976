// The identity verifier port: turns a bearer token into a verified identity.
// Adapters: Google OIDC ID tokens (production) and the local dev issuer; both
// are OidcVerifier with a different certificate source.
import type { Identity } from '../domain/task.js';

export interface IdentityVerifier {
  /**
   * The identity, or a ServiceError('unauthenticated'). May answer
   * synchronously (a token verified before): callers await only a promise.
   */
  verify(bearerToken: string): Identity | Promise<Identity>;
}
