// Every call to a backend (Firestore, Pub/Sub, KMS) goes through here: it
// gets a deadline well inside the function's timeout, and the backend's
// "try again" answers become the service's: gRPC UNAVAILABLE, DEADLINE_EXCEEDED
// and ABORTED (and a refused or reset connection) are `unavailable` (503),
// RESOURCE_EXHAUSTED is `resource_exhausted` (429), so clients retry; anything
// else passes through unchanged and stays `internal` (a bug). The SDKs retry
// such errors themselves for minutes; a report must not hang that long.
import { ServiceError } from '../domain/errors.js';

/** gRPC status codes (the Google clients put them on err.code). */
const GRPC = { DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, ABORTED: 10, UNAVAILABLE: 14 } as const;
const RETRYABLE_GRPC = new Set<number>([GRPC.DEADLINE_EXCEEDED, GRPC.ABORTED, GRPC.UNAVAILABLE]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/**
 * gRPC INTERNAL is a bug as a rule, but grpc-js also uses it when the
 * connection is torn down mid-call (the server died): that one is an outage.
 */
const GRPC_INTERNAL = 13;
const TRANSPORT_LOST = /RST_STREAM|Call ended without gRPC status|Connection dropped|socket hang up/i;

export const DEFAULT_BACKEND_DEADLINE_MS = 10_000;

/** The backend did not answer in time, or answered "try again". */
export class BackendUnavailableError extends ServiceError {
  constructor(
    message: string,
    readonly backendCode?: number | string,
  ) {
    super('unavailable', message);
    this.name = 'BackendUnavailableError';
  }
}

/** Runs one backend operation under a deadline, translating its retryable failures. */
export async function backendCall<T>(what: string, deadlineMs: number, op: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new BackendUnavailableError(`${what} did not answer within ${deadlineMs / 1000}s; retry`, 'deadline')),
      deadlineMs,
    );
    timer.unref();
  });
  try {
    return await Promise.race([op(), deadline]);
  } catch (err) {
    throw translate(what, err);
  } finally {
    clearTimeout(timer);
  }
}

export function translate(what: string, err: unknown): unknown {
  if (err instanceof ServiceError) return err;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'number' && RETRYABLE_GRPC.has(code))
    return new BackendUnavailableError(`${what} is unavailable (gRPC ${code}); retry`, code);
  if (code === GRPC_INTERNAL && TRANSPORT_LOST.test(String((err as Error).message)))
    return new BackendUnavailableError(`${what} lost its connection; retry`, code);
  if (code === GRPC.RESOURCE_EXHAUSTED)
    return new ServiceError('resource_exhausted', `${what} is over its quota; retry later`);
  if (typeof code === 'string' && NETWORK.has(code))
    return new BackendUnavailableError(`${what} is unreachable (${code}); retry`, code);
  return err;
}
