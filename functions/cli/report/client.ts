// Sends reports to the SelfReport API the way a build step needs: over
// keep-alive connections (Node's fetch pools them), with retries and
// jittered exponential backoff on what a retry can fix (unavailable,
// resource_exhausted, connection errors, timeouts) inside one time budget per
// report. What it cannot fix (invalid_argument, unauthenticated, ...) comes
// back at once with the server's message. Like the seed system's reporter,
// the caller decides whether an unreachable service breaks the build.
import type { Method } from './methods.js';
import type { TokenSource } from './tokens.js';

export type SendOutcome =
  | { ok: true; attempts: number }
  | { ok: false; kind: 'refused'; code: string; message: string; attempts: number }
  | { ok: false; kind: 'unreachable'; message: string; attempts: number };

export interface ReportClientOptions {
  url: string;
  taskId: string;
  tokens: TokenSource;
  /** Total time one report may take, retries included. */
  timeoutMs: number;
  /** One attempt's own limit (within the budget). */
  attemptTimeoutMs?: number;
  /** Backoff: the first retry waits up to baseMs, doubling up to capMs (full jitter). */
  baseMs?: number;
  capMs?: number;
}

const RETRYABLE_CODES = new Set(['unavailable', 'resource_exhausted', 'deadline_exceeded', 'aborted']);

export class ReportClient {
  private readonly endpoint: string;

  constructor(private readonly opts: ReportClientOptions) {
    this.endpoint = `${opts.url.replace(/\/+$/, '')}/provenance.snooperpb.SelfReport/`;
  }

  async send(method: Method, body: object, signal?: AbortSignal): Promise<SendOutcome> {
    const deadline = Date.now() + this.opts.timeoutMs;
    const payload = JSON.stringify(body);
    let lastProblem = 'no attempt was made';
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || signal?.aborted)
        return { ok: false, kind: 'unreachable', message: lastProblem, attempts: attempt - 1 };
      const result = await this.once(
        method,
        payload,
        Math.min(remaining, this.opts.attemptTimeoutMs ?? 10_000),
        signal,
      );
      if (result.ok) return { ok: true, attempts: attempt };
      if (result.kind === 'refused' && !RETRYABLE_CODES.has(result.code)) return { ...result, attempts: attempt };
      lastProblem = result.message;
      const backoff =
        Math.random() * Math.min(this.opts.capMs ?? 5_000, (this.opts.baseMs ?? 200) * 2 ** (attempt - 1));
      if (Date.now() + backoff >= deadline)
        return { ok: false, kind: 'unreachable', message: lastProblem, attempts: attempt };
      await sleep(backoff, signal);
    }
  }

  private async once(
    method: Method,
    payload: string,
    timeoutMs: number,
    outer?: AbortSignal,
  ): Promise<
    | { ok: true }
    | { ok: false; kind: 'refused'; code: string; message: string }
    | { ok: false; kind: 'unreachable'; message: string }
  > {
    let token: string;
    try {
      token = await this.opts.tokens.get();
    } catch (err) {
      return {
        ok: false,
        kind: 'unreachable',
        message: `could not get an ID token from the ${this.opts.tokens.kind === 'metadata' ? 'metadata server' : this.opts.tokens.kind}: ${(err as Error).message}`,
      };
    }
    const signal = outer ? AbortSignal.any([outer, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(this.endpoint + method, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          'x-task-id': this.opts.taskId,
        },
        body: payload,
        signal,
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why =
        e.name === 'TimeoutError'
          ? `no answer within ${timeoutMs} ms`
          : (e.cause?.code ?? e.cause?.message ?? e.message);
      return { ok: false, kind: 'unreachable', message: `${this.opts.url} is unreachable (${why})` };
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return { ok: true };
    let code = `http_${res.status}`;
    let message = text.slice(0, 500);
    try {
      const parsed = JSON.parse(text) as { code?: string; message?: string };
      code = parsed.code ?? code;
      message = parsed.message ?? message;
    } catch {
      // not a Connect error body (a proxy, a load balancer): judge by the status
      if (res.status === 502 || res.status === 503 || res.status === 504) code = 'unavailable';
      if (res.status === 429) code = 'resource_exhausted';
    }
    return { ok: false, kind: 'refused', code, message: `${code}: ${message}` };
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
