// The rate limiter against a real Redis that this test starts and then stops: budgets hold in
// Redis while it answers, and in the scheduler process while it does not.
import { startRedis } from '@bootfarm/local-services';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSchedulerConfig } from '../config.js';
import { RateLimiter } from './rate-limit.js';

const limiterOn = (redisUrl: string) =>
  new RateLimiter(loadSchedulerConfig({
    DATABASE_URL: 'postgresql://u@127.0.0.1:5432/db',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `rate-${process.pid}`,
    RATE_LIMIT_REQUESTS: '5',
    RATE_LIMIT_RUNS: '2',
    RATE_LIMIT_WINDOW_MS: '600000',
  }));

const hits = async (limiter: RateLimiter, budget: 'requests' | 'runs', caller: string, n: number) => {
  const allowed: boolean[] = [];
  for (let i = 0; i < n; i++) allowed.push((await limiter.hit(budget, caller)).allowed);
  return allowed;
};

test('budgets are enforced in Redis, and still enforced in the process when Redis goes away', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bootfarm-rate-'));
  const redis = await startRedis({ dataDir: dir });
  const limiter = limiterOn(redis.url);
  try {
    assert.deepEqual(await hits(limiter, 'requests', 'a', 6), [true, true, true, true, true, false], 'Redis counts the window');
    assert.deepEqual(await hits(limiter, 'runs', 'a', 2), [true, true], 'each budget is counted apart');

    await redis.stop();
    // The outage does not reopen a spent budget for long: the process counts from zero, up to the limit.
    const during = await hits(limiter, 'requests', 'b', 7);
    assert.deepEqual(during, [true, true, true, true, true, false, false], 'counted in the process while Redis is down');
    const verdict = await limiter.hit('runs', 'b');
    assert.equal(verdict.limit, 2);
    assert.equal(verdict.remaining, 1);
    assert.ok(verdict.retryAfterSec >= 1 && verdict.retryAfterSec <= 600, `retry after ${verdict.retryAfterSec} s`);
  } finally {
    limiter.onApplicationShutdown();
    await redis.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});
