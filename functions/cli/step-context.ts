// What a build-step command needs once its options are parsed: the task
// (flags, else PROVENANCE_URL, PROVENANCE_TASK_ID else Cloud Build's BUILD_ID,
// PROVENANCE_AUDIENCE, PROVENANCE_STRICT=1), a Reporter for it, the
// environment `run` hands its command, and the batch summary line.
import { Reporter, type BatchItem } from './report/reporter.js';
import { tokenSource } from './report/tokens.js';
import { EXIT, UsageError } from './exit-codes.js';
import type { StepOptions } from './options.js';

export interface StepContext {
  reporter: Reporter;
  url: string;
  taskId: string;
  audience: string;
  /** The task, for a command run inside it. */
  env: Record<string, string>;
}

export function stepContext(o: StepOptions, concurrency?: number): StepContext {
  const url = o.url ?? process.env.PROVENANCE_URL;
  if (!url) throw new UsageError('no service URL: pass --url or set PROVENANCE_URL');
  const taskId = o.task ?? process.env.PROVENANCE_TASK_ID ?? process.env.BUILD_ID;
  if (!taskId) throw new UsageError('no task id: pass --task, or set PROVENANCE_TASK_ID (Cloud Build sets BUILD_ID)');
  const audience = o.audience ?? process.env.PROVENANCE_AUDIENCE ?? url;
  const strict = o.strict === true || process.env.PROVENANCE_STRICT === '1';
  const reporter = new Reporter({
    url,
    taskId,
    tokens: tokenSource({ url, audience }),
    timeoutMs: o.timeout,
    strict,
    ...(concurrency ? { concurrency } : {}),
  });
  const env: Record<string, string> = {
    PROVENANCE_URL: url,
    PROVENANCE_TASK_ID: taskId,
    PROVENANCE_AUDIENCE: audience,
    ...(strict ? { PROVENANCE_STRICT: '1' } : {}),
  };
  if (process.env.PROVENANCE_TOKEN) env.PROVENANCE_TOKEN = process.env.PROVENANCE_TOKEN;
  return { reporter, url, taskId, audience, env };
}

/** Sends a batch, printing each bad line and one summary line; exit 1 if any line was malformed or refused. */
export async function sendBatch(
  reporter: Reporter,
  items: BatchItem[],
  keepGoing: boolean,
  label: string,
): Promise<number> {
  const started = performance.now();
  const summary = await reporter.batch(items, keepGoing, (line, message) =>
    process.stderr.write(`${label} line ${line}: ${message}\n`),
  );
  process.stderr.write(
    `${label}: ${summary.sent} sent, ${summary.refused} refused, ${summary.malformed} malformed, ${summary.skipped} not sent${summary.unreachable ? ' (service unreachable)' : ''} in ${((performance.now() - started) / 1000).toFixed(2)} s\n`,
  );
  return summary.refused || summary.malformed ? EXIT.refused : EXIT.ok;
}
