// In-memory TaskStore: for npm start without gcloud and for fast tests. Counts
// document reads and writes the way Firestore would bill them, so the contract
// suite can hold both adapters to the same cost invariants.
import { byReceived, type Heartbeat, type StoredReport } from '../domain/report.js';
import { newestFirst, type TaskRecord } from '../domain/task.js';
import { failedPrecondition } from '../domain/errors.js';
import {
  ReportsOverBudgetError,
  type DueCursor,
  type DueField,
  type ReportCursor,
  type TaskStore,
} from '../ports/task-store.js';

const DONE = Promise.resolve();

export interface OpCounts {
  reads: number;
  writes: number;
}

export class MemoryTaskStore implements TaskStore {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly reports = new Map<string, Map<string, StoredReport>>();
  readonly ops: OpCounts = { reads: 0, writes: 0 };

  // Not async: a resolved promise shared by every call costs nothing per report.
  addReport(taskKey: string, report: StoredReport): Promise<void> {
    this.ops.writes++;
    let byId = this.reports.get(taskKey);
    if (!byId) {
      byId = new Map();
      this.reports.set(taskKey, byId);
    }
    // The record is handed over (ingest builds a fresh one per request and never
    // touches it again); reads return copies, so nothing outside can change it.
    const seen = byId.get(report.id);
    if (!seen) byId.set(report.id, report);
    else {
      if (report.lastReceivedAt > seen.lastReceivedAt) seen.lastReceivedAt = report.lastReceivedAt;
      if (report.receivedAt < seen.receivedAt) seen.receivedAt = report.receivedAt;
      if (report.expireAt > seen.expireAt) seen.expireAt = report.expireAt;
    }
    return DONE;
  }

  async recordHeartbeat(taskKey: string, heartbeat: Heartbeat, at: Date): Promise<boolean> {
    this.ops.writes++;
    const task = this.tasks.get(taskKey);
    if (!task) return false;
    this.tasks.set(taskKey, { ...task, lastHeartbeatAt: at, aliveAt: at, pid: heartbeat.pid });
    return true;
  }

  async updateTask(taskKey: string, next: (current: TaskRecord | undefined) => TaskRecord): Promise<TaskRecord> {
    this.ops.reads++;
    const current = this.tasks.get(taskKey);
    const copy = current && structuredClone(current);
    const updated = next(copy); // may throw: nothing written
    if (updated === copy && current) return current;
    if (updated.key !== taskKey) throw failedPrecondition('task key mismatch');
    this.ops.writes++;
    this.tasks.set(taskKey, structuredClone(updated));
    return updated;
  }

  async getTask(taskKey: string): Promise<TaskRecord | undefined> {
    this.ops.reads++;
    const t = this.tasks.get(taskKey);
    return t && structuredClone(t);
  }

  async findTasks(taskId: string, ownerEmail: string): Promise<TaskRecord[]> {
    const found = [...this.tasks.values()].filter((t) => t.taskId === taskId && t.owner.email === ownerEmail);
    this.ops.reads += Math.max(1, found.length);
    return found.map((t) => structuredClone(t)).sort(newestFirst);
  }

  async tasksDue(field: DueField, before: Date, limit: number, after?: DueCursor): Promise<TaskRecord[]> {
    const due = [...this.tasks.values()]
      .flatMap((t) => {
        const at = t[field]?.getTime();
        return at === undefined ? [] : [{ t, at }];
      })
      .filter(({ at }) => at < before.getTime())
      .filter(({ t, at }) => !after || at > after.at.getTime() || (at === after.at.getTime() && t.key > after.key))
      .sort((a, b) => a.at - b.at || (a.t.key < b.t.key ? -1 : 1))
      .slice(0, limit);
    this.ops.reads += Math.max(1, due.length);
    return due.map(({ t }) => structuredClone(t));
  }

  async lastReportAt(taskKey: string): Promise<Date | undefined> {
    this.ops.reads++;
    const all = [...(this.reports.get(taskKey)?.values() ?? [])];
    return all.length ? new Date(Math.max(...all.map((r) => r.lastReceivedAt.getTime()))) : undefined;
  }

  async clearRecovery(taskKey: string): Promise<void> {
    this.ops.writes++;
    const task = this.tasks.get(taskKey);
    if (task) {
      const { recoverAt: _r, ...rest } = task;
      this.tasks.set(taskKey, rest);
    }
  }

  async listReports(taskKey: string, maxBytes = Number.POSITIVE_INFINITY): Promise<StoredReport[]> {
    const all = [...(this.reports.get(taskKey)?.values() ?? [])];
    this.ops.reads += Math.max(1, all.length);
    let bytes = 0;
    for (const r of all) {
      bytes += Buffer.byteLength(JSON.stringify(r.report));
      if (bytes > maxBytes) throw new ReportsOverBudgetError(bytes, maxBytes);
    }
    return all.map((r) => structuredClone(r)).sort(byReceived);
  }

  async reportsPage(taskKey: string, limit: number, after?: ReportCursor): Promise<StoredReport[]> {
    const all = [...(this.reports.get(taskKey)?.values() ?? [])].sort(byReceived);
    const from = after
      ? all.findIndex((r) => byReceived(r, { ...r, receivedAt: after.receivedAt, id: after.id }) > 0)
      : 0;
    const page = from < 0 ? [] : all.slice(from, from + limit);
    this.ops.reads += Math.max(1, page.length);
    return page.map((r) => structuredClone(r));
  }

  /** Documents held, for tests that check nothing was written. */
  size(): number {
    let n = this.tasks.size;
    for (const m of this.reports.values()) n += m.size;
    return n;
  }
}
