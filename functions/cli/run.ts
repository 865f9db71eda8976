// `provenance run -- <command>`: wraps a build command in its task.
//
// Order: the command is started *held* (a `sh` that waits on a pipe, then
// `exec`s the command, so the pid is the command's own), STARTED is reported
// with that pid, and only once STARTED was answered (or its fail-open budget
// ran out, with the warning) is the command released. A step whose first
// action is a report therefore always reports inside the provenance window.
// The child gets the task (PROVENANCE_URL, PROVENANCE_TASK_ID,
// PROVENANCE_AUDIENCE, and PROVENANCE_TOKEN when one was given), a PID
// heartbeat goes out every --heartbeat while it lives, and when it exits:
// `collect` (with --collect), UPLOAD_COMPLETE if it succeeded, then COMPLETE.
//
// Stopping: SIGHUP, SIGINT, SIGQUIT and SIGTERM sent to `run` are forwarded to
// the command (before its release too: it then never starts). The command is
// never orphaned: it stays in `run`'s process group (a runner that signals the
// group reaches both), and a watchdog (a second small `sh`, ignoring those
// signals) holds a pipe only `run` writes to; if `run` dies without saying
// "done" (SIGKILL, a crash), the pipe closes and the watchdog sends the
// command SIGTERM, then SIGKILL after 10 s.
//
// Exits with the command's code (128 + signal number for a signal). A
// heartbeat in flight is abandoned when the command exits, so it never delays
// the exit by more than a moment.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Writable } from 'node:stream';
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

/** The signals a CI runner (or a terminal) sends to stop a step; each is passed on to the command. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM'];

const SH = '/bin/sh';
// Waits for "go" on fd 3, then becomes the command (same pid). If `run` is
// gone before that (EOF), the command never starts.
const GATE = 'read -r go <&3 && [ "$go" = go ] || exit 125; exec 3<&-; exec "$@"';
// Exits on "done" from `run`; on EOF (`run` died) stops the command.
const WATCHDOG = `trap '' HUP INT QUIT TERM
read -r _ && exit 0
kill -TERM "$1" 2>/dev/null || exit 0
i=0
while [ "$i" -lt 10 ] && kill -0 "$1" 2>/dev/null; do sleep 1; i=$((i + 1)); done
kill -KILL "$1" 2>/dev/null
exit 0`;

export async function runWrapped(opts: RunOptions): Promise<number> {
  const [cmd, ...args] = opts.command;
  if (!cmd) throw new UsageError('run: give the command after --, e.g. provenance run -- make build');
  const env = { ...process.env, ...opts.childEnv };
  const notRunnable = whyNotExecutable(cmd, env.PATH ?? '');
  if (notRunnable) throw new CliError(`run: cannot start "${cmd}": ${notRunnable}`, 127);

  const child = spawn(SH, ['-c', GATE, 'provenance-run', cmd, ...args], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env,
  });
  const release = child.stdio[3] as Writable;
  release.on('error', () => undefined); // the gate is gone: its exit status says why
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (err) => resolve(err));
  });
  if (spawned) throw new CliError(`run: cannot start "${cmd}": ${SH}: ${spawned.message}`, 127);
  const pid = child.pid; // set once 'spawn' has fired
  if (pid === undefined) throw new CliError(`run: cannot start "${cmd}": no process id`, 127);

  let watchdog: ChildProcess | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      // At once, before the pid can be reused: the watchdog must not act on it.
      watchdog?.stdin?.end('done\n');
      resolve({ code, signal });
    }),
  );
  let stopSignal: NodeJS.Signals | undefined;
  const forwarders = FORWARDED_SIGNALS.map((sig) => {
    const onSignal = () => {
      stopSignal ??= sig;
      child.kill(sig);
    };
    process.on(sig, onSignal);
    return () => process.off(sig, onSignal);
  });

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

  await safely(() =>
    opts.reporter.report(
      'ReportTaskStage',
      stageBody('STARTED', { ...opts.stage, recipe: opts.recipe ?? opts.command.join(' '), pid }),
    ),
  );
  const stopHeartbeats = new AbortController();
  let beat: NodeJS.Timeout | undefined;
  if (child.exitCode === null && child.signalCode === null && stopSignal === undefined) {
    watchdog = spawn(SH, ['-c', WATCHDOG, 'provenance-run-watchdog', String(pid)], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    watchdog.on('error', (err) => process.stderr.write(`provenance: warning: no watchdog: ${err.message}\n`));
    watchdog.stdin?.on('error', () => undefined);
    watchdog.unref();
    release.end('go\n');
    beat = setInterval(() => {
      opts.reporter
        .report('ReportPID', pidBody(pid, opts.reporterPath), stopHeartbeats.signal)
        .catch((err: unknown) => {
          process.stderr.write(`provenance: warning: heartbeat refused: ${(err as Error).message}\n`);
        });
    }, opts.heartbeatMs);
    beat.unref();
  } else {
    release.destroy();
  }

  const { code, signal } = await exited;
  clearInterval(beat);
  stopHeartbeats.abort();
  for (const off of forwarders) off();
  const exitCode = signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1);

  if (exitCode === 0) {
    const { collect, collectDir } = opts;
    if (collectDir !== undefined && collect) await safely(() => collect(collectDir));
    await safely(() => opts.reporter.report('ReportTaskStage', stageBody('UPLOAD_COMPLETE', {})));
  }
  await safely(() => opts.reporter.report('ReportTaskStage', stageBody('COMPLETE', {})));
  return exitCode !== 0 ? exitCode : (reportFailure?.exitCode ?? 0);
}

/** Why `cmd` cannot be run as `exec` would look it up (undefined: it can). */
export function whyNotExecutable(cmd: string, path: string): string | undefined {
  const runnable = (file: string) => {
    try {
      accessSync(file, fsConstants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (cmd.includes('/')) return runnable(cmd) ? undefined : 'no such executable file';
  const dirs = path.split(delimiter).map((d) => d || '.');
  return dirs.some((d) => runnable(join(d, cmd))) ? undefined : 'not found on PATH';
}
