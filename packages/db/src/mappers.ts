import {
  BootStage, CellStatus, ImageFormat, InspectionDto, Outcome, RunStatus, RunTrigger, VmProfile, Backend,
  type CellDto, type ImageDto, type ResultDto, type RunDto, type RunSummaryDto,
} from '@bootfarm/contracts';
import type { Attempt, Cell, Image, Result, Run } from './generated/prisma/client.js';

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
    key: c.key,
    backend: Backend.parse(c.backend),
    profile: VmProfile.parse(c.profile),
    status: CellStatus.parse(c.status),
    attempts: c.attempts.length,
    startedAt: isoOrNull(c.startedAt),
    finishedAt: isoOrNull(c.finishedAt),
    result: c.result ? toResultDto(c.result) : null,
  };
}

/** Run row (with its image) to list shape. */
export function toRunSummaryDto(r: Run & { image: Image }): RunSummaryDto {
  return {
    id: r.id,
    status: RunStatus.parse(r.status),
    trigger: RunTrigger.parse(r.trigger),
    image: { id: r.image.id, name: r.image.name, sha256: r.image.sha256, format: ImageFormat.parse(r.image.format) },
    createdAt: iso(r.createdAt),
    finishedAt: isoOrNull(r.finishedAt),
  };
}

/** Run row with image and cells to detail shape. */
export function toRunDto(
  r: Run & { image: Image; cells: (Cell & { attempts: Pick<Attempt, 'id'>[]; result: Result | null })[] },
): RunDto {
  return { ...toRunSummaryDto(r), cells: r.cells.map(toCellDto) };
}
