// Configuration from the environment: every variable the functions and the
// local server read, parsed once, with errors naming the variable. The
// configuration table in docs/configuration.md lists the same variables and defaults.
import { DEV_DEFAULT_EMAIL } from './domain/dev-identity.js';
import { OciNameError, parseOciRule, type OciRegistryRule } from './domain/oci-allowlist.js';
import { canonicalCipdHost, isBucketName } from './domain/publish-names.js';
import type { SinkName } from './ports/publisher.js';
import { log } from './log.js';

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
  /** Leeway for ID tokens' nbf, iat and exp. */
  tokenClockSkewSeconds: number;
  /**
   * How UPLOAD_COMPLETE reaches the assembler: pubsub (deployed, and the
   * emulator), in-process (npm start), none (ingestion only: nothing is assembled).
   */
  events: 'pubsub' | 'in-process' | 'none';
  uploadCompleteTopic: string;
  /** runDetails.builder.id in every statement: who vouches for the build. */
  builderId: string;
  /** KMS key version that signs; unset means the local key file (dev only). */
  kmsKeyVersion?: string;
  /** host:port of a local KMS gRPC server (tests), like FIRESTORE_EMULATOR_HOST. */
  kmsEmulatorHost?: string;
  signingKeyDir: string;
  /** A claim on a task's assembly lasts this long: more than the assembler's timeout. */
  assemblyLeaseSeconds: number;
  /** Read API: public, or OIDC tokens of identities on the reader allowlist. */
  readAccess: 'public' | 'allowlist';
  readerAllowlist: ReadonlySet<string>;
  /** Emails allowed to send FAILED tasks back to assembly (POST /v1/tasks/<id>/redrive). */
  operatorAllowlist: ReadonlySet<string>;
  /** Topic for provenance.signed / provenance.failed / task.expired / task.failed. */
  provenanceEventsTopic: string;
  /** A task with no sign of life for this long is expired by the sweep. */
  heartbeatTtlSeconds: number;
  /** npm start: run the sweep this often (deployed: Cloud Scheduler's schedule). */
  sweepIntervalSeconds: number;
  /** UPLOAD_COMPLETE without provenance after this long is published again. */
  recoveryGraceSeconds: number;
  /** Republishes before the task becomes FAILED. */
  recoveryMaxAttempts: number;
  /** Tasks one sweep run looks at, per query. */
  sweepMaxTasks: number;
  /** Tasks a sweep handles at once (each in its own transaction). */
  sweepConcurrency: number;
  /** Deadline of every Firestore, Pub/Sub and KMS call; past it the request answers unavailable (503). */
  backendDeadlineMs: number;
  /** Where signed provenance is published beside the artifacts (PUBLISH_TO; OCI_ATTACH=true adds oci). */
  publishTo: readonly SinkName[];
  /** OCI_REGISTRIES: the only registries (and repository prefixes) the OCI sink writes to. */
  ociRegistries: readonly OciRegistryRule[];
  /** GCS_BUCKETS: the only buckets the GCS sink writes to (exact names). */
  gcsBuckets: ReadonlySet<string>;
  /** CIPD_HOSTS: the only CIPD backends the CIPD sink writes to (lowercase host[:port]). */
  cipdHosts: ReadonlySet<string>;
  /** CIPD_INSECURE_LOOPBACK (tests only): a listed 127.0.0.1/[::1] CIPD host is reached over plain http. */
  cipdInsecureLoopback: boolean;
  /** Publications in flight at once, per task. */
  publishConcurrency: number;
  /** Deadline of one publication (all of its requests); past it the requests are aborted. */
  publishDeadlineMs: number;
  /** Task documents' retention (their expireAt); 0: kept forever. */
  taskRetentionDays: number;
  /** Signed provenance's retention; 0: kept forever. */
  provenanceRetentionDays: number;
  /** MAX_STATEMENT_BYTES: a task whose statement is larger fails instead of being signed. */
  maxStatementBytes: number;
  /** READ_PAGE_ENVELOPES: envelopes per page of the read API's by-digest routes. */
  readPageEnvelopes: number;
  /** npm start's HTTP server: whole-request, header and idle keep-alive timeouts, header size cap. */
  http: { requestTimeoutMs: number; headersTimeoutMs: number; keepAliveTimeoutMs: number; maxHeaderBytes: number };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const config = readConfig(env);
  // A claim's holder must be able to finish before the sweep publishes again,
  // or a slow assembly is republished over (and a crash is noticed only after
  // the lease): the grace period must outlast the lease with room to spare.
  if (config.recoveryGraceSeconds < config.assemblyLeaseSeconds + MIN_GRACE_OVER_LEASE_SECONDS) {
    throw new ConfigError(
      `RECOVERY_GRACE_SECONDS=${config.recoveryGraceSeconds} must be at least ASSEMBLY_LEASE_SECONDS (${config.assemblyLeaseSeconds}) + ${MIN_GRACE_OVER_LEASE_SECONDS}: the sweep must not republish while an assembly may still hold its claim`,
    );
  }
  return config;
}

