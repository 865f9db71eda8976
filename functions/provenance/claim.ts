// The claim rule both provenance stores apply inside their transaction: one
// delivery at a time assembles a task, a finished task is never redone, and a
// claim whose holder died (lease passed) can be taken over.
import type { Claim, ProvenanceState } from '../ports/provenance-store.js';

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

/** Whether `token` still holds the claim on this record. */
export function holdsClaim(current: ClaimFields | undefined, token: string): boolean {
  return current?.state === 'assembling' && current.claimToken === token;
}
