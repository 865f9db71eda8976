// Domain errors → Connect errors. Unknown errors become `internal` with a
// generic message (the details go to the log, not to the caller).
import { Code, ConnectError } from '@connectrpc/connect';
import { ServiceError, type ErrorCode } from '../domain/errors.js';
import { logError } from '../log.js';

const CODES: Record<ErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  resource_exhausted: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  internal: Code.Internal,
};

export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof ServiceError) return new ConnectError(err.message, CODES[err.code]);
  logError('unhandled error', err);
  return new ConnectError('internal error', Code.Internal);
}
