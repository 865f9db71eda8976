// Firestore ProvenanceStore. Layout: provenance/{taskKey}, one document per
// task holding its state, claim and subjects (an array, so "every envelope for
// this sha256" is one array-contains query), and the envelope as a JSON string
// when it fits; larger envelopes go to provenance/{taskKey}/chunks/{token}-{i}
// (Firestore's document limit is 1 MiB). The record also keeps the envelope's
// byte length and frame (provenance/envelope-frame.ts), so the read API pages
// a subject's envelopes from their records and streams each one's text chunk
// by chunk, never joined; envelopesFor* join them for callers that want objects.
// Publications (one per artifact, with targets up to 2 KiB each) grow with the
// number of subjects too, so they live in the same chunks collection, as
// pub-{token}-{i}, never in the task's document.
import { randomUUID } from 'node:crypto';
import { FieldPath, FieldValue, type DocumentData, type Firestore } from '@google-cloud/firestore';
import type { Envelope } from '../ports/envelope.js';
import {
  decideClaim,
  holdsClaim,
  oldestSignedFirst,
  releasedFields,
  resetVerdict,
  type ClaimFields,
} from '../ports/provenance-claim.js';
import type { Publication } from '../ports/publisher.js';
import type {
  AssemblyResult,
  Claim,
  EnvelopePage,
  ProvenanceRecord,
  ProvenanceStore,
  StoredEnvelope,
  SubjectCursor,
} from '../ports/provenance-store.js';
import { envelopeShape, type EnvelopeFrame } from '../ports/envelope-shape.js';
import { fromFirestore } from './firestore-task-store.js';
import { backendCall, DEFAULT_BACKEND_DEADLINE_MS } from './backend-call.js';

export const PROVENANCE = 'provenance';
export const CHUNKS = 'chunks';
/** Envelope bytes per chunk document: under 1 MiB with room for the field name and metadata. */
export const CHUNK_BYTES = 900_000;

/** What OCI_ATTACH recorded before publications (one release): read as the OCI sink's publications. */
interface LegacyAttachment {
  image: string;
  state: 'attached' | 'failed';
  error?: string;
  at: Date;
}

function fromAttachments(attachments: LegacyAttachment[] | undefined): Publication[] | undefined {
  return attachments?.map((a) => ({
    sink: 'oci',
    target: a.image,
    state: a.state === 'attached' ? 'published' : 'failed',
    ...(a.error ? { error: a.error } : {}),
    at: a.at,
  }));
}

type Doc = ProvenanceRecord &
  ClaimFields & {
    attachments?: LegacyAttachment[];
    envelope?: string;
    chunkSet?: string;
    chunks?: number;
    /** Byte length of the envelope's JSON and its text around the payload (records written before them have neither). */
    envelopeBytes?: number;
    envelopeFrame?: EnvelopeFrame;
    publicationSet?: string;
    publicationChunks?: number;
  };

