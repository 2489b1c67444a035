import { backendFor, profileKey, type RunDto, type RunListDto, type VmProfile } from '@bootfarm/contracts';
import type { PrismaClient } from '../client.js';
import { toRunDto, toRunSummaryDto } from '../mappers.js';

const cellInclude = { attempts: { select: { id: true } }, result: true } as const;

/** Runs and their cells, as vendors and the dashboard see them. */
export class RunRepository {
  constructor(private readonly db: PrismaClient) {}

  /** Creates a run with one cell per profile, all queued, in one transaction. */
  async create(input: { vendorId: string; imageId: string; profiles: VmProfile[]; timeoutMs: number }): Promise<RunDto> {
    const row = await this.db.run.create({
      data: {
        vendorId: input.vendorId,
        imageId: input.imageId,
        status: 'queued',
        trigger: 'vendor',
        cells: {
          create: input.profiles.map((profile) => ({
            key: profileKey(profile),
            backend: backendFor(profile),
            profile,
            status: 'queued',
            timeoutMs: input.timeoutMs,
          })),
        },
      },
      include: { image: true, cells: { include: cellInclude, orderBy: { key: 'asc' } } },
    });
    return toRunDto(row);
  }

  /** One run of this vendor with its cells and results, or null. */
  async find(vendorId: string, runId: string): Promise<RunDto | null> {
    const row = await this.db.run.findFirst({
      where: { id: runId, vendorId },
      include: { image: true, cells: { include: cellInclude, orderBy: { key: 'asc' } } },
    });
    return row ? toRunDto(row) : null;
  }

  /** Newest first, keyset-paginated on (createdAt, id) so pages stay stable while runs arrive. */
  async list(vendorId: string, opts: { limit: number; cursor?: string | undefined }): Promise<RunListDto> {
    const after = opts.cursor ? decodeCursor(opts.cursor) : null;
    const rows = await this.db.run.findMany({
      where: {
        vendorId,
        ...(after && {
          OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
        }),
      },
      include: { image: true },
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

  /** The vendor owning a cell, or null when the cell does not exist. */
  async cellVendor(cellId: string): Promise<string | null> {
    const cell = await this.db.cell.findUnique({ where: { id: cellId }, select: { run: { select: { vendorId: true } } } });
    return cell?.run.vendorId ?? null;
  }
}

/** Thrown for a cursor that was not produced by this API. */
export class InvalidCursorError extends Error {
  readonly code = 'INVALID_CURSOR';
  override readonly name = 'InvalidCursorError';
}

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(createdAt.getTime())) throw new InvalidCursorError('invalid cursor');
  return { createdAt, id };
}
