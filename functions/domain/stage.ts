// Task stages and the rules for moving between them. Pure: no I/O.

export const STAGES = ['STARTED', 'FETCH', 'COMPILE', 'UPLOAD', 'UPLOAD_COMPLETE', 'TEST', 'COMPLETE'] as const;
export type Stage = (typeof STAGES)[number];
/** States a task can end in besides COMPLETE; set by the service, never reported. */
export type TerminalState = 'EXPIRED' | 'FAILED';
export type TaskState = Stage | TerminalState;

const ORDER: Record<Stage, number> = Object.fromEntries(STAGES.map((s, i) => [s, i])) as Record<Stage, number>;

export const stageIndex = (s: Stage): number => ORDER[s];

/** Whether a task in this state accepts no more stage reports. */
export const isClosed = (state: TaskState): boolean =>
  state === 'COMPLETE' || state === 'EXPIRED' || state === 'FAILED';
