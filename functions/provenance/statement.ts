// How provenance is shaped: an in-toto Statement v1 with a SLSA Provenance v1
// predicate, assembled from a task and its reports. Pure and deterministic:
// the same task and reports give the same bytes (everything sorted).
// docs/buildtype-v1.md documents every field.
import { hash } from 'node:crypto';
import {
  canonicalJson,
  cipdDigest,
  type ArtifactReport,
  type ContentReport,
  type StoredReport,
} from '../domain/report.js';
import type { TaskRecord } from '../domain/task.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const BUILD_TYPE = 'https://github.com/build-provenance/build-provenance/buildtypes/self-report/v1';

/** in-toto ResourceDescriptor v1: at least one of uri, digest, content; only the spec's fields. */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  /** base64 of the bytes. */
  content?: string;
  downloadLocation?: string;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

export interface Statement {
  _type: typeof STATEMENT_TYPE;
  subject: { name: string; digest: { sha256: string }; annotations?: Record<string, unknown> }[];
  predicateType: typeof SLSA_PROVENANCE_V1;
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: Record<string, unknown>;
      internalParameters: Record<string, unknown>;
      resolvedDependencies: ResourceDescriptor[];
    };
    runDetails: {
      builder: { id: string };
      metadata: { invocationId: string; startedOn: string; finishedOn: string };
      byproducts: ResourceDescriptor[];
    };
  };
}

export interface AssembleOptions {
  builderId: string;
}

export class NoSubjectsError extends Error {
  override name = 'NoSubjectsError';
}

/** MAX_STATEMENT_BYTES' default: the largest predicate other attestation services accept. */
export const DEFAULT_MAX_STATEMENT_BYTES = 16 * 1024 * 1024;

/** The statement's canonical JSON is over MAX_STATEMENT_BYTES: no retry makes it smaller. */
export class StatementTooLargeError extends Error {
  override name = 'StatementTooLargeError';
  readonly code = 'STATEMENT_TOO_LARGE';
  constructor(
    readonly bytes: number,
    readonly limit: number,
    message = `the signed statement would be ${bytes} bytes, over the limit of ${limit} bytes (MAX_STATEMENT_BYTES): the task reported too much to sign`,
  ) {
    super(message);
  }
}

/**
 * Bytes of report JSON the assembler reads per byte of MAX_STATEMENT_BYTES:
 * the statement is linear in the reports, so a task that reported more is
 * refused before its reports fill the assembler's memory (duplicates, which
 * the statement merges, are the only reason to report more than it holds).
 */
export const REPORT_BYTES_PER_STATEMENT_BYTE = 2;

/** The task's reports alone are over REPORT_BYTES_PER_STATEMENT_BYTE × MAX_STATEMENT_BYTES. */
export class ReportsTooLargeError extends StatementTooLargeError {
  override name = 'ReportsTooLargeError';
  constructor(bytesRead: number, limit: number) {
    const budget = REPORT_BYTES_PER_STATEMENT_BYTE * limit;
    super(
      bytesRead,
      limit,
      `the task reported more than ${budget} bytes of reports (${bytesRead} read; at most ${REPORT_BYTES_PER_STATEMENT_BYTE} × the signed statement's limit of ${limit} bytes, MAX_STATEMENT_BYTES): the task reported too much to sign`,
    );
  }
}

/**
 * The provenance window, STARTED … UPLOAD_COMPLETE (server clock). A report
 * counts when it was first received by UPLOAD_COMPLETE and received (first,
 * or again as a retry) at or after STARTED: a report that raced STARTED and
 * was retried counts; one only ever received before STARTED, or first
 * received after UPLOAD_COMPLETE, does not (docs/buildtype-v1.md).
 */
export function inWindow(task: TaskRecord, reports: StoredReport[]): StoredReport[] {
  const start = task.stageTimes.STARTED?.getTime() ?? task.createdAt.getTime();
  const end = task.stageTimes.UPLOAD_COMPLETE?.getTime() ?? Number.POSITIVE_INFINITY;
  return reports.filter((r) => r.receivedAt.getTime() <= end && r.lastReceivedAt.getTime() >= start);
}

/** FETCH_AFTER_COMPILE's rule: a report of an input (not an artifact) first received after COMPILE began. */
export function fetchedAfterCompile(task: TaskRecord): (r: StoredReport) => boolean {
  const compileAt = task.stageTimes.COMPILE?.getTime();
  return (r) => compileAt !== undefined && r.report.kind !== 'artifact' && r.receivedAt.getTime() > compileAt;
}

