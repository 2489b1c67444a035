import { CellCompliance, RunCompliance, VmProfile as VmProfileSchema, type CellDetailDto, type RunDto, type RunListDto, type RunStatus, type RunTrigger, type VmProfile } from '@bootfarm/contracts';
import { Prisma, type PrismaClient } from '../client.js';
import { toCellDetailDto, toRunDto, toRunSummaryDto } from '../mappers.js';
import { insertRunPlan, type RunPlan } from './run.plan.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { vendorWhere, type VendorScope } from './scope.js';

const cellInclude = { attempts: { select: { id: true } }, result: true } as const;
const imagesInclude = { include: { image: true }, orderBy: { position: 'asc' } } satisfies Prisma.Run$imagesArgs;
/** A run as its DTO needs it: images in order, cells image-major then by key. */
const runInclude = {
  images: imagesInclude,
  cells: { include: cellInclude, orderBy: [{ runImage: { position: 'asc' } }, { key: 'asc' }] },
} satisfies Prisma.RunInclude;

/** Runs and their cells, as vendors and the dashboard see them. */
export class RunRepository {
  constructor(private readonly db: PrismaClient) {}

  /**
   * Creates a run of one or more images with, for each image, one queued cell per profile plus
   * one not_applicable cell (with its reason) per profile the matrix asked for but that cannot
   * exist, in one transaction. The caller checked that the images are the vendor's.
   */
  async create(input: Omit<RunPlan, 'trigger' | 'nightlyDate'>): Promise<RunDto> {
    const runId = await this.db.$transaction((tx) => insertRunPlan(tx, { ...input, trigger: 'vendor' }));
    const row = await this.db.run.findUniqueOrThrow({ where: { id: runId }, include: runInclude });
    return toRunDto(row);
  }

  /** One run in scope with its cells and results, or null (another vendor's run is not found too). */
  async find(scope: VendorScope, runId: string): Promise<RunDto | null> {
    const row = await this.db.run.findFirst({ where: { id: runId, ...vendorWhere(scope) }, include: runInclude });
    return row ? toRunDto(row) : null;
  }

  /** One cell in scope with its run's status, its image, and its result's evidence and verdicts; null otherwise. */
  async findCell(scope: VendorScope, cellId: string): Promise<CellDetailDto | null> {
    const row = await this.db.cell.findFirst({
      where: { id: cellId, run: vendorWhere(scope) },
      include: { ...cellInclude, run: { select: { status: true } }, runImage: { select: { image: true } } },
    });
    return row ? toCellDetailDto(row) : null;
  }

