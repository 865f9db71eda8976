// Assembling a task's provenance once: read the task and its reports, build the
// statement, sign it, store it. Pub/Sub delivers at least once, so the work is
// claimed first (ProvenanceStore.claim) and a finished task is a no-op.
// Errors that a retry can fix are thrown (Pub/Sub redelivers); outcomes that
// no retry changes (unknown task, no artifacts) are returned, so the message
// is acknowledged.
import type { Clock } from '../ports/clock.js';
import type { ProvenanceStore } from '../ports/provenance-store.js';
import type { Signer } from '../ports/signer.js';
import { ReportsOverBudgetError, type TaskStore } from '../ports/task-store.js';
import type { StoredReport } from '../domain/report.js';
import type { TaskRecord } from '../domain/task.js';
import type { Notifier, ProvenanceEvent } from '../ports/notifier.js';
import { addLogContext, log, withLogContext } from '../log.js';
import type { Publication, Sink } from '../ports/publisher.js';
import { signPayload, type Envelope } from './dsse.js';
import { provenanceFailedEvent, publishFailedEvents, signedEvent } from './events.js';
import { publicationTargets, publishAll, signedProvenance, type PublishOptions } from './publish.js';
import { failTask } from '../domain/lifecycle.js';
import { statementBytes } from './dsse.js';
import {
  assembleProvenance,
  DEFAULT_MAX_STATEMENT_BYTES,
  NoSubjectsError,
  REPORT_BYTES_PER_STATEMENT_BYTE,
  ReportsTooLargeError,
  StatementTooLargeError,
  type Statement,
} from './statement.js';

export interface AssemblerDeps {
  tasks: TaskStore;
  provenance: ProvenanceStore;
  signer: Signer;
  clock: Clock;
  builderId: string;
  /** How long a claim lasts: longer than one assembly can take (the function's timeout). */
  leaseMs: number;
  /** Told when provenance is signed or cannot be (provenance-events). */
  notifier?: Notifier;
  /** Retention of signed provenance; none when unset. */
  provenanceRetentionMs?: number;
  /** PUBLISH_TO: after signing, the provenance is published beside the task's artifacts through these sinks. */
  publish?: { sinks: readonly Sink[] } & Omit<PublishOptions, 'now'>;
  /** MAX_STATEMENT_BYTES: a larger statement is not signed; the task fails (default 16 MiB). */
  maxStatementBytes?: number;
}

export type AssemblyOutcome =
  | { status: 'signed'; subjects: number; dependencies: number; payloadBytes: number }
  | { status: 'already-signed' }
  | { status: 'failed'; reason: string }
  | { status: 'ignored'; reason: string }
  | { status: 'superseded' };

/** The reason a publication carries while it runs, and keeps if the assembler stops before its outcome is recorded. */
export const PUBLISHING_INTERRUPTED =
  'publishing; if this stays, the assembler stopped before it finished and the sweep retries it';

/** Another delivery holds the claim: thrown so this one is retried later (by then it is a no-op). */
export class AssemblyBusyError extends Error {
  override name = 'AssemblyBusyError';
}

export class ProvenanceAssembler {
  constructor(private readonly deps: AssemblerDeps) {}

  /** Every line logged while assembling names the task (its key, then its id once read). */
  assemble(taskKey: string): Promise<AssemblyOutcome> {
    return withLogContext({ taskKey }, () => this.assembleTask(taskKey));
  }

  private async assembleTask(taskKey: string): Promise<AssemblyOutcome> {
    const { tasks, provenance, signer, clock } = this.deps;
    const task = await tasks.getTask(taskKey);
    if (!task) return { status: 'ignored', reason: `no task with key ${taskKey}` };
    addLogContext({ taskId: task.taskId });
    if (!task.stageTimes.UPLOAD_COMPLETE) {
      return {
        status: 'ignored',
        reason: `task "${task.taskId}" is ${task.state}: provenance is assembled after UPLOAD_COMPLETE`,
      };
    }
    if (task.state === 'FAILED')
      return { status: 'ignored', reason: `task "${task.taskId}" has FAILED: ${task.closedReason ?? ''}` };

    const claim = await provenance.claim(taskKey, clock.now(), this.deps.leaseMs);
    if (claim.outcome === 'signed') return { status: 'already-signed' };
    if (claim.outcome === 'failed') return { status: 'failed', reason: claim.reason };
    if (claim.outcome === 'busy')
      throw new AssemblyBusyError(
        `task ${taskKey} is being assembled by another delivery until ${claim.until.toISOString()}`,
      );

    try {
      const limit = this.deps.maxStatementBytes ?? DEFAULT_MAX_STATEMENT_BYTES;
      let reports: StoredReport[];
      let statement: Statement;
      let payload: Buffer;
      try {
        // Bounded twice: the reports held, then the statement made of them.
        reports = await tasks.listReports(taskKey, REPORT_BYTES_PER_STATEMENT_BYTE * limit).catch((e: unknown) => {
          throw e instanceof ReportsOverBudgetError ? new ReportsTooLargeError(e.bytes, limit) : e;
        });
        statement = assembleProvenance(task, reports, { builderId: this.deps.builderId });
        payload = sizedPayload(statement, limit);
      } catch (err) {
        if (!(err instanceof NoSubjectsError || err instanceof StatementTooLargeError)) throw err;
        const at = clock.now();
        const recorded = await provenance.finish(taskKey, claim.token, {
          state: 'failed',
          reason: err.message,
          at,
          ...this.retention(at),
        });
        if (!recorded) return { status: 'superseded' };
        // Over the limit is the task's failure (no retry changes it): it ends FAILED, out of the sweep.
        if (err instanceof StatementTooLargeError) await this.failTask(task, at, err.message);
        await this.settled(taskKey, provenanceFailedEvent(task, err.message, at));
        return { status: 'failed', reason: err.message };
      }
      const envelope = await signPayload(payload, signer);
      const subjects = [...new Set(statement.subject.map((s) => s.digest.sha256))].sort();
      const at = clock.now();
      const keyId = envelope.signatures[0].keyid;
      const recorded = await provenance.finish(taskKey, claim.token, {
        state: 'signed',
        envelope,
        subjects,
        keyId,
        at,
        ...this.retention(at),
      });
      if (!recorded) return { status: 'superseded' };
      // After the provenance is stored; a failure is recorded and retried by the sweep, never thrown.
      const publications = await this.publish(task, reports, envelope, keyId);
      const failed = publications.filter((p) => p.state === 'failed');
      await this.settled(
        taskKey,
        signedEvent(
          task,
          statement.subject.map((s) => ({ name: s.name, digest: { sha256: s.digest.sha256 } })),
          keyId,
          at,
        ),
        failed.length > 0,
      );
      for (const event of publishFailedEvents(task, publications, failed.length > 0, clock.now()))
        await this.notify(event, taskKey);
      return {
        status: 'signed',
        subjects: subjects.length,
        dependencies: statement.predicate.buildDefinition.resolvedDependencies.length,
        payloadBytes: Math.floor((envelope.payload.length * 3) / 4),
      };
    } catch (err) {
      // Hand the claim back so the redelivery need not wait out the lease; the
      // error is kept as the reason if the sweep finally gives up on the task.
      await provenance
        .release(taskKey, claim.token, err instanceof Error ? err.message : String(err))
        .catch(() => undefined);
      throw err;
    }
  }

