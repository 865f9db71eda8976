// Publishing a task's signed provenance beside its artifacts: the one loop the
// assembler and the sweep's recovery pass share. Targets are named by
// reporters, so each goes to its sink's refuses() first (no network for a
// refused one); the rest are published a fixed number at a time, each under a
// deadline whose AbortSignal the sink hands to every request. The envelope and
// bundle are serialised once per task, before the loop; an outcome is always
// recorded, never thrown, so publishing never blocks or fails signing.
import { inParallel } from '../domain/in-parallel.js';
import { sha256Hex } from '../domain/digest.js';
import type { StoredReport } from '../domain/report.js';
import type { TaskRecord } from '../domain/task.js';
import {
  PublishConflictError,
  type Publication,
  type PublishTarget,
  type SignedProvenance,
  type Sink,
} from '../ports/publisher.js';
import { envelopeToBundle } from './bundle.js';
import type { Envelope } from './dsse.js';
import { inWindow } from './statement.js';

/** CIPD's production backend: a CIPD artifact reported without a host lives there. */
export const CIPD_DEFAULT_HOST = 'chrome-infra-packages.appspot.com';

/** Longest reason recorded for a publication (it is stored per target and shown in the status). */
export const MAX_REASON_LENGTH = 300;

export interface PublishOptions {
  /** Publications in flight at once. */
  concurrency: number;
  /** Per publication: its signal aborts every request of it after this long. */
  deadlineMs: number;
  now: () => Date;
  /** All the task's targets when `targets` is some of them (the sweep's retry): what a written name may collide with. */
  taskTargets?: readonly PublishTarget[];
}

/** The places a task's artifacts live, as canonical targets (ports/publisher.ts), deduplicated and sorted. */
export function publicationTargets(task: TaskRecord, reports: StoredReport[]): PublishTarget[] {
  const targets = new Map<string, PublishTarget>();
  for (const { report: r } of inWindow(task, reports)) {
    if (r.kind !== 'artifact') continue;
    const l = r.location;
    const t: PublishTarget =
      l.type === 'oci'
        ? { sink: 'oci', target: `${l.image}@sha256:${r.sha256}` }
        : l.type === 'gcs'
          ? { sink: 'gcs', target: l.uri }
          : { sink: 'cipd', target: `cipd://${l.host || CIPD_DEFAULT_HOST}/${l.packageName}@${l.instanceId}` };
    targets.set(`${t.sink} ${t.target}`, t);
  }
  return [...targets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, t]) => t);
}

/** The envelope and its bundle as the sinks write them, serialised once. */
export function signedProvenance(taskId: string, envelope: Envelope): SignedProvenance {
  const envelopeJson = JSON.stringify(envelope);
  return {
    taskId,
    keyId: envelope.signatures[0]?.keyid ?? '',
    envelopeJson,
    envelopeSha256: sha256Hex(envelopeJson),
    bundleJson: JSON.stringify(envelopeToBundle(envelope)),
  };
}

/**
 * Publishes to every target whose sink is enabled (a target of a sink not in
 * `sinks` gets no publication), at most `concurrency` at once, and returns one
 * outcome per such target in the targets' order.
 */
export async function publishAll(
  sinks: readonly Sink[],
  targets: readonly PublishTarget[],
  provenance: SignedProvenance,
  opts: PublishOptions,
): Promise<Publication[]> {
  const bySink = new Map(sinks.map((s) => [s.name, s]));
  const work = targets.flatMap((t, i) => {
    const sink = bySink.get(t.sink);
    return sink ? [{ i, sink, target: t.target }] : [];
  });
  const named = new Set((opts.taskTargets ?? targets).map((t) => `${t.sink} ${t.target}`));
  const breaker = new TimeoutBreaker();
  const outcomes: (Publication | undefined)[] = new Array(targets.length);
  // publishOne records every failure as an outcome, so the pool never has an error to rethrow.
  await inParallel(work, opts.concurrency, async ({ i, sink, target }) => {
    // The task says that name holds one of its artifacts: writing provenance there would squat it.
    const squatted = sink.writes?.(target).find((name) => named.has(`${sink.name} ${name}`));
    outcomes[i] = await publishOne(sink, target, provenance, opts, breaker, squatted);
  });
  return outcomes.filter((p): p is Publication => p !== undefined);
}

