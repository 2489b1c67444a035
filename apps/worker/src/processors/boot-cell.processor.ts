import { runCell, type CellRun, type CellRunnerDeps } from '@bootfarm/cell-runner';
import { BootCell, type BootCellResult, type Outcome } from '@bootfarm/contracts';
import type { AttemptTicket, BootRepository, CellOutcome, RunRepository } from '@bootfarm/db';
import type { BootBackend } from '@bootfarm/emulator';
import { parseProbeLines } from '@bootfarm/probe';
import { UnrecoverableError, type Job } from 'bullmq';
import { join } from 'node:path';
import { ConsoleWriter } from '../console.writer.js';
import type { ImageCache } from '../image.cache.js';

/** Everything the processor uses, injected so tests can build it with real parts of their choice. */
export interface BootCellDeps {
  boots: BootRepository;
  runs: RunRepository;
  images: ImageCache;
  launcher: BootBackend;
  workerId: string;
  workDir: string;
  log: (message: string) => void;
  /** A fresh per-boot directory (default: `<workDir>/<attempt id>[-suffix]`). */
  scratchDir?: (attemptId: string, suffix?: string) => string;
  /**
   * Called when the cell failed for an infrastructure reason (QEMU would not start or crashed, the
   * image fetch failed...): the worker's health becomes unknown until a health boot passes.
   */
  onInfrastructureFailure?: (cellId: string, reason: string) => void;
  /** Wraps the result write, e.g. to retry it while PostgreSQL is down. Default: write once. */
  writeResult?: <T>(write: () => Promise<T>) => Promise<T>;
  /**
   * Boots the VMSPEC probe on the cell's platform (twice, sharing one variable store) for the
   * FW/HW verdicts. Default: the probe's `probePlatform` with `launcher`.
   */
  probePlatform?: CellRunnerDeps['probePlatform'];
}

/** An infrastructure failure: thrown to BullMQ so the job is retried (bounded by its attempts). */
export class InfrastructureError extends Error {
  readonly code = 'INFRASTRUCTURE';
  override readonly name = 'InfrastructureError';
}

/** The boot was aborted (the worker is shutting down): retried elsewhere, and no verdict on the worker's health. */
export class CanceledError extends Error {
  readonly code = 'CANCELED';
  override readonly name = 'CanceledError';
}

/**
 * Boots one cell: opens an attempt (or skips a cell that already has its result), fetches the
 * image by digest, boots it with the emulator core while streaming the console to PostgreSQL,
 * and records the outcome, fenced by the attempt. Guest outcomes (failed, timeout) are results,
 * never retries; infrastructure errors are thrown so BullMQ retries them.
 */
