import { BootRepository, inScope, OpsRepository, RunRepository } from '@bootfarm/db';
import { Controller, Get, Inject, Logger, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { once } from 'node:events';
import { z } from 'zod';
import { BadRequestError, NotFoundError } from '../common/errors.js';
import { parseId } from '../common/ids.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { VendorContext } from '../vendors/vendor.context.js';
import { ConsoleHub } from './console.hub.js';
import { ConsoleSession, type ConsoleCursor, type ConsoleSink } from './console.session.js';

const StreamQuery = z.strictObject({
  attempt: z.coerce.number().int().min(1).optional(),
  afterSeq: z.coerce.number().int().min(-1).optional(),
});

/** `Last-Event-ID` is `<attempt>:<seq>` (what this stream sends) or a bare `<seq>` of the latest attempt. */
export function parseLastEventId(value: string): { attempt: number | null; seq: number } {
  const m = /^(?:(\d{1,9}):)?(-1|\d{1,9})$/.exec(value.trim());
  if (!m) throw new BadRequestError('Last-Event-ID must be <attempt>:<seq> or <seq>');
  return { attempt: m[1] === undefined ? null : Number(m[1]), seq: Number(m[2]) };
}

/**
 * A cell's console as Server-Sent Events. Events:
 * - `attempt` `{attempt}`: the lines that follow belong to this attempt (sent first, and again on a retry);
 * - (unnamed) `{seq, offsetMs, text, attempt}` with `id: <attempt>:<seq>`, one per console line;
 * - `end` `{status, attempt}`: the cell is terminal; the server closes the stream.
 * Reconnecting with `Last-Event-ID` (or `?attempt=&afterSeq=`) resumes after the last line received.
 */
@ApiTags('cells')
@Controller('api/cells')
export class ConsoleStreamController {
  private readonly logger = new Logger(ConsoleStreamController.name);

  constructor(
    private readonly boots: BootRepository,
    private readonly ops: OpsRepository,
    private readonly runs: RunRepository,
    private readonly vendor: VendorContext,
    private readonly hub: ConsoleHub,
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
  ) {}

  @Get(':id/console/stream')
  @ApiProduces('text/event-stream')
  @ApiOperation({ summary: "Follow the cell's console live (Server-Sent Events), resumable with Last-Event-ID" })
  async stream(@Param('id') id: string, @Query(new ZodPipe(StreamQuery)) q: z.output<typeof StreamQuery>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const cellId = parseId(id, 'cell');
    const vendorId = this.vendor.vendorId; // the caller's: its streams count against its own bound
    const owner = await this.runs.cellVendor(cellId);
    // Admins follow every vendor's cells; anyone else sees another vendor's cell as missing.
    if (owner === null || !inScope(this.vendor.scope, owner)) throw new NotFoundError(`cell ${cellId} not found`);
    const cursor = await this.startCursor(cellId, req.header('last-event-id'), q);

    let closed = false;
    let poll: NodeJS.Timeout | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    const sink = eventSink(res, () => closed);
    let unsubscribe = () => {};
    const cleanup = () => {
      if (closed) return;
      closed = true;
      session.stop();
      unsubscribe();
      clearInterval(poll);
      clearInterval(heartbeat);
      if (!res.writableEnded) res.end();
    };
    const session = new ConsoleSession(cellId, { ops: this.ops, boots: this.boots }, sink, cursor, (err) => this.logger.warn(`console stream ${cellId}: ${(err as Error).message}`), cleanup);
    unsubscribe = this.hub.subscribe({ cellId, vendorId, wake: () => session.wake(), close: cleanup });

    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('x-accel-buffering', 'no'); // nginx: do not buffer the stream
    res.flushHeaders();
    res.write('retry: 1000\n\n');
    req.socket.setNoDelay(true);
    res.on('close', cleanup);
    poll = setInterval(() => session.wake(), this.config.CONSOLE_STREAM_POLL_MS);
    heartbeat = setInterval(() => {
      if (!closed) res.write(': keep-alive\n\n');
    }, this.config.CONSOLE_STREAM_HEARTBEAT_MS);
    session.wake();
  }

  /** Resumes from Last-Event-ID, else from ?attempt=&afterSeq=, else from the latest attempt's start. */
  private async startCursor(cellId: string, lastEventId: string | undefined, q: z.output<typeof StreamQuery>): Promise<ConsoleCursor> {
    const given = lastEventId ? parseLastEventId(lastEventId) : q.afterSeq !== undefined || q.attempt !== undefined ? { attempt: q.attempt ?? null, seq: q.afterSeq ?? -1 } : null;
    if (!given) return { attempt: null, seq: -1 };
    if (given.attempt !== null) return given;
    // A bare seq belongs to the attempt being followed now.
    const progress = await this.ops.cellProgress(cellId);
    return progress?.latestAttempt ? { attempt: progress.latestAttempt, seq: given.seq } : { attempt: null, seq: -1 };
  }
}

/** Writes SSE frames, waiting for `drain` when the client reads slower than the console grows. */
function eventSink(res: Response, closed: () => boolean): ConsoleSink {
  const frame = async (text: string) => {
    if (closed()) return;
    if (!res.write(text)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  };
  return {
    line: (l) => frame(`id: ${l.attempt}:${l.seq}\ndata: ${JSON.stringify(l)}\n\n`),
    attempt: (attempt) => frame(`event: attempt\ndata: ${JSON.stringify({ attempt })}\n\n`),
    end: (status, attempt) => frame(`event: end\ndata: ${JSON.stringify({ status, attempt })}\n\n`),
  };
}
