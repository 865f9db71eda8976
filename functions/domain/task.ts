// A task: one run of a build step, owned by one identity. The record kept in
// the task store and the pure rules that move it from stage to stage.
import { hash } from 'node:crypto';
import { alreadyExists, failedPrecondition, InvalidFieldError } from './errors.js';
import { isClosed, stageIndex, type Stage, type TaskState } from './stage.js';
import type { ConfigSource, StageReport } from './report.js';

/** The authenticated caller, as the identity verifier established it. */
export interface Identity {
  issuer: string;
  subject: string;
  email: string;
}

export interface TimelineEntry {
  stage: Stage;
  /** Server time the report was accepted. */
  at: Date;
  /** The reporter's own time, when it sent one. */
  reportedAt?: Date;
}

export interface Finding {
  code: 'FETCH_AFTER_COMPILE';
  message: string;
  at: Date;
}

export interface TaskRecord {
  key: string;
  taskId: string;
  owner: Identity;
  state: TaskState;
  recipe: string;
  pid: number;
  configSource?: ConfigSource;
  /** Server time each stage was first entered. */
  stageTimes: Partial<Record<Stage, Date>>;
  timeline: TimelineEntry[];
  findings: Finding[];
  createdAt: Date;
  updatedAt: Date;
  lastHeartbeatAt?: Date;
  /**
   * The last sign of life recorded on the task (STARTED, a stage, a heartbeat).
   * Present only while the task is open: the expiry sweep queries it.
   */
  aliveAt?: Date;
  /** When the sweep should check that UPLOAD_COMPLETE produced provenance (cleared once it did). */
  recoverAt?: Date;
  /** How many times the sweep published UPLOAD_COMPLETE again. */
  recoveryAttempts?: number;
  /** EXPIRED: the estimated end (last sign of life); FAILED/COMPLETE: when it ended. */
  endedAt?: Date;
  /** Why the service closed the task (EXPIRED, FAILED). */
  closedReason?: string;
  /** FAILED: the state it failed from, so an operator's re-drive can restore it. */
  failedFrom?: TaskState;
  /** Retention: a Firestore TTL policy deletes the task document after this. */
  expireAt?: Date;
}

/** Cap on timeline entries: a task has a handful of stages; this stops a loop from growing the document. */
export const MAX_TIMELINE = 64;

/**
 * The task key: derived by the server from who is calling and the id they
 * gave, so one identity can never reach another's task.
 */
export function taskKey(identity: Pick<Identity, 'issuer' | 'subject'>, taskId: string): string {
  return hash('sha256', `${identity.issuer}\n${identity.subject}\n${taskId}`, 'hex').slice(0, 40);
}

/** Order tasks newest first (then by key, so the order is total). */
export function newestFirst(a: TaskRecord, b: TaskRecord): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

export interface StageInput {
  key: string;
  taskId: string;
  owner: Identity;
  report: StageReport;
  now: Date;
  /** How long after UPLOAD_COMPLETE the sweep checks for provenance (default 5 minutes). */
  recoveryGraceMs?: number;
  /** Task retention; none when unset. */
  retentionMs?: number;
}

/**
 * Apply a stage report to the current task (undefined when none exists yet)
 * and return the next record. Throws a ServiceError when the move is refused;
 * the caller then writes nothing. Returns the same object when the report is a
 * retry that changes nothing.
 */
export function applyStage(current: TaskRecord | undefined, input: StageInput): TaskRecord {
  const { report, now } = input;
  if (!current) {
    if (report.stage !== 'STARTED') {
      throw failedPrecondition(`task "${input.taskId}" has not been started: report STARTED first`);
    }
    const { recipe, pid } = report; // validation requires both with STARTED
    if (recipe === undefined) throw new InvalidFieldError('recipe', 'is required with STARTED');
    if (pid === undefined) throw new InvalidFieldError('pid', 'is required with STARTED');
    return {
      key: input.key,
      taskId: input.taskId,
      owner: input.owner,
      state: 'STARTED',
      recipe,
      pid,
      ...(report.configSource ? { configSource: report.configSource } : {}),
      stageTimes: { STARTED: now },
      timeline: [entry(report, now)],
      findings: [],
      createdAt: now,
      updatedAt: now,
      lastHeartbeatAt: now,
      aliveAt: now,
      ...(input.retentionMs ? { expireAt: new Date(now.getTime() + input.retentionMs) } : {}),
    };
  }

  if (isClosed(current.state)) {
    throw failedPrecondition(`task "${input.taskId}" is ${current.state}: no further stage reports are accepted`);
  }
  if (report.stage === 'STARTED') {
    if (report.recipe !== current.recipe) {
      throw alreadyExists(
        `task "${input.taskId}" was already started with recipe "${current.recipe}"; a task id can be started once`,
      );
    }
    return current; // a retried STARTED
  }

  const from = current.state as Stage; // not closed, so a reported stage
  const findings = [...current.findings];
  if (report.stage === from) return current; // a retry: nothing new to record
  if (stageIndex(report.stage) < stageIndex(from)) {
    // The one tolerated step back: compile needed more dependencies. Allowed, but
    // the provenance will say so.
    if (report.stage === 'FETCH' && from === 'COMPILE') {
      findings.push({
        code: 'FETCH_AFTER_COMPILE',
        message: 'the task entered FETCH again after COMPILE had begun',
        at: now,
      });
    } else {
      throw failedPrecondition(`task "${input.taskId}" is at ${from}; it cannot go back to ${report.stage}`);
    }
  }

  const stageTimes = { ...current.stageTimes };
  const firstUploadComplete = report.stage === 'UPLOAD_COMPLETE' && !stageTimes.UPLOAD_COMPLETE;
  if (!stageTimes[report.stage]) stageTimes[report.stage] = now;
  const timeline =
    current.timeline.length < MAX_TIMELINE ? [...current.timeline, entry(report, now)] : current.timeline;
  const next: TaskRecord = {
    ...current,
    state: report.stage,
    stageTimes,
    timeline,
    findings,
    updatedAt: now,
    aliveAt: now,
    ...(firstUploadComplete
      ? { recoverAt: new Date(now.getTime() + (input.recoveryGraceMs ?? 300_000)), recoveryAttempts: 0 }
      : {}),
  };
  if (report.stage === 'COMPLETE') {
    delete next.aliveAt; // closed: out of the expiry sweep's query
    next.endedAt = now;
  }
  return next;
}

function entry(report: StageReport, now: Date): TimelineEntry {
  return { stage: report.stage, at: now, ...(report.reportedTime ? { reportedAt: report.reportedTime } : {}) };
}
