// Typed errors the domain raises. Each carries a Connect-style code so the
// HTTP edge can answer with the right status without knowing the domain.

export type ErrorCode =
  | 'invalid_argument'
  | 'unauthenticated'
  | 'permission_denied'
  | 'not_found'
  | 'already_exists'
  | 'failed_precondition'
  | 'resource_exhausted'
  | 'unavailable'
  | 'internal';

export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The request field at fault, when there is one (e.g. "git_report.commit"). */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** A field failed validation; the message names the field. */
export class InvalidFieldError extends ServiceError {
  constructor(field: string, problem: string) {
    super('invalid_argument', `${field}: ${problem}`, field);
    this.name = 'InvalidFieldError';
  }
}

export const unauthenticated = (why: string) => new ServiceError('unauthenticated', why);
export const permissionDenied = (why: string) => new ServiceError('permission_denied', why);
export const failedPrecondition = (why: string) => new ServiceError('failed_precondition', why);
export const alreadyExists = (why: string) => new ServiceError('already_exists', why);
export const notFound = (why: string) => new ServiceError('not_found', why);
export const unavailable = (why: string) => new ServiceError('unavailable', why);
