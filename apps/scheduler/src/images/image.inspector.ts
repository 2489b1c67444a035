import { assertReachableByOthers, inspectIsolated } from '@bootfarm/inspect';
import { InspectionDto, type ImageFormat } from '@bootfarm/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';

/**
 * Static inspection of a quarantined upload, out of process and under limits (see
 * `inspectIsolated` in @bootfarm/inspect): the parser of hostile bytes never runs inside the API
 * server, and never as root.
 */
@Injectable()
export class ImageInspector {
  constructor(@Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig) {
    // Fails at start-up, not at the first upload, when the unprivileged inspector could not reach the quarantine.
    try {
      assertReachableByOthers(join(config.IMAGE_STORE_DIR, 'quarantine'));
    } catch (err) {
      throw new Error(`IMAGE_STORE_DIR: ${(err as Error).message}`);
    }
  }

  /** The inspection, validated as the API's shape (it crossed a process boundary). */
  async inspect(path: string, declared: ImageFormat): Promise<InspectionDto> {
    return InspectionDto.parse(await inspectIsolated(path, declared, {
      maxVirtualBytes: this.config.INSPECT_MAX_VIRTUAL_BYTES,
      addressSpaceBytes: this.config.INSPECT_ADDRESS_SPACE_BYTES,
      timeoutMs: this.config.INSPECT_TIMEOUT_MS,
    }));
  }
}
