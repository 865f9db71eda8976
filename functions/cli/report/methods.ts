// The six SelfReport RPCs as the CLI sends them: each JSON body is checked
// with the server's own decoder and validators (functions/api) before any
// network call, so a typo fails here, with the same message naming the field.
import { fromJson, type DescMessage } from '@bufbuild/protobuf';
import * as validate from '../../api/validate/requests.js';
import { strictJson } from '../../api/strict-json.js';
import {
  ReportArtifactDigestRequestSchema,
  ReportCipdRequestSchema,
  ReportGcsRequestSchema,
  ReportGitRequestSchema,
  ReportPIDRequestSchema,
  ReportTaskStageRequestSchema,
} from '../../gen/provenance/snooperpb/report_pb.js';

export type Method =
  | 'ReportTaskStage'
  | 'ReportGit'
  | 'ReportCipd'
  | 'ReportGcs'
  | 'ReportArtifactDigest'
  | 'ReportPID';

const ctx = () => ({ now: new Date(), maxClockSkewSeconds: 600 });

const METHODS: Record<Method, { schema: DescMessage; check(msg: never): unknown }> = {
  ReportTaskStage: { schema: ReportTaskStageRequestSchema, check: (m) => validate.stageReport(m, ctx()) },
  ReportGit: { schema: ReportGitRequestSchema, check: (m) => validate.gitReport(m, ctx()) },
  ReportCipd: { schema: ReportCipdRequestSchema, check: (m) => validate.cipdReport(m, ctx()) },
  ReportGcs: { schema: ReportGcsRequestSchema, check: (m) => validate.gcsReport(m, ctx()) },
  ReportArtifactDigest: { schema: ReportArtifactDigestRequestSchema, check: (m) => validate.artifactReport(m) },
  ReportPID: { schema: ReportPIDRequestSchema, check: (m) => validate.heartbeat(m) },
};

export const METHOD_NAMES = Object.keys(METHODS) as Method[];

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && name in METHODS;
}

/** Why the server would refuse this body (the field named first), or undefined if it would not. */
export function checkBody(method: Method, body: unknown): string | undefined {
  const { schema, check } = METHODS[method];
  try {
    strictJson(schema, body);
    check(fromJson(schema, body as never, { ignoreUnknownFields: false }) as never);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Stage reports are sent one at a time, in order; the others may go in parallel. */
export const isStage = (method: Method) => method === 'ReportTaskStage';
