// Report ingestion: binds an authenticated caller's report to its task and
// stores it, holding to the cost rules (content reports and heartbeats: one
// write, no read; stage reports: one transaction on the task).
import { failedPrecondition, permissionDenied } from '../domain/errors.js';
import { reportId, type ContentReport, type Heartbeat, type StageReport } from '../domain/report.js';
import { applyStage, taskKey, type Identity, type TaskRecord } from '../domain/task.js';
import type { TaskStore } from '../ports/task-store.js';
import type { Clock } from '../ports/clock.js';

export interface IngestPolicy {
  /** Emails allowed to report. */
  reporterAllowlist: ReadonlySet<string>;
  /** Executables allowed to send heartbeats; empty means any. */
  pidReporterAllowlist: ReadonlySet<string>;
  /** How long report documents are kept (their expireAt). */
  reportRetentionMs: number;
  /** How long task documents are kept; unset or 0: forever. */
  taskRetentionMs?: number;
  /** How long after UPLOAD_COMPLETE the sweep checks that provenance exists. */
  recoveryGraceMs?: number;
}

export interface StageOutcome {
  task: TaskRecord;
  /** True when this report moved the task to (or repeated) UPLOAD_COMPLETE. */
  uploadComplete: boolean;
}

export class ReportIngest {
  constructor(
    private readonly store: TaskStore,
    private readonly clock: Clock,
    private readonly policy: IngestPolicy,
  ) {}

  now(): Date {
    return this.clock.now();
  }

  /** Refuse identities not on the reporter allowlist (403), before anything else is looked at. */
  authorize(identity: Identity): void {
    if (!this.policy.reporterAllowlist.has(identity.email)) {
      throw permissionDenied(`${identity.email} is not on the reporter allowlist`);
    }
  }

  addReport(identity: Identity, taskId: string, report: ContentReport): Promise<void> {
    const now = this.clock.now();
    return this.store.addReport(taskKey(identity, taskId), {
      id: reportId(report),
      report,
      receivedAt: now,
      lastReceivedAt: now,
      expireAt: new Date(now.getTime() + this.policy.reportRetentionMs),
    });
  }

  async reportStage(identity: Identity, taskId: string, report: StageReport): Promise<StageOutcome> {
    const key = taskKey(identity, taskId);
    const now = this.clock.now();
    const task = await this.store.updateTask(key, (current) =>
      applyStage(current, {
        key,
        taskId,
        owner: identity,
        report,
        now,
        ...(this.policy.recoveryGraceMs !== undefined ? { recoveryGraceMs: this.policy.recoveryGraceMs } : {}),
        ...(this.policy.taskRetentionMs ? { retentionMs: this.policy.taskRetentionMs } : {}),
      }),
    );
    return { task, uploadComplete: report.stage === 'UPLOAD_COMPLETE' && task.state === 'UPLOAD_COMPLETE' };
  }

  async heartbeat(identity: Identity, taskId: string, hb: Heartbeat): Promise<void> {
    const allow = this.policy.pidReporterAllowlist;
    if (allow.size > 0 && !allow.has(hb.reporter)) {
      throw permissionDenied(`reporter "${hb.reporter}" is not on the reporter executable allowlist`);
    }
    const found = await this.store.recordHeartbeat(taskKey(identity, taskId), hb, this.clock.now());
    if (!found) throw failedPrecondition(`task "${taskId}" has not been started: report STARTED first`);
  }
}
