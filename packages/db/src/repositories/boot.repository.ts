import { summariseRun, CellStatus, type CellCompliance, type ConsoleDto, type InspectionDto, type ImageFormat, type Outcome, type BootStage, type VmProfile } from '@bootfarm/contracts';
import { VmProfile as VmProfileSchema } from '@bootfarm/contracts';
import type { Prisma, PrismaClient } from '../client.js';
import { notifyCellChanged, notifyConsoleAppended } from '../console/console.channel.js';
import { ConsoleStore } from '../console/console.store.js';

/** What a worker needs to boot a cell. */
export interface CellWork {
  cellId: string;
  /** The cell's profile key, unique within its run and image. */
  key: string;
  runId: string;
  profile: VmProfile;
  timeoutMs: number;
  image: { id: string; name: string; sha256: string; format: ImageFormat; sizeBytes: number; inspection: InspectionDto | null };
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
  /** The cell's requirement verdicts (null when they could not be computed). */
  compliance?: CellCompliance | null;
}

/**
 * The worker's side of the record: attempts, console lines and the one result per cell.
 * BullMQ delivers a job at least once; everything here is safe to repeat.
 */
export class BootRepository {
  constructor(private readonly db: PrismaClient) {}

  /** The cell and its image, or null when the cell no longer exists. */
  async loadWork(cellId: string): Promise<CellWork | null> {
    const cell = await this.db.cell.findUnique({ where: { id: cellId }, include: { runImage: { include: { image: true } } } });
    if (!cell) return null;
    const image = cell.runImage.image;
    return {
      cellId: cell.id,
      key: cell.key,
      runId: cell.runId,
      profile: VmProfileSchema.parse(cell.profile),
      timeoutMs: cell.timeoutMs,
      image: {
        id: image.id,
        name: image.name,
        sha256: image.sha256,
        format: image.format as ImageFormat,
        sizeBytes: Number(image.sizeBytes),
        inspection: (image.inspection ?? null) as InspectionDto | null,
      },
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
      if (!cell || cell.result || cell.status === 'not_applicable') return null;
      const last = await tx.attempt.findFirst({ where: { cellId }, orderBy: { number: 'desc' }, select: { number: true } });
      const number = (last?.number ?? 0) + 1;
      // A newer attempt supersedes any older one still marked running (its worker was lost).
      await tx.attempt.updateMany({ where: { cellId, status: 'running' }, data: { status: 'superseded', finishedAt: new Date() } });
      const attempt = await tx.attempt.create({ data: { cellId, number, workerId, status: 'running' } });
      await notifyCellChanged(tx, attempt.id); // live streams announce the attempt at once
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

  /** Wakes live console streams: `attemptId` has lines up to `lastSeq` (see {@link notifyConsoleAppended}). */
  async notifyConsole(attemptId: string, lastSeq: number): Promise<void> {
    await notifyConsoleAppended(this.db, attemptId, lastSeq);
  }

  /**
   * Records the cell's outcome from this attempt. Fenced: accepted only if the attempt is still
   * the cell's current one and the cell has no result yet. Returns whether this attempt's outcome
   * is the cell's result (a replayed write of the accepted attempt answers true again, changing nothing).
   * When the last cell of the run becomes terminal the run's status is settled in the same
   * transaction, and `runSettled` is true for that one write only (its caller writes the run's
   * compliance report).
   */
  async finishAttempt(ticket: AttemptTicket, outcome: CellOutcome): Promise<{ accepted: boolean; runSettled: boolean }> {
    return this.db.$transaction(async (tx) => {
      const attempt = await tx.attempt.findUnique({ where: { id: ticket.attemptId } });
      if (!attempt) return { accepted: false, runSettled: false };
      await tx.$queryRaw`SELECT id FROM cell WHERE id = ${attempt.cellId}::uuid FOR UPDATE`;
      const cell = await tx.cell.findUniqueOrThrow({ where: { id: attempt.cellId }, include: { result: { select: { attemptId: true } } } });
      // A replay of the write that was accepted changes nothing and says so again.
      if (cell.result?.attemptId === attempt.id) return { accepted: true, runSettled: false };
      const current = await tx.attempt.findFirst({ where: { cellId: cell.id }, orderBy: { number: 'desc' }, select: { id: true } });
      const now = new Date();
      if (cell.result || current?.id !== attempt.id) {
        await tx.attempt.updateMany({ where: { id: attempt.id, status: 'running' }, data: { status: 'fenced', finishedAt: now } });
        return { accepted: false, runSettled: false };
      }
      await tx.attempt.update({ where: { id: attempt.id }, data: { status: outcome.outcome, finishedAt: now } });
      const { vendorId } = await tx.run.findUniqueOrThrow({ where: { id: cell.runId }, select: { vendorId: true } });
      await tx.result.create({
        data: {
          cellId: cell.id,
          runId: cell.runId,
          vendorId,
          imageId: cell.imageId,
          cellKey: cell.key,
          backend: cell.backend,
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
          ...(outcome.compliance && { compliance: outcome.compliance as unknown as Prisma.InputJsonValue }),
        },
      });
      await tx.cell.update({ where: { id: cell.id }, data: { status: outcome.outcome, finishedAt: now } });
      const runSettled = await this.settleRun(tx, cell.runId, now);
      await notifyCellChanged(tx, attempt.id); // live streams end at once
      return { accepted: true, runSettled };
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
    const lines = await new ConsoleStore(this.db).page(attempt.id, opts.afterSeq ?? -1, opts.limit + 1);
    const page = lines.slice(0, opts.limit);
    return { cellId, attempt: attempt.number, lines: page, nextSeq: lines.length > opts.limit ? (page.at(-1)?.seq ?? null) : null };
  }

  /** Returns true when this call made the run terminal. */
  private async settleRun(tx: Prisma.TransactionClient, runId: string, now: Date): Promise<boolean> {
    // Run row lock: the last two cells of a run finishing at once must not each read the other's
    // uncommitted status as still running (which would leave the run running forever).
    const [run] = await tx.$queryRaw<{ status: string }[]>`SELECT status FROM run WHERE id = ${runId}::uuid FOR UPDATE`;
    const cells = await tx.cell.findMany({ where: { runId }, select: { status: true } });
    const status = summariseRun(cells.map((c) => CellStatus.parse(c.status)));
    const isTerminal = (s: string | undefined): boolean => s !== undefined && !['queued', 'running'].includes(s);
    await tx.run.update({ where: { id: runId }, data: { status, ...(isTerminal(status) && { finishedAt: now }) } });
    return isTerminal(status) && !isTerminal(run?.status);
  }
}
