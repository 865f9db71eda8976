// The scheduled sweep (expireTasks): tasks never hang forever, and no
// UPLOAD_COMPLETE ends without provenance or a stated reason.
//  - Expiry: open tasks whose last sign of life (heartbeat, stage, or newest
//    report) is older than the TTL become EXPIRED.
//  - Recovery: tasks whose UPLOAD_COMPLETE has not become provenance after the
//    grace period are published again. Only assemblies that actually ran count
//    against maxAttempts (failed with an error, or stopped while holding the
//    claim); republishing is not an attempt. Past the limit the task becomes
//    FAILED with a reason that says which happened and the last error.
// Both walk an indexed query of only the tasks with work due, page by page,
// bounded per run. Every change is one transaction that re-checks the task,
// so overlapping sweeps neither expire twice nor publish twice, and a sweep
// that dies half-way is simply finished by the next one.
import { inParallel } from '../domain/in-parallel.js';
import { ServiceError } from '../domain/errors.js';
import { expireTask, failTask, lastSignOfLife, scheduleRecovery, withoutAliveAt } from '../domain/lifecycle.js';
import { isClosed } from '../domain/stage.js';
import type { TaskRecord } from '../domain/task.js';
import type { Clock } from '../ports/clock.js';
import type { EventPublisher } from '../ports/events.js';
import type { Notifier, ProvenanceEvent } from '../ports/notifier.js';
import type { ProvenanceStore } from '../ports/provenance-store.js';
import type { DueCursor, DueField, TaskStore } from '../ports/task-store.js';
import { publishFailedEvents, taskExpiredEvent, taskFailedEvent } from '../provenance/events.js';
import { mergePublications, publishAll, signedProvenance, type PublishOptions } from '../provenance/publish.js';
import type { Publication, Sink } from '../ports/publisher.js';
import { log, withLogContext } from '../log.js';

export interface SweepDeps {
  tasks: TaskStore;
  provenance: ProvenanceStore;
  uploadComplete: EventPublisher;
  notifier: Notifier;
  clock: Clock;
  heartbeatTtlSeconds: number;
  recoveryGraceMs: number;
  maxRecoveryAttempts: number;
  /** Tasks looked at per run, per query: a run's cost is bounded whatever the backlog. */
  maxTasksPerRun: number;
  pageSize?: number;
  /** A page's tasks are handled this many at a time (each in its own transaction). */
  concurrency?: number;
  /** PUBLISH_TO: failed publications of signed provenance are retried by the recovery pass, through these sinks. */
  publish?: { sinks: readonly Sink[] } & Omit<PublishOptions, 'now'>;
}

export interface SweepResult {
  /** Tasks the queries returned (documents read by them). */
  scanned: number;
  expired: number;
  /** Found stale by their own record but alive by a newer report. */
  refreshed: number;
  republished: number;
  failed: number;
  /** Recovery checks whose provenance turned out to exist (a lost clear). */
  cleared: number;
  /** Publications retried (signed provenance whose publication had failed), and how many of them succeeded. */
  publicationsRetried: number;
  publicationsRecovered: number;
}

class Gone extends ServiceError {
  constructor() {
    super('not_found', 'task gone');
  }
}

export class TaskSweeper {
  constructor(private readonly deps: SweepDeps) {}

  async sweep(): Promise<SweepResult> {
    const result: SweepResult = {
      scanned: 0,
      expired: 0,
      refreshed: 0,
      republished: 0,
      failed: 0,
      cleared: 0,
      publicationsRetried: 0,
      publicationsRecovered: 0,
    };
    const now = this.deps.clock.now();
    await this.each('aliveAt', new Date(now.getTime() - this.deps.heartbeatTtlSeconds * 1000), result, (t) =>
      this.expire(t, now, result),
    );
    await this.each('recoverAt', new Date(now.getTime() + 1), result, (t) => this.recover(t, now, result));
    return result;
  }

