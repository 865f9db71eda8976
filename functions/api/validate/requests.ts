// The API boundary: each RPC's request message → the domain's typed report.
// Validation happens here, once; everything inward trusts its input.
import { InvalidFieldError } from '../../domain/errors.js';
import type {
  ArtifactReport,
  CipdDependency,
  ConfigSource,
  GcsDependency,
  GitDependency,
  Heartbeat,
  StageReport,
} from '../../domain/report.js';
import { STAGES, type Stage } from '../../domain/stage.js';
import {
  TaskStage,
  type ReportArtifactDigestRequest,
  type ReportCipdRequest,
  type ReportGcsRequest,
  type ReportGitRequest,
  type ReportPIDRequest,
  type ReportTaskStageRequest,
} from '../../gen/provenance/snooperpb/report_pb.js';
import * as f from './fields.js';

export interface ValidationContext {
  now: Date;
  maxClockSkewSeconds: number;
}

/** in-toto DigestSet's standard algorithms a config source is named by, and their hex lengths. */
const DIGEST_HEX_LENGTHS: Record<string, number[]> = {
  sha1: [40],
  sha256: [64],
  sha384: [96],
  sha512: [128],
  gitCommit: [40, 64],
  gitTree: [40, 64],
  gitBlob: [40, 64],
  gitTag: [40, 64],
};

const required = (field: string) => new InvalidFieldError(field, 'is required');

export function gitReport(req: ReportGitRequest, ctx: ValidationContext): GitDependency {
  const r = req.gitReport;
  if (!r) throw required('git_report');
  f.text('git_report.requestor_id', r.requestorId, { max: f.LIMITS.shortText });
  const eventTime = f.timestamp('git_report.event_ts', r.eventTs, ctx.now, ctx.maxClockSkewSeconds);
  return {
    kind: 'git',
    repo: f.repoUrl('git_report.repo', r.repo),
    commit: f.gitCommit('git_report.commit', r.commit),
    refs: f.gitRefList('git_report.refs', r.refs),
    ...(eventTime ? { eventTime } : {}),
  };
}

export function cipdReport(req: ReportCipdRequest, ctx: ValidationContext): CipdDependency {
  const r = req.cipdReport;
  if (!r) throw required('cipd_report');
  f.text('cipd_report.requestor_id', r.requestorId, { max: f.LIMITS.shortText });
  const tags = f
    .list('cipd_report.tags', r.tags, f.LIMITS.cipdTags)
    .map((t, i) => f.cipdTag(`cipd_report.tags[${i}]`, t.key, t.value));
  const refs = f
    .list('cipd_report.refs', r.refs, f.LIMITS.cipdRefs)
    .map((ref, i) => f.cipdRefName(`cipd_report.refs[${i}].name`, ref.name));
  const eventTime = f.timestamp('cipd_report.event_ts', r.eventTs, ctx.now, ctx.maxClockSkewSeconds);
  return {
    kind: 'cipd',
    packageName: f.cipdPackage('cipd_report.package_name', r.packageName),
    instanceId: f.cipdInstanceId('cipd_report.iid', r.iid),
    tags: f.unique(tags),
    refs: f.unique(refs),
    ...(eventTime ? { eventTime } : {}),
  };
}

export function gcsReport(req: ReportGcsRequest, ctx: ValidationContext): GcsDependency {
  const r = req.gcsReport;
  if (!r) throw required('gcs_report');
  f.text('gcs_report.requestor_id', r.requestorId, { max: f.LIMITS.shortText });
  const eventTime = f.timestamp('gcs_report.event_ts', r.eventTs, ctx.now, ctx.maxClockSkewSeconds);
  return {
    kind: 'gcs',
    uri: f.gcsUri('gcs_report.gcs_uri', r.gcsUri),
    sha256: f.sha256('gcs_report.digest', r.digest),
    ...(eventTime ? { eventTime } : {}),
  };
}

