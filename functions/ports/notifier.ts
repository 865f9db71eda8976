// The notifier port: what a deployment gate can subscribe to. Every message on
// the provenance-events topic is one of these, as JSON, with the `type` also
// as a message attribute (so subscriptions can filter on it). Paths are
// relative to the read API's URL. Adapters: Pub/Sub (deployed) and the log
// (npm start).
export interface SubjectRef {
  name: string;
  digest: { sha256: string };
}

interface TaskRef {
  taskId: string;
  /** The reporting identity's email: with taskId, it names the task in the read API. */
  reporter: string;
  /** ISO time of the event. */
  at: string;
}

export type ProvenanceEvent =
  | (TaskRef & {
      type: 'provenance.signed';
      /** At most MAX_EVENT_SUBJECTS (provenance/events.ts), in the statement's order. */
      subjects: SubjectRef[];
      /** Subjects past that limit, not listed here (the task's envelope has them all). */
      subjectsOmitted?: number;
      keyId: string;
      /** GET these from the read API: the task's envelope, and each subject's envelopes. */
      fetch: { task: string; artifacts: string[] };
    })
  | (TaskRef & { type: 'provenance.failed'; reason: string })
  | (TaskRef & { type: 'task.expired'; stage: string; reason: string; lastSignOfLifeAt: string })
  | (TaskRef & { type: 'task.failed'; reason: string })
  | (TaskRef & {
      type: 'provenance.publish_failed';
      /** The targets whose publication failed (retried by the sweep) or conflicted (never overwritten); at most MAX_EVENT_PUBLICATIONS. */
      publications: { sink: string; target: string; state: 'failed' | 'conflict'; error: string }[];
      /** Failed or conflicting publications past that limit, not listed here (the task status counts them). */
      publicationsOmitted?: number;
      /** Whether the sweep will try the failed ones again. */
      retrying: boolean;
    })
  /** Deprecated (removed in the next release): provenance.publish_failed's OCI part, for subscribers of OCI_ATTACH. */
  | (TaskRef & { type: 'provenance.attach_failed'; images: { image: string; error: string }[] });

export interface Notifier {
  /** Rejects when the event could not be sent. */
  notify(event: ProvenanceEvent): Promise<void>;
}
