// `provenance run -- <command>`: wraps a build command in its task. Reports
// STARTED (recipe, the child's pid), hands the child the task (PROVENANCE_URL,
// PROVENANCE_TASK_ID, PROVENANCE_AUDIENCE, and PROVENANCE_TOKEN when one was
// given) so reports made inside it bind to the same task, sends a PID
// heartbeat every --heartbeat while the child lives, and when it exits:
// `collect` (with --collect), UPLOAD_COMPLETE if it succeeded, then COMPLETE.
// Exits with the child's code (128 + signal number for a signal) and forwards
// SIGINT/SIGTERM. A heartbeat in flight is abandoned when the child exits, so
// it never delays the exit by more than a moment.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Reporter } from './report/reporter.js';
import { stageBody, pidBody, type StageFlags } from './report/bodies.js';
import { CliError, EXIT, UsageError } from './exit-codes.js';

export interface RunOptions {
  command: string[];
  recipe?: string;
  heartbeatMs: number;
  stage: Omit<StageFlags, 'recipe' | 'pid'>;
  collectDir?: string;
  /** The CLI executable, reported as the heartbeat's reporter. */
  reporterPath: string;
  /** Environment handed to the child on top of ours. */
  childEnv: Record<string, string>;
  /** The process's own reporter for STARTED, heartbeats, collect and the last stages. */
  reporter: Reporter;
  /** Sends a batch for --collect. */
  collect?: (dir: string) => Promise<void>;
}

export async function runWrapped(opts: RunOptions): Promise<number> {
  const [cmd, ...args] = opts.command;
  if (!cmd) throw new UsageError('run: give the command after --, e.g. provenance run -- make build');
  const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, ...opts.childEnv } });
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (err) => resolve(err));
  });
  if (spawned) throw new CliError(`run: cannot start "${cmd}": ${spawned.message}`, 127);
  const pid = child.pid; // set once 'spawn' has fired
  if (pid === undefined) throw new CliError(`run: cannot start "${cmd}": no process id`, 127);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  // The command runs whatever happens to its reports: a report's failure is
  // printed and remembered, and decides the exit code only if the command succeeded.
  let reportFailure: CliError | undefined;
  const safely = async (what: () => Promise<unknown>) => {
    try {
      await what();
    } catch (err) {
      const e = err instanceof CliError ? err : new CliError((err as Error).message, EXIT.refused);
      process.stderr.write(`provenance: ${e.message}\n`);
      reportFailure ??= e;
    }
  };

  const stopHeartbeats = new AbortController();
  await safely(() =>
    opts.reporter.report(
      'ReportTaskStage',
      stageBody('STARTED', { ...opts.stage, recipe: opts.recipe ?? opts.command.join(' '), pid }),
    ),
  );
  const beat = setInterval(() => {
    opts.reporter.report('ReportPID', pidBody(pid, opts.reporterPath), stopHeartbeats.signal).catch((err: unknown) => {
      process.stderr.write(`provenance: warning: heartbeat refused: ${(err as Error).message}\n`);
    });
  }, opts.heartbeatMs);
  beat.unref();

  const { code, signal } = await exited;
  clearInterval(beat);
  stopHeartbeats.abort();
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  const exitCode = signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1);

  if (exitCode === 0) {
    const { collect, collectDir } = opts;
    if (collectDir !== undefined && collect) await safely(() => collect(collectDir));
    await safely(() => opts.reporter.report('ReportTaskStage', stageBody('UPLOAD_COMPLETE', {})));
  }
  await safely(() => opts.reporter.report('ReportTaskStage', stageBody('COMPLETE', {})));
  return exitCode !== 0 ? exitCode : (reportFailure?.exitCode ?? 0);
}
