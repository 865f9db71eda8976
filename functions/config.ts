// Configuration from the environment: every variable the functions and the
// local server read, parsed once, with errors naming the variable. The README's
// configuration table lists the same variables and defaults.
import { DEV_DEFAULT_EMAIL } from './adapters/dev-issuer.js';

export interface Config {
  port: number;
  /** The audience OIDC tokens must carry: the service URL. */
  audience: string;
  /** google: Google-signed ID tokens. dev: tokens from the local dev issuer. */
  authMode: 'google' | 'dev';
  devIssuerDir: string;
  reporterAllowlist: ReadonlySet<string>;
  pidReporterAllowlist: ReadonlySet<string>;
  taskStore: 'firestore' | 'memory';
  projectId?: string;
  firestoreDatabase?: string;
  reportRetentionDays: number;
  maxClockSkewSeconds: number;
  /** Topic announcing UPLOAD_COMPLETE; empty disables publishing (ingestion only). */
  uploadCompleteTopic: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const port = int(env, 'PORT', 8080, 1, 65535);
  const authMode = oneOf(env, 'AUTH_MODE', ['google', 'dev'] as const, 'google');
  const defaultReporters = authMode === 'dev' ? DEV_DEFAULT_EMAIL : '';
  return {
    port,
    audience: env.AUDIENCE || `http://localhost:${port}`,
    authMode,
    devIssuerDir: env.DEV_ISSUER_DIR || '.dev',
    reporterAllowlist: set(env.REPORTER_ALLOWLIST ?? defaultReporters, (s) => s.toLowerCase()),
    pidReporterAllowlist: set(env.PID_REPORTER_ALLOWLIST ?? '', (s) => s),
    taskStore: oneOf(env, 'TASK_STORE', ['firestore', 'memory'] as const, 'firestore'),
    ...(env.GOOGLE_CLOUD_PROJECT ? { projectId: env.GOOGLE_CLOUD_PROJECT } : {}),
    ...(env.FIRESTORE_DATABASE ? { firestoreDatabase: env.FIRESTORE_DATABASE } : {}),
    reportRetentionDays: int(env, 'REPORT_RETENTION_DAYS', 90, 1, 36500),
    maxClockSkewSeconds: int(env, 'MAX_CLOCK_SKEW_SECONDS', 600, 0, 86400),
    uploadCompleteTopic: env.UPLOAD_COMPLETE_TOPIC ?? '',
  };
}

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name}="${raw}": expected an integer from ${min} to ${max}`);
  return n;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], dflt: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name}="${raw}": expected one of ${allowed.join(', ')}`);
  return raw as T;
}

function set(raw: string, norm: (s: string) => string): ReadonlySet<string> {
  return new Set(raw.split(',').map((s) => norm(s.trim())).filter(Boolean));
}
