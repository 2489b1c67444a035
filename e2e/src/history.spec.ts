// History through the whole farm, on real boots: an image that needs a device tree (neg-dt-only:
// the Linux guest with `acpi=off`) run on ACPI and DT platforms. The differential names the axis;
// the two consoles diverge where the EFI stub picks its DTB; an image failing where an earlier
// build of its name passed is re-run, confirmed as a regression and sent to the vendor's webhook; search
// finds the failing boots by filter and by console text.
import type { ConsoleCompareDto, CreatedWebhookDto, DifferentialDto, ImageDto, RegressionEvent, RegressionListDto, RunDto, SearchResultDto, SignatureDto, SignatureListDto } from '@bootfarm/contracts';
import { ensureFixture } from '@bootfarm/fixtures';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startFarm, waitFor, type Farm } from './farm.harness.js';
import { submitRun, waitSettled } from './queue.helpers.js';

/** A log without its per-request lines (the polling drowns what matters). */
const quiet = (log: string) => log.split('\n').filter((l) => !l.includes('"context":"HTTP"')).slice(-60).join('\n');
const platform = (hwDescription: 'acpi' | 'dt', gic: 'v2' | 'v3') => ({ arch: 'aarch64', firmware: 'edk2', hwDescription, gic, disk: 'virtio-pci', cpus: 1, memoryMiB: 512, accel: 'tcg' });

