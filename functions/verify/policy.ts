// What a deploy gate requires of an artifact's provenance: one typed policy,
// built either from `provenance verify`'s flags or from a policy file, and
// applied by one engine (functions/verify/). Field names follow
// slsa-verifier's Expected* options.

/** A source repository and the refs its checkouts may be on. */
export interface SourceRule {
  /** Repository URI as it appears in resolvedDependencies, with or without "git+". */
  uri: string;
  /** Allowed refs (e.g. refs/heads/main). Absent: any ref. Every dependency from `uri` must be on one. */
  refs?: string[];
}

/** A configuration source the build may have run from (SLSA buildDefinition.externalParameters.configSource). */
export interface ConfigSourceRule {
  uri: string;
  /** Allowed refs/entry point are optional narrowing. */
  entryPoint?: string;
}

export interface VerificationPolicy {
  /** sha256 hex of the artifact being verified (a subject must carry it). */
  expectedDigest: string;
  /** The builder id must be one of these. */
  expectedBuilderIds?: string[];
  /** The identity that reported the task (email) must be one of these. */
  expectedReporters?: string[];
  /** Each rule must hold on its own: at least one git dependency from the rule's repository, and every
   *  dependency from it on one of its refs. Rules are never pooled across repositories or checkouts. */
  expectedSources?: SourceRule[];
  /** The configuration source must match one of these. */
  expectedConfigSources?: ConfigSourceRule[];
  /** Finding codes (e.g. FETCH_AFTER_COMPILE) that fail verification when present. */
  refusedFindings?: string[];
  /** The provenance (runDetails.metadata.finishedOn) may be at most this old, in seconds, at `now`. */
  maxAgeSeconds?: number;
  /** Subject name patterns the policy covers (glob: `*` within one path segment, `**` across segments);
   *  at least one subject carrying expectedDigest must match one. Absent: any name. */
  subjectPatterns?: string[];
}

/** Stable failure codes, for gates that parse output. */
export type FailureCode =
  | 'MALFORMED_ENVELOPE'
  | 'PAYLOAD_TYPE_MISMATCH'
  | 'SIGNATURE_INVALID'
  | 'NO_TRUSTED_KEY'
  | 'MALFORMED_STATEMENT'
  | 'STATEMENT_TYPE_MISMATCH'
  | 'PREDICATE_TYPE_MISMATCH'
  | 'NO_SUBJECT'
  | 'SUBJECT_NAME_NOT_COVERED'
  | 'BUILDER_ID_MISMATCH'
  | 'REPORTER_MISMATCH'
  | 'SOURCE_MISSING'
  | 'SOURCE_REF_MISMATCH'
  | 'CONFIG_SOURCE_MISMATCH'
  | 'REFUSED_FINDING'
  | 'PROVENANCE_TOO_OLD';

export interface VerificationFailure {
  code: FailureCode;
  /** One line, printable (hostile strings escaped). */
  message: string;
  /** The statement field or dependency the failure is about, e.g. "predicate.runDetails.builder.id" or a dependency URI. */
  field?: string;
}

/** The verdict on one envelope. */
export interface EnvelopeVerdict {
  ok: boolean;
  /** Name of the trusted key that verified the signature (never a claimed keyid). */
  verifiedKey?: string;
  /** sha256 hex of the envelope's JSON text as read (its .intoto.jsonl line, no newline), for VSA inputAttestations;
   *  computed over JSON.stringify(envelope) when the envelope was handed in parsed. */
  envelopeSha256: string;
  /** Subjects of the statement (empty when the statement could not be read). */
  subjects: { name: string; digest: Record<string, string> }[];
  failures: VerificationFailure[];
  /** The statement as read, when the payload was a JSON object (untrusted in shape even when ok: read fields with care). */
  statement?: Record<string, unknown>;
}