  /** The task ends FAILED with the reason; best effort (the failed provenance record already stops retries). */
  private async failTask(task: TaskRecord, at: Date, reason: string): Promise<void> {
    try {
      await this.deps.tasks.updateTask(task.key, (cur) => {
        if (!cur) throw new Error('the task is gone');
        return cur.state === 'FAILED' ? cur : failTask(cur, at, reason);
      });
      // The log line the deployment's "failed-tasks" alert counts (infra/main.tf), as the sweep's.
      log('ERROR', 'task failed', { taskId: task.taskId, reporter: task.owner.email, taskKey: task.key, reason });
    } catch (err) {
      log('ERROR', 'could not mark the task FAILED', { taskKey: task.key, error: String(err) });
    }
  }

  /** Publishes through every enabled sink; outcomes recorded (a lost record is logged: the status then shows none). */
  private async publish(
    task: TaskRecord,
    reports: StoredReport[],
    envelope: Envelope,
    keyId: string,
  ): Promise<Publication[]> {
    const { publish, clock, provenance } = this.deps;
    if (!publish?.sinks.length) return [];
    const targets = publicationTargets(task, reports).filter((t) => publish.sinks.some((s) => s.name === t.sink));
    if (targets.length === 0) return [];
    // Written ahead: if this process stops before the outcomes are recorded (the
    // function's timeout), the targets stay pending and the sweep publishes them.
    const at = clock.now();
    await provenance
      .recordPublications(
        task.key,
        targets.map((t) => ({ ...t, state: 'pending' as const, error: PUBLISHING_INTERRUPTED, at })),
      )
      .catch((err) => log('ERROR', 'could not record publications', { taskKey: task.key, error: String(err) }));
    const publications = await publishAll(publish.sinks, targets, signedProvenance(task.taskId, envelope), {
      concurrency: publish.concurrency,
      deadlineMs: publish.deadlineMs,
      now: () => clock.now(),
    }).catch((err: unknown) => {
      log('ERROR', 'publishing failed unexpectedly', { taskKey: task.key, keyId, error: String(err) });
      return [];
    });
    if (publications.length)
      await provenance
        .recordPublications(task.key, publications)
        .catch((err) => log('ERROR', 'could not record publications', { taskKey: task.key, error: String(err) }));
    return publications;
  }

  private retention(at: Date): { expireAt?: Date } {
    return this.deps.provenanceRetentionMs
      ? { expireAt: new Date(at.getTime() + this.deps.provenanceRetentionMs) }
      : {};
  }

  /**
   * The outcome is stored: take the task out of the sweep's recovery query and
   * tell subscribers. Neither is retried by throwing (the outcome stands); a
   * lost clear is repaired by the sweep, a lost notification is logged.
   */
  private async settled(taskKey: string, event: ProvenanceEvent, keepRecovery = false): Promise<void> {
    // A failed publication keeps the recovery check: the sweep retries it.
    if (!keepRecovery)
      await this.deps.tasks
        .clearRecovery(taskKey)
        .catch((err) => log('WARNING', 'could not clear the recovery check; the sweep will', { taskKey, error: err }));
    await this.notify(event, taskKey);
  }

  private async notify(event: ProvenanceEvent, taskKey: string): Promise<void> {
    if (this.deps.notifier) {
      await this.deps.notifier
        .notify(event)
        .catch((err) => log('ERROR', 'provenance event not sent', { taskKey, type: event.type, error: err }));
    }
  }
}

/** The bytes to sign, measured first (serialised once): a statement over the limit is never signed nor stored. */
function sizedPayload(statement: Statement, limit: number): Buffer {
  const payload = statementBytes(statement);
  if (payload.length > limit) throw new StatementTooLargeError(payload.length, limit);
  return payload;
}