/** How much longer than a claim's lease the sweep waits before publishing again. */
export const MIN_GRACE_OVER_LEASE_SECONDS = 30;

function readConfig(env: Env): Config {
  const port = int(env, 'PORT', 8080, 1, 65535);
  const authMode = oneOf(env, 'AUTH_MODE', ['google', 'dev'] as const, 'google');
  const defaultReporters = authMode === 'dev' ? DEV_DEFAULT_EMAIL : '';
  const audience = env.AUDIENCE || `http://localhost:${port}`;
  const devIssuerDir = env.DEV_ISSUER_DIR || '.dev';
  return {
    port,
    audience,
    authMode,
    devIssuerDir,
    reporterAllowlist: set(env.REPORTER_ALLOWLIST ?? defaultReporters, (s) => s.toLowerCase()),
    pidReporterAllowlist: set(env.PID_REPORTER_ALLOWLIST ?? '', (s) => s),
    taskStore: oneOf(env, 'TASK_STORE', ['firestore', 'memory'] as const, 'firestore'),
    ...(env.GOOGLE_CLOUD_PROJECT ? { projectId: env.GOOGLE_CLOUD_PROJECT } : {}),
    ...(env.FIRESTORE_DATABASE ? { firestoreDatabase: env.FIRESTORE_DATABASE } : {}),
    reportRetentionDays: int(env, 'REPORT_RETENTION_DAYS', 90, 1, 36500),
    maxClockSkewSeconds: int(env, 'MAX_CLOCK_SKEW_SECONDS', 600, 0, 86400),
    tokenClockSkewSeconds: int(env, 'TOKEN_CLOCK_SKEW_SECONDS', 30, 0, 300),
    events: oneOf(env, 'EVENTS', ['pubsub', 'in-process', 'none'] as const, 'pubsub'),
    uploadCompleteTopic: env.UPLOAD_COMPLETE_TOPIC || 'upload-complete',
    builderId: env.BUILDER_ID || audience,
    ...(env.KMS_KEY_VERSION ? { kmsKeyVersion: kmsKeyVersion(env.KMS_KEY_VERSION) } : {}),
    ...(env.KMS_EMULATOR_HOST ? { kmsEmulatorHost: env.KMS_EMULATOR_HOST } : {}),
    signingKeyDir: env.SIGNING_KEY_DIR || devIssuerDir,
    assemblyLeaseSeconds: int(env, 'ASSEMBLY_LEASE_SECONDS', 120, 30, 3600),
    readAccess: oneOf(env, 'READ_ACCESS', ['public', 'allowlist'] as const, 'allowlist'),
    readerAllowlist: set(env.READER_ALLOWLIST ?? '', (s) => s.toLowerCase()),
    operatorAllowlist: set(env.OPERATOR_ALLOWLIST ?? '', (s) => s.toLowerCase()),
    provenanceEventsTopic: env.PROVENANCE_EVENTS_TOPIC || 'provenance-events',
    heartbeatTtlSeconds: int(env, 'HEARTBEAT_TTL_SECONDS', 300, 5, 7 * 86400),
    sweepIntervalSeconds: int(env, 'SWEEP_INTERVAL_SECONDS', 60, 1, 86400),
    recoveryGraceSeconds: int(env, 'RECOVERY_GRACE_SECONDS', 300, 1, 86400),
    recoveryMaxAttempts: int(env, 'RECOVERY_MAX_ATTEMPTS', 5, 0, 100),
    sweepMaxTasks: int(env, 'SWEEP_MAX_TASKS', 2000, 1, 100_000),
    sweepConcurrency: int(env, 'SWEEP_CONCURRENCY', 8, 1, 64),
    backendDeadlineMs: int(env, 'BACKEND_DEADLINE_SECONDS', 10, 1, 300) * 1000,
    ...publishing(env),
    taskRetentionDays: int(env, 'TASK_RETENTION_DAYS', 0, 0, 36500),
    provenanceRetentionDays: int(env, 'PROVENANCE_RETENTION_DAYS', 0, 0, 36500),
    maxStatementBytes: int(env, 'MAX_STATEMENT_BYTES', 16 * 1024 * 1024, 64 * 1024, 64 * 1024 * 1024),
    readPageEnvelopes: int(env, 'READ_PAGE_ENVELOPES', 20, 1, 1000),
    http: {
      requestTimeoutMs: int(env, 'HTTP_REQUEST_TIMEOUT_SECONDS', 30, 1, 3600) * 1000,
      headersTimeoutMs: int(env, 'HTTP_HEADERS_TIMEOUT_SECONDS', 10, 1, 3600) * 1000,
      keepAliveTimeoutMs: int(env, 'HTTP_IDLE_TIMEOUT_SECONDS', 5, 1, 3600) * 1000,
      maxHeaderBytes: int(env, 'HTTP_MAX_HEADER_BYTES', 16 * 1024, 1024, 1024 * 1024),
    },
  };
}

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name}="${raw}": expected an integer from ${min} to ${max}`);
  return n;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], dflt: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!(allowed as readonly string[]).includes(raw))
    throw new ConfigError(`${name}="${raw}": expected one of ${allowed.join(', ')}`);
  return raw as T;
}

function set(raw: string, norm: (s: string) => string): ReadonlySet<string> {
  return new Set(
    raw
      .split(',')
      .map((s) => norm(s.trim()))
      .filter(Boolean),
  );
}

const SINKS = ['oci', 'gcs', 'cipd'] as const;

/** PUBLISH_TO and the sinks' allowlists: deny by default, every entry strictly parsed. */
function publishing(
  env: Env,
): Pick<
  Config,
  | 'publishTo'
  | 'ociRegistries'
  | 'gcsBuckets'
  | 'cipdHosts'
  | 'cipdInsecureLoopback'
  | 'publishConcurrency'
  | 'publishDeadlineMs'
> {
  const publishTo = new Set<SinkName>();
  for (const name of list(env.PUBLISH_TO)) {
    if (!(SINKS as readonly string[]).includes(name))
      throw new ConfigError(`PUBLISH_TO: "${name}" is not a sink (expected a list of ${SINKS.join(', ')})`);
    publishTo.add(name as SinkName);
  }
  if (oneOf(env, 'OCI_ATTACH', ['true', 'false'] as const, 'false') === 'true') {
    log('WARNING', 'OCI_ATTACH is deprecated and will be removed in the next release: set PUBLISH_TO=oci', {
      publishTo: [...publishTo],
    });
    publishTo.add('oci');
  }
  const ociRegistries = list(env.OCI_REGISTRIES).map((entry) => {
    try {
      return parseOciRule(entry);
    } catch (err) {
      if (err instanceof OciNameError) throw new ConfigError(`OCI_REGISTRIES: "${entry}": ${err.message}`);
      throw err;
    }
  });
  // The sinks' own name rules (domain/publish-names.ts): an entry they could never match is a typo, said at start.
  const gcsBuckets = list(env.GCS_BUCKETS).map((b) => {
    if (!isBucketName(b))
      throw new ConfigError(`GCS_BUCKETS: "${b}" is not a bucket name (no gs:// and no object path)`);
    return b;
  });
  const cipdHosts = list(env.CIPD_HOSTS).map((h) => {
    const host = canonicalCipdHost(h);
    if (host === undefined)
      throw new ConfigError(
        `CIPD_HOSTS: "${h}" is not a host name (host[:port], a DNS name, 127.0.0.1 or [::1]; no scheme or path)`,
      );
    return host;
  });
  for (const [sink, allowlist, n] of [
    ['oci', 'OCI_REGISTRIES', ociRegistries.length],
    ['gcs', 'GCS_BUCKETS', gcsBuckets.length],
    ['cipd', 'CIPD_HOSTS', cipdHosts.length],
  ] as const) {
    if (publishTo.has(sink) && n === 0)
      log('WARNING', `PUBLISH_TO includes ${sink} but ${allowlist} is empty: every ${sink} target will be skipped`);
  }
  return {
    publishTo: SINKS.filter((s) => publishTo.has(s)),
    ociRegistries,
    gcsBuckets: new Set(gcsBuckets),
    cipdHosts: new Set(cipdHosts),
    cipdInsecureLoopback: oneOf(env, 'CIPD_INSECURE_LOOPBACK', ['true', 'false'] as const, 'false') === 'true',
    publishConcurrency: int(env, 'PUBLISH_CONCURRENCY', 8, 1, 64),
    publishDeadlineMs: int(env, 'PUBLISH_DEADLINE_SECONDS', 30, 1, 300) * 1000,
  };
}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const KEY_VERSION = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+\/cryptoKeyVersions\/\d+$/;

function kmsKeyVersion(raw: string): string {
  if (!KEY_VERSION.test(raw)) {
    throw new ConfigError(
      `KMS_KEY_VERSION="${raw}": expected projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N`,
    );
  }
  return raw;
}