  private async each(
    field: DueField,
    before: Date,
    result: SweepResult,
    visit: (t: TaskRecord) => Promise<void>,
  ): Promise<void> {
    const pageSize = this.deps.pageSize ?? 1000;
    let seen = 0;
    let cursor: DueCursor | undefined;
    while (seen < this.deps.maxTasksPerRun) {
      const page = await this.deps.tasks.tasksDue(
        field,
        before,
        Math.min(pageSize, this.deps.maxTasksPerRun - seen),
        cursor,
      );
      result.scanned += page.length;
      seen += page.length;
      // Each task is its own transaction that re-checks it, so running a few
      // at a time keeps every invariant (no double expiry or publish) and
      // keeps up with bursts: one after another, 1,000 stale tasks took a minute.
      await inParallel(page, this.deps.concurrency ?? 8, async (task) => {
        try {
          await withLogContext({ taskId: task.taskId, taskKey: task.key }, () => visit(task));
        } catch (err) {
          if (!(err instanceof Gone)) throw err;
        }
      });
      if (page.length < pageSize) break;
      const last = page[page.length - 1];
      if (!last) break;
      cursor = { at: dueAt(last, field), key: last.key };
    }
  }

  /** Apply `change` in a transaction; true if this call's change is the one committed. */
  private async change(key: string, change: (current: TaskRecord) => TaskRecord): Promise<boolean> {
    let mine = false;
    await this.deps.tasks.updateTask(key, (current) => {
      if (!current) throw new Gone();
      const next = change(current);
      mine = next !== current; // the last run of this callback is the committed one
      return next;
    });
    return mine;
  }

  private async expire(task: TaskRecord, now: Date, result: SweepResult): Promise<void> {
    const ttlMs = this.deps.heartbeatTtlSeconds * 1000;
    if (isClosed(task.state)) {
      await this.change(task.key, (cur) => (isClosed(cur.state) && cur.aliveAt ? withoutAliveAt(cur) : cur));
      return;
    }
    const lastReport = await this.deps.tasks.lastReportAt(task.key);
    let after: TaskRecord | undefined;
    const changed = await this.change(task.key, (cur) => {
      after = undefined;
      if (!cur.aliveAt || isClosed(cur.state)) return cur; // closed, or handled by another sweep
      const sign = lastSignOfLife(cur, lastReport);
      if (sign.getTime() > now.getTime() - ttlMs) return sign > cur.aliveAt ? { ...cur, aliveAt: sign } : cur; // alive after all
      after = expireTask(cur, now, sign, this.deps.heartbeatTtlSeconds);
      return after;
    });
    if (!changed) return;
    if (after) {
      result.expired++;
      await this.notify(taskExpiredEvent(task, after, now));
    } else {
      result.refreshed++;
    }
  }

  private async recover(task: TaskRecord, now: Date, result: SweepResult): Promise<void> {
    const record = await this.deps.provenance.get(task.key);
    const { publish } = this.deps;
    if (record?.state === 'signed' && publish?.sinks.length && record.publications?.some(toRetry)) {
      await this.republish(publish, task, record.publications, now, result);
      return;
    }
    if (record?.state === 'signed' || record?.state === 'failed') {
      await this.deps.tasks.clearRecovery(task.key);
      result.cleared++;
      return;
    }
    const seenAt = dueAt(task, 'recoverAt').getTime();
    const sameCheck = (cur: TaskRecord) => cur.recoverAt?.getTime() === seenAt && cur.state !== 'FAILED';
    const failures = record?.failures ?? 0;
    const interrupted = record?.interrupted ?? 0;
    if (record?.claimedUntil && record.claimedUntil.getTime() > now.getTime()) {
      // An assembly is running right now: look again later, publish nothing.
      await this.change(task.key, (cur) =>
        sameCheck(cur) ? { ...cur, recoverAt: new Date(now.getTime() + this.deps.recoveryGraceMs) } : cur,
      );
      return;
    }
    if (failures + interrupted >= this.deps.maxRecoveryAttempts) {
      const reason = `provenance could not be assembled: ${failures + interrupted} assembly attempt(s) ran without producing it (${failures} failed with an error, ${interrupted} stopped while holding the claim); last error: ${record?.lastError ?? 'none recorded'}`;
      let failed: TaskRecord | undefined;
      const changed = await this.change(task.key, (cur) => {
        failed = sameCheck(cur) ? failTask(cur, now, reason) : undefined;
        return failed ?? cur;
      });
      // changed: the committed callback returned `failed`
      if (changed && failed) {
        result.failed++;
        // The log line the deployment's "failed-tasks" alert counts (infra/main.tf).
        log('ERROR', 'task failed', { taskId: task.taskId, reporter: task.owner.email, taskKey: task.key, reason });
        await this.notify(taskFailedEvent(failed, now));
      }
      return;
    }
    if (
      await this.change(task.key, (cur) =>
        sameCheck(cur) ? scheduleRecovery(cur, now, this.deps.recoveryGraceMs) : cur,
      )
    ) {
      try {
        await this.deps.uploadComplete.publishUploadComplete(task.key);
        result.republished++;
      } catch (err) {
        // The attempt is counted; the next sweep after the grace period tries again.
        log('ERROR', 'could not republish UPLOAD_COMPLETE', { taskKey: task.key, error: err });
      }
    }
  }

