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
