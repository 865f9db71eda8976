// The rules both provenance stores apply: the claim, taken inside their
// transaction (one delivery at a time assembles a task, a finished task is
// never redone, a claim whose holder died (lease passed) can be taken over),
// and the order envelopes for one subject come back in.
import type { Claim, ProvenanceRecord, ProvenanceState } from '../ports/provenance-store.js';

export interface ClaimFields {
  state: ProvenanceState;
  reason?: string;
  claimToken?: string;
  leaseUntil?: Date;
  attempts: number;
}

/** The claim's outcome and, when it was granted, the fields to write. */
export function decideClaim(
  current: ClaimFields | undefined,
  now: Date,
  leaseMs: number,
  token: string,
): { claim: Claim; write?: ClaimFields & { updatedAt: Date } } {
  if (current?.state === 'signed') return { claim: { outcome: 'signed' } };
  if (current?.state === 'failed') return { claim: { outcome: 'failed', reason: current.reason ?? 'assembly failed' } };
  if (current?.claimToken && current.leaseUntil && current.leaseUntil.getTime() > now.getTime()) {
    return { claim: { outcome: 'busy', until: current.leaseUntil } };
  }
  return {
    claim: { outcome: 'claimed', token },
    write: { state: 'assembling', claimToken: token, leaseUntil: new Date(now.getTime() + leaseMs), attempts: (current?.attempts ?? 0) + 1, updatedAt: now },
  };
}

/** Signed records oldest first (then by task key, so the order is total). */
export function oldestSignedFirst(a: Pick<ProvenanceRecord, 'signedAt' | 'taskKey'>, b: Pick<ProvenanceRecord, 'signedAt' | 'taskKey'>): number {
  return a.signedAt!.getTime() - b.signedAt!.getTime() || (a.taskKey < b.taskKey ? -1 : a.taskKey > b.taskKey ? 1 : 0);
}

/** Whether `token` still holds the claim on this record. */
export function holdsClaim(current: ClaimFields | undefined, token: string): boolean {
  return current?.state === 'assembling' && current.claimToken === token;
}
