import { ImageRejectedError } from '@bootfarm/inspect';
import { InvalidCursorError, StorageQuotaExceededError, VendorExistsError } from '@bootfarm/db';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { ErrorDto } from '@bootfarm/contracts';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { ZodError } from 'zod';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, PayloadTooLargeError, TooManyRequestsError, UnauthorizedError, UnavailableError } from './errors.js';

const reasons: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests', 404: 'Not Found', 408: 'Request Timeout', 413: 'Payload Too Large',
  409: 'Conflict', 422: 'Unprocessable Entity', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/**
 * Maps every error to one JSON shape (ErrorDto). Domain errors get their status; anything
 * unexpected is a 500 whose body reveals nothing but a correlation id that is in the log.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const body = this.toBody(err);
    if (res.headersSent) {
      res.end();
      return;
    }
    // Any refusal may come while a body is still streaming in (a 413, or a 401/403/429 of an
    // upload): read it for a bounded time only, never to its end.
    lingerThenClose(http.getRequest<Request>(), res);
    if (err instanceof UnauthorizedError) res.setHeader('WWW-Authenticate', 'Bearer');
    if (err instanceof TooManyRequestsError) res.setHeader('Retry-After', String(err.retryAfterSec));
    res.status(body.statusCode).json(body);
  }

  private toBody(err: unknown): ErrorDto {
    const make = (statusCode: number, message: string): ErrorDto => ({ statusCode, error: reasons[statusCode] ?? 'Error', message });
    if (err instanceof ZodError) {
      return {
        ...make(400, 'invalid request'),
        issues: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      };
    }
    if (err instanceof UnauthorizedError) return make(401, err.message);
    if (err instanceof ForbiddenError) return make(403, err.message);
    if (err instanceof TooManyRequestsError) return make(429, err.message);
    if (err instanceof StorageQuotaExceededError) return { ...make(413, err.message), error: 'quota_exceeded' };
    if (err instanceof VendorExistsError) return make(409, err.message);
    if (err instanceof NotFoundError) return make(404, err.message);
    if (err instanceof ConflictError) return make(409, err.message);
    if (err instanceof ImageRejectedError) return { ...make(422, err.message), error: `image_rejected:${err.code}` };
    if (err instanceof PayloadTooLargeError) return make(413, err.message);
    if (err instanceof BadRequestError || err instanceof InvalidCursorError) return make(400, err.message);
    if (err instanceof UnavailableError) return make(503, err.message);
    if (err instanceof HttpException) {
      const status = err.getStatus();
      return status >= 500 ? this.internal(err) : make(status, err.message);
    }
    return this.internal(err);
  }

  private internal(err: unknown): ErrorDto {
    const id = randomUUID();
    this.logger.error(`unhandled error ${id}`, err instanceof Error ? err.stack : String(err));
    return { statusCode: 500, error: reasons[500]!, message: `internal error (correlation id ${id})` };
  }
}

const LINGER_MS = 5_000;
const LINGER_BYTES = 64 * 1024 * 1024;

/**
 * A refused request (an upload, typically) may still be streaming. Closing at once would reset
 * the connection and the client could lose the answer we just sent, so after answering, the rest of the body is read and
 * discarded (Node does that for unconsumed requests) for a bounded time and byte count, then
 * the connection is closed ("lingering close", as Apache and nginx do).
 */
function lingerThenClose(req: Request, res: Response): void {
  res.on('finish', () => {
    if (req.readableEnded) return;
    let drained = 0;
    const close = () => req.socket.destroy();
    const timer = setTimeout(close, LINGER_MS).unref();
    req.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > LINGER_BYTES) close();
    });
    req.once('end', () => clearTimeout(timer));
    req.resume();
  });
}
