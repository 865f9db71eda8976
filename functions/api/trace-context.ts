// The trace a request belongs to, from its `traceparent` (W3C Trace Context)
// or `X-Cloud-Trace-Context` header, so every log line of the request joins
// its trace in Cloud Logging. Both headers are caller-chosen: parsed strictly,
// with a bound on length, and never logged as received: only the validated
// ids go on (an invalid header is as if absent).
import type { TraceContext } from '../log.js';
import type { HeaderReader } from './http.js';

/** Longer than any valid value of either header; anything longer is refused unread. */
const MAX_HEADER_CHARS = 256;

// version "-" trace-id "-" parent-id "-" trace-flags, lowercase hex; a future
// version may append "-" and more fields (https://www.w3.org/TR/trace-context/#versioning-of-traceparent).
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[\x21-\x7e]*)?$/;
// TRACE_ID[/SPAN_ID][;o=OPTIONS]: the span id is decimal, an unsigned 64-bit integer.
const CLOUD_TRACE = /^([0-9a-fA-F]{32})(?:\/([0-9]{1,20}))?(?:;o=([0-9]))?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
const MAX_U64 = (1n << 64n) - 1n;

/** A W3C `traceparent` value, or undefined if it is not a valid one. */
export function parseTraceparent(value: string | null | undefined): TraceContext | undefined {
  if (!value || value.length > MAX_HEADER_CHARS) return undefined;
  const m = TRACEPARENT.exec(value);
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, more] = m as unknown as [string, string, string, string, string, string?];
  // Version ff is forbidden; version 00 has exactly four fields.
  if (version === 'ff' || (version === '00' && more !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

/** An `X-Cloud-Trace-Context` value, or undefined; the decimal span id becomes 16 hex digits. */
export function parseCloudTraceContext(value: string | null | undefined): TraceContext | undefined {
  if (!value || value.length > MAX_HEADER_CHARS) return undefined;
  const m = CLOUD_TRACE.exec(value);
  if (!m) return undefined;
  const traceId = (m[1] as string).toLowerCase();
  if (traceId === ZERO_TRACE) return undefined;
  const trace: TraceContext = { traceId };
  if (m[2] !== undefined) {
    const span = BigInt(m[2]);
    if (span > MAX_U64) return undefined;
    if (span > 0n) trace.spanId = span.toString(16).padStart(16, '0');
  }
  if (m[3] !== undefined) trace.sampled = (Number(m[3]) & 1) === 1;
  return trace;
}

/** The request's trace: `traceparent` when valid (the standard), else `X-Cloud-Trace-Context`. */
export function traceFromHeaders(headers: Pick<HeaderReader, 'get'>): TraceContext | undefined {
  return parseTraceparent(headers.get('traceparent')) ?? parseCloudTraceContext(headers.get('x-cloud-trace-context'));
}

/** A CloudEvent's trace: its `traceparent` extension attribute (Distributed Tracing extension), if valid. */
export function traceFromCloudEvent(event: object): TraceContext | undefined {
  const traceparent = 'traceparent' in event ? event.traceparent : undefined;
  return typeof traceparent === 'string' ? parseTraceparent(traceparent) : undefined;
}
