// Firestore TaskStore. Layout: tasks/{taskKey}, one document per task, and
// tasks/{taskKey}/reports/{reportId}, one per content report. Dates are stored
// as Firestore Timestamps (so a TTL policy can use expireAt) and come back as
// Dates.
import { FieldPath, FieldValue, type Firestore, type DocumentData } from '@google-cloud/firestore';
import { byReceived, type Heartbeat, type StoredReport } from '../domain/report.js';
import { newestFirst, type TaskRecord } from '../domain/task.js';
import { backendCall, DEFAULT_BACKEND_DEADLINE_MS } from './backend-call.js';
import {
  ReportsOverBudgetError,
  type DueCursor,
  type DueField,
  type ReportCursor,
  type TaskStore,
} from '../ports/task-store.js';

// gRPC status codes the client surfaces on `err.code`.
const NOT_FOUND = 5;

/**
 * gRPC channel options for the Firestore client: after an outage the channel
 * reconnects within two seconds of the backend coming back (grpc-js would
 * otherwise back off for up to two minutes, and every request until then
 * would answer unavailable).
 */
export const FIRESTORE_CHANNEL_OPTIONS = {
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 2000,
} as const;

export const TASKS = 'tasks';
export const REPORTS = 'reports';

export class FirestoreTaskStore implements TaskStore {
  constructor(
    private readonly db: Firestore,
    /** Each call's deadline: past it the call is `unavailable` (BACKEND_DEADLINE_SECONDS). */
    private readonly deadlineMs = DEFAULT_BACKEND_DEADLINE_MS,
  ) {}

  private task(taskKey: string) {
    return this.db.collection(TASKS).doc(taskKey);
  }

  addReport(taskKey: string, stored: StoredReport): Promise<void> {
    return backendCall(`firestore addReport`, this.deadlineMs, async () => {
      // One write, no read: a merge with server-side minimum/maximum transforms
      // keeps the first receipt and moves the last one forward, whether this is
      // the first time the report arrives or a retry (same id, same content).
      await this.task(taskKey)
        .collection(REPORTS)
        .doc(stored.id)
        .set(
          {
            kind: stored.report.kind,
            report: stored.report,
            receivedMs: FieldValue.minimum(stored.receivedAt.getTime()),
            lastReceivedMs: FieldValue.maximum(stored.lastReceivedAt.getTime()),
            expireAt: stored.expireAt,
          },
          { merge: true },
        );
    });
  }

