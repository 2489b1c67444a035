import { summariseRun, CellStatus, type ConsoleDto, type ImageFormat, type Outcome, type BootStage, type VmProfile } from '@bootfarm/contracts';
import { VmProfile as VmProfileSchema } from '@bootfarm/contracts';
import type { Prisma, PrismaClient } from '../client.js';

/** What a worker needs to boot a cell. */
export interface CellWork {
  cellId: string;
  runId: string;
  profile: VmProfile;
  timeoutMs: number;
  image: { id: string; sha256: string; format: ImageFormat; sizeBytes: number };
}

/** The attempt a worker holds while it boots a cell. */
export interface AttemptTicket {
  attemptId: string;
  number: number;
}

/** A cell's accepted outcome, as the worker reports it. */
export interface CellOutcome {
  outcome: Outcome;
  failureClass: string | null;
  reason: string;
  stage: BootStage;
  durationMs: number;
  /** The exact commands (argv, shell form, overlay creation, a reproduce script). */
  command: Record<string, unknown>;
  commandLine: string;
  firmware: Record<string, unknown>;
  facts: Record<string, unknown>;
  /** How the verdict was reached: stages, the deciding line, QEMU's exit, containment. */
  evidence: Record<string, unknown>;
}

/**
 * The worker's side of the record: attempts, console lines and the one result per cell.
 * BullMQ delivers a job at least once; everything here is safe to repeat.
 */
export class BootRepository {
  constructor(private readonly db: PrismaClient) {}

  /** The cell and its image, or null when the cell no longer exists. */
  async loadWork(cellId: string): Promise<CellWork | null> {
    const cell = await this.db.cell.findUnique({ where: { id: cellId }, include: { run: { include: { image: true } } } });
    if (!cell) return null;
    const image = cell.run.image;
    return {
      cellId: cell.id,
      runId: cell.runId,
      profile: VmProfileSchema.parse(cell.profile),
      timeoutMs: cell.timeoutMs,
      image: { id: image.id, sha256: image.sha256, format: image.format as ImageFormat, sizeBytes: Number(image.sizeBytes) },
    };
  }

  /**
   * Opens a new attempt on a cell, or returns null when the cell already has its result
   * (a redelivered job must not boot again).
   */
  async startAttempt(cellId: string, workerId: string): Promise<AttemptTicket | null> {
    return this.db.$transaction(async (tx) => {
      // Row lock: two deliveries of the same job serialise here.
      await tx.$queryRaw`SELECT id FROM cell WHERE id = ${cellId}::uuid FOR UPDATE`;
      const cell = await tx.cell.findUnique({ where: { id: cellId }, include: { result: { select: { id: true } } } });
      if (!cell || cell.result) return null;
      const last = await tx.attempt.findFirst({ where: { cellId }, orderBy: { number: 'desc' }, select: { number: true } });
      const number = (last?.number ?? 0) + 1;
      // A newer attempt supersedes any older one still marked running (its worker was lost).
      await tx.attempt.updateMany({ where: { cellId, status: 'running' }, data: { status: 'superseded', finishedAt: new Date() } });
      const attempt = await tx.attempt.create({ data: { cellId, number, workerId, status: 'running' } });
      await tx.cell.update({ where: { id: cellId }, data: { status: 'running', startedAt: cell.startedAt ?? new Date() } });
      await tx.run.updateMany({ where: { id: cell.runId, status: 'queued' }, data: { status: 'running' } });
      return { attemptId: attempt.id, number };
    });
  }

  /** Appends console lines; a repeated batch is ignored (lines are keyed by attempt and seq). */
  async appendConsole(attemptId: string, lines: { seq: number; offsetMs: number; text: string }[]): Promise<void> {
    if (lines.length === 0) return;
    await this.db.consoleLine.createMany({
      data: lines.map((l) => ({ attemptId, seq: l.seq, offsetMs: Math.round(l.offsetMs), text: l.text.replaceAll('\u0000', '') })),
      skipDuplicates: true,
    });
  }