  /**
   * Signed, but a publication failed: try the failed targets again (not the
   * skipped or conflicting ones), through the same loop as the assembler. The
   * retry is claimed first by moving the task's recovery check in a
   * transaction, so of two overlapping sweeps only one publishes. Past
   * maxRecoveryAttempts the failures stay recorded and the check is cleared.
   */
  private async republish(
    publish: NonNullable<SweepDeps['publish']>,
    task: TaskRecord,
    publications: Publication[],
    now: Date,
    result: SweepResult,
  ): Promise<void> {
    const seenAt = dueAt(task, 'recoverAt').getTime();
    const attempt = (task.recoveryAttempts ?? 0) + 1;
    const claimed = await this.change(task.key, (cur) =>
      cur.recoverAt?.getTime() === seenAt ? scheduleRecovery(cur, now, this.deps.recoveryGraceMs) : cur,
    );
    if (!claimed) return; // another sweep is retrying them
    const [envelope] = await this.deps.provenance.envelopesForTask(task.key);
    if (!envelope) return;
    const failed = publications.filter(toRetry);
    const retried = await publishAll(
      publish.sinks,
      failed.map((p) => ({ sink: p.sink, target: p.target })),
      signedProvenance(task.taskId, envelope),
      {
        concurrency: publish.concurrency,
        deadlineMs: publish.deadlineMs,
        now: () => this.deps.clock.now(),
        taskTargets: publications.map((p) => ({ sink: p.sink, target: p.target })),
      },
    );
    result.publicationsRetried += retried.length;
    result.publicationsRecovered += retried.filter((p) => p.state === 'published').length;
    const merged = mergePublications(publications, retried);
    await this.deps.provenance.recordPublications(task.key, merged);
    const stillFailed = merged.filter(toRetry);
    const givingUp = stillFailed.length > 0 && attempt >= this.deps.maxRecoveryAttempts;
    if (stillFailed.length === 0 || givingUp) await this.deps.tasks.clearRecovery(task.key);
    if (givingUp)
      log('ERROR', 'gave up publishing provenance', {
        taskId: task.taskId,
        taskKey: task.key,
        attempts: attempt,
        targets: stillFailed.slice(0, 20).map((p) => `${p.sink} ${p.target}`),
        failed: stillFailed.length,
      });
    for (const event of publishFailedEvents(task, retried, stillFailed.length > 0 && !givingUp, now))
      await this.notify(event);
  }

  private async notify(event: ProvenanceEvent): Promise<void> {
    await this.deps.notifier
      .notify(event)
      .catch((err) => log('ERROR', 'task event not sent', { type: event.type, taskId: event.taskId, error: err }));
  }
}

/** What the recovery pass publishes again: failed, or left pending by an assembler that stopped. */
const toRetry = (p: Publication) => p.state === 'failed' || p.state === 'pending';

/** The task's time in `field`: tasksDue returns only tasks that have one. */
function dueAt(task: TaskRecord, field: DueField): Date {
  const at = task[field];
  if (!at) throw new Error(`task ${task.key} has no ${field}`);
  return at;
}