async function publishOne(
  sink: Sink,
  target: string,
  provenance: SignedProvenance,
  opts: PublishOptions,
  breaker: TimeoutBreaker,
  squatted?: string,
): Promise<Publication> {
  const done = (state: Publication['state'], error?: string): Publication => ({
    sink: sink.name,
    target,
    state,
    ...(error !== undefined ? { error: printable(error) } : {}),
    at: opts.now(),
  });
  let refusal: string | undefined;
  try {
    refusal = sink.refuses(target);
  } catch (err) {
    refusal = `not a valid ${sink.name} target: ${messageOf(err)}`;
  }
  if (refusal !== undefined) return done('skipped', refusal);
  if (squatted !== undefined) return done('conflict', `${squatted} is itself an artifact of this task; not written`);
  const destination = destinationOf(sink.name, target);
  const tripped = breaker.tripped(destination);
  if (tripped !== undefined) return done('failed', tripped);
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new PublishTimeoutError(`no answer within the ${opts.deadlineMs / 1000}s deadline`)),
    opts.deadlineMs,
  );
  try {
    await sink.publish(target, provenance, deadline.signal);
    breaker.record(destination, false);
    return done('published');
  } catch (err) {
    if (err instanceof PublishConflictError) return done('conflict', err.message);
    // A request aborted by the deadline rejects with whatever its client makes of the abort: name the deadline.
    breaker.record(destination, deadline.signal.aborted);
    if (deadline.signal.aborted) return done('failed', messageOf(deadline.signal.reason));
    return done('failed', messageOf(err));
  } finally {
    clearTimeout(timer);
  }
}

/** Deadlines missed in a row by one destination before the rest of its targets in the pass are not attempted. */
export const TIMEOUTS_BEFORE_GIVING_UP = 3;

/**
 * Per pass, per destination (registry host, bucket, CIPD host): one that
 * missed TIMEOUTS_BEFORE_GIVING_UP deadlines in a row gets no more requests in
 * this pass; its remaining targets are recorded failed (the sweep retries
 * them). Without it, 2,000 targets on a registry that accepts and never
 * answers hold the assembler for 2,000 deadlines over the concurrency
 * (over two hours at 30 s and 8), far past the function's timeout.
 */
class TimeoutBreaker {
  private readonly missed = new Map<string, number>();

  tripped(destination: string): string | undefined {
    const missed = this.missed.get(destination) ?? 0;
    return missed >= TIMEOUTS_BEFORE_GIVING_UP
      ? `not attempted: ${destination} missed ${missed} deadlines in a row in this pass; retried later`
      : undefined;
  }

  record(destination: string, timedOut: boolean): void {
    if (timedOut) this.missed.set(destination, (this.missed.get(destination) ?? 0) + 1);
    else if ((this.missed.get(destination) ?? 0) < TIMEOUTS_BEFORE_GIVING_UP) this.missed.delete(destination);
  }
}

/** Where a canonical target's requests go: "registry[:port]", "gs://bucket", "cipd://host[:port]". */
function destinationOf(sink: Sink['name'], target: string): string {
  const rest = target.replace(/^[a-z]+:\/\//, '');
  const first = rest.slice(0, Math.max(0, rest.indexOf('/'))) || rest;
  return sink === 'oci' ? first : `${sink === 'gcs' ? 'gs' : 'cipd'}://${first}`;
}

/** The deadline of one publication passed; its requests were aborted. */
export class PublishTimeoutError extends Error {
  readonly code = 'PUBLISH_TIMEOUT';
}

/** A recorded outcome for each (sink, target): later ones replace earlier ones, order kept. */
export function mergePublications(earlier: readonly Publication[], later: readonly Publication[]): Publication[] {
  const byTarget = new Map(earlier.map((p) => [`${p.sink} ${p.target}`, p]));
  for (const p of later) byTarget.set(`${p.sink} ${p.target}`, p);
  return [...byTarget.values()];
}

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    // Node's connection errors may be an AggregateError with no message of its own (one per address tried).
    const first = err instanceof AggregateError && err.errors[0] instanceof Error ? err.errors[0].message : '';
    const code = (err as { code?: unknown }).code;
    const own = err.message || first || (typeof code === 'string' ? code : '') || err.name;
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${own}${cause}`;
  }
  return String(err) || 'failed without a reason';
}

/** One line of printable text, bounded, for the record and the status. */
function printable(s: string): string {
  const line = s.replace(/[^\x20-\x7e]+/g, ' ').trim();
  return line.length > MAX_REASON_LENGTH ? `${line.slice(0, MAX_REASON_LENGTH - 1)}…` : line;
}