export function artifactReport(req: ReportArtifactDigestRequest): ArtifactReport {
  const sha256 = f.sha256('digest', req.digest);
  const kind = req.artifact?.kind;
  let location: ArtifactReport['location'];
  switch (kind?.case) {
    case 'gcs':
      location = { type: 'gcs', uri: f.gcsUri('artifact.gcs', kind.value) };
      break;
    case 'cipd':
      location = {
        type: 'cipd',
        packageName: f.cipdPackage('artifact.cipd.package_name', kind.value.packageName),
        instanceId: f.cipdInstanceId('artifact.cipd.instance_id', kind.value.instanceId),
        host: f.hostname('artifact.cipd.host', kind.value.host),
      };
      break;
    case 'oci': {
      const tag = f.ociTag('artifact.oci.tag', kind.value.tag);
      location = { type: 'oci', image: f.ociImage('artifact.oci.image', kind.value.image), ...(tag ? { tag } : {}) };
      break;
    }
    default:
      throw new InvalidFieldError('artifact', 'is required: set one of gcs, cipd or oci');
  }
  const subjects = f
    .list('sbom_subjects', req.sbomSubjects, f.LIMITS.sbomSubjects)
    .map((d, i) => f.sha256(`sbom_subjects[${i}]`, d));
  if (subjects.includes(sha256)) throw new InvalidFieldError('sbom_subjects', 'an SBOM cannot describe itself');
  return { kind: 'artifact', sha256, location, sbomSubjects: f.unique(subjects) as ArtifactReport['sbomSubjects'] };
}

export function stageReport(req: ReportTaskStageRequest, ctx: ValidationContext): StageReport {
  const stage = stageName(req.taskStage);
  const starting = stage === 'STARTED';
  const recipe = f.text('recipe', req.recipe, { max: f.LIMITS.recipe, required: starting });
  const pid = f.pid('pid', req.pid, starting);
  const reportedTime = f.timestamp('timestamp', req.timestamp, ctx.now, ctx.maxClockSkewSeconds);
  const configSource = req.configSource && configSourceOf(req.configSource);
  if (configSource && !starting) throw new InvalidFieldError('config_source', 'may only be sent with STARTED');
  return {
    stage,
    ...(recipe ? { recipe } : {}),
    ...(pid !== undefined ? { pid } : {}),
    ...(reportedTime ? { reportedTime } : {}),
    ...(configSource ? { configSource } : {}),
  };
}

export function heartbeat(req: ReportPIDRequest): Heartbeat {
  return {
    pid: f.pid('pid', req.pid, true),
    reporter: f.text('reporter', req.reporter, { max: f.LIMITS.uri, required: true }),
  };
}

function stageName(value: TaskStage): Stage {
  if (value === TaskStage.STAGE_UNSPECIFIED)
    throw new InvalidFieldError('task_stage', 'is required (STAGE_UNSPECIFIED is not a stage)');
  const name = TaskStage[value] as Stage | undefined;
  if (!name || !STAGES.includes(name)) throw new InvalidFieldError('task_stage', `${value} is not a known stage`);
  return name;
}

function configSourceOf(c: NonNullable<ReportTaskStageRequest['configSource']>): ConfigSource {
  const entries = Object.entries(c.digest);
  if (entries.length > f.LIMITS.digestMapEntries)
    throw new InvalidFieldError('config_source.digest', `has more than ${f.LIMITS.digestMapEntries} entries`);
  const digest: Record<string, string> = {};
  for (const [alg, hex] of entries.sort(([a], [b]) => (a < b ? -1 : 1))) {
    const lengths = DIGEST_HEX_LENGTHS[alg];
    if (!lengths)
      throw new InvalidFieldError(
        'config_source.digest',
        `"${alg.slice(0, 40)}" is not an in-toto digest algorithm (one of ${Object.keys(DIGEST_HEX_LENGTHS).join(', ')})`,
      );
    if (!/^[0-9a-fA-F]+$/.test(hex) || !lengths.includes(hex.length))
      throw new InvalidFieldError(`config_source.digest.${alg}`, `must be ${lengths.join(' or ')} hex characters`);
    digest[alg] = hex.toLowerCase();
  }
  const entryPoint = f.text('config_source.entry_point', c.entryPoint, { max: f.LIMITS.recipe });
  return { uri: f.configUri('config_source.uri', c.uri), digest, ...(entryPoint ? { entryPoint } : {}) };
}
