// The provenance-events messages (ports/notifier.ts), built from what the
// assembler and the sweep know. Paths are the read API's.
import type { ProvenanceEvent, SubjectRef } from '../ports/notifier.js';
import type { TaskRecord } from '../domain/task.js';
import type { Publication } from '../ports/publisher.js';

const ref = (task: TaskRecord, at: Date) => ({ taskId: task.taskId, reporter: task.owner.email, at: at.toISOString() });

export function taskProvenancePath(task: Pick<TaskRecord, 'taskId' | 'owner'>): string {
  return `/v1/tasks/${encodeURIComponent(task.taskId)}/provenance?reporter=${encodeURIComponent(task.owner.email)}`;
}

/**
 * Subjects one provenance.signed event lists: a statement of up to
 * MAX_STATEMENT_BYTES can name more (with 2 KB names) than a Pub/Sub message
 * holds (10 MB); past this the event says how many it left out, and the
 * task's envelope (fetch.task) lists them all.
 */
export const MAX_EVENT_SUBJECTS = 1000;

/** Publications one provenance.publish_failed event lists (the same 10 MB message limit); the status counts them all. */
export const MAX_EVENT_PUBLICATIONS = 1000;

export function signedEvent(task: TaskRecord, subjects: SubjectRef[], keyId: string, at: Date): ProvenanceEvent {
  const listed = subjects.slice(0, MAX_EVENT_SUBJECTS);
  const digests = [...new Set(listed.map((s) => s.digest.sha256))].sort();
  return {
    type: 'provenance.signed',
    ...ref(task, at),
    subjects: listed,
    ...(subjects.length > listed.length ? { subjectsOmitted: subjects.length - listed.length } : {}),
    keyId,
    fetch: { task: taskProvenancePath(task), artifacts: digests.map((d) => `/v1/artifacts/sha256:${d}/provenance`) },
  };
}

export const provenanceFailedEvent = (task: TaskRecord, reason: string, at: Date): ProvenanceEvent => ({
  type: 'provenance.failed',
  ...ref(task, at),
  reason,
});

export const taskExpiredEvent = (before: TaskRecord, after: TaskRecord, at: Date): ProvenanceEvent => ({
  type: 'task.expired',
  ...ref(after, at),
  stage: before.state,
  reason: after.closedReason ?? 'expired',
  lastSignOfLifeAt: (after.endedAt ?? at).toISOString(),
});

export const taskFailedEvent = (task: TaskRecord, at: Date): ProvenanceEvent => ({
  type: 'task.failed',
  ...ref(task, at),
  reason: task.closedReason ?? 'failed',
});

/** The publications needing attention (failed, conflict), or none: provenance.publish_failed, and the deprecated OCI-only provenance.attach_failed. */
export function publishFailedEvents(
  task: TaskRecord,
  publications: readonly Publication[],
  retrying: boolean,
  at: Date,
): ProvenanceEvent[] {
  const bad = publications.filter(
    (p): p is Publication & { state: 'failed' | 'conflict' } => p.state === 'failed' || p.state === 'conflict',
  );
  if (bad.length === 0) return [];
  const listed = bad.slice(0, MAX_EVENT_PUBLICATIONS);
  const events: ProvenanceEvent[] = [
    {
      type: 'provenance.publish_failed',
      ...ref(task, at),
      publications: listed.map((p) => ({ sink: p.sink, target: p.target, state: p.state, error: p.error ?? p.state })),
      ...(bad.length > listed.length ? { publicationsOmitted: bad.length - listed.length } : {}),
      retrying,
    },
  ];
  const oci = bad.filter((p) => p.sink === 'oci' && p.state === 'failed').slice(0, MAX_EVENT_PUBLICATIONS);
  if (oci.length)
    events.push({
      type: 'provenance.attach_failed',
      ...ref(task, at),
      images: oci.map((p) => ({ image: p.target, error: p.error ?? 'failed' })),
    });
  return events;
}