/** What a page of a subject's envelopes reads of each record: not the envelope. */
const PAGE_FIELDS = ['taskKey', 'state', 'signedAt', 'chunkSet', 'chunks', 'envelopeBytes', 'envelopeFrame'];

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
        const shape = envelopeShape(result.envelope, json);
        update = {
          state: 'signed',
          subjects: result.subjects,
          keyId: result.keyId,
          signedAt: result.at,
          updatedAt: result.at,
          envelopeBytes: shape.bytes,
          envelopeFrame: shape.frame,
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
  private async writeChunks(taskKey: string, token: string, json: string, expireAt?: Date): Promise<number> {
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
    return writes.length;
  }

  private async readChunks(taskKey: string, set: string, count: number): Promise<string> {
    const chunks = this.doc(taskKey).collection(CHUNKS);
    const refs = Array.from({ length: count }, (_, i) => chunks.doc(`${set}-${i}`));
    if (refs.length === 0) return '';
    const snaps = await this.db.getAll(...refs);
    return snaps
      .map((s, i) => {
        if (!s.exists) throw new Error(`provenance for task ${taskKey}: chunk ${i} of ${refs.length} is missing`);
        return s.get('data') as string;
      })
      .join('');
  }

  get(taskKey: string): Promise<ProvenanceRecord | undefined> {
    return backendCall(`firestore get`, this.deadlineMs, async () => {
      const snap = await this.doc(taskKey).get();
      if (!snap.exists) return undefined;
      const doc = fromFirestore(snap.data()) as Doc;
      const {
        envelope: _e,
        chunkSet: _c,
        chunks: _n,
        claimToken: _t,
        publicationSet: _s,
        publicationChunks: _p,
        attachments,
        leaseUntil,
        ...record
      } = doc;
      const publications = doc.publicationSet ? await this.publicationsOf(doc) : fromAttachments(attachments);
      return {
        ...record,
        ...(record.state === 'assembling' && leaseUntil ? { claimedUntil: leaseUntil } : {}),
        ...(publications ? { publications } : {}),
      };
    });
  }

  /** Written as new chunks, then pointed at in one transaction; the old chunks are deleted after. */
  recordPublications(taskKey: string, publications: Publication[]): Promise<void> {
    return backendCall(`firestore recordPublications`, this.deadlineMs, async () => {
      const ref = this.doc(taskKey);
      const before = await ref.get();
      if (!before.exists) return; // no record, nothing to annotate
      const expireAt = (fromFirestore(before.get('expireAt')) as Date | undefined) ?? undefined;
      // ASCII only (non-ASCII escaped), so a chunk of chunkBytes characters is chunkBytes bytes.
      const json = JSON.stringify(publications).replace(
        /[\u007f-\uffff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      );
      const token = `pub-${randomUUID()}`;
      const chunks = await this.writeChunks(taskKey, token, json, expireAt);
      const previous = await this.db.runTransaction(async (tx) => {
        const snap = await tx.get(ref);
        if (!snap.exists) return { set: token, chunks }; // gone meanwhile: drop what was written
        const doc = fromFirestore(snap.data()) as Doc;
        tx.update(ref, {
          publicationSet: token,
          publicationChunks: chunks,
          publications: FieldValue.delete(),
          attachments: FieldValue.delete(), // OCI_ATTACH's field, superseded
        });
        return doc.publicationSet ? { set: doc.publicationSet, chunks: doc.publicationChunks ?? 0 } : undefined;
      });
      if (previous) await this.deleteChunks(taskKey, previous.set, previous.chunks).catch(() => undefined);
    });
  }

  private async deleteChunks(taskKey: string, set: string, count: number): Promise<void> {
    const chunks = this.doc(taskKey).collection(CHUNKS);
    await Promise.all(Array.from({ length: count }, (_, i) => chunks.doc(`${set}-${i}`).delete()));
  }

  private async publicationsOf(doc: Doc): Promise<Publication[]> {
    const json = await this.readChunks(doc.taskKey, doc.publicationSet ?? '', doc.publicationChunks ?? 0);
    return (JSON.parse(json) as (Omit<Publication, 'at'> & { at: string })[]).map((p) => ({
      ...p,
      at: new Date(p.at),
    }));
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

  subjectPage(sha256: string, limit: number, after?: SubjectCursor): Promise<EnvelopePage> {
    return backendCall(`firestore subjectPage`, this.deadlineMs, async () => {
      let query = this.db
        .collection(PROVENANCE)
        .where('subjects', 'array-contains', sha256)
        .orderBy('signedAt')
        .orderBy(FieldPath.documentId());
      if (after) query = query.startAfter(after.signedAt, after.taskKey);
      // One more than the page: whether a next page exists, without an empty last page.
      const snap = await query
        .select(...PAGE_FIELDS)
        .limit(limit + 1)
        .get();
      const docs = snap.docs.slice(0, limit).map((d) => fromFirestore(d.data()) as Doc);
      const last = docs[docs.length - 1];
      const envelopes = await Promise.all(docs.filter((d) => d.state === 'signed').map((d) => this.stored(d)));
      return {
        envelopes,
        ...(snap.size > limit && last?.signedAt ? { next: { signedAt: last.signedAt, taskKey: last.taskKey } } : {}),
      };
    });
  }

  storedForTask(taskKey: string): Promise<StoredEnvelope | undefined> {
    return backendCall(`firestore storedForTask`, this.deadlineMs, async () => {
      const [snap] = await this.db.getAll(this.doc(taskKey), { fieldMask: PAGE_FIELDS });
      const doc = snap?.exists ? (fromFirestore(snap.data()) as Doc) : undefined;
      return doc?.state === 'signed' ? this.stored(doc) : undefined;
    });
  }

  /** The envelope's size and frame from its record; its text read only when iterated, one chunk at a time. */
  private async stored(doc: Doc): Promise<StoredEnvelope> {
    const { taskKey } = doc;
    if (doc.envelopeBytes === undefined || !doc.envelopeFrame) {
      // Signed before records kept a frame: read it once to learn it.
      const full = await this.doc(taskKey).get();
      const envelope = await this.envelopeOf(fromFirestore(full.data()) as Doc);
      const json = JSON.stringify(envelope);
      return {
        taskKey,
        ...envelopeShape(envelope, json),
        async *text() {
          yield json;
        },
      };
    }
    const read = (what: string, fn: () => Promise<string>) => backendCall(what, this.deadlineMs, fn);
    const ref = this.doc(taskKey);
    const chunkRefs =
      doc.chunkSet === undefined
        ? undefined
        : Array.from({ length: doc.chunks ?? 0 }, (_, i) => ref.collection(CHUNKS).doc(`${doc.chunkSet}-${i}`));
    const db = this.db;
    return {
      taskKey,
      bytes: doc.envelopeBytes,
      frame: doc.envelopeFrame,
      async *text() {
        if (!chunkRefs) {
          yield await read('firestore envelope', async () => {
            const [snap] = await db.getAll(ref, { fieldMask: ['envelope'] });
            const text = snap?.get('envelope') as unknown;
            if (typeof text !== 'string') throw new Error(`provenance for task ${taskKey}: the envelope is missing`);
            return text;
          });
          return;
        }
        for (const [i, chunk] of chunkRefs.entries()) {
          yield await read('firestore envelope chunk', async () => {
            const snap = await chunk.get();
            if (!snap.exists)
              throw new Error(`provenance for task ${taskKey}: chunk ${i} of ${chunkRefs.length} is missing`);
            return snap.get('data') as string;
          });
        }
      },
    };
  }

  private async envelopeOf(doc: Doc): Promise<Envelope> {
    if (doc.envelope !== undefined) return JSON.parse(doc.envelope) as Envelope;
    return JSON.parse(await this.readChunks(doc.taskKey, doc.chunkSet ?? '', doc.chunks ?? 0)) as Envelope;
  }
}
