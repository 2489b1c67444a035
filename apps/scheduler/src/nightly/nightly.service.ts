import { MatrixSpec } from '@bootfarm/contracts';
import { NightlyRepository } from '@bootfarm/db';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { NotFoundError } from '../common/errors.js';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { RunEnqueuer } from '../queue/run.enqueuer.js';
import { expandRequest } from '../runs/runs.service.js';

/** What one trigger of a night did. */
export interface NightOutcome {
  date: string;
  created: number;
  deduplicated: number;
}

/**
 * Nightly runs: every image registered with a matrix is re-run on it once per night (UTC date).
 * Exactly once, whoever triggers: the database's unique (image, night) key refuses a second run,
 * so a second scheduler owning the schedule, a manual replay or a redelivered job create nothing
 * and log "deduplicated".
 */
@Injectable()
export class NightlyService {
  private readonly logger = new Logger(NightlyService.name);

  constructor(
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
    private readonly nightly: NightlyRepository,
    private readonly enqueuer: RunEnqueuer,
  ) {}

  /** Registers one of the vendor's images for nightly runs on `matrix` (refused if nothing in it can run). */
  async register(vendorId: string, imageId: string, matrix: MatrixSpec): Promise<{ imageId: string; matrix: MatrixSpec }> {
    expandRequest(matrix); // a matrix with nothing to boot is a 400 now, not a silent nightly skip
    if (!(await this.nightly.setMatrix(vendorId, imageId, matrix))) throw new NotFoundError(`image ${imageId} not found`);
    return { imageId, matrix };
  }

  async unregister(vendorId: string, imageId: string): Promise<void> {
    if (!(await this.nightly.setMatrix(vendorId, imageId, null))) throw new NotFoundError(`image ${imageId} not found`);
  }

  /** Creates the night's runs that do not exist yet and enqueues them. */
  async runNight(date: string): Promise<NightOutcome> {
    let created = 0;
    let deduplicated = 0;
    for (const image of await this.nightly.registered()) {
      const spec = MatrixSpec.safeParse(image.matrix);
      if (!spec.success) {
        this.logger.warn(`nightly ${date}: image ${image.imageId} has an invalid matrix; skipped`);
        continue;
      }
      let cells;
      try {
        cells = expandRequest(spec.data);
      } catch (err) {
        this.logger.warn(`nightly ${date}: image ${image.imageId}: ${(err as Error).message}; skipped`);
        continue;
      }
      const run = await this.nightly.createRun({ vendorId: image.vendorId, imageId: image.imageId, nightlyDate: date, ...cells, timeoutMs: this.config.NIGHTLY_TIMEOUT_SEC * 1000 });
      if (!run) {
        deduplicated++;
        this.logger.log(`nightly ${date}: image ${image.imageId} already has its run; deduplicated`);
        continue;
      }
      created++;
      // A failed enqueue leaves the run queued in PostgreSQL: the reconciler adds it.
      await this.enqueuer.enqueue(run.runId).catch((err: Error) => this.logger.warn(`nightly ${date}: run ${run.runId} not enqueued yet (${err.message}); the reconciler will`));
      this.logger.log(`nightly ${date}: run ${run.runId} created for image ${image.imageId}`);
    }
    return { date, created, deduplicated };
  }
}

/** The UTC calendar date (YYYY-MM-DD) of an instant. */
export function utcDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}
