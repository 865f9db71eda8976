// Where the CLI's OIDC ID token comes from, in order:
//  1. PROVENANCE_TOKEN (e.g. a CI system outside Google Cloud that minted one
//     through workload identity federation);
//  2. the local dev issuer, when the service is a local `npm start`
//     (localhost / 127.0.0.1 / [::1]);
//  3. the metadata server's identity endpoint with the audience, through
//     google-auth-library's Compute client: how a Cloud Build step (or any
//     Google compute) gets one. GCE_METADATA_HOST points it elsewhere (tests).
// A token is fetched once per process and fetched again five minutes before
// it expires, so a long `provenance run` keeps reporting.
import { DevIssuer } from '../../adapters/dev-issuer.js';
import { DEV_DEFAULT_EMAIL } from '../../domain/dev-identity.js';

export interface TokenSource {
  /** A token valid for at least the next few minutes. */
  get(): Promise<string>;
  /** What the token is, for messages (never the token itself). */
  readonly kind: 'env' | 'dev' | 'metadata';
}

const REFRESH_BEFORE_MS = 5 * 60_000;

export function isLocalService(url: string): boolean {
  try {
    return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

export function tokenSource(opts: {
  url: string;
  audience: string;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}): TokenSource {
  const env = opts.env ?? process.env;
  const now = opts.now ?? Date.now;
  if (env.PROVENANCE_TOKEN) {
    const token = env.PROVENANCE_TOKEN;
    return { kind: 'env', get: async () => token };
  }
  if (isLocalService(opts.url)) {
    const issuer = () => DevIssuer.fromDirectory(env.DEV_ISSUER_DIR || '.dev');
    return cached('dev', now, async () =>
      issuer().mint({ audience: opts.audience, email: env.PROVENANCE_DEV_EMAIL || DEV_DEFAULT_EMAIL }),
    );
  }
  return cached('metadata', now, async () => {
    const { Compute } = await import('google-auth-library');
    return new Compute().fetchIdToken(opts.audience);
  });
}

function cached(kind: TokenSource['kind'], now: () => number, fetch: () => Promise<string>): TokenSource {
  let current: { token: string; expMs: number } | undefined;
  let pending: Promise<string> | undefined;
  return {
    kind,
    get() {
      if (current && current.expMs - REFRESH_BEFORE_MS > now()) return Promise.resolve(current.token);
      pending ??= fetch()
        .then((token) => {
          current = { token, expMs: expiryOf(token) ?? now() + 10 * 60_000 };
          return token;
        })
        .finally(() => (pending = undefined));
      return pending;
    },
  };
}

/** The exp claim of a JWT, in ms; undefined when it has none (the token is then kept ten minutes). */
export function expiryOf(token: string): number | undefined {
  try {
    const exp = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
