import { TokenRepository, VendorRepository } from '@bootfarm/db';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';

/** The vendor that owns the operator's bootstrap tokens. */
export const OPERATORS_VENDOR = 'operators';

/**
 * Registers the operator's secrets from BOOTFARM_ADMIN_TOKEN / BOOTFARM_WORKER_TOKEN at start, so
 * a fresh farm has an admin (who creates vendors and their tokens over the API) and workers can
 * fetch images, without a chicken-and-egg step. A revoked bootstrap secret stays revoked.
 */
@Injectable()
export class TokenBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('Tokens');

  constructor(
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
    private readonly vendors: VendorRepository,
    private readonly tokens: TokenRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const wanted = [
      { secret: this.config.BOOTFARM_ADMIN_TOKEN, role: 'admin' as const, name: 'bootstrap-admin' },
      { secret: this.config.BOOTFARM_WORKER_TOKEN, role: 'worker' as const, name: 'bootstrap-worker' },
    ].filter((t): t is typeof t & { secret: string } => Boolean(t.secret));
    if (wanted.length === 0) {
      this.logger.warn('neither BOOTFARM_ADMIN_TOKEN nor BOOTFARM_WORKER_TOKEN is set: only existing tokens can use the API');
      return;
    }
    const operators = await this.vendors.ensure(OPERATORS_VENDOR);
    for (const t of wanted) {
      const { revoked } = await this.tokens.ensureSecret({ vendorId: operators.id, role: t.role, name: t.name, secret: t.secret });
      if (revoked) this.logger.warn(`the configured ${t.role} bootstrap token was revoked; configure a new secret`);
      else this.logger.log(`${t.role} bootstrap token ${t.secret.slice(0, 12)}… is registered`);
    }
  }
}
