// A task's status for release tooling: where it is, when it got there, and
// whether it has provenance (and why not, when it has none).
import type { ProvenanceRecord } from '../ports/provenance-store.js';
import type { TaskRecord } from '../domain/task.js';

export type ProvenanceStatus = 'none' | 'pending' | 'assembling' | 'signed' | 'failed';

export interface TaskStatus {
  taskId: string;
  reporter: string;
  stage: string;
  stageTimes: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  lastHeartbeatAt?: string;
  findings: { code: string; message: string; at: string }[];
  provenance: {
    state: ProvenanceStatus;
    reason?: string;
    subjects?: string[];
    keyId?: string;
    signedAt?: string;
  };
}

export function taskStatus(task: TaskRecord, record: ProvenanceRecord | undefined): TaskStatus {
  const iso = (d: Date) => d.toISOString();
  return {
    taskId: task.taskId,
    reporter: task.owner.email,
    stage: task.state,
    stageTimes: Object.fromEntries(Object.entries(task.stageTimes).map(([s, d]) => [s, iso(d)])),
    createdAt: iso(task.createdAt),
    updatedAt: iso(task.updatedAt),
    ...(task.lastHeartbeatAt ? { lastHeartbeatAt: iso(task.lastHeartbeatAt) } : {}),
    findings: task.findings.map((f) => ({ code: f.code, message: f.message, at: iso(f.at) })),
    provenance: provenanceStatus(task, record),
  };
}

function provenanceStatus(task: TaskRecord, record: ProvenanceRecord | undefined): TaskStatus['provenance'] {
  if (record?.state === 'signed') {
    return { state: 'signed', subjects: record.subjects.map((s) => `sha256:${s}`), ...(record.keyId ? { keyId: record.keyId } : {}), ...(record.signedAt ? { signedAt: record.signedAt.toISOString() } : {}) };
  }
  if (record?.state === 'failed') return { state: 'failed', reason: record.reason ?? 'assembly failed' };
  if (record?.state === 'assembling') return { state: 'assembling', reason: `provenance is being assembled (attempt ${record.attempts})` };
  if (task.stageTimes.UPLOAD_COMPLETE) return { state: 'pending', reason: 'UPLOAD_COMPLETE was recorded; provenance has not been assembled yet' };
  return { state: 'none', reason: `the task is ${task.state}: provenance is assembled once it reports UPLOAD_COMPLETE` };
}
