// Medium tests: the worker registry on real PostgreSQL, a fresh migrated database per file.
import { migratedDatabase } from '../testing/migrated-database.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PrismaClient } from '../client.js';
import { WorkerRepository, type WorkerRegistration } from './worker.repository.js';

const registration = (id: string, o: Partial<WorkerRegistration> = {}): WorkerRegistration => ({
  id,
  host: 'host-a',
  capabilities: ['qemu-tcg:aarch64', 'qemu-tcg:arm'],
  probe: { schema: 1 },
  concurrency: 2,
  health: 'unknown',
  healthReason: 'starting',
  ...o,
});

describe('worker registry on PostgreSQL', () => {
  let close: (() => Promise<void>) | undefined;
  let db: PrismaClient;
  let workers: WorkerRepository;

  before(async () => {
    ({ db, close } = await migratedDatabase());
    workers = new WorkerRepository(db);
  });

  after(async () => {
    await close?.();
  });

  test('register, heartbeat and health transitions; re-registering resets the row', async () => {
    await workers.register(registration('w1'));
    assert.equal((await workers.find('w1', 30_000))?.health, 'unknown');
    assert.equal(await workers.setHealthByWorker('w1', 'good', 'health boot passed'), true);
    assert.deepEqual(await workers.heartbeat('w1', 'online'), { health: 'good', reason: 'health boot passed' });
    await workers.register(registration('w1', { capabilities: ['qemu-tcg:arm'] }));
    const again = await workers.find('w1', 30_000);
    assert.deepEqual([again?.health, again?.capabilities, again?.state], ['unknown', ['qemu-tcg:arm'], 'online']);
    assert.equal(await workers.heartbeat('nobody', 'online'), null);
  });

  test("an operator's maintenance is never overridden by the worker; the heartbeat brings it back", async () => {
    await workers.register(registration('w2'));
    await workers.setHealthByWorker('w2', 'good', 'ok');
    assert.equal((await workers.setHealthByOperator('w2', 'maintenance', 'by an operator'))?.health, 'maintenance');
    assert.equal(await workers.setHealthByWorker('w2', 'unknown', 'infrastructure failure'), false);
    assert.deepEqual(await workers.heartbeat('w2', 'online'), { health: 'maintenance', reason: 'by an operator' });
    assert.equal(await workers.setHealthByOperator('missing', 'maintenance', 'x'), null);
  });

  test('liveness is derived at read time: a stale heartbeat reads offline and serves nothing', async () => {
    await workers.register(registration('w3', { capabilities: ['qemu-kvm:aarch64'] }));
    await workers.setHealthByWorker('w3', 'good', 'ok');
    assert.ok((await workers.servedCapabilities(30_000)).has('qemu-kvm:aarch64'));
    await db.worker.update({ where: { id: 'w3' }, data: { lastHeartbeatAt: new Date(Date.now() - 60_000) } });
    assert.equal((await workers.find('w3', 30_000))?.state, 'offline', 'older than 3 × 10 s');
    assert.equal((await workers.list(30_000)).find((w) => w.id === 'w3')?.state, 'offline');
    assert.ok(!(await workers.servedCapabilities(30_000)).has('qemu-kvm:aarch64'));
    await workers.heartbeat('w3', 'draining');
    assert.equal((await workers.find('w3', 30_000))?.state, 'draining');
    assert.ok(!(await workers.servedCapabilities(30_000)).has('qemu-kvm:aarch64'), 'a draining worker takes no new work');
  });

  test('a bad or maintenance worker does not count as capable; an unknown one does', async () => {
    await workers.register(registration('w4', { capabilities: ['xen:aarch64'] }));
    assert.ok((await workers.servedCapabilities(30_000)).has('xen:aarch64'), 'unknown runs its health boot, then takes the work');
    await workers.setHealthByWorker('w4', 'bad', 'health boot failed');
    assert.ok(!(await workers.servedCapabilities(30_000)).has('xen:aarch64'));
  });
});
