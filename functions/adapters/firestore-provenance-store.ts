// Firestore ProvenanceStore. Layout: provenance/{taskKey}, one document per
// task holding its state, claim and subjects (an array, so "every envelope for
// this sha256" is one array-contains query), and the envelope as a JSON string
// when it fits; larger envelopes go to provenance/{taskKey}/chunks/{token}-{i}
// (Firestore's document limit is 1 MiB) and are joined again on read.
import { randomUUID } from 'node:crypto';
import { FieldValue, type DocumentData, type Firestore } from '@google-cloud/firestore';
import type { Envelope } from '../provenance/dsse.js';
import {
  decideClaim,
  holdsClaim,
  oldestSignedFirst,
  releasedFields,
  resetVerdict,
  type ClaimFields,
} from '../provenance/claim.js';
import type { Publication } from '../ports/publisher.js';
import type { AssemblyResult, Claim, ProvenanceRecord, ProvenanceStore } from '../ports/provenance-store.js';
import { fromFirestore } from './firestore-task-store.js';
import { backendCall, DEFAULT_BACKEND_DEADLINE_MS } from './backend-call.js';

export const PROVENANCE = 'provenance';
export const CHUNKS = 'chunks';
/** Envelope bytes per chunk document: under 1 MiB with room for the field name and metadata. */
export const CHUNK_BYTES = 900_000;

type Doc = ProvenanceRecord & ClaimFields & { envelope?: string; chunkSet?: string; chunks?: number };

export class FirestoreProvenanceStore implements ProvenanceStore {
  constructor(
    private readonly db: Firestore,
    private readonly chunkBytes = CHUNK_BYTES,
    /** Each call's deadline: past it the call is `unavailable` (BACKEND_DEADLINE_SECONDS). */
    private readonly deadlineMs = DEFAULT_BACKEND_DEADLINE_MS,
  ) {}

  private doc(taskKey: string) {
    return this.db.collection(PROVENANCE).doc(taskKey);
  }

  claim(taskKey: string, now: Date, leaseMs: number): Promise<Claim> {
    return backendCall(`firestore claim`, this.deadlineMs, async () => {
      const ref = this.doc(taskKey);
      return this.db.runTransaction(async (tx) => {
        const snap = await tx.get(ref);
        const current = snap.exists ? (fromFirestore(snap.data()) as Doc) : undefined;
        const { claim, write } = decideClaim(current, now, leaseMs, randomUUID());
        if (write) tx.set(ref, current ? write : { taskKey, subjects: [], ...write }, { merge: true });
        return claim;
      });
    });
  }

  release(taskKey: string, token: string, error?: string): Promise<void> {
    return backendCall(`firestore release`, this.deadlineMs, async () => {
      const ref = this.doc(taskKey);
      await this.db.runTransaction(async (tx) => {
        const snap = await tx.get(ref);
        const current = snap.exists ? (fromFirestore(snap.data()) as Doc) : undefined;
        if (current && holdsClaim(current, token)) {
          tx.update(ref, {
            claimToken: FieldValue.delete(),
            leaseUntil: FieldValue.delete(),
            ...releasedFields(current, error),
          });
        }
      });
    });
  }

  finish(taskKey: string, token: string, result: AssemblyResult): Promise<boolean> {
    return backendCall(`firestore finish`, this.deadlineMs, async () => {
      const ref = this.doc(taskKey);
      let update: DocumentData;
      if (result.state === 'signed') {
        const json = JSON.stringify(result.envelope);
        // Subjects share the document with an inline envelope: leave them room too.
        const inline = json.length + result.subjects.length * 80 <= this.chunkBytes;
        if (!inline) await this.writeChunks(taskKey, token, json, result.expireAt);
        update = {
          state: 'signed',
          subjects: result.subjects,
          keyId: result.keyId,
          signedAt: result.at,
          updatedAt: result.at,
          ...(inline ? { envelope: json } : { chunkSet: token, chunks: Math.ceil(json.length / this.chunkBytes) }),
        };
      } else {
        update = { state: 'failed', reason: result.reason, updatedAt: result.at };
      }
      if (result.expireAt) update.expireAt = result.expireAt;
      return this.db.runTransaction(async (tx) => {
        const snap = await tx.get(ref);
        if (!holdsClaim(snap.exists ? (fromFirestore(snap.data()) as Doc) : undefined, token)) return false;
        tx.update(ref, { ...update, claimToken: FieldValue.delete(), leaseUntil: FieldValue.delete() });
        return true;
      });
    });
  }

