// The build step's side of reporting: check every body locally, send it,
// and apply the failure policy. Refusals (the input or the caller is wrong)
// always fail (exit 1). An unreachable service is one warning line and exit 0,
// so a build is not broken by its provenance service (audit mode); with
// --strict it is exit 3 (enforce mode). Batches go out a few at a time over
// keep-alive connections, stage reports one at a time and in order.
import { CliError, EXIT } from '../exit-codes.js';
import { ReportClient, type SendOutcome } from './client.js';
import { checkBody, isStage, type Method } from './methods.js';
import type { TokenSource } from './tokens.js';

export interface ReporterOptions {
  url: string;
  taskId: string;
  tokens: TokenSource;
  timeoutMs: number;
  strict: boolean;
  /** Reports in flight at once in a batch. */
  concurrency?: number;
  /** Where warnings go (stderr). */
  warn?: (line: string) => void;
}

export interface BatchItem {
  line: number;
  method?: Method;
  body?: object;
  /** Why the line cannot be sent. */
  error?: string;
}

export interface BatchSummary {
  sent: number;
  refused: number;
  malformed: number;
  skipped: number;
  unreachable: boolean;
}

export class Reporter {
  private readonly client: ReportClient;
  private warned = false;

  constructor(private readonly opts: ReporterOptions) {
    this.client = new ReportClient({
      url: opts.url,
      taskId: opts.taskId,
      tokens: opts.tokens,
      timeoutMs: opts.timeoutMs,
    });
  }

  /** One report: checked, sent, the policy applied. Throws CliError on refusal, or unreachable under --strict. */
  async report(method: Method, body: object, signal?: AbortSignal): Promise<'sent' | 'unreachable'> {
    const problem = checkBody(method, body);
    if (problem) throw new CliError(`${method}: ${problem} (nothing was sent)`, EXIT.refused);
    return this.settle(method, await this.client.send(method, body, signal));
  }

  private settle(method: Method, outcome: SendOutcome): 'sent' | 'unreachable' {
    if (outcome.ok) return 'sent';
    if (outcome.kind === 'refused')
      throw new CliError(`${method} refused by ${this.opts.url}: ${outcome.message}`, EXIT.refused);
    return this.unreachable(outcome.message);
  }

  private unreachable(message: string): 'unreachable' {
    if (this.opts.strict)
      throw new CliError(
        `the provenance service stayed unreachable for ${this.opts.timeoutMs / 1000}s: ${message}`,
        EXIT.unreachable,
      );
    if (!this.warned) {
      this.warned = true;
      (this.opts.warn ?? ((l) => process.stderr.write(`${l}\n`)))(
        `provenance: warning: the service stayed unreachable for ${this.opts.timeoutMs / 1000}s (${message}); continuing without provenance (--strict to fail the step)`,
      );
    }
    return 'unreachable';
  }

  /**
   * A batch, in line order. Lines are checked first: without keepGoing, a
   * malformed line stops the batch there (the lines before it are sent, none
   * after). Content reports go `concurrency` at a time; a stage report waits
   * for everything before it and is sent alone.
   */
  async batch(
    items: BatchItem[],
    keepGoing: boolean,
    onRefused: (line: number, message: string) => void,
  ): Promise<BatchSummary> {
    const summary: BatchSummary = { sent: 0, refused: 0, malformed: 0, skipped: 0, unreachable: false };
    for (const item of items) {
      if (!item.error && item.method && item.body) {
        const problem = checkBody(item.method, item.body);
        if (problem) item.error = `${item.method}: ${problem}`;
      }
    }
    const firstBad = items.findIndex((i) => i.error);
    const sendable = keepGoing || firstBad === -1 ? items : items.slice(0, firstBad);
    summary.malformed = items.filter((i) => i.error).length;
    for (const i of items) if (i.error) onRefused(i.line, i.error);

    const limit = Math.max(1, this.opts.concurrency ?? 8);
    const inFlight = new Set<Promise<void>>();
    // Already checked above; a refusal is counted, not thrown.
    const send = (line: number, method: Method, body: object) => {
      const p = this.client.send(method, body).then((outcome) => {
        if (outcome.ok) summary.sent++;
        else if (outcome.kind === 'refused') {
          summary.refused++;
          onRefused(line, `${method} refused: ${outcome.message}`);
        } else summary.unreachable = true;
      });
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      return tracked;
    };
    for (const item of sendable) {
      if (item.error || !item.method || !item.body) continue;
      if (summary.unreachable) break;
      if (isStage(item.method)) {
        await Promise.all(inFlight);
        if (summary.unreachable) break;
        await send(item.line, item.method, item.body);
      } else {
        while (inFlight.size >= limit) await Promise.race(inFlight);
        void send(item.line, item.method, item.body);
      }
    }
    await Promise.all(inFlight);
    // Not sent: after a malformed line (without keepGoing), or after the service became unreachable.
    summary.skipped = items.length - summary.sent - summary.refused - summary.malformed;
    if (summary.unreachable) this.unreachable('a report could not be delivered');
    return summary;
  }
}
