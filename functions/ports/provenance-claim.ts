// The rules every ProvenanceStore implementation applies, part of the port's
// contract (pure, so both adapters share one copy): the claim, taken inside their
// transaction (one delivery at a time assembles a task, a finished task is
// never redone, a claim whose holder died (lease passed) can be taken over),
// and the order envelopes for one subject come back in.
import type { Claim, ProvenanceRecord, ProvenanceState } from './provenance-store.js';

export interface ClaimFields {
  state: ProvenanceState;
  reason?: string;
  claimToken?: string;
  leaseUntil?: Date;
  attempts: number;
  /** Assemblies that ran and failed (released their claim with an error). */
  failures?: number;
  /** Assemblies whose process stopped while holding the claim (taken over after the lease). */
  interrupted?: number;
  lastError?: string;
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
  // A claim still recorded but past its lease: the holder's process stopped
  // mid-assembly (killed, out of memory, timed out). That attempt did run.
  const takeover = current?.state === 'assembling' && current.claimToken !== undefined;
  return {
    claim: { outcome: 'claimed', token },
    write: {
      state: 'assembling',
      claimToken: token,
      leaseUntil: new Date(now.getTime() + leaseMs),
      attempts: (current?.attempts ?? 0) + 1,
      failures: current?.failures ?? 0,
      interrupted: (current?.interrupted ?? 0) + (takeover ? 1 : 0),
      ...(takeover
        ? {
            lastError: `an assembly stopped while holding the claim (its lease ran out at ${current.leaseUntil?.toISOString()})`,
          }
        : {}),
      updatedAt: now,
    },
  };
}

/** The fields a failed assembly writes when it hands its claim back: one more failure, and why. */
export function releasedFields(
  current: ClaimFields,
  error: string | undefined,
): Pick<ClaimFields, 'failures' | 'lastError'> {
  return { failures: (current.failures ?? 0) + 1, ...(error !== undefined ? { lastError: error } : {}) };
}

/** Signed records oldest first (then by task key, so the order is total). */
export function oldestSignedFirst(
  a: Pick<ProvenanceRecord, 'signedAt' | 'taskKey'>,
  b: Pick<ProvenanceRecord, 'signedAt' | 'taskKey'>,
): number {
  return signedMs(a) - signedMs(b) || (a.taskKey < b.taskKey ? -1 : a.taskKey > b.taskKey ? 1 : 0);
}

function signedMs(r: Pick<ProvenanceRecord, 'signedAt' | 'taskKey'>): number {
  if (!r.signedAt) throw new Error(`provenance of ${r.taskKey} is sorted as signed but has no signedAt`);
  return r.signedAt.getTime();
}

/** Whether `token` still holds the claim on this record. */
export function holdsClaim(current: ClaimFields | undefined, token: string): boolean {
  return current?.state === 'assembling' && current.claimToken === token;
}

/** Whether an operator's re-drive may forget this record: never signed provenance, never a live claim. */
export function resetVerdict(current: ClaimFields, now: Date): 'reset' | 'signed' | 'busy' {
  if (current.state === 'signed') return 'signed';
  if (
    current.state === 'assembling' &&
    current.claimToken &&
    current.leaseUntil &&
    current.leaseUntil.getTime() > now.getTime()
  )
    return 'busy';
  return 'reset';
}
