// How the service itself ends tasks: expiry when the signs of life stop, and
// failure when UPLOAD_COMPLETE never became provenance. Pure: the sweep reads,
// decides with these, and writes in one transaction per task.
import { isClosed } from './stage.js';
import type { TaskRecord } from './task.js';

/** The task's last sign of life: its own record, or a newer content report. */
export function lastSignOfLife(task: TaskRecord, lastReportAt: Date | undefined): Date {
  const own = task.aliveAt ?? task.updatedAt;
  return lastReportAt && lastReportAt > own ? lastReportAt : own;
}

/** EXPIRED, ended at its last sign of life; out of the expiry query. Provenance already signed stands. */
export function expireTask(task: TaskRecord, now: Date, lastSign: Date, ttlSeconds: number): TaskRecord {
  const { aliveAt: _a, ...rest } = task;
  const when = task.stageTimes.UPLOAD_COMPLETE
    ? 'after UPLOAD_COMPLETE: its provenance stands'
    : 'before UPLOAD_COMPLETE: it has no provenance';
  return {
    ...rest,
    state: 'EXPIRED',
    endedAt: lastSign,
    closedReason: `no heartbeat or report since ${lastSign.toISOString()} (heartbeat TTL ${ttlSeconds}s); expired at ${task.state} ${when}`,
    updatedAt: now,
  };
}

/** FAILED: UPLOAD_COMPLETE was recorded, but provenance could not be made. */
export function failTask(task: TaskRecord, now: Date, reason: string): TaskRecord {
  const { aliveAt: _a, recoverAt: _r, ...rest } = task;
  return {
    ...rest,
    state: 'FAILED',
    failedFrom: task.state,
    endedAt: isClosed(task.state) ? (task.endedAt ?? now) : now,
    closedReason: reason,
    updatedAt: now,
  };
}

/**
 * An operator sends a FAILED task back to assembly: the state it failed from
 * comes back, the failure is forgotten, and the recovery check starts over
 * (so a lost publish is still caught). Only for tasks that reached UPLOAD_COMPLETE.
 */
export function redriveTask(task: TaskRecord, now: Date, graceMs: number): TaskRecord {
  const { failedFrom, closedReason: _c, endedAt, recoveryAttempts: _n, ...rest } = task;
  const state = task.state === 'FAILED' ? (failedFrom ?? 'UPLOAD_COMPLETE') : task.state;
  return {
    ...rest,
    state,
    ...(isClosed(state) && endedAt ? { endedAt } : {}),
    recoverAt: new Date(now.getTime() + graceMs),
    recoveryAttempts: 0,
    updatedAt: now,
  };
}

/** One more recovery attempt: publish again now, check again after the grace period. */
export function scheduleRecovery(task: TaskRecord, now: Date, graceMs: number): TaskRecord {
  return { ...task, recoverAt: new Date(now.getTime() + graceMs), recoveryAttempts: (task.recoveryAttempts ?? 0) + 1 };
}

/** A closed task found with aliveAt (a heartbeat after it closed): take it out of the query. */
export function withoutAliveAt(task: TaskRecord): TaskRecord {
  const { aliveAt: _a, ...rest } = task;
  return rest;
}
