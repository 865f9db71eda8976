// The identity verifier port: turns a bearer token into a verified identity.
// Adapters: Google OIDC ID tokens (production) and the local dev issuer; both
// are OidcVerifier with a different certificate source.
import type { Identity } from '../domain/task.js';

export interface IdentityVerifier {
  /** Resolves the identity, or rejects with a ServiceError('unauthenticated'). */
  verify(bearerToken: string): Promise<Identity>;
}
