// The composition root: builds adapters from Config and wires them into the
// handlers (selfReport, the assembler, the read API). Heavy SDKs are imported
// here lazily, only when a config asks for them, so a cold selfReport loads
// Firestore's client and nothing else; KMS loads only where something signs.
import { ConfigError, type Config } from '../config.js';
import { ReportIngest } from '../lifecycle/ingest.js';
import type { TaskStore } from '../ports/task-store.js';
import type { IdentityVerifier } from '../ports/identity.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { GOOGLE_ISSUERS, OidcVerifier, googleCertificates } from '../adapters/oidc-verifier.js';
import { DevIssuer } from '../adapters/dev-issuer.js';
import { DEV_ISSUER } from '../domain/dev-identity.js';
import { MemoryTaskStore } from '../adapters/memory-task-store.js';
import { MemoryProvenanceStore } from '../adapters/memory-provenance-store.js';
import { LocalSigner } from '../adapters/local-signer.js';
import type { ProvenanceStore } from '../ports/provenance-store.js';
import type { Signer } from '../ports/signer.js';
import { ProvenanceAssembler } from '../provenance/assembler.js';
import { provenanceApi } from '../api/provenance-api.js';
import { uiAssets, withUi } from '../api/ui-assets.js';
import { lazy } from '../lazy.js';
import { PubSubNotifier, PubSubPublisher } from '../adapters/pubsub-publisher.js';
import { LogNotifier } from '../adapters/log-notifier.js';
import type { Notifier } from '../ports/notifier.js';
import { TaskSweeper } from '../lifecycle/sweep.js';
import { TaskRedriver } from '../lifecycle/redrive.js';
import type { EventPublisher } from '../ports/events.js';
import type { Sink, SinkName } from '../ports/publisher.js';
import { connectEndpoint } from '../api/connect-endpoint.js';
import { SelfReport, selfReportMethods, type UploadCompleteHook } from '../api/self-report-service.js';
import type { HttpHandler } from '../api/http.js';

export interface Stores {
  tasks: TaskStore;
  provenance: ProvenanceStore;
}

/** Both stores on one Firestore client (or both in memory). */
export async function createStores(config: Config): Promise<Stores> {
  if (config.taskStore === 'memory') return { tasks: new MemoryTaskStore(), provenance: new MemoryProvenanceStore() };
  const [{ Firestore }, { FirestoreTaskStore, FIRESTORE_CHANNEL_OPTIONS }, { FirestoreProvenanceStore }] =
    await Promise.all([
      import('@google-cloud/firestore'),
      import('../adapters/firestore-task-store.js'),
      import('../adapters/firestore-provenance-store.js'),
    ]);
  const db = new Firestore({
    ...(config.projectId ? { projectId: config.projectId } : {}),
    ...(config.firestoreDatabase ? { databaseId: config.firestoreDatabase } : {}),
    ignoreUndefinedProperties: true,
    ...FIRESTORE_CHANNEL_OPTIONS,
  });
  return {
    tasks: new FirestoreTaskStore(db, config.backendDeadlineMs),
    provenance: new FirestoreProvenanceStore(db, undefined, config.backendDeadlineMs),
  };
}

/** The signer the config names: Cloud KMS, or (dev only) the local key file. */
export async function createSigner(config: Config): Promise<Signer> {
  if (config.kmsKeyVersion) {
    const [{ KeyManagementServiceClient }, { KmsSigner }] = await Promise.all([
      import('@google-cloud/kms'),
      import('../adapters/kms-signer.js'),
    ]);
    let options = {};
    if (config.kmsEmulatorHost) {
      // A local KMS (tests): plaintext gRPC, no Google credentials.
      const { grpc } = await import('google-gax');
      const [host, port] = splitHostPort(config.kmsEmulatorHost);
      options = { apiEndpoint: host, port, sslCreds: grpc.credentials.createInsecure() };
    }
    return new KmsSigner(new KeyManagementServiceClient(options), config.kmsKeyVersion, config.backendDeadlineMs);
  }
  if (config.authMode !== 'dev') {
    throw new ConfigError(
      'KMS_KEY_VERSION is required: provenance is signed with Cloud KMS (a local key file is for AUTH_MODE=dev only)',
    );
  }
  return LocalSigner.fromDirectory(config.signingKeyDir);
}

