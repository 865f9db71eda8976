// Verification Summary Attestations (https://slsa.dev/verification_summary/v1):
// an in-toto Statement v1 that hands a verifier's verdict on one artifact to
// the next stage, signed as a DSSE envelope with the gate's own key. The
// statement is built here from typed inputs (no I/O); signing takes any Signer
// (a local PEM key, Cloud KMS).
import { canonicalJson } from '../domain/report.js';
import { signPayload, type SignedEnvelope } from '../provenance/dsse.js';
import { STATEMENT_TYPE } from '../provenance/statement.js';
import type { Signer } from '../ports/signer.js';
import { SLSA_VERSION, verifiedLevels } from './levels.js';

export const VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';

export interface ResourceDigest {
  uri?: string;
  digest: { sha256: string };
}

export interface VsaPredicate {
  verifier: { id: string; version?: Record<string, string> };
  timeVerified: string;
  resourceUri: string;
  policy: { uri: string; digest: { sha256: string } };
  inputAttestations: ResourceDigest[];
  verificationResult: 'PASSED' | 'FAILED';
  verifiedLevels: string[];
  slsaVersion: string;
}

export interface VsaStatement {
  _type: typeof STATEMENT_TYPE;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: typeof VSA_PREDICATE_TYPE;
  predicate: VsaPredicate;
}

export interface VsaInput {
  verifierId: string;
  verifierVersion?: Record<string, string>;
  timeVerified: Date;
  /** The artifact as the deployer names it (e.g. an image reference or gs:// URI). */
  resourceUri: string;
  /** sha256 hex of the artifact. */
  digest: string;
  policy: { uri: string; sha256: string };
  /** The envelopes the verdict rests on, by the sha256 of their JSON text. */
  inputAttestations: ResourceDigest[];
  passed: boolean;
}

export function vsaStatement(input: VsaInput): VsaStatement {
  const result = input.passed ? 'PASSED' : 'FAILED';
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: input.resourceUri, digest: { sha256: input.digest } }],
    predicateType: VSA_PREDICATE_TYPE,
    predicate: {
      verifier: { id: input.verifierId, ...(input.verifierVersion ? { version: input.verifierVersion } : {}) },
      timeVerified: input.timeVerified.toISOString(),
      resourceUri: input.resourceUri,
      policy: { uri: input.policy.uri, digest: { sha256: input.policy.sha256 } },
      inputAttestations: input.inputAttestations,
      verificationResult: result,
      verifiedLevels: verifiedLevels(result),
      slsaVersion: SLSA_VERSION,
    },
  };
}

/** The VSA as a DSSE envelope: the signature covers PAE(in-toto type, canonical JSON of the statement). */
export function signVsa(statement: VsaStatement, signer: Signer): Promise<SignedEnvelope> {
  return signPayload(Buffer.from(canonicalJson(statement), 'utf8'), signer);
}
