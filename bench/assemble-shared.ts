// What the assemble bench's driver and worker agree on.
import { reportId, type ContentReport, type StageReport, type StoredReport } from '../functions/domain/report.js';
import { applyStage, type Identity, type TaskRecord } from '../functions/domain/task.js';

export const OWNER: Identity = {
  issuer: 'https://accounts.google.com',
  subject: 'bench',
  email: 'builder@example.com',
};

/** A second of the benches' fixed build day (2026-01-01), so statements are the same run to run. */
export const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

/** A task STARTED (with `started`) at 0 s and UPLOAD_COMPLETE at 9 s, as the assembler finds it. */
export function uploadedTask(taskId: string, started: StageReport): TaskRecord {
  const task = applyStage(undefined, { key: 'k', taskId, owner: OWNER, now: at(0), report: started });
  return applyStage(task, { key: 'k', taskId, owner: OWNER, now: at(9), report: { stage: 'UPLOAD_COMPLETE' } });
}

/** A report as the task store holds it, received at `receivedSecond`. */
export function storedReport(report: ContentReport, receivedSecond = 1): StoredReport {
  const received = at(receivedSecond);
  return { id: reportId(report), report, receivedAt: received, lastReceivedAt: received, expireAt: at(99) };
}
