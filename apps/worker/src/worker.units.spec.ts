// Small and medium tests of the worker's parts: capability resolution on this host's real probe,
// scratch directories owned by real processes, result-write retries against real PostgreSQL.
import { createPrismaClient, isUniqueViolation } from '@bootfarm/db';
import { probeHostCapabilities } from '@bootfarm/emulator';
import { freePort, useLocalServices } from '@bootfarm/local-services';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { isDatabaseUnavailable, ResultWriteGaveUpError, retryWhileDatabaseUnavailable } from './db.retry.js';
import { ScratchDirs } from './scratch.dirs.js';
import { resolveServedCapabilities } from './served.capabilities.js';
import { SlotPool } from './slot.pool.js';

describe('served capabilities (real host probe)', () => {
  test('by default: every runnable capability with a launcher; this x86 host runs TCG only', async () => {
    const host = await probeHostCapabilities();
    const { serve, unrunnable } = resolveServedCapabilities(host, undefined);
    assert.ok(serve.includes('qemu-tcg:aarch64') && serve.includes('qemu-tcg:arm'), serve.join());
    assert.ok(!serve.includes('qemu-kvm:aarch64'));
    assert.deepEqual(unrunnable, []);
  });

  test('a requested capability the host cannot run is kept with its reasons (the health boot fails on it)', async () => {
    const host = await probeHostCapabilities();
    const { serve, unrunnable } = resolveServedCapabilities(host, ['qemu-tcg:arm', 'qemu-kvm:aarch64']);
    assert.deepEqual(serve, ['qemu-tcg:arm']);
    assert.equal(unrunnable[0]?.capability, 'qemu-kvm:aarch64');
    assert.ok(unrunnable[0]!.reasons.length > 0);
  });
});

describe('scratch directories', () => {
  test("a dead worker's directories and old UUID-named ones are removed; a live worker's are kept", async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'bootfarm-scratch-'));
    try {
      const live = spawn('sleep', ['30'], { stdio: 'ignore' });
      const dead = spawn('true', [], { stdio: 'ignore' });
      await new Promise((r) => dead.once('exit', r));
      const liveDir = new ScratchDirs(workDir, live.pid!).next();
      const deadDir = new ScratchDirs(workDir, dead.pid!).next('probe');
      const legacy = join(workDir, '8d7c3f4e-0000-4000-8000-000000000000');
      for (const d of [liveDir, deadDir, legacy]) mkdirSync(d);
      const mine = new ScratchDirs(workDir);
      const removed = mine.removeStale().sort();
      live.kill('SIGKILL');
      assert.deepEqual(removed, [basename(deadDir), basename(legacy)].sort());
      assert.ok(existsSync(liveDir), 'a neighbour that is alive keeps its boots');
      assert.notEqual(mine.next(), mine.next(), 'every boot gets its own directory');
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});

describe('slot pool', () => {
  test('never hands out more slots than its size; a waiter gets the next free one', async () => {
    const pool = new SlotPool(1);
    assert.equal(pool.tryAcquire(), true);
    assert.equal(pool.tryAcquire(), false);
    let got = false;
    const waiting = pool.acquire().then(() => (got = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(got, false);
    pool.release();
    await waiting;
    assert.equal(got, true);
    assert.equal(pool.free, 0);
  });
});

describe('result writes while PostgreSQL is unavailable', () => {
  test('a server that is not there is retried until the bound, then given up with a typed error', async () => {
    const db = createPrismaClient({ databaseUrl: `postgresql://postgres@127.0.0.1:${await freePort()}/none` });
    let retries = 0;
    await assert.rejects(
      retryWhileDatabaseUnavailable(() => db.worker.count(), { boundMs: 6_000, onRetry: () => retries++ }),
      (err: unknown) => err instanceof ResultWriteGaveUpError && err.code === 'RESULT_WRITE_GAVE_UP',
    );
    assert.ok(retries >= 1, `retried ${retries} times`);
    await db.$disconnect();
  });

  test('a query the database refuses is not retried', async () => {
    const services = await useLocalServices();
    const url = await services.createDatabase();
    const db = createPrismaClient({ databaseUrl: url });
    try {
      await db.$executeRawUnsafe('CREATE TABLE t (id int PRIMARY KEY)');
      await db.$executeRawUnsafe('INSERT INTO t VALUES (1)');
      let calls = 0;
      await assert.rejects(
        retryWhileDatabaseUnavailable(() => {
          calls++;
          return db.$executeRawUnsafe('INSERT INTO t VALUES (1)');
        }, { boundMs: 10_000 }),
        (err: unknown) => !isDatabaseUnavailable(err) && (isUniqueViolation(err) || /duplicate key/.test(String(err))),
      );
      assert.equal(calls, 1);
    } finally {
      await db.$disconnect();
      await services.stop();
    }
  });
});
