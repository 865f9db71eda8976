// The SelfReport RPCs: authenticate the caller, bind the task id, validate the
// request into domain values, hand them to ReportIngest. One place per RPC,
// the same order every time: identity (401/403), task id, fields (400), store.
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { unauthenticated } from '../domain/errors.js';
import type { ReportIngest } from '../domain/ingest.js';
import type { Identity } from '../domain/task.js';
import { SelfReport } from '../gen/provenance/snooperpb/report_pb.js';
import type { IdentityVerifier } from '../ports/identity.js';
import { toConnectError } from './errors.js';
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

export function registerSelfReport(router: ConnectRouter, deps: SelfReportDeps): void {
  const { ingest } = deps;

  async function caller(ctx: HandlerContext): Promise<{ identity: Identity; taskId: string }> {
    const auth = ctx.requestHeader.get('authorization');
    const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
    if (!m) throw unauthenticated('missing "Authorization: Bearer <OIDC ID token>" header');
    const identity = await deps.verifier.verify(m[1]!);
    ingest.authorize(identity);
    return { identity, taskId: taskIdHeader(ctx.requestHeader.get('x-task-id')) };
  }

  const vctx = () => ({ now: ingest.now(), maxClockSkewSeconds: deps.maxClockSkewSeconds });

  // Each RPC returns Empty; errors become Connect errors with their codes.
  const rpc =
    <Req>(body: (req: Req, who: { identity: Identity; taskId: string }) => Promise<void>) =>
    async (req: Req, ctx: HandlerContext) => {
      try {
        await body(req, await caller(ctx));
        return {};
      } catch (err) {
        throw toConnectError(err);
      }
    };

  router.service(SelfReport, {
    reportGit: rpc((req, { identity, taskId }) => ingest.addReport(identity, taskId, validate.gitReport(req, vctx()))),
    reportCipd: rpc((req, { identity, taskId }) => ingest.addReport(identity, taskId, validate.cipdReport(req, vctx()))),
    reportGcs: rpc((req, { identity, taskId }) => ingest.addReport(identity, taskId, validate.gcsReport(req, vctx()))),
    reportArtifactDigest: rpc((req, { identity, taskId }) => ingest.addReport(identity, taskId, validate.artifactReport(req))),
    reportPID: rpc((req, { identity, taskId }) => ingest.heartbeat(identity, taskId, validate.heartbeat(req))),
    reportTaskStage: rpc(async (req, { identity, taskId }) => {
      const outcome = await ingest.reportStage(identity, taskId, validate.stageReport(req, vctx()));
      if (outcome.uploadComplete && deps.onUploadComplete) await deps.onUploadComplete(outcome.task.key);
    }),
  });
}
