// The task store port: where tasks and their reports live. Adapters: Firestore
// (production, and the emulator in tests) and in-memory (npm start without
// gcloud, fast tests). Both pass test/contract/task-store.contract.ts.
import type { Heartbeat, StoredReport } from '../domain/report.js';
import type { TaskRecord } from '../domain/task.js';

export type DueField = 'aliveAt' | 'recoverAt';

/**
 * listReports read more than its byte budget: the task reported too much to
 * hold (and to sign). Thrown after at most one page past the budget was read.
 */
export class ReportsOverBudgetError extends Error {
  override name = 'ReportsOverBudgetError';
  constructor(
    /** Bytes of report JSON read when the budget was passed (a lower bound of the task's total). */
    readonly bytes: number,
    readonly budget: number,
  ) {
    super(`the task's reports are more than ${budget} bytes (${bytes} read)`);
  }
}

/** Where a page of reports ends: its last report's first receipt and id. */
export interface ReportCursor {
  receivedAt: Date;
  id: string;
}
export interface DueCursor {
  at: Date;
  key: string;
}

export interface TaskStore {
  /**
   * Store one content report under the task. Cost: one document write and no
   * reads. Idempotent: a report whose id is already stored keeps its first
   * receivedAt and moves its lastReceivedAt (and expireAt) forward, so a retry
   * can bring a report into the provenance window (docs/buildtype-v1.md).
   */
  addReport(taskKey: string, report: StoredReport): Promise<void>;

  /**
   * Record a heartbeat on the task. Cost: one document write and no reads.
   * Returns false when the task does not exist.
   */
  recordHeartbeat(taskKey: string, heartbeat: Heartbeat, at: Date): Promise<boolean>;

  /**
   * Read-modify-write the task document in one transaction. `next` gets the
   * current record (undefined if there is none) and returns the record to
   * write; returning the same object writes nothing; throwing aborts with
   * nothing written.
   */
  updateTask(taskKey: string, next: (current: TaskRecord | undefined) => TaskRecord): Promise<TaskRecord>;

  getTask(taskKey: string): Promise<TaskRecord | undefined>;

  /**
   * Tasks with this id reported by this email (the read API's lookup: readers
   * know the reporter's email, not its OIDC subject). Newest first; usually one.
   */
  findTasks(taskId: string, ownerEmail: string): Promise<TaskRecord[]>;

  /**
   * Tasks whose `field` is before `before`, oldest first, at most `limit`,
   * after the cursor (the previous page's last task). The sweep's queries:
   * aliveAt (open tasks' last sign of life) and recoverAt (UPLOAD_COMPLETE
   * awaiting provenance). Reads only the tasks returned.
   */
  tasksDue(field: DueField, before: Date, limit: number, after?: DueCursor): Promise<TaskRecord[]>;

  /** When the task's newest report (or retry) was received (one read), if it has any. */
  lastReportAt(taskKey: string): Promise<Date | undefined>;

  /** Provenance exists: take the task out of the recovery query. One write, no read. */
  clearRecovery(taskKey: string): Promise<void>;

  /**
   * Every report of a task, in receivedAt order (then id), read page by page.
   * With maxBytes: ReportsOverBudgetError as soon as the reports' JSON read
   * passes it, so a task's reports never take more memory than that.
   */
  listReports(taskKey: string, maxBytes?: number): Promise<StoredReport[]>;

  /**
   * One page of a task's reports in listReports' order: at most `limit`,
   * after the cursor (the previous page's last report). Reads only the
   * reports returned (the read API's reports route, the task page).
   */
  reportsPage(taskKey: string, limit: number, after?: ReportCursor): Promise<StoredReport[]>;
}
