// IdentityVerifier for OIDC ID tokens, checked by google-auth-library:
// signature against the issuer's certificates, iat/exp, issuer, audience; then
// here, more strictly than the library (its leeway is five minutes): nbf, iat
// and exp within a small configurable leeway, and a lifetime no longer than
// Google issues (one hour); then email_verified. The issuer is normalised
// (Google writes it with or without "https://"), so one identity has one task
// key. Production takes Google's certificates; the local dev issuer and the
// tests hand in their own, so nothing here reaches the network.
import type { OAuth2Client } from 'google-auth-library';
import { unauthenticated } from '../domain/errors.js';
import type { Identity } from '../domain/task.js';
import type { IdentityVerifier } from '../ports/identity.js';

export type Certificates = Record<string, string>;

export interface OidcVerifierOptions {
  /** The audience tokens must carry: the service URL. */
  audience: string;
  issuers: string[];
  /** kid → PEM. Called per cache miss; the source does its own caching. */
  certificates: () => Promise<Certificates>;
  /** Verified tokens remembered (until they expire) so a busy step pays for RSA once. */
  cacheSize?: number;
  /** Leeway for nbf, iat and exp against this machine's clock (default 30 s). */
  clockSkewSeconds?: number;
  /** Longest exp − iat accepted, before the leeway: Google's ID tokens live one hour. */
  maxLifetimeSeconds?: number;
  /** The clock, in ms (tests). */
  now?: () => number;
}

export const DEFAULT_TOKEN_SKEW_SECONDS = 30;
export const GOOGLE_TOKEN_LIFETIME_SECONDS = 3600;

/** "accounts.google.com" and "https://accounts.google.com" are one issuer: keys derive from the https form. */
export function normalizeIssuer(iss: string): string {
  return /^https?:\/\//i.test(iss) ? iss.replace(/\/+$/, '') : `https://${iss.replace(/\/+$/, '')}`;
}

export const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];

export class OidcVerifier implements IdentityVerifier {
  private client?: OAuth2Client;
  private readonly cache = new Map<string, { identity: Identity; expMs: number }>();
  private readonly cacheSize: number;
  private readonly skew: number;
  private readonly maxLifetime: number;
  private readonly now: () => number;

  constructor(private readonly opts: OidcVerifierOptions) {
    this.cacheSize = opts.cacheSize ?? 10_000;
    this.skew = opts.clockSkewSeconds ?? DEFAULT_TOKEN_SKEW_SECONDS;
    this.maxLifetime = opts.maxLifetimeSeconds ?? GOOGLE_TOKEN_LIFETIME_SECONDS;
    this.now = opts.now ?? Date.now;
  }

  verify(token: string): Identity | Promise<Identity> {
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.expMs > this.now()) return hit.identity;
      this.cache.delete(token);
    }
    return this.verifyFresh(token);
  }

  private async verifyFresh(token: string): Promise<Identity> {
    const client = await this.oauthClient();
    let payload: Record<string, unknown> | undefined;
    try {
      const ticket = await client.verifySignedJwtWithCertsAsync(
        token,
        await this.opts.certificates(),
        this.opts.audience,
        this.opts.issuers,
      );
      payload = ticket.getPayload() as Record<string, unknown> | undefined;
    } catch (err) {
      throw unauthenticated(describeTokenError(err));
    }
    if (!payload || typeof payload.sub !== 'string' || typeof payload.iss !== 'string') {
      throw unauthenticated('token has no subject or issuer');
    }
    this.checkTimes(payload);
    if (typeof payload.email !== 'string' || payload.email === '') {
      throw unauthenticated('token has no email claim: mint it with the email included (e.g. --include-email)');
    }
    if (payload.email_verified !== true && payload.email_verified !== 'true') {
      throw unauthenticated(`token email "${payload.email}" is not verified`);
    }
    const identity: Identity = {
      issuer: normalizeIssuer(payload.iss),
      subject: payload.sub,
      email: payload.email.toLowerCase(),
    };
    this.remember(token, identity, (Number(payload.exp) + this.skew) * 1000);
    return identity;
  }

  /** The library allows five minutes either way and any lifetime up to a day; this service allows less. */
  private checkTimes(payload: Record<string, unknown>): void {
    const now = this.now() / 1000;
    const { iat, exp, nbf } = payload;
    if (typeof iat !== 'number' || typeof exp !== 'number' || !Number.isFinite(iat) || !Number.isFinite(exp))
      throw unauthenticated('token has no valid iat/exp');
    if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf)))
      throw unauthenticated('token nbf is not a number');
    if (typeof nbf === 'number' && nbf > now + this.skew)
      throw unauthenticated('token is not valid yet (nbf is in the future)');
    if (iat > now + this.skew) throw unauthenticated('token is not valid yet (issued in the future)');
    if (exp <= now - this.skew) throw unauthenticated('token has expired');
    if (exp <= iat) throw unauthenticated('token expires before it was issued');
    if (exp - iat > this.maxLifetime + this.skew) {
      throw unauthenticated(
        `token lifetime ${exp - iat}s is longer than ${this.maxLifetime}s: mint a standard ID token`,
      );
    }
  }

  private remember(token: string, identity: Identity, expMs: number): void {
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(token, { identity, expMs });
  }

  private async oauthClient(): Promise<OAuth2Client> {
    if (!this.client) {
      const { OAuth2Client } = await import('google-auth-library');
      this.client = new OAuth2Client();
    }
    return this.client;
  }
}

/**
 * google-auth-library's messages quote the whole token; say what is wrong
 * without echoing credentials back.
 */
function describeTokenError(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  if (m.startsWith('Wrong number of segments') || m.startsWith("Can't parse")) return 'token is not a well-formed JWT';
  if (m.startsWith('No pem found')) return 'token is signed by a key this service does not trust';
  if (m.startsWith('Invalid token signature')) return 'token signature is invalid';
  if (m.startsWith('Token used too late')) return 'token has expired';
  if (m.startsWith('Token used too early')) return 'token is not valid yet';
  if (m.startsWith('Expiration time too far')) return 'token lifetime is too long';
  if (m.startsWith('Invalid issuer')) return 'token issuer is not trusted';
  if (m.startsWith('Wrong recipient')) return 'token audience does not match this service';
  if (m.includes('iat') || m.includes('exp') || m.includes('issue time')) return 'token has no valid iat/exp';
  return 'token could not be verified';
}

/** Google's OIDC signing certificates, fetched and cached by google-auth-library. */
export function googleCertificates(): () => Promise<Certificates> {
  let client: OAuth2Client | undefined;
  return async () => {
    if (!client) {
      const { OAuth2Client } = await import('google-auth-library');
      client = new OAuth2Client();
    }
    const { certs } = await client.getFederatedSignonCertsAsync();
    return certs as Certificates;
  };
}
