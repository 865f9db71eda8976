// In-memory ProvenanceStore: for npm start without gcloud and fast tests.
// Same claim rule as Firestore (ports/provenance-claim.ts); envelopes are kept whole
// and read back in pieces of `pieceChars`, as Firestore reads its chunks.
import { randomUUID } from 'node:crypto';
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
import { envelopeShape } from '../ports/envelope-shape.js';

type Doc = ProvenanceRecord & ClaimFields & { envelope?: Envelope };

export class MemoryProvenanceStore implements ProvenanceStore {
  private readonly docs = new Map<string, Doc>();

  constructor(private readonly pieceChars = 1_000_000) {}

  async claim(taskKey: string, now: Date, leaseMs: number): Promise<Claim> {
    const current = this.docs.get(taskKey);
    const { claim, write } = decideClaim(current, now, leaseMs, randomUUID());
    if (write) this.docs.set(taskKey, { taskKey, subjects: [], ...current, ...write });
    return claim;
  }

  async release(taskKey: string, token: string, error?: string): Promise<void> {
    const current = this.docs.get(taskKey);
    if (current && holdsClaim(current, token)) {
      const { claimToken: _t, leaseUntil: _l, ...rest } = current;
      this.docs.set(taskKey, { ...rest, ...releasedFields(current, error) });
    }
  }

  async finish(taskKey: string, token: string, result: AssemblyResult): Promise<boolean> {
    const current = this.docs.get(taskKey);
    if (!current || !holdsClaim(current, token)) return false;
    const { claimToken: _t, leaseUntil: _l, ...rest } = current;
    this.docs.set(
      taskKey,
      result.state === 'signed'
        ? {
            ...rest,
            state: 'signed',
            subjects: [...result.subjects],
            keyId: result.keyId,
            signedAt: result.at,
            updatedAt: result.at,
            envelope: structuredClone(result.envelope),
            ...(result.expireAt ? { expireAt: result.expireAt } : {}),
          }
        : {
            ...rest,
            state: 'failed',
            reason: result.reason,
            updatedAt: result.at,
            ...(result.expireAt ? { expireAt: result.expireAt } : {}),
          },
    );
    return true;
  }

  async get(taskKey: string): Promise<ProvenanceRecord | undefined> {
    const d = this.docs.get(taskKey);
    if (!d) return undefined;
    const { envelope: _e, claimToken: _t, leaseUntil, ...record } = d;
    return structuredClone({
      ...record,
      ...(d.state === 'assembling' && leaseUntil ? { claimedUntil: leaseUntil } : {}),
    });
  }

  async recordPublications(taskKey: string, publications: Publication[]): Promise<void> {
    const d = this.docs.get(taskKey);
    if (d) this.docs.set(taskKey, { ...d, publications: structuredClone(publications) });
  }

  async reset(taskKey: string, now: Date): Promise<'reset' | 'signed' | 'busy' | 'none'> {
    const d = this.docs.get(taskKey);
    if (!d) return 'none';
    const verdict = resetVerdict(d, now);
    if (verdict === 'reset') this.docs.delete(taskKey);
    return verdict;
  }

  async envelopesForTask(taskKey: string): Promise<Envelope[]> {
    const e = this.docs.get(taskKey)?.envelope;
    return e ? [structuredClone(e)] : [];
  }

  async envelopesForSubject(sha256: string): Promise<Envelope[]> {
    return [...this.docs.values()]
      .filter((d) => d.state === 'signed' && d.subjects.includes(sha256))
      .sort(oldestSignedFirst)
      .flatMap((d) => (d.envelope ? [structuredClone(d.envelope)] : []));
  }

  async subjectPage(sha256: string, limit: number, after?: SubjectCursor): Promise<EnvelopePage> {
    const all = [...this.docs.values()]
      .filter((d) => d.state === 'signed' && d.envelope && d.subjects.includes(sha256))
      .sort(oldestSignedFirst)
      .filter((d) => !after || oldestSignedFirst(d, after) > 0);
    const page = all.slice(0, limit);
    const last = page[page.length - 1];
    return {
      envelopes: page.flatMap((d) => (d.envelope ? [this.stored(d.taskKey, d.envelope)] : [])),
      ...(all.length > limit && last?.signedAt ? { next: { signedAt: last.signedAt, taskKey: last.taskKey } } : {}),
    };
  }

  async storedForTask(taskKey: string): Promise<StoredEnvelope | undefined> {
    const d = this.docs.get(taskKey);
    return d?.state === 'signed' && d.envelope ? this.stored(taskKey, d.envelope) : undefined;
  }

  private stored(taskKey: string, envelope: Envelope): StoredEnvelope {
    const json = JSON.stringify(envelope);
    const size = this.pieceChars;
    return {
      taskKey,
      ...envelopeShape(envelope, json),
      async *text() {
        for (let at = 0; at < json.length; at += size) yield json.slice(at, at + size);
      },
    };
  }
}
