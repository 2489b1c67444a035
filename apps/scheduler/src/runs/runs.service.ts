import { defaultProfile, type CreateRunRequest, type RunDto, type RunListDto } from '@bootfarm/contracts';
import { ImageRepository, RunRepository } from '@bootfarm/db';
import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../common/errors.js';
import { BootQueue } from '../queue/boot.queue.js';
import { VendorContext } from '../vendors/vendor.context.js';

/** Runs: created for one of the caller's images, one cell per profile, each enqueued. */
@Injectable()
export class RunsService {
  constructor(
    private readonly runs: RunRepository,
    private readonly images: ImageRepository,
    private readonly queue: BootQueue,
    private readonly vendor: VendorContext,
  ) {}

  /** Records the run first (PostgreSQL is the truth), then enqueues its cells. */
  async create(request: { imageId: string; timeoutSec: number }): Promise<RunDto> {
    const vendorId = this.vendor.vendorId;
    const image = await this.images.find(vendorId, request.imageId);
    if (!image) throw new NotFoundError(`image ${request.imageId} not found`);
    const run = await this.runs.create({ vendorId, imageId: image.id, profiles: [defaultProfile], timeoutMs: request.timeoutSec * 1000 });
    for (const cell of run.cells) await this.queue.enqueueCell({ cellId: cell.id });
    return run;
  }

  async get(runId: string): Promise<RunDto> {
    const run = await this.runs.find(this.vendor.vendorId, runId);
    if (!run) throw new NotFoundError(`run ${runId} not found`);
    return run;
  }

  list(opts: { limit: number; cursor?: string | undefined }): Promise<RunListDto> {
    return this.runs.list(this.vendor.vendorId, opts);
  }
}

export type { CreateRunRequest };