describe('history through the farm', () => {
  let farm: Farm;
  let receiver: Server;
  const events: RegressionEvent[] = [];
  let dtOnly: ImageDto;
  let run: RunDto;

  const get = async <T>(path: string): Promise<T> => {
    const res = await farm.api(path);
    assert.equal(res.status, 200, `${path}: ${res.status} ${await res.clone().text()}`);
    return (await res.json()) as T;
  };
  const upload = async (fixture: 'linux-uki' | 'neg-dt-only', name: string): Promise<ImageDto> => {
    const f = await ensureFixture(fixture);
    const res = await farm.api(`/api/images?name=${name}&format=raw`, {
      method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Readable.toWeb(createReadStream(f.path)) as ReadableStream, duplex: 'half',
    } as RequestInit);
    assert.ok([200, 201].includes(res.status), await res.clone().text());
    return (await res.json()) as ImageDto;
  };

  before(async () => {
    farm = await startFarm({ WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true', WEBHOOK_RETRY_BASE_MS: '300', HISTORY_RECHECKS: '1' }, { workerEnv: { WORKER_CONCURRENCY: '2' } });
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const parsed = JSON.parse(body) as { event: string };
        if (parsed.event === 'regression') events.push(parsed as RegressionEvent);
        res.writeHead(204).end();
      });
    }).listen(0, '127.0.0.1');
    await new Promise((r) => receiver.once('listening', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const hook = await farm.api('/api/webhooks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url, events: ['regression'] }) });
    assert.equal(hook.status, 201);
    assert.match(((await hook.json()) as CreatedWebhookDto).secret, /^bfwh_/);
  });
  after(async () => {
    receiver?.close();
    await farm?.stop();
  });

  test('an image that needs a device tree: the differential says "fails on every platform with ACPI"', { timeout: 600_000 }, async () => {
    dtOnly = await upload('neg-dt-only', 'dt-only');
    const submitted = await submitRun(farm, { imageId: dtOnly.id, profiles: [platform('acpi', 'v3'), platform('dt', 'v3'), platform('dt', 'v2')], timeoutSec: 90 });
    assert.equal(submitted.status, 201, JSON.stringify(submitted.run));
    run = await waitSettled(farm, submitted.run.id, 540_000);
    const byHw = Object.fromEntries(run.cells.map((c) => [`${c.profile.hwDescription}/${c.profile.gic}`, c.status]));
    assert.deepEqual(byHw, { 'acpi/v3': 'timeout', 'dt/v3': 'passed', 'dt/v2': 'passed' }, JSON.stringify(run.cells.map((c) => c.result?.reason)));
    const d = await get<DifferentialDto>(`/api/runs/${run.id}/differential`);
    assert.equal(d.verdict, 'axis');
    assert.equal(d.axis, 'hwDescription');
    assert.equal(d.value, 'acpi');
    assert.match(d.statement, /^fails on every platform with ACPI/);
    assert.deepEqual(d.groups.map((g) => [g.outcome, g.cells.length]), [['timeout', 1], ['passed', 2]]);
    assert.ok(d.groups.every((g) => g.cells.every((c) => typeof c.workerHost === 'string')), 'each cell names the host that booted it');
  });

  test('the ACPI and DT consoles diverge where the EFI stub picks its DTB', async () => {
    const acpi = run.cells.find((c) => c.profile.hwDescription === 'acpi')!;
    const dt = run.cells.find((c) => c.profile.hwDescription === 'dt' && c.profile.gic === 'v3')!;
    const c = await get<ConsoleCompareDto>(`/api/compare?a=${acpi.id}&b=${dt.id}`);
    assert.ok(c.divergence, JSON.stringify(c.stages));
    const at = (lines: ConsoleCompareDto['divergence'] extends infer D ? (D extends { a: infer L } ? L : never) : never, seq: number | null) => lines.find((l) => l.seq === seq)?.text;
    assert.equal(at(c.divergence.a, c.divergence.aSeq), 'EFI stub: Generating empty DTB');
    assert.equal(at(c.divergence.b, c.divergence.bSeq), 'EFI stub: Using DTB from configuration table');
    assert.ok(c.stages.filter((s) => s.stage === 'firmware' || s.stage === 'boot_manager').every((s) => s.same), JSON.stringify(c.stages));
    assert.equal((await farm.api(`/api/compare?a=${acpi.id}&b=00000000-0000-4000-8000-000000000000`)).status, 404);
  });

  test('an image failing where an earlier build of its name passed is re-run, confirmed as a regression, and sent to the webhook', { timeout: 600_000 }, async () => {
    // An earlier build named like the dt-only image (another digest) passes on ACPI with GICv2;
    // then the dt-only image boots there for the first time: compared with its name's last verdict.
    const acpi = [platform('acpi', 'v2')];
    const good = await upload('linux-uki', dtOnly.name);
    assert.notEqual(good.id, dtOnly.id);
    const first = await submitRun(farm, { imageId: good.id, profiles: acpi, timeoutSec: 90 });
    assert.equal((await waitSettled(farm, first.run.id, 300_000)).status, 'passed');
    const broken = dtOnly;
    const second = await submitRun(farm, { imageId: broken.id, profiles: acpi, timeoutSec: 90 });
    assert.equal((await waitSettled(farm, second.run.id, 300_000)).status, 'failed');
    // One re-run (HISTORY_RECHECKS=1) fails the same way: confirmed, told once.
    await waitFor(async () => events.length > 0, 300_000, () => quiet(farm.log('scheduler')) + '\n--- worker\n' + quiet(farm.log('worker')));
    const reg = events[0]!.regression;
    assert.equal(reg.state, 'confirmed');
    assert.equal(reg.basis, 'name', 'compared with the last verdict of the same image name');
    assert.equal(reg.image.id, broken.id);
    assert.equal(reg.openedRunId, second.run.id);
    assert.deepEqual(reg.checks, { requested: 1, done: 1, failed: 1 });
    const listed = await get<RegressionListDto>(`/api/regressions?image=${broken.id}`);
    assert.deepEqual(listed.items.map((g) => [g.id, g.state]), [[reg.id, 'confirmed']]);
    const reruns = (await get<{ items: RunDto[] }>('/api/runs?limit=50')).items.filter((r) => r.trigger === 'recheck');
    assert.equal(reruns.length, 1, 'one re-run run');
    // Another vendor sees none of it.
    const other = await farm.createVendor('globex');
    const theirs = await fetch(`${farm.schedulerUrl}/api/regressions/${reg.id}`, { headers: { authorization: `Bearer ${other.token}` } });
    assert.equal(theirs.status, 404);
  });

  test('signatures group the failures; search finds them by filter and by console text', async () => {
    const sigs = await get<SignatureListDto>('/api/signatures?kind=product');
    assert.ok(sigs.items.length >= 1);
    const top = sigs.items[0]!;
    // dt-only on ACPI three times (the first run, the regression's run, its re-run; GICv3 and v2), one signature.
    assert.equal(top.occurrences, 3, JSON.stringify(sigs.items.map((s) => [s.title, s.occurrences])));
    const detail = await get<SignatureDto>(`/api/signatures/${top.id}`);
    assert.deepEqual(detail.affected.hwDescription, [{ value: 'acpi', count: 3 }]);
    assert.deepEqual(detail.affected.gic, [{ value: 'v2', count: 2 }, { value: 'v3', count: 1 }]);
    assert.deepEqual(detail.affected.images.map((i) => i.id), [dtOnly.id]);
    const hits = await get<SearchResultDto>(`/api/search?q=${encodeURIComponent('generating empty dtb')}&outcome=timeout`);
    assert.equal(hits.items.length, 3);
    assert.ok(hits.items.every((h) => h.line?.text === 'EFI stub: Generating empty DTB'));
    const dtPasses = await get<SearchResultDto>('/api/search?hwDescription=dt&outcome=passed');
    assert.equal(dtPasses.items.length, 2);
    const page = await get<SearchResultDto>('/api/search?limit=2');
    const next = await get<SearchResultDto>(`/api/search?limit=2&cursor=${encodeURIComponent(page.nextCursor!)}`);
    assert.equal(new Set([...page.items, ...next.items].map((h) => h.resultId)).size, 4);
    assert.equal((await farm.api('/api/search?q=ab')).status, 400, 'a search text of fewer than 3 characters is refused');
  });
});
