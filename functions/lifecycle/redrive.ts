// An operator sends a task back to assembly: a FAILED task (or one whose
// provenance was recorded as failed) gets its failure forgotten, its recovery
// check restarted and UPLOAD_COMPLETE published again. Signed provenance is
// never touched. Every re-drive is one NOTICE line in the log: who, which task,
// from what state and why it had failed.
import { failedPrecondition } from '../domain/errors.js';
import { redriveTask } from '../domain/lifecycle.js';
import type { TaskRecord } from '../domain/task.js';
import type { TaskState } from '../domain/stage.js';
import type { Clock } from '../ports/clock.js';
import type { EventPublisher } from '../ports/events.js';
import type { ProvenanceStore } from '../ports/provenance-store.js';
import type { TaskStore } from '../ports/task-store.js';
import { log } from '../log.js';

export interface RedriveDeps {
  tasks: TaskStore;
  provenance: ProvenanceStore;
  /**
   * Publishes UPLOAD_COMPLETE at once (npm start). Deployed, the read API may
   * not publish to upload-complete: the task is left due for the sweep's
   * recovery check, which publishes it on its next run.
   */
  uploadComplete?: EventPublisher;
  clock: Clock;
  recoveryGraceMs: number;
}

export interface RedriveOutcome {
  from: TaskState;
  to: TaskState;
  /** Why the task had failed. */
  previousReason?: string;
  /** False when it was not published here: the sweep's recovery check publishes it on its next run. */
  published: boolean;
  /** The task as the re-drive left it. */
  task: TaskRecord;
}

export class TaskRedriver {
  constructor(private readonly deps: RedriveDeps) {}

  async redrive(task: TaskRecord, operator: string): Promise<RedriveOutcome> {
    const { tasks, provenance, clock } = this.deps;
    if (!task.stageTimes.UPLOAD_COMPLETE)
      throw failedPrecondition(`task "${task.taskId}" never reported UPLOAD_COMPLETE: there is nothing to assemble`);
    const record = await provenance.get(task.key);
    if (record?.state === 'signed') throw failedPrecondition(`task "${task.taskId}" already has signed provenance`);
    if (task.state !== 'FAILED' && record?.state !== 'failed') {
      throw failedPrecondition(
        `task "${task.taskId}" is ${task.state} and its provenance is ${record?.state ?? 'pending'}: only a failed task is sent back`,
      );
    }
    const now = clock.now();
    const verdict = await provenance.reset(task.key, now);
    if (verdict === 'signed') throw failedPrecondition(`task "${task.taskId}" already has signed provenance`);
    if (verdict === 'busy')
      throw failedPrecondition(`task "${task.taskId}" is being assembled right now: look at its status again shortly`);
    const previousReason = task.closedReason ?? record?.reason;
    const publisher = this.deps.uploadComplete;
    const updated = await tasks.updateTask(task.key, (cur) => {
      if (!cur) throw failedPrecondition(`task "${task.taskId}" is gone`);
      // Without a publisher the recovery check is due now: the next sweep publishes.
      return redriveTask(cur, now, publisher ? this.deps.recoveryGraceMs : 0);
    });
    let published = false;
    if (publisher) {
      try {
        await publisher.publishUploadComplete(task.key);
        published = true;
      } catch (err) {
        log('WARNING', 'could not publish UPLOAD_COMPLETE for a re-driven task; the sweep will', {
          taskKey: task.key,
          error: err,
        });
      }
    }
    log('NOTICE', 'task sent back to assembly', {
      audit: 'redrive',
      operator,
      taskId: task.taskId,
      reporter: task.owner.email,
      reporterSubject: task.owner.subject,
      taskKey: task.key,
      from: task.state,
      to: updated.state,
      ...(previousReason ? { previousReason } : {}),
    });
    return {
      from: task.state,
      to: updated.state,
      ...(previousReason ? { previousReason } : {}),
      published,
      task: updated,
    };
  }
}
