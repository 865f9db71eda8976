// A CloudEvent function asks Pub/Sub to redeliver an event by throwing, and
// functions-framework prints whatever is thrown as plain text. So the failure
// is logged here first, through the logger (with the event's trace and task):
// WARNING when a redelivery is the expected cure (a backend that did not
// answer, another delivery holding the task), ERROR with the stack otherwise;
// what reaches the framework is one short line.
import { ServiceError } from '../domain/errors.js';
import { log, logError } from '../log.js';
import { AssemblyBusyError } from '../provenance/assembler.js';

/** Thrown to functions-framework once the failure is logged: its stack is one line. */
export class RedeliveryRequested extends Error {
  override name = 'RedeliveryRequested';
  constructor(cause: unknown) {
    super(`event not handled, Pub/Sub will redeliver it: ${cause instanceof Error ? cause.name : typeof cause}`, {
      cause,
    });
    this.stack = `${this.name}: ${this.message} (logged above)`;
  }
}

/** Whether a redelivery is the expected cure, not a sign of a fault. */
export function isTransient(err: unknown): boolean {
  return (
    err instanceof AssemblyBusyError ||
    (err instanceof ServiceError && (err.code === 'unavailable' || err.code === 'resource_exhausted'))
  );
}

/** Runs an event's work; a failure is logged, then thrown on so the event is redelivered. */
export async function redeliverOnFailure<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isTransient(err)) log('WARNING', 'event not handled; Pub/Sub will redeliver it', { error: err });
    else logError('event failed; Pub/Sub will redeliver it', err);
    throw new RedeliveryRequested(err);
  }
}
