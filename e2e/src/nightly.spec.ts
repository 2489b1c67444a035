// F12 (reliability-and-security.md §5.3), end to end: two scheduler processes both owning the
// nightly schedule (firing every 3 s here), two concurrent manual triggers and a replayed
// scheduler job for the same night → exactly one nightly run per (image, night), and it boots.
import type { RunListDto } from '@bootfarm/contracts';
import { freePort } from '@bootfarm/local-services';
import { Queue } from 'bullmq';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot, startFarm, stopProcess, waitFor, type Farm } from './farm.harness.js';
import { sql, uploadProbe, waitSettled } from './queue.helpers.js';

describe('nightly runs: exactly one per image and night, whoever triggers', () => {
  let farm: Farm;
  let second: ChildProcess;
  let secondUrl: string;
  const secondLog = () => readFileSync(join(farm.dir, 'scheduler-2.log'), 'utf8');

  before(async () => {
    farm = await startFarm({ NIGHTLY_OWNER: 'true', NIGHTLY_CRON: '*/3 * * * * *', NIGHTLY_TIMEOUT_SEC: '60' });
    const port = await freePort();
    secondUrl = `http://127.0.0.1:${port}`;
    second = spawn(process.execPath, ['apps/scheduler/dist/main.js'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', ...farm.env, SCHEDULER_PORT: String(port), MIGRATE_ON_START: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = createWriteStream(join(farm.dir, 'scheduler-2.log'));
    second.stdout!.pipe(out);
    second.stderr!.pipe(out);
    await waitFor(async () => (await fetch(`${secondUrl}/api/health`)).ok, 60_000, secondLog);
  });

  after(async () => {
    if (second) await stopProcess(second);
    await farm?.stop();
  });

  test('F12: duplicate schedulers, manual triggers and a replayed job book one run per (image, night)', async () => {
    const image = await uploadProbe(farm);
    const put = await farm.api(`/api/images/${image.id}/nightly`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ matrix: { axes: { arch: ['aarch64'], hwDescription: ['dt'], cpus: [1] } } }),
    });
    assert.equal(put.status, 200, await put.text());
    assert.equal((await farm.api('/api/images/00000000-0000-4000-8000-000000000000/nightly', { method: 'DELETE' })).status, 404);

    // Both owners' schedules fire; the first job books tonight, the rest are deduplicated.
    const nightly = async () => ((await (await farm.api('/api/runs?limit=100')).json()) as RunListDto).items.filter((r) => r.trigger === 'nightly');
    await waitFor(async () => (await nightly()).length > 0, 60_000, () => farm.log('scheduler'));
    const date = new Date().toISOString().slice(0, 10);
    // Triggering is an operator's route: the admin token, on both schedulers.
    const asAdmin = { 'content-type': 'application/json', authorization: `Bearer ${farm.adminToken}` };
    const trigger = (base: string) => fetch(`${base}/api/nightly/trigger`, { method: 'POST', headers: asAdmin, body: JSON.stringify({ date }) });
    const vendorTrigger = await farm.api('/api/nightly/trigger', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ date }) });
    assert.equal(vendorTrigger.status, 403, 'a vendor cannot trigger the nightly runs');
    const manual = await Promise.all([trigger(secondUrl), trigger(farm.schedulerUrl)]);
    for (const res of manual) assert.deepEqual(await res.json(), { date, created: 0, deduplicated: 1 });

    // A replay of the scheduler's job for tonight, as an operator would add it by hand.
    const queue = new Queue('nightly', { prefix: farm.env.QUEUE_PREFIX, connection: { url: farm.env.REDIS_URL } });
    try {
      await queue.add('nightly.trigger', { date }, { jobId: `replay-${Date.now()}` });
      const schedulers = await queue.getJobSchedulers();
      assert.equal(schedulers.length, 1, 'two owners upserting keep one schedule');
    } finally {
      await queue.close();
    }
    const log = () => farm.log('scheduler') + secondLog();
    // Several more fires of both schedules plus the replay, all deduplicated.
    await waitFor(() => (log().match(/deduplicated/g) ?? []).length >= 5, 60_000, log);

    const rows = await sql<{ image_id: string; nightly_date: string; n: string }>(farm, "SELECT nightly_image_id AS image_id, nightly_date, count(*) AS n FROM run WHERE trigger = 'nightly' GROUP BY 1, 2");
    assert.deepEqual(rows.map((r) => ({ ...r, n: Number(r.n) })), [{ image_id: image.id, nightly_date: date, n: 1 }]);
    const [run] = await nightly();
    assert.ok(run);
    const done = await waitSettled(farm, run.id);
    assert.equal(done.status, 'passed', JSON.stringify(done.cells.map((c) => c.result?.reason)));

    // Unregistered: a later night books nothing for it.
    assert.equal((await farm.api(`/api/images/${image.id}/nightly`, { method: 'DELETE' })).status, 204);
    const later = await fetch(`${farm.schedulerUrl}/api/nightly/trigger`, { method: 'POST', headers: asAdmin, body: JSON.stringify({ date: '2099-01-01' }) });
    assert.deepEqual(await later.json(), { date: '2099-01-01', created: 0, deduplicated: 0 });
  });
});
