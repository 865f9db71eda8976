// The one logger. Every line is one JSON object (stdout; stderr from WARNING
// up) in the shape Cloud Logging reads from a function's output: severity,
// message, the request's trace and span, and for an error the stack_trace and
// @type that Error Reporting groups by. What a line is about (the function,
// the trace, the task) comes from the context its request or event runs in
// (withLogContext), so a call site passes only its own fields.
import { AsyncLocalStorage } from 'node:async_hooks';

export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL';

/** A validated trace context (api/trace-context.ts parses the headers). */
export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  spanId?: string | undefined;
  sampled?: boolean | undefined;
}

export interface LogContext {
  /** The function (or local service) handling the request or event. */
  function?: string | undefined;
  trace?: TraceContext | undefined;
  taskId?: string | undefined;
  taskKey?: string | undefined;
}

/** Cloud Logging's special fields (https://cloud.google.com/logging/docs/structured-logging). */
export const TRACE_FIELD = 'logging.googleapis.com/trace';
export const SPAN_FIELD = 'logging.googleapis.com/spanId';
export const SAMPLED_FIELD = 'logging.googleapis.com/trace_sampled';
/** The @type that makes Error Reporting read a line as an error event. */
export const REPORTED_ERROR_EVENT =
  'type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent';

const MAX_ERROR_CHARS = 2_000;
const MAX_STACK_CHARS = 16_000;

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `context` added to the current one; every line logged inside carries it. */
export function withLogContext<T>(context: LogContext, fn: () => T): T {
  const parent = storage.getStore();
  return storage.run(parent ? { ...parent, ...context } : { ...context }, fn);
}

/**
 * Adds what became known inside a context (the task id, once read) to that
 * context. Only the innermost withLogContext's context changes: give every
 * unit of work that can learn a task its own.
 */
export function addLogContext(context: Pick<LogContext, 'taskId' | 'taskKey'>): void {
  const current = storage.getStore();
  if (current) Object.assign(current, context);
}

/** The function's name: the deployed service (K_SERVICE), its entry point (FUNCTION_TARGET), or `fallback`. */
export function functionName(fallback: string): string {
  return process.env.K_SERVICE || process.env.FUNCTION_TARGET || fallback;
}

/**
 * Writes one line. `fields.error` (an Error, or anything thrown) goes in as
 * its message; on an ERROR line it also makes the line an error event: the
 * stack in `stack_trace` (the place of this call when the value has none) and
 * Error Reporting's @type. A WARNING (a failure something else will retry)
 * stays out of Error Reporting.
 */
export function log(severity: Severity, message: string, fields: Record<string, unknown> = {}): void {
  write(severity, message, fields, log);
}

/** An ERROR line for something thrown: log('ERROR', message, { ...fields, error }). */
export function logError(message: string, error: unknown, fields: Record<string, unknown> = {}): void {
  write('ERROR', message, { ...fields, error }, logError);
}

// `caller` is the exported function called: a stack made here starts at its caller.
function write(
  severity: Severity,
  message: string,
  fields: Record<string, unknown>,
  caller: (...args: never) => unknown,
): void {
  const context = storage.getStore();
  const { error, ...rest } = fields;
  const entry: Record<string, unknown> = { severity, message };
  if (context?.function) entry.function = context.function;
  if (context?.taskId) entry.taskId = context.taskId;
  if (context?.taskKey) entry.taskKey = context.taskKey;
  Object.assign(entry, rest, { severity, message });
  const project = process.env.GOOGLE_CLOUD_PROJECT || process.env.GCLOUD_PROJECT;
  const trace = context?.trace;
  if (trace && project) {
    entry[TRACE_FIELD] = `projects/${project}/traces/${trace.traceId}`;
    if (trace.spanId) entry[SPAN_FIELD] = trace.spanId;
    if (trace.sampled !== undefined) entry[SAMPLED_FIELD] = trace.sampled;
  }
  if (error !== undefined) {
    const text = error instanceof Error ? error.message : describe(error);
    entry.error = bounded(text, MAX_ERROR_CHARS);
  }
  if (error !== undefined && (severity === 'ERROR' || severity === 'CRITICAL')) {
    const text = entry.error as string;
    let stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : undefined;
    if (!stack) {
      // Error Reporting groups only lines with a stack: where this was logged is the best there is.
      const here = { stack: '' };
      Error.captureStackTrace(here, caller);
      stack = `Error: ${text}${here.stack.slice(here.stack.indexOf('\n'))}`;
    }
    entry.stack_trace = bounded(stack, MAX_STACK_CHARS);
    entry['@type'] = REPORTED_ERROR_EVENT;
    entry.serviceContext = { service: context?.function ?? functionName('provenance') };
  }
  const line = redactTokens(serialised(entry));
  if (severity === 'DEBUG' || severity === 'INFO' || severity === 'NOTICE') console.log(line);
  else console.error(line);
}

/** A thrown value that is not an Error, as text: a string as is, an object as JSON when it can be. */
function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The entry as JSON; a field JSON cannot hold (a cycle, a BigInt) never stops the line. */
function serialised(entry: Record<string, unknown>): string {
  try {
    return JSON.stringify(entry);
  } catch (err) {
    const kept: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(entry)) {
      try {
        JSON.stringify(v);
        kept[k] = v;
      } catch {
        kept[k] = `[not serialisable: ${(err as Error).message}]`;
      }
    }
    return JSON.stringify(kept);
  }
}

const bounded = (s: string, max: number) => (s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s);

// No line carries a credential, whatever a caller passes: a JWT (three
// base64url parts, the first a JSON header) or a Bearer value is cut out.
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const BEARER = /(bearer\s+)[A-Za-z0-9._~+/-]{20,}=*/gi;

function redactTokens(line: string): string {
  return line.replace(JWT, '[redacted token]').replace(BEARER, '$1[redacted]');
}