function splitHostPort(hostPort: string): [string, number] {
  const i = hostPort.lastIndexOf(':');
  const port = Number(hostPort.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) throw new ConfigError(`KMS_EMULATOR_HOST="${hostPort}": expected host:port`);
  return [hostPort.slice(0, i), port];
}

export function createVerifier(config: Config): IdentityVerifier {
  if (config.authMode === 'dev') {
    const issuer = DevIssuer.fromDirectory(config.devIssuerDir);
    const certs = issuer.certificates();
    return new OidcVerifier({
      audience: config.audience,
      issuers: [DEV_ISSUER],
      certificates: async () => certs,
      clockSkewSeconds: config.tokenClockSkewSeconds,
    });
  }
  return new OidcVerifier({
    audience: config.audience,
    issuers: GOOGLE_ISSUERS,
    certificates: googleCertificates(),
    clockSkewSeconds: config.tokenClockSkewSeconds,
  });
}

/** The Pub/Sub publisher when the config asks for one (the SDK loads on first publish). */
export function createPubSubPublisher(config: Config): EventPublisher | undefined {
  if (config.events !== 'pubsub') return undefined;
  return new PubSubPublisher({
    topic: config.uploadCompleteTopic,
    deadlineMs: config.backendDeadlineMs,
    ...(config.projectId ? { projectId: config.projectId } : {}),
  });
}

/** provenance-events on Pub/Sub when events go there; the log otherwise. */
export function createNotifier(config: Config): Notifier {
  if (config.events !== 'pubsub') return new LogNotifier();
  return new PubSubNotifier({
    topic: config.provenanceEventsTopic,
    deadlineMs: config.backendDeadlineMs,
    ...(config.projectId ? { projectId: config.projectId } : {}),
  });
}

/**
 * selfReport as configured: the same wiring for the Cloud Function and npm
 * start (which passes its shared stores and its in-process publisher).
 */
export async function buildSelfReport(
  config: Config,
  shared: { stores?: Stores; publisher?: EventPublisher } = {},
): Promise<HttpHandler> {
  const publisher = shared.publisher ?? createPubSubPublisher(config);
  return selfReportHandler(config, {
    store: (shared.stores ?? (await createStores(config))).tasks,
    verifier: createVerifier(config),
    ...(publisher ? { onUploadComplete: (key: string) => publisher.publishUploadComplete(key) } : {}),
  });
}

export async function buildAssembler(
  config: Config,
  shared: { stores?: Stores; signer?: Signer; clock?: Clock } = {},
): Promise<ProvenanceAssembler> {
  const [stores, signer] = await Promise.all([
    shared.stores ?? createStores(config),
    shared.signer ?? createSigner(config),
  ]);
  return new ProvenanceAssembler({
    tasks: stores.tasks,
    provenance: stores.provenance,
    signer,
    clock: shared.clock ?? systemClock,
    builderId: config.builderId,
    leaseMs: config.assemblyLeaseSeconds * 1000,
    maxStatementBytes: config.maxStatementBytes,
    notifier: createNotifier(config),
    ...(config.provenanceRetentionDays ? { provenanceRetentionMs: config.provenanceRetentionDays * 86_400_000 } : {}),
    ...(await publishing(config)),
  });
}

/** PUBLISH_TO: the sinks the assembler and the sweep publish through, with the loop's bounds. */
async function publishing(config: Config) {
  if (config.publishTo.length === 0) return {};
  const sinks = await Promise.all(config.publishTo.map((name) => createSink(name, config)));
  return { publish: { sinks, concurrency: config.publishConcurrency, deadlineMs: config.publishDeadlineMs } };
}

