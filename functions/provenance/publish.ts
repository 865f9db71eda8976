// Publishing a task's signed provenance beside its artifacts: the one loop the
// assembler and the sweep's recovery pass share. Targets are named by
// reporters, so each goes to its sink's refuses() first (no network for a
// refused one); the rest are published a fixed number at a time, each under a
// deadline whose AbortSignal the sink hands to every request. The envelope and
// bundle are serialised once per task, before the loop; an outcome is always
// recorded, never thrown, so publishing never blocks or fails signing.
import { createHash } from 'node:crypto';
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
    envelopeSha256: createHash('sha256').update(envelopeJson, 'utf8').digest('hex'),
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
  const named = new Set(targets.map((t) => `${t.sink} ${t.target}`));
  const outcomes: (Publication | undefined)[] = new Array(targets.length);
  const queue = work.values(); // shared by the workers: each target is taken once
  const worker = async () => {
    for (const { i, sink, target } of queue) {
      // The task says that name holds one of its artifacts: writing provenance there would squat it.
      const squatted = sink.writes?.(target).find((name) => named.has(`${sink.name} ${name}`));
      outcomes[i] = await publishOne(sink, target, provenance, opts, squatted);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, work.length)) }, worker));
  return outcomes.filter((p): p is Publication => p !== undefined);
}

async function publishOne(
  sink: Sink,
  target: string,
  provenance: SignedProvenance,
  opts: PublishOptions,
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
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new PublishTimeoutError(`no answer within the ${opts.deadlineMs / 1000}s deadline`)),
    opts.deadlineMs,
  );
  try {
    await sink.publish(target, provenance, deadline.signal);
    return done('published');
  } catch (err) {
    if (err instanceof PublishConflictError) return done('conflict', err.message);
    // A request aborted by the deadline rejects with whatever its client makes of the abort: name the deadline.
    if (deadline.signal.aborted) return done('failed', messageOf(deadline.signal.reason));
    return done('failed', messageOf(err));
  } finally {
    clearTimeout(timer);
  }
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
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

/** One line of printable text, bounded, for the record and the status. */
function printable(s: string): string {
  const line = s.replace(/[^\x20-\x7e]+/g, ' ').trim();
  return line.length > MAX_REASON_LENGTH ? `${line.slice(0, MAX_REASON_LENGTH - 1)}…` : line;
}
