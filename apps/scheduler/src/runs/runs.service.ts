import { defaultProfile, runImageIds, type MatrixSpec, type VmProfile, type CreateRunRequest, type RunDto, type RunListDto } from '@bootfarm/contracts';
import { ImageRepository, RunRepository, type RunListFilter } from '@bootfarm/db';
import { expandMatrix, MATRIX_MAX_CELLS, MatrixTooLargeError } from '@bootfarm/matrix';
import { Injectable } from '@nestjs/common';
import { BadRequestError, NotFoundError, UnavailableError } from '../common/errors.js';
import { BootQueue } from '../queue/boot.queue.js';
import { RunEnqueuer } from '../queue/run.enqueuer.js';
import { RunSettler } from '../queue/run.settler.js';
import { VendorContext } from '../vendors/vendor.context.js';
import { WorkersService } from '../workers/workers.service.js';

/** Runs: created for one or more of the caller's images, one cell per image and profile, each enqueued. */
@Injectable()
export class RunsService {
  constructor(
    private readonly runs: RunRepository,
    private readonly images: ImageRepository,
    private readonly queue: BootQueue,
    private readonly enqueuer: RunEnqueuer,
    private readonly settler: RunSettler,
    private readonly vendor: VendorContext,
    private readonly workers: WorkersService,
  ) {}

  /**
   * Records the run first (PostgreSQL is the truth), then enqueues it as one flow. While Redis is
   * down nothing is recorded (503 at once); if Redis fails between the two, the run stays queued
   * and the reconciler enqueues it, and the 503 says so.
   * The images must be the caller's own (admins too: a run belongs to the vendor that created it);
   * another vendor's image is "not found", like a missing one.
   */
  async create(request: {
    imageId?: string | undefined;
    imageIds?: string[] | undefined;
    timeoutSec: number;
    profiles?: VmProfile[] | undefined;
    matrix?: MatrixSpec | undefined;
  }): Promise<RunDto> {
    const vendorId = this.vendor.vendorId;
    const imageIds = runImageIds(request);
    const owned = await this.images.ownedIds(vendorId, imageIds);
    const missing = imageIds.filter((id) => !owned.has(id));
    if (missing.length > 0) throw new NotFoundError(`image ${missing.join(', ')} not found`);
    const cells = request.matrix ? expandRequest(request.matrix, imageIds.length) : { profiles: request.profiles ?? [defaultProfile], notApplicable: [] };
    await this.queue.ensureAvailable();
    const run = await this.runs.create({ vendorId, imageIds, ...cells, timeoutMs: request.timeoutSec * 1000 });
    try {
      await this.enqueuer.enqueue(run.id);
    } catch (err) {
      if (err instanceof UnavailableError) throw new UnavailableError(`run ${run.id} is recorded but ${err.message.replace(/; try again$/, '')}; the farm will enqueue it when the queue is back`);
      throw err;
    }
    return this.workers.withWaitingFor(run);
  }

  async get(runId: string): Promise<RunDto> {
    const run = await this.runs.find(this.vendor.scope, runId);
    if (!run) throw new NotFoundError(`run ${runId} not found`);
    if (run.images.some((i) => i.compliance === null) && !['queued', 'running'].includes(run.status)) {
      // The run's settle job normally wrote the reports already; settling is write-once, so do it now.
      const settled = await this.settler.settle(runId);
      if (settled.state === 'settled') return this.workers.withWaitingFor((await this.runs.find(this.vendor.scope, runId)) ?? run);
    }
    return this.workers.withWaitingFor(run);
  }

  list(opts: RunListFilter & { limit: number; cursor?: string | undefined }): Promise<RunListDto> {
    return this.runs.list(this.vendor.scope, opts);
  }
}

/**
 * A matrix's cells: the ones to boot and the ones that cannot exist. A matrix with nothing to
 * boot is refused, and so is one whose cells times the images exceed the matrix's cell limit.
 */
export function expandRequest(spec: MatrixSpec, images = 1): { profiles: VmProfile[]; notApplicable: { profile: VmProfile; reason: string }[] } {
  let cells;
  try {
    cells = expandMatrix(spec, { host: null });
    if (cells.length * images > MATRIX_MAX_CELLS) {
      throw new BadRequestError(`${images} images × ${cells.length} cells = ${cells.length * images} cells, more than the ${MATRIX_MAX_CELLS} a run may hold`);
    }
  } catch (err) {
    if (err instanceof MatrixTooLargeError) throw new BadRequestError(err.message);
    throw err;
  }
  const profiles = cells.flatMap((c) => (c.applicable ? [c.profile] : []));
  if (profiles.length === 0) throw new BadRequestError(`the matrix has no cell that can run: ${cells[0] && !cells[0].applicable ? cells[0].reason : 'it is empty'}`);
  return { profiles, notApplicable: cells.flatMap((c) => (c.applicable ? [] : [{ profile: c.profile, reason: c.reason }])) };
}

export type { CreateRunRequest };
