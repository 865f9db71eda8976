// The SelfReport RPCs: authenticate the caller, bind the task id, validate the
// request into domain values, hand them to ReportIngest. One place per RPC,
// the same order every time: identity (401/403), task id, fields (400), store.
import { unavailable } from '../domain/errors.js';
import { log, logError, withLogContext } from '../log.js';
import type { ReportIngest } from '../lifecycle/ingest.js';
import type { Identity } from '../domain/task.js';
import { SelfReport } from '../gen/provenance/snooperpb/report_pb.js';
import type { IdentityVerifier } from '../ports/identity.js';
import { bearerIdentity } from './bearer.js';
import * as validate from './validate/requests.js';
import { taskId as taskIdHeader } from './validate/fields.js';

/** Called after UPLOAD_COMPLETE is recorded; a failure fails the request so the step retries. */
export type UploadCompleteHook = (taskKey: string) => Promise<void>;

export interface SelfReportDeps {
  ingest: ReportIngest;
  verifier: IdentityVerifier;
  maxClockSkewSeconds: number;
  onUploadComplete?: UploadCompleteHook;
}

import type { UnaryImpl } from './connect-endpoint.js';
import type { HeaderReader } from './http.js';
import type {
  ReportArtifactDigestRequest,
  ReportCipdRequest,
  ReportGcsRequest,
  ReportGitRequest,
  ReportPIDRequest,
  ReportTaskStageRequest,
} from '../gen/provenance/snooperpb/report_pb.js';

export { SelfReport };

interface Caller {
  identity: Identity;
  taskId: string;
}

/** The six RPCs, keyed by their generated local names, for connectEndpoint(SelfReport, …). */
export function selfReportMethods(deps: SelfReportDeps): Record<string, UnaryImpl> {
  const { ingest } = deps;

  // Synchronous when the token was seen before (the common case), so a report
  // creates as few promises as possible: functions-framework runs every request
  // in a node `domain`, which pays for each promise with async hooks.
  function caller(headers: HeaderReader): Caller | Promise<Caller> {
    const verified = bearerIdentity(headers, deps.verifier);
    return verified instanceof Promise ? verified.then(bind) : bind(verified);
    function bind(identity: Identity): Caller {
      ingest.authorize(identity);
      return { identity, taskId: taskIdHeader(headers.get('x-task-id')) };
    }
  }

  const vctx = () => ({ now: ingest.now(), maxClockSkewSeconds: deps.maxClockSkewSeconds });

  // Each RPC answers Empty (undefined: the endpoint sends the empty message);
  // errors are mapped to Connect codes by the endpoint.
  const rpc =
    <Req>(body: (req: Req, who: Caller) => Promise<void>) =>
    (req: Req, headers: HeaderReader): Promise<void> => {
      try {
        const who = caller(headers);
        // From here on, every line logged for this request names its task.
        const run = (w: Caller) => withLogContext({ taskId: w.taskId }, () => body(req, w));
        return who instanceof Promise ? who.then(run) : run(who);
      } catch (err) {
        return Promise.reject(err);
      }
    };

  return {
    reportGit: rpc((req: ReportGitRequest, { identity, taskId }) =>
      ingest.addReport(identity, taskId, validate.gitReport(req, vctx())),
    ),
    reportCipd: rpc((req: ReportCipdRequest, { identity, taskId }) =>
      ingest.addReport(identity, taskId, validate.cipdReport(req, vctx())),
    ),
    reportGcs: rpc((req: ReportGcsRequest, { identity, taskId }) =>
      ingest.addReport(identity, taskId, validate.gcsReport(req, vctx())),
    ),
    reportArtifactDigest: rpc((req: ReportArtifactDigestRequest, { identity, taskId }) =>
      ingest.addReport(identity, taskId, validate.artifactReport(req)),
    ),
    reportPID: rpc((req: ReportPIDRequest, { identity, taskId }) =>
      ingest.heartbeat(identity, taskId, validate.heartbeat(req)),
    ),
    reportTaskStage: rpc(async (req: ReportTaskStageRequest, { identity, taskId }) => {
      const report = validate.stageReport(req, vctx());
      const outcome = await ingest.reportStage(identity, taskId, report);
      log('INFO', `task stage ${report.stage} reported`, { taskKey: outcome.task.key, state: outcome.task.state });
      if (outcome.uploadComplete && deps.onUploadComplete) {
        // UPLOAD_COMPLETE is recorded; if the event cannot be sent the step must
        // retry (a repeated UPLOAD_COMPLETE publishes again), so say unavailable.
        try {
          await deps.onUploadComplete(outcome.task.key);
        } catch (err) {
          logError('upload-complete publish failed', err, { taskKey: outcome.task.key });
          throw unavailable('UPLOAD_COMPLETE was recorded but could not be announced; retry the report');
        }
      }
    }),
  };
}
