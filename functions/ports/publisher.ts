// The publishing port: puts a task's signed provenance where one of its
// artifacts lives (in the spirit of Tekton Chains' storage backends). One sink
// per kind of place: OCI registries (a referrer on the image), GCS (objects
// beside the artifact), CIPD (instance metadata). Sinks are handed hostile
// targets (named by reporters): each refuses, without any network request,
// a target off its allowlist, and honours the AbortSignal on every request.

export type SinkName = 'oci' | 'gcs' | 'cipd';

/** What every sink publishes, serialised once per task (never per target). */
export interface SignedProvenance {
  taskId: string;
  /** Key id of the signature (the KMS key version name, or the dev key id). */
  keyId: string;
  /** The DSSE envelope as one JSON line, no trailing newline (the .intoto.jsonl content). */
  envelopeJson: string;
  /** sha256 hex of envelopeJson's UTF-8 bytes. */
  envelopeSha256: string;
  /** The Sigstore bundle v0.3 as JSON text. */
  bundleJson: string;
}

/**
 * One place to publish to. `target` is canonical text, also what is recorded:
 * - oci:  "<registry host[:port]>/<repository path>@sha256:<hex>"  (the image manifest)
 * - gcs:  "gs://<bucket>/<object name>"
 * - cipd: "cipd://<host>/<package name>@<instance id>"  (host: the CIPD backend host, e.g. chrome-infra-packages.appspot.com)
 */
export interface PublishTarget {
  sink: SinkName;
  target: string;
}

/** 'published': written now; 'already-published': the same bytes were already there (a retry). */
export type PublishOutcome = 'published' | 'already-published';

/** The destination holds other bytes under the name we would write: recorded, never overwritten. */
export class PublishConflictError extends Error {
  readonly code = 'PUBLISH_CONFLICT';
}

export interface Sink {
  readonly name: SinkName;
  /** Why this target may not be published to (off the allowlist, malformed), or undefined. No network. */
  refuses(target: string): string | undefined;
  /**
   * The names, in the same target space, that publishing `target` writes (GCS:
   * the objects beside it), if they can collide with other targets. A target
   * whose written name is itself another target of the task is a conflict.
   */
  writes?(target: string): string[];
  /** Publishes; throws PublishConflictError on a conflict, anything else on failure. Every request honours `signal`. */
  publish(target: string, provenance: SignedProvenance, signal: AbortSignal): Promise<PublishOutcome>;
}

/** One target's outcome, as recorded on the provenance record and shown in the task status. */
export interface Publication {
  sink: SinkName;
  target: string;
  /**
   * 'pending': recorded before publishing starts (the assembler's write-ahead);
   * one still pending after the assembler finished means it stopped mid-way, and
   * the sweep retries it like a failed one.
   */
  state: 'published' | 'skipped' | 'conflict' | 'failed' | 'pending';
  /** The reason for skipped/conflict/failed (bounded length, printable). */
  error?: string;
  at: Date;
}
