// The local development token issuer: an RS256 key made on first use and kept
// in a directory (default ./.dev), so `provenance dev-token` and `npm start`
// agree without any network. Tests use the same class with a throwaway dir.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Certificates } from './oidc-verifier.js';
import { DEV_DEFAULT_EMAIL, DEV_ISSUER } from '../domain/dev-identity.js';

export { DEV_DEFAULT_EMAIL, DEV_ISSUER } from '../domain/dev-identity.js';

export interface MintOptions {
  email?: string;
  audience: string;
  subject?: string;
  issuer?: string;
  emailVerified?: boolean;
  /** Seconds from now; negative for an already expired token. */
  lifetimeSeconds?: number;
  issuedAt?: number;
  /** nbf claim, seconds since the epoch; none when unset. */
  notBefore?: number;
}

export class DevIssuer {
  readonly kid: string;
  private readonly publicPem: string;

  constructor(private readonly key: KeyObject) {
    const pub = createPublicKey(key);
    this.publicPem = pub.export({ type: 'spki', format: 'pem' }).toString();
    this.kid = createHash('sha256')
      .update(pub.export({ type: 'spki', format: 'der' }))
      .digest('hex')
      .slice(0, 16);
  }

  /** Load the key from dir, creating it (mode 0600) the first time. */
  static fromDirectory(dir: string): DevIssuer {
    const file = join(dir, 'dev-issuer-key.pem');
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      try {
        writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process won the race
      }
    }
    return new DevIssuer(createPrivateKey(readFileSync(file)));
  }

  static ephemeral(): DevIssuer {
    return new DevIssuer(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  }

  certificates(): Certificates {
    return { [this.kid]: this.publicPem };
  }

  /** The subject a token for this email carries unless told otherwise: stable per email. */
  subjectFor(email: string): string {
    return `dev-${createHash('sha256').update(email).digest('hex').slice(0, 20)}`;
  }

  mint(opts: MintOptions): string {
    const email = opts.email ?? DEV_DEFAULT_EMAIL;
    const iat = opts.issuedAt ?? Math.floor(Date.now() / 1000);
    const claims = {
      iss: opts.issuer ?? DEV_ISSUER,
      aud: opts.audience,
      sub: opts.subject ?? this.subjectFor(email),
      email,
      email_verified: opts.emailVerified ?? true,
      iat,
      exp: iat + (opts.lifetimeSeconds ?? 3600),
      ...(opts.notBefore !== undefined ? { nbf: opts.notBefore } : {}),
    };
    const header = { alg: 'RS256', typ: 'JWT', kid: this.kid };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), this.key);
    return `${signingInput}.${signature.toString('base64url')}`;
  }
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');
