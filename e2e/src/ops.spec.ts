// Operations end to end: readiness against a Redis this test owns (and misconfigures, then
// stops), Prometheus metrics checked against PostgreSQL after a real QEMU TCG + edk2 boot, and
// the scheduler's JSON logs.
import { bootQueueName, Capability, type RunDto } from '@bootfarm/contracts';
import { startRedis, type RedisServer } from '@bootfarm/local-services';
import { ensureProbeImage } from '@bootfarm/probe';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startFarm, waitFor, type Farm } from './farm.harness.js';
import { parsePrometheusText, type PromFamily } from './prometheus.text.js';

type Ready = { ready: boolean; status: string; reasons: string[]; postgres: { ok: boolean }; redis: { ok: boolean; appendonly?: string; maxmemoryPolicy?: string }; queues: { queue: string; waiting: number }[]; workers: Record<string, number> };

describe('operations: readiness, metrics, logs', () => {
  let dataDir: string;
  let redis: RedisServer;
  let admin: Redis;
  let farm: Farm;
  let db: pg.Client;
  let run: RunDto;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bootfarm-ops-redis-'));
    redis = await startRedis({ dataDir });
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
    admin.on('error', () => {});
    await admin.connect();
    farm = await startFarm({ REDIS_URL: redis.url });
    db = new pg.Client({ connectionString: farm.env.DATABASE_URL });
    await db.connect();
    const probe = await ensureProbeImage();
    const up = await farm.api('/api/images?name=vmspec-probe&format=raw', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Readable.toWeb(createReadStream(probe.imagePath)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    assert.equal(up.status, 201, await up.clone().text());
    const created = await farm.api('/api/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ imageId: ((await up.json()) as { id: string }).id, timeoutSec: 120 }),
    });
    run = (await created.json()) as RunDto;
    await waitFor(async () => {
      run = (await (await farm.api(`/api/runs/${run.id}`)).json()) as RunDto;
      return !['queued', 'running'].includes(run.status);
    }, 180_000, () => farm.log('worker'));
    assert.equal(run.status, 'passed');
  });

  after(async () => {
    admin?.disconnect();
    await db?.end();
    await farm?.stop();
    await redis?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const ready = async () => {
    const res = await farm.api('/api/ready');
    return { code: res.status, body: (await res.json()) as Ready };
  };

  test('ready with a BullMQ-safe Redis; degraded without AOF; not ready with an evicting policy', async () => {
    const ok = await ready();
    assert.equal(ok.code, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.status, 'ready');
    assert.deepEqual(ok.body.reasons, []);
    assert.equal(ok.body.redis.appendonly, 'yes');
    assert.deepEqual(ok.body.queues.map((q) => q.queue).sort(), ['boot', ...Capability.options.map(bootQueueName)].sort());
    assert.ok(ok.body.queues.every((q) => q.waiting === 0), 'the boot is done: nothing waits');
    assert.deepEqual(Object.keys(ok.body.workers).sort(), [...Capability.options].sort());

    await admin.config('SET', 'appendonly', 'no');
    const noAof = await ready();
    assert.equal(noAof.code, 200);
    assert.equal(noAof.body.status, 'degraded');
    assert.match(noAof.body.reasons.join('\n'), /appendonly is no/);

    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const evicting = await ready();
    assert.equal(evicting.code, 503);
    assert.equal(evicting.body.status, 'degraded');
    assert.match(evicting.body.reasons.join('\n'), /maxmemory-policy is allkeys-lru; BullMQ requires noeviction/);

    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'appendonly', 'yes');
    assert.equal((await ready()).code, 200);
  });

  test('the exposition parses and its farm numbers match PostgreSQL after the boot', async () => {
    const res = await farm.api('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(await res.text()); // strict: throws on anything malformed
    const family = (name: string): PromFamily => {
      const f = families.get(name);
      assert.ok(f, `${name} is exposed`);
      return f;
    };
    /** The value of sample `name` (a family's name, or a histogram's `_sum`/`_count`) with `labels`. */
    const value = (name: string, labels: Record<string, string>) =>
      family(name.replace(/_(sum|count)$/, ''))
        .samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

    const { rows: boots } = await db.query<{ capability: string; outcome: string; n: string }>(
      'SELECT c.capability, r.outcome, count(*) AS n FROM result r JOIN cell c ON c.id = r.cell_id GROUP BY 1, 2',
    );
    assert.deepEqual(boots.map((b) => [b.capability, b.outcome, b.n]), [['qemu-tcg:aarch64', 'passed', '1']]);
    const bootsTotal = family('bootfarm_boots_total');
    assert.equal(bootsTotal.type, 'counter');
    assert.deepEqual(bootsTotal.samples.map((m) => [m.labels.capability, m.labels.outcome, m.value]), [['qemu-tcg:aarch64', 'passed', 1]]);

    const { rows: [duration] } = await db.query<{ ms: number }>('SELECT duration_ms AS ms FROM result');
    const hist = family('bootfarm_boot_duration_seconds');
    assert.equal(hist.type, 'histogram');
    const cap = { capability: 'qemu-tcg:aarch64' };
    assert.equal(value('bootfarm_boot_duration_seconds_count', cap), 1);
    assert.equal(value('bootfarm_boot_duration_seconds_sum', cap), duration!.ms / 1000);
    const buckets = hist.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.capability === cap.capability);
    assert.equal(buckets.length, 12, 'eleven bounds and +Inf');
    for (const b of buckets) {
      const bound = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
      assert.equal(b.value, duration!.ms <= bound * 1000 ? 1 : 0, `bucket le=${b.labels.le}`);
    }

    const jobs = family('bootfarm_queue_jobs');
    assert.equal(jobs.samples.length, (Capability.options.length + 1) * 5, 'five states for every boot queue');
    assert.ok(jobs.samples.every((m) => ['waiting', 'active', 'delayed', 'prioritized', 'failed'].includes(m.labels.state!)));
    assert.ok(jobs.samples.every((m) => m.value === 0), 'the one job completed and was removed');
    const { rows: [waiting] } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM cell WHERE status = 'queued' AND capability = 'qemu-tcg:aarch64'`);
    assert.equal(value('bootfarm_cells_waiting', cap), Number(waiting!.n));
    const { rows: [workers] } = await db.query<{ n: string }>('SELECT count(*) AS n FROM worker');
    const workerSum = family('bootfarm_workers').samples.reduce((sum, m) => sum + m.value, 0);
    assert.equal(workerSum, Number(workers!.n));
    assert.ok(families.has('bootfarm_scheduler_process_cpu_user_seconds_total'), "prom-client's default process metrics");
    assert.ok(family('bootfarm_dependency_up').samples.every((m) => m.value === 1));
  });

  test('the scheduler logs JSON lines with request id, method, path, status and duration, never tokens or bodies', async () => {
    await farm.api('/api/runs?secretquery=1', { headers: { authorization: 'Bearer tok-SEKRIT-123', 'x-request-id': 'ops-req-1' } });
    await farm.api('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'ops-req-2' }, body: JSON.stringify({ imageId: 'BODY-SECRET-456' }) });
    let entries: Record<string, unknown>[] = [];
    await waitFor(() => {
      entries = farm.log('scheduler').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      return entries.some((e) => e.requestId === 'ops-req-2');
    }, 10_000, () => farm.log('scheduler'));
    for (const e of entries) {
      assert.ok(typeof e.level === 'string' && typeof e.message === 'string', JSON.stringify(e));
      assert.ok(!Number.isNaN(Date.parse(String(e.time))), 'ISO time');
    }
    assert.ok(entries.some((e) => e.context === 'Scheduler' && /^listening on http/.test(String(e.message))));
    const req = entries.find((e) => e.requestId === 'ops-req-1')!;
    assert.equal(req.context, 'HTTP');
    assert.equal(req.level, 'warn', 'a 4xx is a warning');
    assert.deepEqual(req.req, { method: 'GET', path: '/api/runs' });
    assert.deepEqual(req.res, { status: 401 }, 'the made-up token is refused before anything else');
    assert.equal(typeof req.durationMs, 'number');
    const log = farm.log('scheduler');
    for (const secret of ['tok-SEKRIT-123', 'BODY-SECRET-456', 'secretquery']) assert.ok(!log.includes(secret), `${secret} is not logged`);
  });

  test('not ready when Redis is down; metrics still answer and say so', async () => {
    await redis.stop();
    const down = await ready();
    assert.equal(down.code, 503);
    assert.equal(down.body.status, 'not_ready');
    assert.equal(down.body.postgres.ok, true);
    assert.match(down.body.reasons.join('\n'), /redis is down/);
    const res = await farm.api('/metrics');
    assert.equal(res.status, 200);
    const up = parsePrometheusText(await res.text()).get('bootfarm_dependency_up')!;
    assert.deepEqual(Object.fromEntries(up.samples.map((m) => [m.labels.dependency, m.value])), { postgres: 1, redis: 0 });
  });
});