  /**
   * Records the cell's outcome from this attempt. Fenced: accepted only if the attempt is still
   * the cell's current one and the cell has no result yet. Returns whether this attempt's outcome
   * is the cell's result (a replayed write of the accepted attempt answers true again, changing nothing).
   * When the last cell of the run becomes terminal the run's status is settled in the same transaction.
   */
  async finishAttempt(ticket: AttemptTicket, outcome: CellOutcome): Promise<{ accepted: boolean }> {
    return this.db.$transaction(async (tx) => {
      const attempt = await tx.attempt.findUnique({ where: { id: ticket.attemptId } });
      if (!attempt) return { accepted: false };
      await tx.$queryRaw`SELECT id FROM cell WHERE id = ${attempt.cellId}::uuid FOR UPDATE`;
      const cell = await tx.cell.findUniqueOrThrow({ where: { id: attempt.cellId }, include: { result: { select: { attemptId: true } } } });
      // A replay of the write that was accepted changes nothing and says so again.
      if (cell.result?.attemptId === attempt.id) return { accepted: true };
      const current = await tx.attempt.findFirst({ where: { cellId: cell.id }, orderBy: { number: 'desc' }, select: { id: true } });
      const now = new Date();
      if (cell.result || current?.id !== attempt.id) {
        await tx.attempt.updateMany({ where: { id: attempt.id, status: 'running' }, data: { status: 'fenced', finishedAt: now } });
        return { accepted: false };
      }
      await tx.attempt.update({ where: { id: attempt.id }, data: { status: outcome.outcome, finishedAt: now } });
      await tx.result.create({
        data: {
          cellId: cell.id,
          attemptId: attempt.id,
          outcome: outcome.outcome,
          failureClass: outcome.failureClass,
          reason: outcome.reason,
          stage: outcome.stage,
          durationMs: Math.round(outcome.durationMs),
          command: outcome.command as Prisma.InputJsonValue,
          commandLine: outcome.commandLine,
          firmware: outcome.firmware as Prisma.InputJsonValue,
          facts: outcome.facts as Prisma.InputJsonValue,
          evidence: outcome.evidence as Prisma.InputJsonValue,
        },
      });
      await tx.cell.update({ where: { id: cell.id }, data: { status: outcome.outcome, finishedAt: now } });
      await this.settleRun(tx, cell.runId, now);
      return { accepted: true };
    });
  }

  /** Marks an attempt that ended in an infrastructure error that will be retried. */
  async abandonAttempt(ticket: AttemptTicket, status: 'infrastructure_error' | 'canceled'): Promise<void> {
    await this.db.attempt.updateMany({ where: { id: ticket.attemptId, status: 'running' }, data: { status, finishedAt: new Date() } });
  }

  /** The console of a cell's latest attempt (or of attempt `number`), from `afterSeq` on. */
  async console(cellId: string, opts: { attempt?: number | undefined; afterSeq?: number | undefined; limit: number }): Promise<ConsoleDto> {
    const attempt = await this.db.attempt.findFirst({
      where: { cellId, ...(opts.attempt !== undefined && { number: opts.attempt }) },
      orderBy: { number: 'desc' },
    });
    if (!attempt) return { cellId, attempt: null, lines: [], nextSeq: null };
    const lines = await this.db.consoleLine.findMany({
      where: { attemptId: attempt.id, seq: { gt: opts.afterSeq ?? -1 } },
      orderBy: { seq: 'asc' },
      take: opts.limit + 1,
      select: { seq: true, offsetMs: true, text: true },
    });
    const page = lines.slice(0, opts.limit);
    return { cellId, attempt: attempt.number, lines: page, nextSeq: lines.length > opts.limit ? (page.at(-1)?.seq ?? null) : null };
  }

  private async settleRun(tx: Prisma.TransactionClient, runId: string, now: Date): Promise<void> {
    const cells = await tx.cell.findMany({ where: { runId }, select: { status: true } });
    const status = summariseRun(cells.map((c) => CellStatus.parse(c.status)));
    const terminal = !['queued', 'running'].includes(status);
    await tx.run.update({ where: { id: runId }, data: { status, ...(terminal && { finishedAt: now }) } });
  }
}