  // Chunks are written before the claim is settled, under names that carry the
  // claim token, so a delivery that loses its claim leaves only unreferenced chunks.
  private async writeChunks(taskKey: string, token: string, json: string, expireAt?: Date): Promise<void> {
    const chunks = this.doc(taskKey).collection(CHUNKS);
    const writes: Promise<unknown>[] = [];
    for (let i = 0, at = 0; at < json.length; i++, at += this.chunkBytes) {
      writes.push(
        chunks
          .doc(`${token}-${i}`)
          .set({ data: json.slice(at, at + this.chunkBytes), ...(expireAt ? { expireAt } : {}) }),
      );
    }
    await Promise.all(writes);
  }

  get(taskKey: string): Promise<ProvenanceRecord | undefined> {
    return backendCall(`firestore get`, this.deadlineMs, async () => {
      const snap = await this.doc(taskKey).get();
      if (!snap.exists) return undefined;
      const {
        envelope: _e,
        chunkSet: _c,
        chunks: _n,
        claimToken: _t,
        leaseUntil,
        ...record
      } = fromFirestore(snap.data()) as Doc;
      return { ...record, ...(record.state === 'assembling' && leaseUntil ? { claimedUntil: leaseUntil } : {}) };
    });
  }

  recordPublications(taskKey: string, publications: Publication[]): Promise<void> {
    return backendCall(`firestore recordPublications`, this.deadlineMs, async () => {
      await this.doc(taskKey)
        .update({ publications: publications.map((p) => ({ ...p })) })
        .catch((err: { code?: number }) => {
          if (err.code !== 5) throw err; // NOT_FOUND: no record, nothing to annotate
        });
    });
  }

  reset(taskKey: string, now: Date): Promise<'reset' | 'signed' | 'busy' | 'none'> {
    return backendCall(`firestore reset`, this.deadlineMs, async () => {
      const ref = this.doc(taskKey);
      return this.db.runTransaction(async (tx) => {
        const snap = await tx.get(ref);
        if (!snap.exists) return 'none';
        const verdict = resetVerdict(fromFirestore(snap.data()) as Doc, now);
        if (verdict === 'reset') tx.delete(ref); // a failed or abandoned record has no chunks
        return verdict;
      });
    });
  }

  envelopesForTask(taskKey: string): Promise<Envelope[]> {
    return backendCall(`firestore envelopesForTask`, this.deadlineMs, async () => {
      const snap = await this.doc(taskKey).get();
      const doc = snap.exists ? (fromFirestore(snap.data()) as Doc) : undefined;
      return doc?.state === 'signed' ? [await this.envelopeOf(doc)] : [];
    });
  }

  envelopesForSubject(sha256: string): Promise<Envelope[]> {
    return backendCall(`firestore envelopesForSubject`, this.deadlineMs, async () => {
      const snap = await this.db.collection(PROVENANCE).where('subjects', 'array-contains', sha256).get();
      const docs = snap.docs
        .map((d) => fromFirestore(d.data()) as Doc)
        .filter((d) => d.state === 'signed')
        .sort(oldestSignedFirst);
      return Promise.all(docs.map((d) => this.envelopeOf(d)));
    });
  }

  private async envelopeOf(doc: Doc): Promise<Envelope> {
    if (doc.envelope !== undefined) return JSON.parse(doc.envelope) as Envelope;
    const chunks = this.doc(doc.taskKey).collection(CHUNKS);
    const refs = Array.from({ length: doc.chunks ?? 0 }, (_, i) => chunks.doc(`${doc.chunkSet}-${i}`));
    const snaps = await this.db.getAll(...refs);
    const parts = snaps.map((s, i) => {
      if (!s.exists) throw new Error(`provenance for task ${doc.taskKey}: chunk ${i} of ${refs.length} is missing`);
      return s.get('data') as string;
    });
    return JSON.parse(parts.join('')) as Envelope;
  }
}
