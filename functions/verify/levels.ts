// What a verifier may claim in a VSA's verifiedLevels after checking this
// service's provenance: one place, so the claim never outgrows the service.
// docs/security.md ("What the provenance proves, and what it does not"): the
// contents are self-reported by build steps, so the honest claim is SLSA Build
// L1 (provenance exists and is complete as reported); the envelope's
// authenticity is L2-like, but L2/L3 need the platform itself to observe and
// assert inputs and outputs, which this service does not. Never claim more.
export const SLSA_VERSION = '1.0';

/** SLSA v1.0 VSA: the highest level per track verified, or "FAILED" when policy verification failed. */
export function verifiedLevels(result: 'PASSED' | 'FAILED'): string[] {
  return result === 'PASSED' ? ['SLSA_BUILD_LEVEL_1'] : ['FAILED'];
}

/**
 * Whether the levels a VSA states meet a required one: SLSA_<TRACK>_LEVEL_<n>
 * is met by the same track at n or higher; any other value only by itself.
 */
export function levelMet(required: string, stated: readonly string[]): boolean {
  const want = /^SLSA_([A-Z]+)_LEVEL_([0-9])$/.exec(required);
  if (!want) return stated.includes(required);
  return stated.some((s) => {
    const have = /^SLSA_([A-Z]+)_LEVEL_([0-9])$/.exec(s);
    return have !== null && have[1] === want[1] && Number(have[2]) >= Number(want[2]);
  });
}