/** One sink per PUBLISH_TO entry, loaded only when listed; each gets only its own allowlist. */
export async function createSink(name: SinkName, config: Config): Promise<Sink> {
  switch (name) {
    case 'oci': {
      const { OciSink, registryAccessToken, googleRegistryAuthorization } = await import(
        '../adapters/publish/oci-sink.js'
      );
      return new OciSink(config.ociRegistries, { authorization: googleRegistryAuthorization(registryAccessToken()) });
    }
    case 'gcs': {
      const [{ GcsSink }, { Storage }] = await Promise.all([
        import('../adapters/publish/gcs-sink.js'),
        import('@google-cloud/storage'),
      ]);
      return new GcsSink(config.gcsBuckets, new Storage()); // follows STORAGE_EMULATOR_HOST, like every Google client
    }
    case 'cipd': {
      const { CipdSink, cipdAccessToken } = await import('../adapters/publish/cipd-sink.js');
      return new CipdSink({
        hosts: config.cipdHosts,
        accessToken: cipdAccessToken(),
        insecureLoopback: config.cipdInsecureLoopback,
      });
    }
  }
}

/** The sweep (expireTasks): republishes through `uploadComplete` (npm start passes its in-process one). */
export async function buildSweeper(
  config: Config,
  shared: { stores?: Stores; uploadComplete?: EventPublisher; clock?: Clock } = {},
): Promise<TaskSweeper> {
  const uploadComplete = shared.uploadComplete ?? createPubSubPublisher(config);
  if (!uploadComplete)
    throw new ConfigError('the sweep republishes UPLOAD_COMPLETE: set EVENTS=pubsub (or run it in npm start)');
  const stores = shared.stores ?? (await createStores(config));
  return new TaskSweeper({
    tasks: stores.tasks,
    provenance: stores.provenance,
    uploadComplete,
    notifier: createNotifier(config),
    clock: shared.clock ?? systemClock,
    heartbeatTtlSeconds: config.heartbeatTtlSeconds,
    recoveryGraceMs: config.recoveryGraceSeconds * 1000,
    maxRecoveryAttempts: config.recoveryMaxAttempts,
    maxTasksPerRun: config.sweepMaxTasks,
    concurrency: config.sweepConcurrency,
    ...(await publishing(config)),
  });
}

export async function buildProvenanceApi(
  config: Config,
  shared: { stores?: Stores; signer?: Signer; publisher?: EventPublisher; clock?: Clock } = {},
): Promise<HttpHandler> {
  const stores = shared.stores ?? (await createStores(config));
  const signer = lazy(async () => shared.signer ?? createSigner(config));
  const keys = async () => (await signer()).verificationKeys();
  // The deployed read API never publishes (only the reporting path and the
  // sweep may, docs/security.md): a re-driven task is left due for the sweep.
  // npm start hands in its in-process publisher so a re-drive acts at once.
  const redriver = new TaskRedriver({
    tasks: stores.tasks,
    provenance: stores.provenance,
    ...(shared.publisher ? { uploadComplete: shared.publisher } : {}),
    clock: shared.clock ?? systemClock,
    recoveryGraceMs: config.recoveryGraceSeconds * 1000,
  });
  const verifier = createVerifier(config);
  const access = { mode: config.readAccess, readers: config.readerAllowlist };
  const api = provenanceApi({
    tasks: stores.tasks,
    provenance: stores.provenance,
    keys,
    verifier,
    access,
    redrive: { operators: config.operatorAllowlist, redriver },
    pageSize: config.readPageEnvelopes,
  });
  // The pages for people (/ui/) on the same origin and access rules.
  return withUi(uiAssets({ verifier, access }), api);
}

export interface SelfReportParts {
  store: TaskStore;
  verifier: IdentityVerifier;
  clock?: Clock;
  onUploadComplete?: UploadCompleteHook;
}

export function selfReportHandler(config: Config, parts: SelfReportParts): HttpHandler {
  const ingest = new ReportIngest(parts.store, parts.clock ?? systemClock, {
    reporterAllowlist: config.reporterAllowlist,
    pidReporterAllowlist: config.pidReporterAllowlist,
    reportRetentionMs: config.reportRetentionDays * 86_400_000,
    recoveryGraceMs: config.recoveryGraceSeconds * 1000,
    ...(config.taskRetentionDays ? { taskRetentionMs: config.taskRetentionDays * 86_400_000 } : {}),
  });
  return connectEndpoint(
    SelfReport,
    selfReportMethods({
      ingest,
      verifier: parts.verifier,
      maxClockSkewSeconds: config.maxClockSkewSeconds,
      ...(parts.onUploadComplete ? { onUploadComplete: parts.onUploadComplete } : {}),
    }),
  );
}
