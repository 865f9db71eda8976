// What a build step can report, as validated, normalised values. The API edge
// turns wire messages into these; everything inward trusts them.
import { hash } from 'node:crypto';
import { json } from '@sigstore/core';

/** 64 lowercase hex characters. */
export type Sha256Hex = string & { readonly __brand: 'sha256' };

export interface GitDependency {
  kind: 'git';
  repo: string;
  commit: string;
  refs: string[];
  eventTime?: Date;
}

export interface CipdDependency {
  kind: 'cipd';
  packageName: string;
  instanceId: string;
  tags: string[]; // "key:value", sorted
  refs: string[]; // ref names, sorted
  eventTime?: Date;
}

export interface GcsDependency {
  kind: 'gcs';
  uri: string;
  sha256: Sha256Hex;
  eventTime?: Date;
}

export type ArtifactLocation =
  | { type: 'gcs'; uri: string }
  | { type: 'cipd'; packageName: string; instanceId: string; host: string }
  | { type: 'oci'; image: string; tag?: string };

export interface ArtifactReport {
  kind: 'artifact';
  sha256: Sha256Hex;
  location: ArtifactLocation;
  /** When this artifact is an SBOM: digests of the artifacts it describes, sorted. */
  sbomSubjects: Sha256Hex[];
}

/** Reports stored one document each, written without reading the task. */
export type ContentReport = GitDependency | CipdDependency | GcsDependency | ArtifactReport;
export type ReportKind = ContentReport['kind'];

export interface ConfigSource {
  uri: string;
  digest: Record<string, string>;
  entryPoint?: string;
}

export interface StageReport {
  stage: import('./stage.js').Stage;
  /** The reporter's own clock, kept for the record; the server clock orders events. */
  reportedTime?: Date;
  recipe?: string;
  pid?: number;
  configSource?: ConfigSource;
}

export interface Heartbeat {
  pid: number;
  reporter: string;
}

/**
 * A CIPD instance id as an in-toto DigestSet: legacy ids are the SHA-1 in
 * lowercase hex; current ids are base64url (no padding) of the digest followed
 * by one byte naming the hash (CIPD's HashAlgo: 1 SHA-1, 2 SHA-256).
 * Undefined when the id is neither.
 */
export function cipdDigest(instanceId: string): { sha1: string } | { sha256: string } | undefined {
  if (/^[0-9a-f]{40}$/.test(instanceId)) return { sha1: instanceId };
  if (!/^[A-Za-z0-9_-]{44}$/.test(instanceId)) return undefined;
  const raw = Buffer.from(instanceId, 'base64url');
  if (raw.toString('base64url') !== instanceId) return undefined; // not canonical
  const algo = raw[raw.length - 1];
  if (raw.length === 33 && algo === 2) return { sha256: raw.subarray(0, 32).toString('hex') };
  return undefined;
}

/**
 * A content report as stored: what was said and when the server received it.
 * A retried report is the same document (its id comes from its content), so
 * it keeps the first and the last time it was received.
 */
export interface StoredReport {
  id: string;
  report: ContentReport;
  /** First receipt. */
  receivedAt: Date;
  /** Last receipt (a retry); the same as receivedAt for a report sent once. */
  lastReceivedAt: Date;
  /** When the document may be deleted by the TTL policy. */
  expireAt: Date;
}

/** Reports in the order the server received them (ties broken by id, so the order is total). */
export function byReceived(a: StoredReport, b: StoredReport): number {
  return a.receivedAt.getTime() - b.receivedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * A report's id comes from its content, so a retried report lands on the same
 * document and is stored once.
 */
export function reportId(report: ContentReport): string {
  return hash('sha256', canonicalJson(report), 'hex').slice(0, 40);
}

/**
 * JSON with object keys sorted and undefined dropped: same value, same bytes.
 * @sigstore/core's canonicalize sorts the keys; the JSON round trip first turns
 * the value into plain JSON (Dates as ISO strings, undefined members dropped),
 * which canonicalize does not do itself.
 */
export function canonicalJson(value: unknown): string {
  return json.canonicalize(JSON.parse(JSON.stringify(value)));
}
