import {
  BootStage, CellStatus, ImageFormat, InspectionDto, Outcome, RunStatus, RunTrigger, VmProfile, Backend,
  RunCompliance, WebhookDeliveryStatus, WebhookEvent, BootEvidenceDto, CellCompliance,
  type CellDetailDto, type CellDto, type ImageDto, type ImageRefDto, type ResultDto, type RunDto, type RunSummaryDto, type WebhookDeliveryDto, type WebhookDto,
} from '@bootfarm/contracts';
import type { Attempt, Cell, Image, Result, Run, RunImage, Webhook, WebhookDelivery } from './generated/prisma/client.js';

// Rows become contract DTOs here and only here; text columns are validated on the way out.

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

/** Image row to API shape. */
export function toImageDto(i: Image): ImageDto {
  return {
    id: i.id,
    name: i.name,
    format: ImageFormat.parse(i.format),
    sha256: i.sha256,
    sizeBytes: Number(i.sizeBytes),
    createdAt: iso(i.createdAt),
    inspection: i.inspection === null ? null : InspectionDto.parse(i.inspection),
  };
}

/** Result row to API shape. */
export function toResultDto(r: Result): ResultDto {
  return {
    outcome: Outcome.parse(r.outcome),
    failureClass: r.failureClass,
    reason: r.reason,
    stage: BootStage.parse(r.stage),
    durationMs: r.durationMs,
    commandLine: r.commandLine,
    firmware: r.firmware as Record<string, unknown>,
    facts: r.facts as Record<string, unknown>,
  };
}

/** Cell row (with its attempts and result) to API shape. */
export function toCellDto(c: Cell & { attempts: Pick<Attempt, 'id'>[]; result: Result | null }): CellDto {
  return {
    id: c.id,
    imageId: c.imageId,
    key: c.key,
    backend: Backend.parse(c.backend),
    profile: VmProfile.parse(c.profile),
    status: CellStatus.parse(c.status),
    reason: c.reason,
    attempts: c.attempts.length,
    startedAt: isoOrNull(c.startedAt),
    finishedAt: isoOrNull(c.finishedAt),
    result: c.result ? toResultDto(c.result) : null,
    // Derived from the worker registry where runs are read (RunRepository.find).
    waitingFor: null,
  };
}

/**
 * Cell row with its run and image to the cell page's shape: the result carries the analyzer's
 * evidence and the verdicts (stored JSON, validated; what does not parse reads as empty/null).
 */
export function toCellDetailDto(
  c: Cell & { attempts: Pick<Attempt, 'id'>[]; result: Result | null; run: Pick<Run, 'status'>; runImage: { image: Image } },
): CellDetailDto {
  const evidence = BootEvidenceDto.safeParse(c.result?.evidence ?? {});
  const compliance = CellCompliance.safeParse(c.result?.compliance);
  return {
    ...toCellDto(c),
    runId: c.runId,
    runStatus: RunStatus.parse(c.run.status),
    image: toImageRef(c.runImage.image),
    timeoutMs: c.timeoutMs,
    result: c.result
      ? { ...toResultDto(c.result), evidence: evidence.success ? evidence.data : { stages: [], phases: [] }, compliance: compliance.success ? compliance.data : null }
      : null,
  };
}

type RunImageRow = RunImage & { image: Image };

function toImageRef(i: Image): ImageRefDto {
  return { id: i.id, name: i.name, sha256: i.sha256, format: ImageFormat.parse(i.format) };
}

/** Run row (with its images, in order) to list shape. */
export function toRunSummaryDto(r: Run & { images: RunImageRow[] }): RunSummaryDto {
  return {
    id: r.id,
    status: RunStatus.parse(r.status),
    trigger: RunTrigger.parse(r.trigger),
    images: r.images.map((ri) => toImageRef(ri.image)),
    createdAt: iso(r.createdAt),
    finishedAt: isoOrNull(r.finishedAt),
  };
}

/** Run row with images and cells to detail shape; each image carries its report's summary once written. */
export function toRunDto(
  r: Run & { images: RunImageRow[]; cells: (Cell & { attempts: Pick<Attempt, 'id'>[]; result: Result | null })[] },
): RunDto {
  return {
    ...toRunSummaryDto(r),
    images: r.images.map((ri) => {
      const report = RunCompliance.safeParse(ri.compliance);
      return { ...toImageRef(ri.image), compliance: report.success ? report.data.summary : null };
    }),
    cells: r.cells.map(toCellDto),
  };
}

/** Webhook row to API shape (never its secret). */
export function toWebhookDto(w: Webhook): WebhookDto {
  return { id: w.id, url: w.url, events: w.events.map((e) => WebhookEvent.parse(e)), createdAt: w.createdAt.toISOString() };
}

/** Delivery-log row to API shape. */
export function toDeliveryDto(d: WebhookDelivery): WebhookDeliveryDto {
  return {
    id: d.id,
    event: WebhookEvent.parse(d.event),
    eventKey: d.eventKey,
    status: WebhookDeliveryStatus.parse(d.status),
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdAt: d.createdAt.toISOString(),
    lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
  };
}
