// The provenance store port: where signed envelopes live, findable by task and
// by each subject's sha256, plus the claim that makes assembly happen once per
// task however often Pub/Sub delivers. Adapters: Firestore (production, the
// emulator in tests) and in-memory; both pass test/contract/provenance-store.contract.ts.
import type { Envelope } from './envelope.js';
import type { EnvelopeShape } from './envelope-shape.js';
import type { Publication } from './publisher.js';

/** A signed envelope as stored: its size and frame known, its text read only when answered. */
export interface StoredEnvelope extends EnvelopeShape {
  taskKey: string;
  /** The envelope's JSON in the pieces it is stored in (Firestore: one chunk at a time), never joined. */
  text(): AsyncIterable<string>;
}

/** Where a page of a subject's envelopes ended: the next page starts after it. */
export interface SubjectCursor {
  signedAt: Date;
  taskKey: string;
}

export interface EnvelopePage {
  envelopes: StoredEnvelope[];
  /** Set when more envelopes follow. */
  next?: SubjectCursor;
}

export type ProvenanceState = 'assembling' | 'signed' | 'failed';

export interface ProvenanceRecord {
  taskKey: string;
  state: ProvenanceState;
  /** failed: why the task has no provenance (e.g. it reported no artifacts). */
  reason?: string;
  /** sha256 hex of every subject (signed only). */
  subjects: string[];
  keyId?: string;
  signedAt?: Date;
  /** How many times assembly was claimed: more than one means a retry. */
  attempts: number;
  /** Assemblies that ran and failed with an error (each released its claim). */
  failures?: number;
  /** Assemblies whose process stopped while holding the claim (found when the claim was taken over). */
  interrupted?: number;
  /** The error of the last attempt that failed, or that it was interrupted. */
  lastError?: string;
  /** While assembling: the claim's lease (a live holder is not disturbed before it). */
  claimedUntil?: Date;
  /** Signed, with PUBLISH_TO: the outcome of publishing it beside each artifact (one per sink and target). */
  publications?: Publication[];
  /** Retention (PROVENANCE_RETENTION_DAYS); none when unset. */
  expireAt?: Date;
  updatedAt: Date;
}

/** What a claim found: go ahead (with the token that proves it), or why not. */
export type Claim =
  | { outcome: 'claimed'; token: string }
  | { outcome: 'signed' }
  | { outcome: 'failed'; reason: string }
  | { outcome: 'busy'; until: Date };

export type AssemblyResult = (
  | { state: 'signed'; envelope: Envelope; subjects: string[]; keyId: string; at: Date }
  | { state: 'failed'; reason: string; at: Date }
) & {
  /** Retention: a Firestore TTL policy deletes the record after this; none when unset. */
  expireAt?: Date;
};

export interface ProvenanceStore {
  /**
   * Claim the task's assembly in one transaction: succeeds when nobody has
   * finished it and no unexpired claim is held. The claim lasts leaseMs, so
   * work that died mid-way is taken up again by a later delivery.
   */
  claim(taskKey: string, now: Date, leaseMs: number): Promise<Claim>;

  /** Give a claim back early (the work failed and will be retried), recording why. */
  release(taskKey: string, token: string, error?: string): Promise<void>;

  /**
   * Store the outcome if the claim is still ours; false (nothing recorded)
   * when it expired and was taken by another delivery.
   */
  finish(taskKey: string, token: string, result: AssemblyResult): Promise<boolean>;

  get(taskKey: string): Promise<ProvenanceRecord | undefined>;

  /** Record where the signed provenance was published (replaces the list; a no-op for a task with no record). */
  recordPublications(taskKey: string, publications: Publication[]): Promise<void>;

  /**
   * An operator sends the task back to assembly: forget a failed or
   * abandoned assembly (state and counts) so the next delivery claims afresh.
   * Signed provenance is never touched; a claim whose lease is running is not
   * taken away.
   */
  reset(taskKey: string, now: Date): Promise<'reset' | 'signed' | 'busy' | 'none'>;

  /** The task's envelope(s): empty until signed. */
  envelopesForTask(taskKey: string): Promise<Envelope[]>;

  /** Every signed envelope with a subject of this sha256, oldest first (unbounded: tools and tests; the read API pages). */
  envelopesForSubject(sha256: string): Promise<Envelope[]>;

  /**
   * At most `limit` of the signed envelopes naming this sha256, oldest first
   * (signedAt, then task key), after the cursor. Reads the envelopes' records,
   * not their text.
   */
  subjectPage(sha256: string, limit: number, after?: SubjectCursor): Promise<EnvelopePage>;

  /** The task's signed envelope as stored; undefined until signed. */
  storedForTask(taskKey: string): Promise<StoredEnvelope | undefined>;
}
