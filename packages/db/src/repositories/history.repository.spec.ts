// Medium tests: real PostgreSQL. History recorded from results written through the worker's own
// path (startAttempt → appendConsole → finishAttempt → compaction), with consoles and signatures
// from real captures.
import { defaultProfile, type Outcome, type VmProfile } from '@bootfarm/contracts';
import { sample } from '@bootfarm/history/testing';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PrismaClient } from '../client.js';
import { ConsoleStore } from '../console/console.store.js';
import { migratedDatabase } from '../testing/migrated-database.js';
import { BootRepository, type CellOutcome } from './boot.repository.js';
import { HistoryRepository } from './history.repository.js';
import { ImageRepository } from './image.repository.js';
import { NightlyRepository } from './nightly.repository.js';
import { RunRepository } from './run.repository.js';
import { SearchRepository } from './search.repository.js';
import { SignatureRepository } from './signature.repository.js';
import { ALL_VENDORS } from './scope.js';

const tcg: VmProfile = { ...defaultProfile };
const kvm: VmProfile = { ...defaultProfile, accel: 'kvm' };
const xen: VmProfile = { ...defaultProfile, accel: 'xen', disk: 'xen-pv', hwDescription: 'dt' };
const dt: VmProfile = { ...defaultProfile, hwDescription: 'dt' };

/** A capture as another hypervisor would print it: other load addresses. */
const shifted = (delta: number) => (t: string) => t.replace(/0x([0-9a-f]{8,})/g, (_, h: string) => `0x${(BigInt(`0x${h}`) + BigInt(delta)).toString(16)}`);

