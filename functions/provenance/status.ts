// A task's status for release tooling: where it is, when it got there, and
// whether it has provenance (and why not, when it has none).
import type { ProvenanceRecord } from '../ports/provenance-store.js';
import type { TaskRecord } from '../domain/task.js';
import type { Publication } from '../ports/publisher.js';

/**
 * Publications a status lists: a task may name thousands of artifacts (up to
 * 2 KB each, with a reason each), and a status is read by release tooling on
 * every poll; the counts cover them all.
 */
export const MAX_STATUS_PUBLICATIONS = 100;
const ATTENTION: readonly Publication['state'][] = ['failed', 'conflict', 'pending', 'skipped', 'published'];

export type ProvenanceStatus = 'none' | 'pending' | 'assembling' | 'signed' | 'failed';

export interface TaskStatus {
  taskId: string;
  reporter: string;
  /** The reporting identity in full: with taskId and reporter, reporterSubject names the task unambiguously. */
  reporterSubject: string;
  reporterIssuer: string;
  stage: string;
  stageTimes: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  lastHeartbeatAt?: string;
  /** EXPIRED: the estimated end (the last sign of life); COMPLETE/FAILED: when it ended. */
  endedAt?: string;
  /** EXPIRED/FAILED: why the service closed the task. */
  closedReason?: string;
  /** UPLOAD_COMPLETE awaiting provenance: the sweep's next check and its republishes so far. */
  /**
   * UPLOAD_COMPLETE awaiting provenance: how often the sweep published it again,
   * the assemblies that ran and failed or were interrupted, and the next check.
   */
  recovery?: { republished: number; assemblyFailures: number; assemblyInterrupted: number; nextCheckAt?: string };
  findings: { code: string; message: string; at: string }[];
  provenance: {
    state: ProvenanceStatus;
    reason?: string;
    subjects?: string[];
    keyId?: string;
    signedAt?: string;
    /**
     * PUBLISH_TO: the outcome of publishing the provenance beside each artifact,
     * at most MAX_STATUS_PUBLICATIONS of them, those needing attention first
     * (failed, conflict, pending, skipped, then published).
     */
    publications?: { sink: string; target: string; state: string; error?: string; at: string }[];
    /** How many publications are in each state, all of them counted (the list above may be cut). */
    publicationCounts?: Partial<Record<Publication['state'], number>>;
    /** Publications not listed (past MAX_STATUS_PUBLICATIONS). */
    publicationsOmitted?: number;
  };
}

export function taskStatus(task: TaskRecord, record: ProvenanceRecord | undefined): TaskStatus {
  const iso = (d: Date) => d.toISOString();
  return {
    taskId: task.taskId,
    reporter: task.owner.email,
    reporterSubject: task.owner.subject,
    reporterIssuer: task.owner.issuer,
    stage: task.state,
    stageTimes: Object.fromEntries(Object.entries(task.stageTimes).map(([s, d]) => [s, iso(d)])),
    createdAt: iso(task.createdAt),
    updatedAt: iso(task.updatedAt),
    ...(task.lastHeartbeatAt ? { lastHeartbeatAt: iso(task.lastHeartbeatAt) } : {}),
    ...(task.endedAt ? { endedAt: iso(task.endedAt) } : {}),
    ...(task.closedReason ? { closedReason: task.closedReason } : {}),
    ...(task.recoverAt || task.recoveryAttempts || record?.failures || record?.interrupted
      ? {
          recovery: {
            republished: task.recoveryAttempts ?? 0,
            assemblyFailures: record?.failures ?? 0,
            assemblyInterrupted: record?.interrupted ?? 0,
            ...(task.recoverAt ? { nextCheckAt: iso(task.recoverAt) } : {}),
          },
        }
      : {}),
    findings: task.findings.map((f) => ({ code: f.code, message: f.message, at: iso(f.at) })),
    provenance: provenanceStatus(task, record),
  };
}

function publicationsStatus(all: readonly Publication[]): Partial<TaskStatus['provenance']> {
  const counts: Partial<Record<Publication['state'], number>> = {};
  for (const p of all) counts[p.state] = (counts[p.state] ?? 0) + 1;
  const listed = ATTENTION.flatMap((state) => all.filter((p) => p.state === state)).slice(0, MAX_STATUS_PUBLICATIONS);
  return {
    publications: listed.map((p) => ({
      sink: p.sink,
      target: p.target,
      state: p.state,
      ...(p.error ? { error: p.error } : {}),
      at: p.at.toISOString(),
    })),
    publicationCounts: counts,
    ...(all.length > listed.length ? { publicationsOmitted: all.length - listed.length } : {}),
  };
}

function provenanceStatus(task: TaskRecord, record: ProvenanceRecord | undefined): TaskStatus['provenance'] {
  if (record?.state === 'signed') {
    return {
      state: 'signed',
      subjects: record.subjects.map((s) => `sha256:${s}`),
      ...(record.keyId ? { keyId: record.keyId } : {}),
      ...(record.signedAt ? { signedAt: record.signedAt.toISOString() } : {}),
      ...(record.publications?.length ? publicationsStatus(record.publications) : {}),
    };
  }
  if (record?.state === 'failed') return { state: 'failed', reason: record.reason ?? 'assembly failed' };
  if (task.state === 'FAILED') return { state: 'failed', reason: task.closedReason ?? 'the task failed' };
  if (task.state === 'EXPIRED' && !task.stageTimes.UPLOAD_COMPLETE)
    return { state: 'none', reason: `the task expired before UPLOAD_COMPLETE: ${task.closedReason ?? ''}`.trim() };
  if (record?.state === 'assembling') {
    return {
      state: 'assembling',
      reason: `provenance is being assembled (attempt ${record.attempts}${record.lastError ? `; last error: ${record.lastError}` : ''})`,
    };
  }
  if (task.stageTimes.UPLOAD_COMPLETE) {
    const ran = (record?.failures ?? 0) + (record?.interrupted ?? 0);
    const why = ran
      ? `${ran} assembly attempt(s) did not finish (last error: ${record?.lastError ?? 'none recorded'}); it is retried`
      : task.recoveryAttempts
        ? `UPLOAD_COMPLETE was published again ${task.recoveryAttempts} time(s) and no assembly has run yet: check the upload-complete subscription`
        : 'UPLOAD_COMPLETE was recorded; provenance has not been assembled yet';
    return { state: 'pending', reason: why };
  }
  return {
    state: 'none',
    reason: `the task is ${task.state}: provenance is assembled once it reports UPLOAD_COMPLETE`,
  };
}
