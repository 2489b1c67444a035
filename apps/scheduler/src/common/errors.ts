/** A resource that does not exist for the caller (another vendor's resource is not found too). */
export class NotFoundError extends Error {
  readonly code = 'NOT_FOUND';
  override readonly name = 'NotFoundError';
}

/** The upload crossed UPLOAD_MAX_BYTES. */
export class PayloadTooLargeError extends Error {
  readonly code = 'PAYLOAD_TOO_LARGE';
  override readonly name = 'PayloadTooLargeError';
}

/** A client error that is not a validation error (bad header, stalled upload...). */
export class BadRequestError extends Error {
  readonly code = 'BAD_REQUEST';
  override readonly name = 'BadRequestError';
}

/** A dependency (Redis, the queue) is unavailable; the client may retry. */
export class UnavailableError extends Error {
  readonly code = 'UNAVAILABLE';
  override readonly name = 'UnavailableError';
}

/** The request conflicts with the resource's state (e.g. a report asked for before the run ended). */
export class ConflictError extends Error {
  readonly code = 'CONFLICT';
  override readonly name = 'ConflictError';
}

/** No valid API token. One message for every cause (missing, malformed, unknown, revoked). */
export class UnauthorizedError extends Error {
  readonly code = 'UNAUTHORIZED';
  override readonly name = 'UnauthorizedError';
  constructor() {
    super('a valid API token is required (Authorization: Bearer <token>)');
  }
}

/** A valid token whose role may not use the route. */
export class ForbiddenError extends Error {
  readonly code = 'FORBIDDEN';
  override readonly name = 'ForbiddenError';
  constructor() {
    super("this token's role may not use this route");
  }
}

/** The caller spent a rate budget; it may retry after `retryAfterSec`. */
export class TooManyRequestsError extends Error {
  readonly code = 'RATE_LIMITED';
  override readonly name = 'TooManyRequestsError';
  constructor(message: string, readonly retryAfterSec: number) {
    super(message);
  }
}
