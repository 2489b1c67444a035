// The fleet on real parts: workers route by capability, register and heartbeat in PostgreSQL, go
// through a health boot of the known-good probe image (LAVA's unknown → good | bad), and obey an
// operator's maintenance. Cells no worker can serve wait visibly (`waitingFor`), never fail.
import { defaultProfile, type RunDto, type VmProfile } from '@bootfarm/contracts';
import { ensureProbeImage } from '@bootfarm/probe';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startFarm, stopProcess, waitFor, type Farm } from './farm.harness.js';
import { attemptsOf, createRun, setWorkerHealth, getRun, listWorkers, logEvents, resultCount, uploadImage, waitForRunEnd, waitForWorker } from './fleet.helpers.js';

const KVM_PROFILE: VmProfile = { ...defaultProfile, accel: 'kvm' };
/** How long a cell must stay untouched to count as "not taken" (the workers poll far more often). */
const QUIET_MS = 4_000;

describe('fleet: capability routing, registry, health and maintenance', () => {
  let farm: Farm;
  let imageId: string;
  let firstRun: RunDto;

  before(async () => {
    const probe = await ensureProbeImage();
    farm = await startFarm(
      { WORKER_HEARTBEAT_MS: '500' },
      { workerEnv: { WORKER_ID: 'worker-arm', WORKER_CAPABILITIES: 'qemu-tcg:arm' } },
    );
    imageId = (await uploadImage(farm, probe.imagePath, 'vmspec-probe')).id;
  });

  after(async () => {
    await farm?.stop();
  });

  test('a fresh worker registers unknown, passes its health boot and reads good', async () => {
    const good = await waitForWorker(farm, 'worker-arm', (w) => w.health === 'good');
    assert.deepEqual(good.capabilities, ['qemu-tcg:arm']);
    assert.equal(good.state, 'online');
    assert.match(good.healthReason ?? '', /health boot passed on qemu-tcg:arm/);
    const transitions = logEvents(farm, 'worker', 'health').map((e) => `${e.from}->${e.to}`);
    assert.deepEqual(transitions, ['unknown->good'], 'it started unknown and the health boot made it good');
    const before = Date.parse(good.lastHeartbeatAt);
    await waitForWorker(farm, 'worker-arm', (w) => Date.parse(w.lastHeartbeatAt) > before, 10_000);
  });

  test('an aarch64 cell is not taken by an arm-only worker and a qemu-kvm cell waits for a capable worker', async () => {
    firstRun = await createRun(farm, imageId, { profiles: [defaultProfile, KVM_PROFILE] });
    const [tcg, kvm] = [firstRun.cells.find((c) => c.profile.accel === 'tcg')!, firstRun.cells.find((c) => c.profile.accel === 'kvm')!];
    assert.equal(tcg.waitingFor, 'qemu-tcg:aarch64', 'no online worker serves qemu-tcg:aarch64 yet');
    assert.equal(kvm.waitingFor, 'qemu-kvm:aarch64');
    await sleep(QUIET_MS);
    const run = await getRun(farm, firstRun.id);
    for (const cell of run.cells) {
      assert.equal(cell.status, 'queued', `${cell.key} is still queued, not failed`);
      assert.equal(cell.attempts, 0, `${cell.key} was never attempted`);
      assert.equal(cell.waitingFor, cell.profile.accel === 'kvm' ? 'qemu-kvm:aarch64' : 'qemu-tcg:aarch64');
    }
    assert.doesNotMatch(farm.log('worker'), new RegExp(tcg.id), 'the arm-only worker never saw the aarch64 cell');
  });

  test('a worker serving every capability of this host takes the aarch64 cell; the qemu-kvm cell keeps waiting', async () => {
    farm.startWorker('worker-all', { WORKER_ID: 'worker-all' });
    const all = await waitForWorker(farm, 'worker-all', (w) => w.health === 'good', 120_000, 'worker-all');
    assert.ok(all.capabilities.includes('qemu-tcg:aarch64') && all.capabilities.includes('qemu-tcg:arm'), all.capabilities.join());
    assert.ok(!all.capabilities.includes('qemu-kvm:aarch64'), 'this x86 host has no KVM for ARM guests');
    let run: RunDto | undefined;
    await waitFor(async () => {
      run = await getRun(farm, firstRun.id);
      return run.cells.some((c) => c.profile.accel === 'tcg' && c.status === 'passed');
    }, 240_000, () => farm.log('worker-all'));
    const tcg = run!.cells.find((c) => c.profile.accel === 'tcg')!;
    const kvm = run!.cells.find((c) => c.profile.accel === 'kvm')!;
    assert.equal(tcg.waitingFor, null);
    assert.deepEqual((await attemptsOf(farm, tcg.id)).map((a) => [a.worker_id, a.status]), [['worker-all', 'passed']]);
    assert.equal(kvm.status, 'queued', 'the qemu-kvm cell is not failed');
    assert.equal(kvm.attempts, 0);
    assert.equal(kvm.waitingFor, 'qemu-kvm:aarch64');
  });

  test('a worker whose health boot cannot succeed goes bad, keeps heartbeating and takes no job', async () => {
    farm.startWorker('worker-kvm', { WORKER_ID: 'worker-kvm', WORKER_CAPABILITIES: 'qemu-kvm:aarch64' });
    const bad = await waitForWorker(farm, 'worker-kvm', (w) => w.health === 'bad' && w.state === 'online', 60_000, 'worker-kvm');
    assert.match(bad.healthReason ?? '', /cannot serve qemu-kvm:aarch64/);
    assert.deepEqual(bad.capabilities, ['qemu-kvm:aarch64'], 'it advertises what it was asked to serve');
    await waitForWorker(farm, 'worker-kvm', (w) => Date.parse(w.lastHeartbeatAt) > Date.parse(bad.lastHeartbeatAt), 10_000, 'worker-kvm');
    const kvm = (await getRun(farm, firstRun.id)).cells.find((c) => c.profile.accel === 'kvm')!;
    assert.equal(kvm.status, 'queued');
    assert.equal(kvm.attempts, 0, 'a bad worker takes nothing');
    assert.equal(kvm.waitingFor, 'qemu-kvm:aarch64', 'a bad worker does not count as capable');
  });

  test('maintenance set through the API stops a worker taking work; unknown sends it through a health boot', async () => {
    const put = (health: string) => setWorkerHealth(farm, 'worker-all', health);
    assert.equal((await setWorkerHealth(farm, 'worker-all', 'maintenance', farm.token!)).status, 403, 'a vendor cannot take a worker out of rotation');
    assert.equal((await put('good')).status, 400, 'good and bad are the worker\'s own verdicts');
    const res = await put('maintenance');
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(((await res.json()) as { health: string }).health, 'maintenance');
    await waitFor(() => logEvents(farm, 'worker-all', 'health').some((e) => e.to === 'maintenance'), 10_000, () => farm.log('worker-all'));

    const run = await createRun(farm, imageId);
    await sleep(QUIET_MS);
    const waiting = (await getRun(farm, run.id)).cells[0]!;
    assert.equal(waiting.status, 'queued');
    assert.equal(waiting.attempts, 0, 'a worker in maintenance takes no new cell');
    assert.equal(waiting.waitingFor, 'qemu-tcg:aarch64');

    assert.equal((await put('unknown')).status, 200);
    const ended = await waitForRunEnd(farm, run.id, 240_000, 'worker-all');
    assert.equal(ended.cells[0]!.status, 'passed');
    assert.equal(await resultCount(farm, ended.cells[0]!.id), 1);
    const transitions = logEvents(farm, 'worker-all', 'health').map((e) => `${e.from}->${e.to}`);
    assert.deepEqual(transitions, ['unknown->good', 'good->maintenance', 'maintenance->unknown', 'unknown->good']);
    assert.equal((await listWorkers(farm)).find((w) => w.id === 'worker-all')?.health, 'good');
    assert.equal((await setWorkerHealth(farm, 'nobody', 'maintenance')).status, 404);
  });

  test('a stopped worker reads offline', async () => {
    const arm = farm.processes.worker;
    await stopProcess(arm);
    const offline = await waitForWorker(farm, 'worker-arm', (w) => w.state === 'offline', 10_000);
    assert.equal(offline.health, 'good');
  });
});