  /**
   * Newest first, keyset-paginated on (createdAt, id) so pages stay stable while runs arrive;
   * optionally only runs with this status or trigger, or with an image whose name contains `imageName`.
   */
  async list(scope: VendorScope, opts: RunListFilter & { limit: number; cursor?: string | undefined }): Promise<RunListDto> {
    const after = opts.cursor ? decodeCursor(opts.cursor) : null;
    const rows = await this.db.run.findMany({
      where: {
        ...vendorWhere(scope),
        ...(opts.status && { status: opts.status }),
        ...(opts.trigger && { trigger: opts.trigger }),
        ...(opts.imageName && { images: { some: { image: { name: { contains: opts.imageName, mode: 'insensitive' } } } } }),
        ...(after && {
          OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
        }),
      },
      include: { images: imagesInclude },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: opts.limit + 1,
    });
    const page = rows.slice(0, opts.limit);
    const last = page.at(-1);
    return {
      items: page.map(toRunSummaryDto),
      nextCursor: rows.length > opts.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  /** Ids of a run's cells that are still queued (to enqueue them). */
  async queuedCellIds(runId: string): Promise<string[]> {
    const cells = await this.db.cell.findMany({ where: { runId, status: 'queued' }, select: { id: true } });
    return cells.map((c) => c.id);
  }

  /**
   * What a run's compliance reports are computed from: for each image, the stored report (if
   * any) and the verdicts of that image's cells (null for a cell that ended without them).
   * Null when the run does not exist in scope (any vendor's when omitted).
   */
  async complianceSources(runId: string, scope?: VendorScope): Promise<ComplianceSources | null> {
    const run = await this.db.run.findFirst({
      where: { id: runId, ...(scope !== undefined && vendorWhere(scope)) },
      include: {
        images: imagesInclude,
        cells: { select: { id: true, imageId: true, key: true, profile: true, status: true, result: { select: { compliance: true } } }, orderBy: { key: 'asc' } },
      },
    });
    if (!run) return null;
    return {
      runId: run.id,
      status: run.status,
      cellStatuses: run.cells.map((c) => c.status),
      images: run.images.map(({ image, compliance }) => ({
        runId: run.id,
        status: run.status,
        report: parseOrNull(RunCompliance, compliance),
        image: { id: image.id, name: image.name, sha256: image.sha256, format: image.format },
        cells: run.cells
          .filter((c) => c.imageId === image.id)
          .map((c) => ({
            id: c.id,
            key: c.key,
            profile: VmProfileSchema.parse(c.profile),
            status: c.status,
            compliance: parseOrNull(CellCompliance, c.result?.compliance),
          })),
      })),
    };
  }

  /**
   * Stores an image's compliance report in a run unless one is stored already; true when this
   * call wrote it. Several settlers may race (the run's settle job, the reaper, a replica): exactly one writes.
   */
  async saveComplianceOnce(runId: string, imageId: string, report: RunCompliance): Promise<boolean> {
    const n = await this.db.$executeRaw`UPDATE run_image SET compliance = ${JSON.stringify(report)}::jsonb WHERE run_id = ${runId}::uuid AND image_id = ${imageId}::uuid AND compliance IS NULL`;
    return n === 1;
  }

  /** A run as the queue needs it: its owner, trigger and the cells that still need a boot. */
  async flowCells(runId: string): Promise<RunFlowCells | null> {
    const run = await this.db.run.findUnique({
      where: { id: runId },
      select: { id: true, vendorId: true, trigger: true, cells: { where: { status: { in: ['queued', 'running'] } }, select: { id: true, capability: true }, orderBy: { key: 'asc' } } },
    });
    return run && { runId: run.id, vendorId: run.vendorId, trigger: run.trigger, cells: run.cells.map((c) => ({ cellId: c.id, capability: c.capability })) };
  }

  /**
   * How many cells of this vendor's runs with this trigger still wait or run, other runs than
   * `exceptRunId`: the rank the vendor's next cell gets in the queue (round-robin between vendors).
   */
  async outstandingCellCount(vendorId: string, trigger: string, exceptRunId: string): Promise<number> {
    return this.db.cell.count({ where: { status: { in: ['queued', 'running'] }, run: { vendorId, trigger, id: { not: exceptRunId } } } });
  }

  /**
   * Runs the queue must still carry, created before `createdBefore`: unfinished ones (with
   * their unfinished cells), and finished ones whose compliance report was never written.
   */
  async runsInFlight(createdBefore: Date, limit = 1_000): Promise<RunFlowCells[]> {
    const runs = await this.db.run.findMany({
      where: { createdAt: { lt: createdBefore }, OR: [{ status: { in: ['queued', 'running'] } }, { images: { some: { compliance: { equals: Prisma.DbNull } } } }] },
      select: { id: true, vendorId: true, trigger: true, cells: { where: { status: { in: ['queued', 'running'] } }, select: { id: true, capability: true }, orderBy: { key: 'asc' } } },
      orderBy: { createdAt: 'asc' },
      take: limit,
    });
    return runs.map((run) => ({ runId: run.id, vendorId: run.vendorId, trigger: run.trigger, cells: run.cells.map((c) => ({ cellId: c.id, capability: c.capability })) }));
  }

  /** Cells being booted, with their current (latest running) attempt: what the deadline reaper watches. */
  async runningCells(): Promise<RunningCell[]> {
    const cells = await this.db.cell.findMany({
      where: { status: 'running', attempts: { some: { status: 'running' } } },
      select: { id: true, runId: true, timeoutMs: true, attempts: { where: { status: 'running' }, orderBy: { number: 'desc' }, take: 1, select: { id: true, number: true, workerId: true, startedAt: true } } },
    });
    return cells.flatMap((c) => c.attempts.map((a) => ({ cellId: c.id, runId: c.runId, timeoutMs: c.timeoutMs, attempt: a })));
  }

  /** The vendor owning a run, or null when the run does not exist. */
  async runVendor(runId: string): Promise<string | null> {
    return (await this.db.run.findUnique({ where: { id: runId }, select: { vendorId: true } }))?.vendorId ?? null;
  }

  /** The vendor owning a cell, or null when the cell does not exist. */
  async cellVendor(cellId: string): Promise<string | null> {
    const cell = await this.db.cell.findUnique({ where: { id: cellId }, select: { run: { select: { vendorId: true } } } });
    return cell?.run.vendorId ?? null;
  }
}

/** Filters of {@link RunRepository.list}; each one given narrows the list. */
export interface RunListFilter {
  status?: RunStatus | undefined;
  trigger?: RunTrigger | undefined;
  imageName?: string | undefined;
}

/** A run's cells that still need a boot, with what their queue priority is computed from. */
export interface RunFlowCells {
  runId: string;
  vendorId: string;
  trigger: string;
  cells: { cellId: string; capability: string }[];
}

/** A running cell and its current attempt. */
export interface RunningCell {
  cellId: string;
  runId: string;
  timeoutMs: number;
  attempt: { id: string; number: number; workerId: string; startedAt: Date };
}

/** A run as its compliance reports need it: one report per image. */
export interface ComplianceSources {
  runId: string;
  status: string;
  /** Every cell's status, all images. */
  cellStatuses: string[];
  images: ImageComplianceSources[];
}

/** One image of a run as its compliance report needs it. */
export interface ImageComplianceSources {
  runId: string;
  status: string;
  /** The stored report, if one was written. */
  report: RunCompliance | null;
  image: { id: string; name: string; sha256: string; format: string };
  cells: { id: string; key: string; profile: VmProfile; status: string; compliance: CellCompliance | null }[];
}

function parseOrNull<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, value: unknown): T | null {
  if (value === null || value === undefined) return null;
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** Thrown for a cursor that was not produced by this API. */

