// The dashboard's history pages in headless Chromium against a real farm, on real boots: the
// neg-dt-only image (needs a device tree) on an ACPI and a DT platform — the ACPI boot times out,
// the DT one passes — then one nightly run of it. Failures, the signature, console search,
// compare, the run's differential, nightly trends and the night, the image's timeline; another
// vendor finds none of it.
import type { ImageDto, RunDto, RunListDto, SignatureListDto } from '@bootfarm/contracts';
import { ensureFixture } from '@bootfarm/fixtures';
import assert from 'node:assert/strict';
import { copyFileSync, createReadStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot, startFarm, waitFor, type Farm } from './farm.harness.js';
import { submitRun, waitSettled } from './queue.helpers.js';

const screenshotsDir = join(process.env.TEST_ARTIFACTS_DIR ?? join(repoRoot, '.artifacts'), 'dashboard');
const T = { timeout: 30_000 };
const platform = (hwDescription: 'acpi' | 'dt') => ({ arch: 'aarch64', firmware: 'edk2', hwDescription, gic: 'v3', disk: 'virtio-pci', cpus: 1, memoryMiB: 512, accel: 'tcg' });
const text = async (page: Page, testId: string) => ((await page.getByTestId(testId).first().textContent()) ?? '').trim();

describe('the dashboard: history pages on real boots', () => {
  let farm: Farm;
  let browser: Browser;
  let dtOnly: ImageDto;
  let run: RunDto;
  let signatureId: string;
  let night: string;
  let other: { vendorId: string; token: string };
  const loads: string[] = [];
  const shots: string[] = [];

  const context = async (token: string, viewport = { width: 1280, height: 900 }): Promise<BrowserContext> => {
    const ctx = await browser.newContext({ viewport });
    await ctx.addInitScript((t) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('bootfarm.token', t), token);
    return ctx;
  };
  const shoot = async (page: Page, name: string) => {
    const path = join(farm.dir, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    mkdirSync(screenshotsDir, { recursive: true });
    copyFileSync(path, join(screenshotsDir, `${name}.png`));
    shots.push(`${name}.png`);
  };
  /** Opens a page and records how long it took to show `ready` (printed, never asserted). */
  const open = async (page: Page, path: string, ready: string, name: string) => {
    const t0 = performance.now();
    await page.goto(`${farm.dashboardUrl}${path}`);
    await page.getByTestId(ready).first().waitFor(T);
    loads.push(`${name} ${Math.round(performance.now() - t0)} ms`);
  };
  const count = (page: Page, testId: string) => page.getByTestId(testId).count();
  const waitCount = (page: Page, testId: string, n: number) => waitFor(async () => (await count(page, testId)) === n, 15_000, () => `${testId}: expected ${n}`);

  before(async () => {
    // No silence limit of its own in the worker: the run's timeout bounds the silent ACPI boot.
    farm = await startFarm({ NIGHTLY_TIMEOUT_SEC: '60' }, { workerEnv: { WORKER_CONCURRENCY: '2' } });
    other = await farm.createVendor('globex');
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close();
    if (farm) {
      console.log(`dashboard history screenshots (${shots.length}): ${screenshotsDir}/{${shots.join(',')}}`);
      console.log(`dashboard history page loads (to first data): ${loads.join(', ')}`);
      await farm.stop();
    }
  });

  test('seed: dt-only boots on ACPI (times out) and DT (passes), then one nightly run of it on DT', { timeout: 600_000 }, async () => {
    const f = await ensureFixture('neg-dt-only');
    const up = await farm.api('/api/images?name=dt-only&format=raw', {
      method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Readable.toWeb(createReadStream(f.path)) as ReadableStream, duplex: 'half',
    } as RequestInit);
    assert.ok([200, 201].includes(up.status), await up.clone().text());
    dtOnly = (await up.json()) as ImageDto;
    const submitted = await submitRun(farm, { imageId: dtOnly.id, profiles: [platform('acpi'), platform('dt')], timeoutSec: 45 });
    assert.equal(submitted.status, 201, JSON.stringify(submitted.run));
    run = await waitSettled(farm, submitted.run.id, 400_000);
    assert.deepEqual(Object.fromEntries(run.cells.map((c) => [c.profile.hwDescription, c.status])), { acpi: 'timeout', dt: 'passed' }, JSON.stringify(run.cells.map((c) => c.result?.reason)));
    const sigs = (await (await farm.api('/api/signatures')).json()) as SignatureListDto;
    assert.equal(sigs.items.length, 1, JSON.stringify(sigs.items.map((s) => s.title)));
    signatureId = sigs.items[0]!.id;

    // Tonight's nightly run, booked by the operator's trigger.
    const put = await farm.api(`/api/images/${dtOnly.id}/nightly`, {
      method: 'PUT', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ matrix: { axes: { arch: ['aarch64'], hwDescription: ['dt'], cpus: [1] } } }),
    });
    assert.equal(put.status, 200, await put.text());
    night = new Date().toISOString().slice(0, 10);
    const trigger = await fetch(`${farm.schedulerUrl}/api/nightly/trigger`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${farm.adminToken}` }, body: JSON.stringify({ date: night }) });
    assert.equal(trigger.status, 200, await trigger.text());
    const nightly = ((await (await farm.api('/api/runs?trigger=nightly')).json()) as RunListDto).items;
    assert.equal(nightly.length, 1);
    assert.equal((await waitSettled(farm, nightly[0]!.id, 300_000)).status, 'passed');
  });

  test('failures page: the signature with its count, backends and sparkline; the kind filter narrows', async () => {
    const ctx = await context(farm.token!);
    const page = await ctx.newPage();
    await open(page, '/failures', 'signature-row', 'failures');
    assert.equal(await count(page, 'signature-row'), 1);
    const row = page.getByTestId('signature-row');
    assert.equal(await row.getAttribute('data-id'), signatureId);
    assert.equal(await text(page, 'signature-count'), '1');
    assert.match((await row.textContent()) ?? '', /qemu-tcg/);
    assert.match((await row.getByTestId('sparkline').getAttribute('aria-label')) ?? '', /^1 in the last 30 days$/);
    await shoot(page, 'failures');
    await page.getByLabel('Kind').selectOption('infrastructure');
    await page.waitForURL('**/failures?kind=infrastructure', T);
    await page.getByTestId('empty').waitFor(T);
    assert.equal(await count(page, 'signature-row'), 0, 'no infrastructure failure on this farm');
    await ctx.close();
  });

  test('signature page: affected platforms and the occurrence, linking to its cell', async () => {
    const ctx = await context(farm.token!);
    const page = await ctx.newPage();
    await open(page, '/failures', 'signature-title', 'failures (again)');
    // Keyboard: the title is a real link.
    await page.getByTestId('signature-title').focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/signatures/${signatureId}`, T);
    await page.getByTestId('occurrence').first().waitFor(T);
    assert.equal(await count(page, 'occurrence'), 1);
    assert.match(await text(page, 'affected-hw'), /acpi × 1/);
    assert.match(await text(page, 'affected'), /dt-only × 1/);
    const acpi = run.cells.find((c) => c.profile.hwDescription === 'acpi')!;
    assert.equal(await page.getByTestId('occurrence').locator(`a[href="/cells/${acpi.id}"]`).count(), 1, 'the occurrence links to the ACPI cell');
    assert.equal(await page.getByTestId('occurrence').locator(`a[href="/runs/${run.id}"]`).count(), 1, 'and to its run');
    await shoot(page, 'signature');
    await ctx.close();
  });

  test('search: console text narrows to the ACPI boot and shows the matching line; filters narrow and live in the URL; a hit opens the cell at its line', async () => {
    const ctx = await context(farm.token!);
    const page = await ctx.newPage();
    await open(page, '/search', 'hit', 'search');
    await waitCount(page, 'hit', 3); // the ACPI and DT boots, and the nightly one
    await page.getByLabel('Console text').fill('generating empty dtb');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL('**/search?q=generating+empty+dtb', T);
    await waitCount(page, 'hit', 1);
    assert.match(await text(page, 'hit-line'), /EFI stub: Generating empty DTB$/);
    await shoot(page, 'search');
    // A filter, no text: the DT boots.
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.waitForURL(/\/search$/, T);
    // The cleared form, not only the URL, before the next edit.
    await page.waitForFunction("document.querySelector('form[role=search] input')?.value === ''", undefined, T);
    await page.getByLabel('Hardware description').selectOption('dt');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL('**/search?hwDescription=dt', T);
    await waitCount(page, 'hit', 2);
    await page.getByLabel('Outcome').selectOption('timeout');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('empty').waitFor(T);
    assert.match(await text(page, 'empty'), /No boot result matches/);
    // Reloading the URL keeps the filters.
    await page.goto(`${farm.dashboardUrl}/search?q=${encodeURIComponent('Generating empty DTB')}&outcome=timeout`);
    await waitCount(page, 'hit', 1);
    assert.equal(await page.getByLabel('Outcome').inputValue(), 'timeout');
    await page.getByTestId('hit-line').click();
    await page.waitForURL(/\/cells\/[^?]+\?line=\d+$/, T);
    const target = page.locator('[data-target="true"]');
    await target.waitFor(T);
    assert.match((await target.textContent()) ?? '', /EFI stub: Generating empty DTB/, 'the console opens at the matching line');
    await shoot(page, 'search-hit-cell');
    await ctx.close();
  });

  test('run page: the differential says "fails on every platform with ACPI"; compare highlights where the consoles diverge', async () => {
    const ctx = await context(farm.token!);
    const page = await ctx.newPage();
    await open(page, `/runs/${run.id}`, 'differential-statement', 'run (differential)');
    assert.match(await text(page, 'differential-statement'), /^fails on every platform with ACPI/);
    assert.equal(await count(page, 'differential-group'), 2);
    await shoot(page, 'run-differential');
    // The picker starts with the failing cell against the passing one.
    await page.getByTestId('compare-link').click();
    await page.waitForURL('**/compare?a=*', T);
    const acpi = run.cells.find((c) => c.profile.hwDescription === 'acpi')!;
    const dt = run.cells.find((c) => c.profile.hwDescription === 'dt')!;
    assert.equal(new URL(page.url()).search, `?a=${acpi.id}&b=${dt.id}`);
    await page.getByTestId('divergence').waitFor(T);
    assert.match(await text(page, 'diverging-a'), /EFI stub: Generating empty DTB$/);
    assert.match(await text(page, 'diverging-b'), /EFI stub: Using DTB from configuration table$/);
    for (const stage of ['firmware', 'boot_manager']) {
      assert.equal(await page.locator(`[data-testid="compare-stage"][data-stage="${stage}"]`).getAttribute('data-same'), 'true', `${stage} is the same on both`);
    }
    assert.ok((await page.locator('[data-testid="compare-stage"][data-same="false"]').count()) >= 1);
    await shoot(page, 'compare');
    await ctx.close();
  });

  test('nightly: trends as charts, the night by vendor (complete, nothing regressed)', async () => {
    const ctx = await context(farm.token!);
    const page = await ctx.newPage();
    await open(page, '/nightly', 'night-row', 'nightly');
    assert.equal(await count(page, 'night-row'), 1);
    assert.match(await text(page, 'night-row'), /qemu-tcg 100% \(1\/1\)/);
    assert.equal(await page.getByTestId('chart-pass-rate').locator('circle').count(), 1, 'one night, one backend: one point');
    assert.ok((await page.getByTestId('chart-stages').locator('circle').count()) >= 1, 'mean stage durations');
    await shoot(page, 'nightly');
    await page.getByRole('link', { name: night }).click();
    await page.waitForURL(`**/nightly/${night}`, T);
    await page.getByTestId('night-vendor').waitFor(T);
    await waitFor(async () => (await text(page, 'night-complete')) === 'complete', 30_000, () => 'the night never read as complete');
    assert.equal(await count(page, 'night-vendor'), 1);
    assert.match(await text(page, 'night-vendor'), /^e2e/);
    assert.match(await text(page, 'still-failing'), /^0 still failing$/);
    assert.match((await page.getByTestId('night-vendor').textContent()) ?? '', /Nothing regressed\./);
    await shoot(page, 'night');
    await ctx.close();
  });

  test("image page: each cell's results over time with its flake rate", async () => {
    const ctx = await context(farm.token!);
    const page = await ctx.newPage();
    await open(page, `/images/${dtOnly.id}`, 'history-cell', 'image (history)');
    const cells = page.getByTestId('history-cell');
    assert.ok((await cells.count()) >= 2, 'the ACPI and DT cells');
    const acpiRow = cells.filter({ hasText: '/acpi/' });
    assert.equal(await acpiRow.getByTestId('history-result').getAttribute('data-outcome'), 'timeout');
    assert.match((await acpiRow.getByTestId('flake-rate').textContent()) ?? '', /^0% \(0 of \d+ failures? did not reproduce\)/);
    await shoot(page, 'image-history');
    await ctx.close();
  });

  test("another vendor: the signature page is not found, its failures and searches are empty", async () => {
    const ctx = await context(other.token);
    const page = await ctx.newPage();
    await page.goto(`${farm.dashboardUrl}/signatures/${signatureId}`);
    await page.getByTestId('not-found').waitFor(T);
    assert.equal(await count(page, 'signature-heading'), 0);
    await page.goto(`${farm.dashboardUrl}/failures`);
    await page.getByTestId('empty').waitFor(T);
    assert.equal(await count(page, 'signature-row'), 0);
    await page.goto(`${farm.dashboardUrl}/search?q=${encodeURIComponent('Generating empty DTB')}`);
    await page.getByTestId('empty').waitFor(T);
    assert.equal(await count(page, 'hit'), 0);
    await page.goto(`${farm.dashboardUrl}/compare?a=${run.cells[0]!.id}&b=${run.cells[1]!.id}`);
    await page.getByTestId('not-found').waitFor(T);
    await shoot(page, 'history-not-found');
    await ctx.close();
  });

  test('a narrow (400 px) screen: the history pages fit its width', async () => {
    const ctx = await context(farm.token!, { width: 400, height: 860 });
    const page = await ctx.newPage();
    const pages: [string, string, string][] = [
      ['/failures', 'signature-row', 'narrow-failures'],
      [`/signatures/${signatureId}`, 'occurrence', 'narrow-signature'],
      [`/search?q=${encodeURIComponent('Generating empty DTB')}`, 'hit', 'narrow-search'],
      [`/compare?a=${run.cells[0]!.id}&b=${run.cells[1]!.id}`, 'compare-stages', 'narrow-compare'],
      ['/nightly', 'night-row', 'narrow-nightly'],
      [`/nightly/${night}`, 'night-vendor', 'narrow-night'],
    ];
    for (const [path, ready, name] of pages) {
      await page.goto(`${farm.dashboardUrl}${path}`);
      await page.getByTestId(ready).first().waitFor({ state: 'attached', ...T });
      const width = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
      assert.ok(width <= 400, `${path} is ${width} px wide`);
      await shoot(page, name);
    }
    await ctx.close();
  });
});
