import { setTimeout as sleep } from 'node:timers/promises';

/** The result write gave up: PostgreSQL stayed unreachable past the bound. */
export class ResultWriteGaveUpError extends Error {
  readonly code = 'RESULT_WRITE_GAVE_UP';
  override readonly name = 'ResultWriteGaveUpError';
}

// Connection-level failures (server down, restarting, refusing, or the pool timing out):
// the write did not happen, or its transaction rolled back, so repeating it is safe.
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', 'P1001', 'P1002', 'P1017', 'P2024']);
const UNAVAILABLE_TEXT = /ECONNREFUSED|ECONNRESET|Connection terminated|terminating connection|the database system is (starting up|shutting down)|connect(ion)? timeout|Can't reach database server|Server has closed the connection/i;

/** True when `err` says PostgreSQL could not be reached (as opposed to a query the database refused). */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && UNAVAILABLE_TEXT.test(message)) return true;
  }
  return false;
}

/**
 * Runs `write` until it succeeds, retrying with exponential backoff (250 ms doubling up to 10 s)
 * for as long as PostgreSQL is unavailable, up to `boundMs` in total. The caller's BullMQ job keeps
 * its lock meanwhile (the wait is asynchronous: the lock renewal timer runs), so the job is
 * completed only after the commit and no other worker boots the cell again. Other errors are
 * thrown at once.
 */
export async function retryWhileDatabaseUnavailable<T>(
  write: () => Promise<T>,
  opts: { boundMs: number; onRetry?: (err: unknown, attempt: number, delayMs: number) => void },
): Promise<T> {
  const deadline = Date.now() + opts.boundMs;
  for (let attempt = 1, delay = 250; ; attempt++, delay = Math.min(delay * 2, 10_000)) {
    try {
      return await write();
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      if (Date.now() + delay > deadline) throw new ResultWriteGaveUpError(`PostgreSQL unreachable for ${opts.boundMs} ms: ${(err as Error).message}`, { cause: err });
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