  recordHeartbeat(taskKey: string, heartbeat: Heartbeat, at: Date): Promise<boolean> {
    return backendCall(`firestore recordHeartbeat`, this.deadlineMs, async () => {
      try {
        // update() carries an exists=true precondition: one write, no read.
        await this.task(taskKey).update({ lastHeartbeatAt: at, aliveAt: at, pid: heartbeat.pid });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === NOT_FOUND) return false;
        throw err;
      }
    });
  }

  updateTask(taskKey: string, next: (current: TaskRecord | undefined) => TaskRecord): Promise<TaskRecord> {
    return backendCall(`firestore updateTask`, this.deadlineMs, async () => {
      const ref = this.task(taskKey);
      return this.db.runTransaction(async (tx) => {
        const data = (await tx.get(ref)).data();
        const current = data ? (fromFirestore(data) as TaskRecord) : undefined;
        const updated = next(current);
        if (updated !== current) tx.set(ref, updated as unknown as DocumentData);
        return updated;
      });
    });
  }

  getTask(taskKey: string): Promise<TaskRecord | undefined> {
    return backendCall(`firestore getTask`, this.deadlineMs, async () => {
      const data = (await this.task(taskKey).get()).data();
      return data ? (fromFirestore(data) as TaskRecord) : undefined;
    });
  }

  findTasks(taskId: string, ownerEmail: string): Promise<TaskRecord[]> {
    return backendCall(`firestore findTasks`, this.deadlineMs, async () => {
      // Two equality filters: served by merging single-field indexes, no composite index needed.
      const snap = await this.db
        .collection(TASKS)
        .where('taskId', '==', taskId)
        .where('owner.email', '==', ownerEmail)
        .get();
      return snap.docs.map((d) => fromFirestore(d.data()) as TaskRecord).sort(newestFirst);
    });
  }

  tasksDue(field: DueField, before: Date, limit: number, after?: DueCursor): Promise<TaskRecord[]> {
    return backendCall(`firestore tasksDue`, this.deadlineMs, async () => {
      // A range on one field, ordered by it and the document id: served by the
      // field's single-field index (declared in infra/firestore.indexes.json).
      // Closed tasks have no aliveAt and signed ones no recoverAt, so the query
      // only ever sees the tasks the sweep has work for.
      let q = this.db
        .collection(TASKS)
        .where(field, '<', before)
        .orderBy(field)
        .orderBy(FieldPath.documentId())
        .limit(limit);
      if (after) q = q.startAfter(after.at, after.key);
      const snap = await q.get();
      return snap.docs.map((d) => fromFirestore(d.data()) as TaskRecord);
    });
  }

  lastReportAt(taskKey: string): Promise<Date | undefined> {
    return backendCall(`firestore lastReportAt`, this.deadlineMs, async () => {
      const snap = await this.task(taskKey).collection(REPORTS).orderBy('lastReceivedMs', 'desc').limit(1).get();
      const latest = snap.docs[0];
      return latest ? new Date(latest.get('lastReceivedMs') as number) : undefined;
    });
  }

  clearRecovery(taskKey: string): Promise<void> {
    return backendCall(`firestore clearRecovery`, this.deadlineMs, async () => {
      try {
        await this.task(taskKey).update({ recoverAt: FieldValue.delete() });
      } catch (err) {
        if ((err as { code?: number }).code !== NOT_FOUND) throw err;
      }
    });
  }

  reportsPage(taskKey: string, limit: number, after?: ReportCursor): Promise<StoredReport[]> {
    return backendCall(`firestore reportsPage`, this.deadlineMs, async () => {
      let q = this.task(taskKey).collection(REPORTS).orderBy('receivedMs').orderBy(FieldPath.documentId());
      if (after) q = q.startAfter(after.receivedAt.getTime(), after.id);
      const snap = await q.limit(limit).get();
      return snap.docs.map(storedReport);
    });
  }

  async listReports(taskKey: string, maxBytes = Number.POSITIVE_INFINITY): Promise<StoredReport[]> {
    const out: StoredReport[] = [];
    let bytes = 0;
    let after: string | undefined;
    // Page by page, each with its own deadline, counting what is held: a task
    // with 100,000 reports neither times out in one read nor fills memory unnoticed.
    for (;;) {
      const page = await backendCall(`firestore listReports`, this.deadlineMs, () => {
        const query = this.task(taskKey).collection(REPORTS).orderBy(FieldPath.documentId()).limit(REPORT_PAGE);
        return (after === undefined ? query : query.startAfter(after)).get();
      });
      for (const d of page.docs) {
        const r = storedReport(d);
        bytes += Buffer.byteLength(JSON.stringify(r.report));
        out.push(r);
      }
      if (bytes > maxBytes) throw new ReportsOverBudgetError(bytes, maxBytes);
      after = page.docs[page.docs.length - 1]?.id;
      if (page.size < REPORT_PAGE || after === undefined) return out.sort(byReceived);
    }
  }
}

/** Reports read per query by listReports. */
const REPORT_PAGE = 200;

function storedReport(d: { id: string; data(): DocumentData }): StoredReport {
  const data = fromFirestore(d.data()) as {
    report: StoredReport['report'];
    receivedMs: number;
    lastReceivedMs: number;
    expireAt: Date;
  };
  return {
    id: d.id,
    report: data.report,
    receivedAt: new Date(data.receivedMs),
    lastReceivedAt: new Date(data.lastReceivedMs),
    expireAt: data.expireAt,
  };
}

/** Turn Firestore Timestamps back into Dates, everywhere in a document. */
export function fromFirestore(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (typeof (value as { toDate?: unknown }).toDate === 'function') return (value as { toDate(): Date }).toDate();
  if (Array.isArray(value)) return value.map(fromFirestore);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = fromFirestore(v);
  return out;
}
