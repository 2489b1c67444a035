import { Inject, Injectable, Logger, SetMetadata, type CanActivate, type ExecutionContext, type OnApplicationShutdown } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { Redis } from 'ioredis';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { TooManyRequestsError } from '../common/errors.js';
import { currentCaller } from './request-context.js';
import { PUBLIC_KEY } from './roles.decorator.js';

/** Separate budgets, so a burst of API reads cannot use up a caller's uploads, and the reverse. */
export type RateBudget = 'requests' | 'uploads' | 'runs';

const BUDGET_KEY = 'bootfarm:rate-budget';

/** Counts a route against `budget` instead of the general `requests` budget. */
export const RateLimit = (budget: RateBudget) => SetMetadata(BUDGET_KEY, budget);

export interface RateVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the current window ends. */
  retryAfterSec: number;
}

/**
 * Fixed-window counters in Redis (one INCR + PEXPIRE per request, in one MULTI): every scheduler
 * replica shares them, so the limit holds behind a load balancer. A fixed window lets a caller
 * burst up to twice its budget across a boundary; that is accepted for the sake of one round trip
 * and no extra dependency (@nestjs/throttler's Redis storages are third-party and lag Nest majors).
 * When Redis is unreachable the same windows are counted in this process instead, so a caller
 * cannot escape its budget by an outage; each replica then enforces the whole budget on its own
 * (a caller spread over N replicas gets up to N times it) until Redis answers again.
 */
@Injectable()
export class RateLimiter implements OnApplicationShutdown {
  private readonly logger = new Logger(RateLimiter.name);
  private readonly redis: Redis;
  private readonly limits: Record<RateBudget, number>;
  private lastWarning = 0;
  /** Fallback counters while Redis is unreachable: key → count, for the current window only. */
  private readonly local = new Map<string, number>();
  private localSlot = -1;

  constructor(@Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig) {
    this.redis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => {}); // counted as "let through" below, and reported by the health endpoint
    this.limits = { requests: config.RATE_LIMIT_REQUESTS, uploads: config.RATE_LIMIT_UPLOADS, runs: config.RATE_LIMIT_RUNS };
  }

  /** The window length, in seconds, for messages. */
  get windowSec(): number {
    return Math.round(this.config.RATE_LIMIT_WINDOW_MS / 1000);
  }

  /** Counts one request of `callerKey` against `budget`. */
  async hit(budget: RateBudget, callerKey: string): Promise<RateVerdict> {
    const windowMs = this.config.RATE_LIMIT_WINDOW_MS;
    const now = Date.now();
    const slot = Math.floor(now / windowMs);
    const limit = this.limits[budget];
    const retryAfterSec = Math.max(1, Math.ceil(((slot + 1) * windowMs - now) / 1000));
    const key = `${this.config.QUEUE_PREFIX}:ratelimit:${budget}:${callerKey}:${slot}`;
    try {
      const replies = await this.redis.multi().incr(key).pexpire(key, windowMs).exec();
      const count = Number(replies?.[0]?.[1]);
      if (!Number.isFinite(count)) throw new Error('unexpected reply to INCR');
      return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), retryAfterSec };
    } catch (err) {
      if (now - this.lastWarning > 60_000) {
        this.lastWarning = now;
        this.logger.warn(`rate limits are counted per scheduler process while Redis is unavailable: ${(err as Error).message}`);
      }
      const count = this.countLocally(key, slot);
      return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), retryAfterSec };
    }
  }

  private countLocally(key: string, slot: number): number {
    if (slot !== this.localSlot) {
      this.local.clear(); // a new window: the old counts can never be asked for again
      this.localSlot = slot;
    }
    const count = (this.local.get(key) ?? 0) + 1;
    this.local.set(key, count);
    return count;
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}

/** Global guard after authentication: per-token budgets, 429 with Retry-After when one is spent. */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_KEY, targets)) return true;
    const caller = currentCaller();
    if (!caller) return true;
    const budget = this.reflector.getAllAndOverride<RateBudget | undefined>(BUDGET_KEY, targets) ?? 'requests';
    const verdict = await this.limiter.hit(budget, caller.tokenId);
    const res = context.switchToHttp().getResponse<Response>();
    res.setHeader('RateLimit-Limit', String(verdict.limit));
    res.setHeader('RateLimit-Remaining', String(verdict.remaining));
    if (!verdict.allowed) throw new TooManyRequestsError(`the ${budget} budget of ${verdict.limit} per ${this.limiter.windowSec} s is spent; retry in ${verdict.retryAfterSec} s`, verdict.retryAfterSec);
    return true;
  }
}