describe('history', () => {
  let close: (() => Promise<void>) | undefined;
  let db: PrismaClient;
  let runs: RunRepository;
  let boots: BootRepository;
  let history: HistoryRepository;
  let signatures: SignatureRepository;
  let search: SearchRepository;
  let vendorId: string;
  let otherVendor: string;
  let images: ImageRepository;
  let serial = 0;

  /** Boots every cell of a run through the worker's repository path with the given console and outcome. */
  async function boot(runId: string, how: (key: string) => { sampleName: string; outcome: Outcome; edit?: (t: string) => string }): Promise<void> {
    const run = (await runs.find(ALL_VENDORS, runId))!;
    for (const cell of run.cells.filter((c) => c.status === 'queued')) {
      const { sampleName, outcome, edit } = how(cell.key);
      const s = sample(sampleName, edit);
      const ticket = (await boots.startAttempt(cell.id, 'worker-a'))!;
      await boots.appendConsole(ticket.attemptId, s.lines);
      const result: CellOutcome = {
        outcome,
        failureClass: outcome === 'passed' ? null : outcome === 'infrastructure_error' ? 'qemu_start_failed' : (s.analysis.failureClass ?? 'kernel_panic'),
        reason: outcome === 'infrastructure_error' ? `QEMU exited with code 1 (pid ${++serial})` : 'see console',
        stage: s.analysis.stage,
        durationMs: s.lines.at(-1)!.offsetMs,
        command: {},
        commandLine: 'qemu-system-aarch64 …',
        firmware: {},
        facts: {},
        evidence: { stages: s.analysis.stages, normalisedSignature: outcome === 'passed' ? null : s.analysis.normalisedSignature },
        compliance: null,
      };
      assert.equal((await boots.finishAttempt(ticket, result)).accepted, true);
      await new ConsoleStore(db).compact(ticket.attemptId);
    }
  }

  async function submit(imageId: string, profiles: VmProfile[], vendor = vendorId): Promise<string> {
    return (await runs.create({ vendorId: vendor, imageIds: [imageId], profiles, timeoutMs: 60_000 })).id;
  }

  before(async () => {
    ({ db, close } = await migratedDatabase());
    images = new ImageRepository(db);
    runs = new RunRepository(db);
    boots = new BootRepository(db);
    history = new HistoryRepository(db);
    signatures = new SignatureRepository(db);
    search = new SearchRepository(db);
    vendorId = await images.ensureVendor('acme');
    otherVendor = await images.ensureVendor('globex');
  });
  after(() => close?.());

  const newImage = async (name: string, vendor = vendorId) =>
    (await images.record({ vendorId: vendor, name, format: 'raw', sha256: (++serial).toString(16).padStart(64, '0'), sizeBytes: 1 })).image.id;

  test('the same panic on three hypervisors is one signature with three platforms; a re-record changes nothing', async () => {
    const image = await newImage('panics');
    const runId = await submit(image, [tcg, kvm, xen]);
    let i = 0;
    await boot(runId, () => ({ sampleName: 'linux-bare-image-panic', outcome: 'failed', edit: shifted(0x1000 * i++) }));
    const out = await history.recordRun(runId, { rechecks: 2 });
    assert.equal(out.recorded, 3);
    assert.deepEqual(out.recheckRunIds, [], 'first results are not regressions');
    const list = await signatures.list(vendorId, { limit: 10 });
    const panic = list.items.filter((s) => /VFS: Unable to mount root fs/.test(s.title));
    assert.equal(panic.length, 1, list.items.map((s) => s.title).join(' | '));
    assert.equal(panic[0]!.occurrences, 3);
    assert.deepEqual(panic[0]!.backends, ['qemu-kvm', 'qemu-tcg', 'xen']);
    assert.equal(panic[0]!.images, 1);
    assert.equal(panic[0]!.daily.at(-1), 3, 'today in the sparkline');
    const detail = (await signatures.find(vendorId, panic[0]!.id))!;
    assert.deepEqual(detail.affected.hwDescription, [{ value: 'acpi', count: 2 }, { value: 'dt', count: 1 }]);
    assert.deepEqual(detail.affected.vendors, [{ value: 'acme', count: 3 }]);
    // Settling again (a retried settle job) records nothing twice.
    assert.equal((await history.recordRun(runId, { rechecks: 2 })).recorded, 0);
    assert.equal((await signatures.find(vendorId, panic[0]!.id))!.occurrences, 3);
    const occ = await signatures.occurrences(vendorId, panic[0]!.id, { limit: 2 });
    assert.equal(occ.items.length, 2);
    const rest = await signatures.occurrences(vendorId, panic[0]!.id, { limit: 2, cursor: occ.nextCursor! });
    assert.equal(rest.items.length, 1);
    assert.equal(new Set([...occ.items, ...rest.items].map((o) => o.resultId)).size, 3, 'keyset pages do not overlap');
    // Another vendor does not see it; an admin does.
    assert.equal(await signatures.find(otherVendor, panic[0]!.id), null);
    assert.equal((await signatures.find(ALL_VENDORS, panic[0]!.id))!.occurrences, 3);
  });

  test('infrastructure failures get their own signature kind, one per normalised reason', async () => {
    const image = await newImage('infra');
    const runId = await submit(image, [tcg, dt]);
    await boot(runId, () => ({ sampleName: 'probe-aa64-aavmf-acpi', outcome: 'infrastructure_error' }));
    await history.recordRun(runId, { rechecks: 2 });
    const infra = await signatures.list(vendorId, { kind: 'infrastructure', limit: 10 });
    assert.equal(infra.items.length, 1, 'pids differ, the signature does not');
    assert.equal(infra.items[0]!.occurrences, 2);
    assert.match(infra.items[0]!.title, /^qemu_start_failed: QEMU exited with code N \(pid N\)$/);
    assert.ok((await signatures.list(vendorId, { kind: 'product', limit: 10 })).items.every((s) => s.kind === 'product'));
  });

  test('a cell that fails once then passes twice is a flake, not a regression', async () => {
    const image = await newImage('flaky');
    await boot(await submit(image, [tcg]), () => ({ sampleName: 'linux-uki-aavmf-acpi', outcome: 'passed' }));
    await history.recordRun((await db.run.findFirst({ where: { images: { some: { imageId: image } } }, select: { id: true } }))!.id, { rechecks: 2 });
    const failing = await submit(image, [tcg]);
    await boot(failing, () => ({ sampleName: 'linux-bare-image-panic', outcome: 'failed' }));
    const opened = await history.recordRun(failing, { rechecks: 2 });
    assert.equal(opened.recheckRunIds.length, 2, 'two re-runs asked for');
    const [reg] = (await history.regressions(vendorId, { imageId: image, limit: 5 })).items;
    assert.equal(reg!.state, 'checking');
    assert.equal(reg!.basis, 'digest');
    assert.match(reg!.signature!.title, /VFS/);
    for (const recheck of opened.recheckRunIds) {
      const r = (await runs.find(vendorId, recheck))!;
      assert.equal(r.trigger, 'recheck');
      assert.equal(r.cells.length, 1);
      await boot(recheck, () => ({ sampleName: 'linux-uki-aavmf-acpi', outcome: 'passed' }));
      await history.recordRun(recheck, { rechecks: 2 });
    }
    const after = (await history.regression(vendorId, reg!.id))!;
    assert.equal(after.state, 'flaky');
    assert.equal(after.checks.done, 2);
    assert.equal(after.checks.failed, 0);
    assert.ok(after.closedAt);
    const h = (await history.imageHistory(vendorId, image, { perCell: 10 }))!;
    const cell = h.cells[0]!;
    assert.equal(cell.boots, 4);
    assert.equal(cell.flakyFailures, 1);
    assert.equal(cell.flakeRate, 0.25);
    assert.deepEqual(cell.results.map((r) => r.transition), ['still_passing', 'fixed', 'new_failure', 'first'], 'newest first');
  });

  test('failing re-runs confirm a regression; still failing keeps it open; the next passing run closes it as fixed', async () => {
    const image = await newImage('regresses');
    const first = await submit(image, [tcg, dt]);
    await boot(first, () => ({ sampleName: 'linux-uki-aavmf-acpi', outcome: 'passed' }));
    await history.recordRun(first, { rechecks: 1 });
    // Only the ACPI cell breaks.
    const broken = await submit(image, [tcg, dt]);
    await boot(broken, (key) => (key.includes('/acpi/') ? { sampleName: 'linux-bare-image-panic', outcome: 'failed' } : { sampleName: 'linux-uki-aavmf-fdt', outcome: 'passed' }));
    const opened = await history.recordRun(broken, { rechecks: 1 });
    assert.equal(opened.recheckRunIds.length, 1);
    await boot(opened.recheckRunIds[0]!, () => ({ sampleName: 'linux-bare-image-panic', outcome: 'failed' }));
    const confirmed = await history.recordRun(opened.recheckRunIds[0]!, { rechecks: 1 });
    assert.equal(confirmed.confirmed.length, 1);
    const id = confirmed.confirmed[0]!;
    assert.equal((await history.regression(vendorId, id))!.state, 'confirmed');
    assert.deepEqual(await history.confirmedByRun(opened.recheckRunIds[0]!), [id]);
    const still = await submit(image, [tcg, dt]);
    await boot(still, (key) => (key.includes('/acpi/') ? { sampleName: 'linux-bare-image-panic', outcome: 'failed' } : { sampleName: 'linux-uki-aavmf-fdt', outcome: 'passed' }));
    assert.deepEqual((await history.recordRun(still, { rechecks: 1 })).recheckRunIds, [], 'still failing asks for no re-runs');
    assert.equal((await history.regression(vendorId, id))!.state, 'confirmed');
    const fixed = await submit(image, [tcg, dt]);
    await boot(fixed, () => ({ sampleName: 'linux-uki-aavmf-acpi', outcome: 'passed' }));
    await history.recordRun(fixed, { rechecks: 1 });
    const closed = (await history.regression(vendorId, id))!;
    assert.equal(closed.state, 'fixed');
    assert.equal(closed.closedRunId, fixed);
    assert.equal((await history.regressions(vendorId, { imageId: image, limit: 10 })).items.length, 1, 'one regression, kept up to date');
    assert.equal(await history.regression(otherVendor, id), null, "another vendor's regression is not found");
  });

  test('a new upload of the same image name is compared with the name\'s last verdict', async () => {
    const v1 = await newImage('distro');
    const r1 = await submit(v1, [dt]);
    await boot(r1, () => ({ sampleName: 'linux-uki-aavmf-fdt', outcome: 'passed' }));
    await history.recordRun(r1, { rechecks: 0 });
    const v2 = await newImage('distro');
    const r2 = await submit(v2, [dt]);
    await boot(r2, () => ({ sampleName: 'linux-bare-image-panic', outcome: 'timeout' }));
    const out = await history.recordRun(r2, { rechecks: 0 });
    assert.equal(out.confirmed.length, 1, 'no re-runs configured: confirmed at once');
    const reg = (await history.regression(vendorId, out.confirmed[0]!))!;
    assert.equal(reg.basis, 'name');
    assert.equal(reg.image.id, v2);
  });

  test('search: filters, keyset pages, and console text (rare and dense) with the matching line', async () => {
    const all = await search.search(vendorId, { limit: 200 });
    assert.ok(all.items.length > 10);
    const failed = await search.search(vendorId, { outcome: 'failed', limit: 200 });
    assert.ok(failed.items.length > 0 && failed.items.every((h) => h.outcome === 'failed'));
    const onXen = await search.search(vendorId, { backend: 'xen', limit: 50 });
    assert.ok(onXen.items.length >= 1 && onXen.items.every((h) => h.backend === 'xen'));
    const dtOnly = await search.search(vendorId, { hwDescription: 'dt', limit: 200 });
    assert.ok(dtOnly.items.length > 0 && dtOnly.items.every((h) => h.key.split('/')[2] === 'dt'));
    const page1 = await search.search(vendorId, { limit: 3 });
    const page2 = await search.search(vendorId, { limit: 3, cursor: page1.nextCursor! });
    assert.equal(new Set([...page1.items, ...page2.items].map((h) => h.resultId)).size, 6);
    assert.ok(page1.items[2]!.at >= page2.items[0]!.at, 'newest first across pages');
    // A rare text: the VFS panic line.
    const vfs = await search.search(vendorId, { q: 'unable to mount root fs', limit: 50 });
    assert.ok(vfs.items.length > 0);
    assert.ok(vfs.items.every((h) => /Unable to mount root fs/.test(h.line!.text)), 'the matching line, case-insensitive');
    assert.ok(vfs.items.every((h) => h.outcome !== 'passed' || h.line !== null));
    const sig = vfs.items[0]!.signature!.id;
    assert.ok((await search.search(vendorId, { signature: sig, limit: 200 })).items.every((h) => h.signature?.id === sig));
    // Wildcards are literal; another vendor's consoles are not searched.
    assert.equal((await search.search(vendorId, { q: '100%_sure', limit: 5 })).items.length, 0);
    assert.equal((await search.search(otherVendor, { q: 'unable to mount root fs', limit: 5 })).items.length, 0);
    // A combined filter: failed with a given class since an instant.
    const since = await search.search(vendorId, { failureClass: 'kernel_panic', from: new Date(Date.now() - 3_600_000).toISOString(), limit: 200 });
    assert.ok(since.items.length > 0 && since.items.every((h) => h.failureClass === 'kernel_panic'));
  });

  test('signatures merge: occurrences, aliases and statistics move', async () => {
    const image = await newImage('merge');
    const a = await submit(image, [tcg]);
    await boot(a, () => ({ sampleName: 'neg-x64-only-aavmf', outcome: 'failed' }));
    await history.recordRun(a, { rechecks: 0 });
    const list = (await signatures.list(vendorId, { limit: 50 })).items;
    const from = list.find((s) => !/VFS/.test(s.title) && s.kind === 'product')!;
    const into = list.find((s) => /VFS/.test(s.title))!;
    assert.equal(await signatures.merge(into.id, from.id), true);
    const merged = (await signatures.find(vendorId, into.id))!;
    assert.equal(merged.occurrences, into.occurrences + from.occurrences);
    assert.ok(merged.aliases.includes(from.title));
    assert.equal(await signatures.find(vendorId, from.id), null);
    // The merged title now resolves to the target.
    const again = await submit(image, [dt]);
    await boot(again, () => ({ sampleName: 'neg-x64-only-aavmf', outcome: 'failed' }));
    await history.recordRun(again, { rechecks: 0 });
    assert.equal((await signatures.find(vendorId, into.id))!.occurrences, merged.occurrences + 1);
  });

  test('a night\'s summary: what regressed, what was fixed, by vendor', async () => {
    const nightly = new NightlyRepository(db);
    const image = await newImage('nightly-image');
    const night1 = (await nightly.createRun({ vendorId, imageId: image, nightlyDate: '2026-11-01', profiles: [tcg, dt], notApplicable: [], timeoutMs: 60_000 }))!.runId;
    await boot(night1, () => ({ sampleName: 'linux-uki-aavmf-acpi', outcome: 'passed' }));
    await history.recordRun(night1, { rechecks: 1 });
    const night2 = (await nightly.createRun({ vendorId, imageId: image, nightlyDate: '2026-11-02', profiles: [tcg, dt], notApplicable: [], timeoutMs: 60_000 }))!.runId;
    await boot(night2, (key) => (key.includes('/dt/') ? { sampleName: 'linux-bare-image-panic', outcome: 'failed' } : { sampleName: 'linux-uki-aavmf-acpi', outcome: 'passed' }));
    const out = await history.recordRun(night2, { rechecks: 1 });
    const pending = (await nightly.summary(vendorId, '2026-11-02'))!;
    assert.equal(pending.complete, false, 'a re-run is still queued');
    await boot(out.recheckRunIds[0]!, () => ({ sampleName: 'linux-bare-image-panic', outcome: 'failed' }));
    await history.recordRun(out.recheckRunIds[0]!, { rechecks: 1 });
    const s = (await nightly.summary(vendorId, '2026-11-02'))!;
    assert.equal(s.complete, true);
    assert.equal(s.vendors.length, 1);
    assert.equal(s.vendors[0]!.vendor, 'acme');
    assert.deepEqual(s.vendors[0]!.regressed.map((g) => [g.key.split('/')[2], g.state]), [['dt', 'confirmed']]);
    assert.deepEqual(s.vendors[0]!.cells, { passed: 1, failed: 1 });
    const night3 = (await nightly.createRun({ vendorId, imageId: image, nightlyDate: '2026-11-03', profiles: [tcg, dt], notApplicable: [], timeoutMs: 60_000 }))!.runId;
    await boot(night3, () => ({ sampleName: 'linux-uki-aavmf-fdt', outcome: 'passed' }));
    await history.recordRun(night3, { rechecks: 1 });
    const s3 = (await nightly.summary(vendorId, '2026-11-03'))!;
    assert.equal(s3.vendors[0]!.fixed.length, 1);
    assert.equal(s3.vendors[0]!.fixed[0]!.transition, 'fixed');
    assert.equal(await nightly.summary(otherVendor, '2026-11-03'), null);
    const trend = await nightly.trends(vendorId, 60, new Date('2026-11-04T00:00:00Z'));
    assert.deepEqual(trend.nights.map((n) => n.date), ['2026-11-03', '2026-11-02', '2026-11-01']);
    assert.deepEqual(trend.nights[1]!.passRate['qemu-tcg'], { passed: 1, total: 2 });
    assert.equal(trend.nights[1]!.regressions, 1);
    assert.ok((trend.nights[0]!.stageMs['os'] ?? 0) > 0, 'time spent in the OS stage');
  });

  test('the differential reads one image in one run', async () => {
    const image = await newImage('diff');
    const runId = await submit(image, [tcg, dt, xen]);
    await boot(runId, (key) => (key.includes('/xen') ? { sampleName: 'linux-bare-image-panic', outcome: 'failed' } : { sampleName: 'linux-uki-aavmf-acpi', outcome: 'passed' }));
    const cells = (await search.differentialCells(vendorId, runId, image))!;
    assert.equal(cells.length, 3);
    assert.ok(cells.every((c) => c.workerHost === null || typeof c.workerHost === 'string'));
    assert.match(cells.find((c) => c.backend === 'xen')!.signature!, /VFS/);
    assert.equal(await search.differentialCells(otherVendor, runId, image), null);
    const side = (await search.compareSide(vendorId, cells[0]!.cellId))!;
    assert.ok(side.lines.length > 100 && side.stages.length > 2);
    assert.equal(await search.compareSide(otherVendor, cells[0]!.cellId), null);
  });
});