export function assembleProvenance(task: TaskRecord, reports: StoredReport[], opts: AssembleOptions): Statement {
  const window = inWindow(task, reports);
  const artifacts = window.map((r) => r.report).filter((r): r is ArtifactReport => r.kind === 'artifact');
  if (artifacts.length === 0) throw new NoSubjectsError('the task reported no artifacts before UPLOAD_COMPLETE');

  const lateFetches = window.filter(fetchedAfterCompile(task));

  return {
    _type: STATEMENT_TYPE,
    subject: subjects(artifacts),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          recipe: task.recipe,
          ...(task.configSource
            ? {
                configSource: {
                  uri: task.configSource.uri,
                  digest: task.configSource.digest,
                  ...(task.configSource.entryPoint ? { entryPoint: task.configSource.entryPoint } : {}),
                },
              }
            : {}),
        },
        internalParameters: { reporter: task.owner.email },
        resolvedDependencies: dependencies(window.map((r) => r.report)),
      },
      runDetails: {
        builder: { id: opts.builderId },
        metadata: {
          invocationId: task.taskId,
          startedOn: (task.stageTimes.STARTED ?? task.createdAt).toISOString(),
          finishedOn: (task.stageTimes.UPLOAD_COMPLETE ?? task.updatedAt).toISOString(),
        },
        byproducts: [
          inlineJson('stage-timeline', {
            stages: task.timeline.map((t) => ({ stage: t.stage, at: t.at.toISOString() })),
          }),
          inlineJson('findings', {
            findings: [
              ...task.findings.map((f) => ({ code: f.code, message: f.message, at: f.at.toISOString() })),
              ...lateFetches.map((r) => ({
                code: 'FETCH_AFTER_COMPILE',
                message: `${describe(r.report)} was fetched after COMPILE began`,
                at: r.receivedAt.toISOString(),
              })),
            ].sort((a, b) => cmp(a.at + a.message, b.at + b.message)),
          }),
        ],
      },
    },
  };
}

/**
 * A byproduct the statement carries inline: the JSON as `content` (base64),
 * its sha256 as `digest` and `application/json` as `mediaType`, which makes it
 * a ResourceDescriptor by the spec (one of uri, digest, content) that any
 * consumer can decode.
 */
function inlineJson(name: string, value: unknown): ResourceDescriptor {
  const bytes = Buffer.from(canonicalJson(value), 'utf8');
  return {
    name,
    digest: { sha256: hash('sha256', bytes, 'hex') },
    content: bytes.toString('base64'),
    mediaType: 'application/json',
  };
}

/**
 * One subject per reported (name, sha256). An SBOM relation is written once,
 * as `sbomFor` on the SBOM's own subject, never copied onto the subjects it
 * describes: so the statement grows linearly with what was reported (copying
 * SBOM names onto every described subject made it quadratic).
 */
function subjects(artifacts: ArtifactReport[]): Statement['subject'] {
  const byKey = new Map<string, { name: string; sha256: string; describes: Set<string> }>();
  for (const a of artifacts) {
    const name = artifactName(a);
    const key = `${name}\n${a.sha256}`;
    const subject = byKey.get(key) ?? { name, sha256: a.sha256, describes: new Set<string>() };
    byKey.set(key, subject);
    for (const d of a.sbomSubjects) subject.describes.add(d);
  }
  return [...byKey.values()]
    .map(({ name, sha256, describes }) => ({
      name,
      digest: { sha256 },
      ...(describes.size ? { annotations: { sbomFor: [...describes].sort().map((d) => `sha256:${d}`) } } : {}),
    }))
    .sort((a, b) => cmp(a.name + a.digest.sha256, b.name + b.digest.sha256));
}

export function artifactName(a: ArtifactReport): string {
  const l = a.location;
  switch (l.type) {
    case 'gcs':
      return l.uri;
    case 'cipd':
      return `cipd://${l.host || 'chrome-infra-packages.appspot.com'}/${l.packageName}@${l.instanceId}`;
    case 'oci':
      return l.tag ? `${l.image}:${l.tag}` : l.image;
  }
}

function dependencies(reports: ContentReport[]): ResourceDescriptor[] {
  const out = new Map<string, ResourceDescriptor>();
  for (const r of reports) {
    let d: ResourceDescriptor | undefined;
    if (r.kind === 'git')
      d = {
        uri: `git+${r.repo}`,
        digest: { gitCommit: r.commit },
        ...(r.refs.length ? { annotations: { refs: r.refs } } : {}),
      };
    if (r.kind === 'cipd') {
      const digest = cipdDigest(r.instanceId);
      // Validated at the boundary, so it decodes.
      if (!digest) throw new Error(`CIPD instance id "${r.instanceId}" does not decode to a digest`);
      d = {
        uri: `cipd://chrome-infra-packages.appspot.com/${r.packageName}@${r.instanceId}`,
        name: r.packageName,
        digest,
        ...(r.tags.length || r.refs.length
          ? { annotations: { ...(r.tags.length ? { tags: r.tags } : {}), ...(r.refs.length ? { refs: r.refs } : {}) } }
          : {}),
      };
    }
    if (r.kind === 'gcs') d = { uri: r.uri, digest: { sha256: r.sha256 } };
    if (!d) continue;
    const key = JSON.stringify([d.uri, d.digest]);
    const seen = out.get(key);
    // The same dependency reported twice with different refs: keep the union.
    if (seen && r.kind === 'git') {
      const refs = [...new Set([...((seen.annotations?.refs as string[]) ?? []), ...r.refs])].sort();
      out.set(key, { ...seen, ...(refs.length ? { annotations: { refs } } : {}) });
    } else if (!seen) out.set(key, d);
  }
  return [...out.values()].sort((a, b) => cmp(JSON.stringify([a.uri, a.digest]), JSON.stringify([b.uri, b.digest])));
}

function describe(r: ContentReport): string {
  if (r.kind === 'git') return `git ${r.repo}@${r.commit}`;
  if (r.kind === 'cipd') return `cipd ${r.packageName}@${r.instanceId}`;
  if (r.kind === 'gcs') return `gcs ${r.uri}`;
  return `artifact sha256:${r.sha256}`;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
