// The composition root: builds adapters from Config and wires them into the
// handlers. Heavy SDKs are imported here lazily, only when a config asks for
// them, so a cold selfReport loads Firestore's client and nothing else.
import type { Config } from '../config.js';
import { ReportIngest } from '../domain/ingest.js';
import type { TaskStore } from '../ports/task-store.js';
import type { IdentityVerifier } from '../ports/identity.js';
import { systemClock, type Clock } from '../ports/clock.js';
import { GOOGLE_ISSUERS, OidcVerifier, googleCertificates } from '../adapters/oidc-verifier.js';
import { DEV_ISSUER, DevIssuer } from '../adapters/dev-issuer.js';
import { MemoryTaskStore } from '../adapters/memory-task-store.js';
import { PubSubPublisher } from '../adapters/pubsub-publisher.js';
import type { EventPublisher } from '../ports/events.js';
import { connectEndpoint } from '../api/connect-endpoint.js';
import { SelfReport, selfReportMethods, type UploadCompleteHook } from '../api/self-report-service.js';
import type { HttpHandler } from '../api/http.js';

export async function createTaskStore(config: Config): Promise<TaskStore> {
  if (config.taskStore === 'memory') return new MemoryTaskStore();
  const [{ Firestore }, { FirestoreTaskStore }] = await Promise.all([
    import('@google-cloud/firestore'),
    import('../adapters/firestore-task-store.js'),
  ]);
  const db = new Firestore({
    ...(config.projectId ? { projectId: config.projectId } : {}),
    ...(config.firestoreDatabase ? { databaseId: config.firestoreDatabase } : {}),
    ignoreUndefinedProperties: true,
  });
  return new FirestoreTaskStore(db);
}

export function createVerifier(config: Config): IdentityVerifier {
  if (config.authMode === 'dev') {
    const issuer = DevIssuer.fromDirectory(config.devIssuerDir);
    const certs = issuer.certificates();
    return new OidcVerifier({ audience: config.audience, issuers: [DEV_ISSUER], certificates: async () => certs });
  }
  return new OidcVerifier({ audience: config.audience, issuers: GOOGLE_ISSUERS, certificates: googleCertificates() });
}

/** The upload-complete publisher the config asks for, if any (Pub/Sub loads on first publish). */
export function createUploadCompletePublisher(config: Config): EventPublisher | undefined {
  if (!config.uploadCompleteTopic) return undefined;
  return new PubSubPublisher({ topic: config.uploadCompleteTopic, ...(config.projectId ? { projectId: config.projectId } : {}) });
}

/** selfReport as configured: the same wiring for the Cloud Function and npm start. */
export async function buildSelfReport(config: Config): Promise<HttpHandler> {
  const publisher = createUploadCompletePublisher(config);
  return selfReportHandler(config, {
    store: await createTaskStore(config),
    verifier: createVerifier(config),
    ...(publisher ? { onUploadComplete: (key: string) => publisher.publishUploadComplete(key) } : {}),
  });
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
