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
  uploadComplete: EventPublisher;
  clock: Clock;
  recoveryGraceMs: number;
}

export interface RedriveOutcome {
  from: TaskState;
  to: TaskState;
  /** Why the task had failed. */
  previousReason?: string;
  /** False when the publish failed: the sweep's recovery check publishes it instead. */
  published: boolean;
}

export class TaskRedriver {
  constructor(private readonly deps: RedriveDeps) {}

  async redrive(task: TaskRecord, operator: string): Promise<RedriveOutcome> {
    const { tasks, provenance, clock } = this.deps;
    if (!task.stageTimes.UPLOAD_COMPLETE) throw failedPrecondition(`task "${task.taskId}" never reported UPLOAD_COMPLETE: there is nothing to assemble`);
    const record = await provenance.get(task.key);
    if (record?.state === 'signed') throw failedPrecondition(`task "${task.taskId}" already has signed provenance`);
    if (task.state !== 'FAILED' && record?.state !== 'failed') {
      throw failedPrecondition(`task "${task.taskId}" is ${task.state} and its provenance is ${record?.state ?? 'pending'}: only a failed task is sent back`);
    }
    const now = clock.now();
    const verdict = await provenance.reset(task.key, now);
    if (verdict === 'signed') throw failedPrecondition(`task "${task.taskId}" already has signed provenance`);
    if (verdict === 'busy') throw failedPrecondition(`task "${task.taskId}" is being assembled right now: look at its status again shortly`);
    const previousReason = task.closedReason ?? record?.reason;
    const updated = await tasks.updateTask(task.key, (cur) => {
      if (!cur) throw failedPrecondition(`task "${task.taskId}" is gone`);
      return redriveTask(cur, now, this.deps.recoveryGraceMs);
    });
    let published = true;
    try {
      await this.deps.uploadComplete.publishUploadComplete(task.key);
    } catch (err) {
      published = false;
      log('WARNING', 'could not publish UPLOAD_COMPLETE for a re-driven task; the sweep will', { taskKey: task.key, error: String(err) });
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
    return { from: task.state, to: updated.state, ...(previousReason ? { previousReason } : {}), published };
  }
}