export async function handleBootCell(deps: BootCellDeps, job: Job, signal?: AbortSignal): Promise<BootCellResult> {
  const parsed = BootCell.data.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid ${BootCell.name} payload: ${parsed.error.message}`);
  const { cellId } = parsed.data;
  const work = await deps.boots.loadWork(cellId);
  if (!work) throw new UnrecoverableError(`cell ${cellId} does not exist`);
  const ticket = await deps.boots.startAttempt(cellId, deps.workerId);
  if (!ticket) {
    deps.log(`cell ${cellId} already has its result; skipping this delivery`);
    return { skipped: true, cellId };
  }
  const lastDelivery = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const scratch = deps.scratchDir ?? ((attemptId: string, suffix?: string) => join(deps.workDir, suffix ? `${attemptId}-${suffix}` : attemptId));
  const writeResult = deps.writeResult ?? (<T>(write: () => Promise<T>) => write());
  try {
    const imagePath = await deps.images.get(work.image).catch((err: Error) => {
      throw new InfrastructureError(err.message);
    });
    const writer = new ConsoleWriter(deps.boots, ticket.attemptId);
    const run = await runCell(
      { launcher: deps.launcher, ...(deps.probePlatform && { probePlatform: deps.probePlatform }) },
      {
        cellId,
        cellKey: work.key,
        profile: work.profile,
        image: { path: imagePath, format: work.image.format, inspection: work.image.inspection },
        bootWorkDir: scratch(ticket.attemptId),
        probeWorkDir: scratch(ticket.attemptId, 'probe'),
        timeoutMs: work.timeoutMs,
        ...(signal && { signal }),
        onLine: (line) => writer.push(line),
        onBootEnd: async (report) => {
          await writer.flush();
          if (report.outcome === 'canceled') throw new CanceledError(`boot canceled: ${report.reason}`);
          if (report.outcome === 'infrastructure_error') {
            if (!lastDelivery) throw new InfrastructureError(report.reason);
            deps.onInfrastructureFailure?.(cellId, report.reason);
          }
          deps.log(`cell ${cellId} attempt ${ticket.number}: boot ended ${report.outcome}; probing the platform`);
        },
      },
    ).catch((err: Error) => {
      if (err instanceof InfrastructureError || err instanceof CanceledError) throw err;
      // The launcher refused the request (e.g. this host lacks the profile's firmware): the host's fault, not the image's.
      throw new InfrastructureError(`the launcher refused the boot: ${err.message}`, { cause: err });
    });
    if (run.platformError) deps.log(`cell ${cellId}: platform probe failed: ${run.platformError}`);
    if (run.complianceError) deps.log(`cell ${cellId}: compliance evaluation failed: ${run.complianceError}`);
    const outcome = toCellOutcome(run);
    const { accepted } = await writeResult(() => deps.boots.finishAttempt(ticket, outcome));
    const report = run.report;
    deps.log(`cell ${cellId} attempt ${ticket.number}: ${report.outcome}${accepted ? '' : ' (fenced: a newer attempt owns the cell)'}`);
    // The run's compliance report is the scheduler's: its `run.settle` job runs after this one.
    return { skipped: false, cellId, outcome: report.outcome as Outcome, stage: report.stage, durationMs: Math.round(report.durationMs), accepted };
  } catch (err) {
    if (err instanceof InfrastructureError) deps.onInfrastructureFailure?.(cellId, err.message);
    await settleFailedAttempt(deps.boots, ticket, err, lastDelivery);
    throw err;
  }
}

/**
 * An attempt that threw: retried later (the attempt is abandoned), unless this was the job's last
 * delivery, in which case the cell gets an infrastructure_error result so it never hangs as running.
 */
async function settleFailedAttempt(boots: BootRepository, ticket: AttemptTicket, err: unknown, lastDelivery: boolean): Promise<void> {
  const reason = err instanceof Error ? err.message : String(err);
  if (!lastDelivery) {
    await boots.abandonAttempt(ticket, err instanceof CanceledError ? 'canceled' : 'infrastructure_error').catch(() => {});
    return;
  }
  await boots
    .finishAttempt(ticket, {
      outcome: 'infrastructure_error',
      failureClass: err instanceof InfrastructureError || err instanceof CanceledError ? 'infrastructure' : 'worker_error',
      reason,
      stage: 'none',
      durationMs: 0,
      command: {},
      commandLine: '',
      firmware: {},
      facts: {},
      evidence: {},
    })
    .catch(() => {});
}

/** What the database keeps of a cell's run: the boot's result, its facts, its evidence and verdicts. */
function toCellOutcome({ report, probeLines, platform, platformError, compliance }: CellRun): CellOutcome {
  const { raw, ...probe } = parseProbeLines(probeLines);
  return {
    outcome: report.outcome,
    failureClass: report.failureClass,
    reason: report.reason,
    stage: report.stage,
    durationMs: report.durationMs,
    command: { ...report.command },
    commandLine: report.command.shell,
    firmware: { ...report.firmware },
    facts: {
      ...(probeLines.length > 0 && { probe, probeLines: raw }),
      ...(report.guestFacts && { guest: report.guestFacts }),
      ...(platform && { platform }),
      ...(platformError !== null && { platformError }),
    },
    evidence: {
      backend: report.backend,
      stages: report.stages,
      phases: report.phases,
      normalisedSignature: report.normalisedSignature,
      decidingLine: report.decidingLine,
      marker: report.marker,
      failureSignature: report.failureSignature,
      exit: report.exit,
      containment: report.containment,
      lineCount: report.lineCount,
      consoleBytes: report.consoleBytes,
      consoleTruncated: report.consoleTruncated,
      stderr: report.stderr,
      warnings: report.warnings,
    },
    compliance,
  };
}
