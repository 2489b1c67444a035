import { BootCell, type BootCellResult, type Outcome } from '@bootfarm/contracts';
import type { AttemptTicket, BootRepository, CellOutcome } from '@bootfarm/db';
import type { BootReport, QemuLauncher } from '@bootfarm/emulator';
import { parseProbeLines, PROBE_PREFIX } from '@bootfarm/probe';
import { UnrecoverableError, type Job } from 'bullmq';
import { join } from 'node:path';
import { ConsoleWriter } from '../console.writer.js';
import type { ImageCache } from '../image.cache.js';

/** Everything the processor uses, injected so tests can build it with real parts of their choice. */
export interface BootCellDeps {
  boots: BootRepository;
  images: ImageCache;
  launcher: QemuLauncher;
  workerId: string;
  workDir: string;
  log: (message: string) => void;
}

/** An infrastructure failure: thrown to BullMQ so the job is retried (bounded by its attempts). */
export class InfrastructureError extends Error {
  readonly code = 'INFRASTRUCTURE';
  override readonly name = 'InfrastructureError';
}

const MAX_PROBE_LINES = 2_000;

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
  try {
    const imagePath = await deps.images.get(work.image).catch((err: Error) => {
      throw new InfrastructureError(err.message);
    });
    const writer = new ConsoleWriter(deps.boots, ticket.attemptId);
    const probeLines: string[] = [];
    const report = await deps.launcher.boot({
      image: { path: imagePath, format: work.image.format },
      profile: work.profile,
      workDir: join(deps.workDir, ticket.attemptId),
      timeoutMs: work.timeoutMs,
      silenceTimeoutMs: Math.min(work.timeoutMs, 60_000),
      ...(signal && { signal }),
      onLine: (line) => {
        writer.push(line);
        if (line.text.includes(PROBE_PREFIX) && probeLines.length < MAX_PROBE_LINES) probeLines.push(line.text);
      },
    });
    await writer.flush();
    if (report.outcome === 'infrastructure_error' && !lastDelivery) throw new InfrastructureError(report.reason);
    if (report.outcome === 'canceled') throw new InfrastructureError(`boot canceled: ${report.reason}`);
    const { accepted } = await deps.boots.finishAttempt(ticket, toCellOutcome(report, probeLines));
    deps.log(`cell ${cellId} attempt ${ticket.number}: ${report.outcome}${accepted ? '' : ' (fenced: a newer attempt owns the cell)'}`);
    return { skipped: false, cellId, outcome: report.outcome as Outcome, stage: report.stage, durationMs: Math.round(report.durationMs), accepted };
  } catch (err) {
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
    await boots.abandonAttempt(ticket, reason.startsWith('boot canceled') ? 'canceled' : 'infrastructure_error').catch(() => {});
    return;
  }
  await boots
    .finishAttempt(ticket, {
      outcome: 'infrastructure_error',
      failureClass: err instanceof InfrastructureError ? 'infrastructure' : 'worker_error',
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

function toCellOutcome(report: BootReport, probeLines: string[]): CellOutcome {
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
  };
}
