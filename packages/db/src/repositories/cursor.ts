/** A cursor the caller sent that this API never issued. */
export class InvalidCursorError extends Error {
  readonly code = 'INVALID_CURSOR';
  override readonly name = 'InvalidCursorError';
}

/** Keyset cursors on (instant, id): opaque to callers, stable while rows arrive. */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(createdAt.getTime())) throw new InvalidCursorError('invalid cursor');
  return { createdAt, id };
}
