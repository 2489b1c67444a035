// The dashboard's pages in headless Chromium against a real farm: the scheduler serving the
// built dashboard, a worker booting the probe image under QEMU TCG + edk2, PostgreSQL and Redis.
// One real boot (submitted through the page, followed live), plus a seeded run for what one boot
// cannot show (a cell waiting for a Xen worker, a not-applicable cell, a second image).
import { defaultProfile, type CellDetailDto, type ImageDto, type MeDto, type RunDto } from '@bootfarm/contracts';
import { createPrismaClient, RunRepository } from '@bootfarm/db';
import { ensureProbeImage } from '@bootfarm/probe';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot, startFarm, waitFor, type Farm } from './farm.harness.js';

const screenshotsDir = join(process.env.TEST_ARTIFACTS_DIR ?? join(repoRoot, '.artifacts'), 'dashboard');
const T = { timeout: 30_000 };

/** A raw GET that keeps the path exactly as written (fetch would normalise `..`). */
function rawGet(base: string, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.path = path;
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard: every page on real data', () => {
  let farm: Farm;
  let browser: Browser;
  let probe: Awaited<ReturnType<typeof ensureProbeImage>>;
  let run: RunDto;
  let seeded: RunDto;
  let probeImage: ImageDto;
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
  const open = async (page: Page, path: string, ready: Parameters<Page['getByTestId']>[0], name: string) => {
    const t0 = performance.now();
    await page.goto(`${farm.dashboardUrl}${path}`);
    await page.getByTestId(ready).first().waitFor(T);
    loads.push(`${name} ${Math.round(performance.now() - t0)} ms`);
  };

  before(async () => {
    probe = await ensureProbeImage();
    farm = await startFarm();
    other = await farm.createVendor('other');
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close();
    if (farm) {
      console.log(`dashboard screenshots (${shots.length}): ${screenshotsDir}/{${shots.join(',')}}`);
      console.log(`dashboard page loads (to first data): ${loads.join(', ')}`);
      await farm.stop();
    }
  });

  test('submit: the upload shows its progress, the run page follows the run, the cell page streams the console while it boots', async () => {
    const ctx = await context(farm.token!);
    const page = await ctx.newPage();
    // Slow the upload down so its progress is seen; the bytes are the same.
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 16 * 1024 * 1024 });
    await page.goto(`${farm.dashboardUrl}/submit`);
    await page.getByLabel('Disk image').setInputFiles(probe.imagePath);
    assert.equal(await page.getByLabel('Name').inputValue(), 'probe-aa64', 'the name comes from the file');
    await page.getByLabel('Matrix').selectOption('');
    // The worker is paused before the run exists, so the cell page opens on a queued cell.
    process.kill(farm.processes.worker.pid!, 'SIGSTOP');
    try {
      await page.getByRole('button', { name: 'Upload and run' }).click();
      const progress = page.locator('#upload-progress');
      await progress.waitFor(T);
      assert.equal(Number(await progress.getAttribute('max')), readFileSync(probe.imagePath).length, 'progress counts the whole file');
      await shoot(page, 'submit');
      await page.waitForURL('**/runs/*', T);
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      const runId = page.url().split('/runs/')[1]!;
      run = (await (await farm.api(`/api/runs/${runId}`)).json()) as RunDto;
      assert.equal(run.images[0]!.name, 'probe-aa64');
      assert.equal(run.cells.length, 1);
      probeImage = (await (await farm.api(`/api/images/${run.images[0]!.id}`)).json()) as ImageDto;
      assert.equal(probeImage.sizeBytes, readFileSync(probe.imagePath).length, 'every byte arrived');

      const cellLink = page.getByTestId('grid-cell').first();
      assert.equal(await cellLink.getAttribute('data-status'), 'queued');
      // Keyboard: the grid cell is a real link.
      await cellLink.focus();
      await page.keyboard.press('Enter');
      await page.waitForURL(`**/cells/${run.cells[0]!.id}`, T);
      await page.getByTestId('console-status').getByText('Live').waitFor(T);
      assert.equal(await page.getByTestId('console').getByText(/^UEFI firmware/).count(), 0, 'nothing booted yet');
    } finally {
      process.kill(farm.processes.worker.pid!, 'SIGCONT');
    }
    // Lines arrive over the stream on the page already open: no reload, no navigation.
    await page.getByTestId('console').getByText(/^UEFI firmware/).first().waitFor({ timeout: 120_000 });
    await shoot(page, 'cell-live');
    await page.getByTestId('outcome').waitFor({ timeout: 180_000 });
    assert.equal(await page.getByTestId('outcome').textContent(), 'passed');
    await page.getByTestId('console-status').getByText(/^\d+ lines?$/).waitFor(T);
    await ctx.close();
  });

  test('seed: a second image and a run whose cells cannot boot here (a Xen cell, an impossible one)', async () => {
    const me = (await (await farm.api('/api/me')).json()) as MeDto;
    // Other bytes, so another image: the probe with 1 MiB appended (the backup GPT is then not at the end).
    const bytes = Buffer.concat([readFileSync(probe.imagePath), Buffer.alloc(1024 * 1024)]);
    const up = await farm.api('/api/images?name=seeded-image&format=raw', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    assert.ok(up.status === 201, await up.clone().text());
    const image = (await up.json()) as ImageDto;
    const db = createPrismaClient({ databaseUrl: farm.env.DATABASE_URL!, maxConnections: 2 });
    try {
      const xen = { ...defaultProfile, firmware: 'edk2', hwDescription: 'dt', disk: 'xen-pv', accel: 'xen' } as const;
      const created = await new RunRepository(db).create({
        vendorId: me.vendor.id,
        imageIds: [image.id],
        profiles: [xen],
        notApplicable: [{ profile: { ...defaultProfile, gic: 'v2', cpus: 9 }, reason: 'GICv2 addresses at most 8 vCPUs' }],
        timeoutMs: 60_000,
      });
      seeded = created;
    } finally {
      await db.$disconnect();
    }
    const back = (await (await farm.api(`/api/runs/${seeded.id}`)).json()) as RunDto;
    assert.equal(back.cells.find((c) => c.profile.accel === 'xen')!.waitingFor, 'xen:aarch64', 'no Xen worker on this farm');
  });

  test('run page: the grid colours cells by outcome, shows why a cell is not applicable, and the verdicts link the reports', async () => {
    const ctx = await context(farm.token!);
    const page = await ctx.newPage();
    await open(page, `/runs/${run.id}`, 'matrix', 'run');
    await page.getByTestId('compliance').waitFor(T);
    assert.equal(await page.getByTestId('grid-cell').getAttribute('data-status'), 'passed');
    assert.match((await page.getByTestId('verdict-vmspec-2.0').textContent()) ?? '', /pass|warn|fail/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'JUnit (v2.0)' }).click()]);
    assert.match(readFileSync((await download.path())!, 'utf8'), /<testsuites?[\s>]/, 'the JUnit report, fetched with the token');
    assert.equal(page.url(), `${farm.dashboardUrl}/runs/${run.id}`, 'the report is saved, not opened in the dashboard');
    await shoot(page, 'run');

    await open(page, `/runs/${seeded.id}`, 'matrix', 'run (seeded)');
    const cells = page.getByTestId('grid-cell');
    assert.equal(await cells.count(), 2);
    const na = page.locator('[data-testid="grid-cell"][data-status="not_applicable"]');
    assert.match((await na.textContent()) ?? '', /GICv2 addresses at most 8 vCPUs/);
    assert.match((await page.locator('[data-testid="grid-cell"][data-status="queued"]').textContent()) ?? '', /waiting for a xen:aarch64 worker/);
    // Only the axes that differ label the columns.
    const headers = await page.getByTestId('matrix').locator('thead th').allTextContents();
    assert.ok(headers.some((h) => h.includes('xen')) && headers.some((h) => h.includes('9 cpu')), headers.join(' | '));
    await shoot(page, 'run-seeded');
    await ctx.close();
  });

  test('cell page: timeline, deciding line, verdicts with evidence, reproduce command, probe facts', async () => {
    const ctx = await context(farm.token!);
    const page = await ctx.newPage();
    const cellId = run.cells[0]!.id;
    await open(page, `/cells/${cellId}`, 'outcome', 'cell');
    const cell = (await (await farm.api(`/api/cells/${cellId}`)).json()) as CellDetailDto;
    const evidence = cell.result!.evidence;
    assert.ok(evidence.phases.length + evidence.stages.length > 0, 'the worker stored a timeline');
    await page.getByTestId('timeline').waitFor(T);
    const phases = await page.getByTestId('timeline-phase').allTextContents();
    assert.ok(phases.some((p) => p.trim().startsWith('firmware at')), phases.join(' | '));
    const deciding = evidence.decidingLine!;
    assert.equal(await page.getByTestId('deciding-line').getAttribute('data-seq'), String(deciding.seq), 'the deciding line is highlighted in view');
    assert.ok((await page.getByTestId('stage-mark').count()) > 0, 'stage marks in the console');
    assert.match((await page.getByTestId('command').textContent()) ?? '', /qemu-system-aarch64/);
    const facts = await page.getByTestId('probe-fact').allTextContents();
    assert.ok(facts.some((f) => f.includes('UEFI revision') && f.includes('2.70')), facts.join(' | '));
    const requirements = page.getByTestId('requirement');
    assert.equal(await requirements.count(), cell.result!.compliance!.requirements.length);
    assert.ok(cell.result!.compliance!.requirements.length >= 40);
    const fw = page.locator('[data-testid="requirement"][data-id="FW-1"]');
    await fw.locator('summary').click();
    assert.match((await fw.textContent()) ?? '', /probe/i, 'FW-1 cites the probe');
    // Showing an earlier line scrolls the virtual console to it.
    await page.getByRole('button', { name: /^firmware at/ }).click();
    await page.getByTestId('console').getByText(/^UEFI firmware/).first().waitFor(T);
    await shoot(page, 'cell');
    await ctx.close();
  });

  test('image page: inspection findings with evidence; history, or a clear note where the farm has none', async () => {
    const ctx = await context(farm.token!);
    const page = await ctx.newPage();
    await open(page, `/images/${probeImage.id}`, 'findings', 'image');
    const rows = page.getByTestId('finding');
    assert.equal(await rows.count(), probeImage.inspection!.findings.length);
    assert.ok(probeImage.inspection!.findings.length > 0);
    const withEvidence = probeImage.inspection!.findings.find((f) => f.evidence.length > 0)!;
    assert.ok((await page.getByTestId('findings').textContent())?.includes(withEvidence.evidence[0]!.what));
    const history = await farm.api(`/api/images/${probeImage.id}/history`);
    if (history.ok) {
      await page.getByTestId('history').waitFor(T);
      assert.ok((await page.getByTestId('history-cell').count()) >= 1);
    } else {
      await page.getByTestId('history-error').waitFor(T);
    }
    await shoot(page, 'image');
    await ctx.close();
  });

  test('fleet page: the worker, its capabilities and health; the cells waiting for a capability nobody serves', async () => {
    const ctx = await context(farm.token!);
    const page = await ctx.newPage();
    await open(page, '/fleet', 'worker', 'fleet');
    const worker = page.getByTestId('worker').first();
    assert.match((await worker.textContent()) ?? '', /qemu-tcg:aarch64/);
    assert.match((await worker.textContent()) ?? '', /online/);
    await page.getByTestId('unserved').waitFor(T);
    assert.match((await page.getByTestId('unserved').textContent()) ?? '', /xen:aarch64 \(1\)/);
    const tcg = page.locator('[data-testid="capability"][data-capability="qemu-tcg:aarch64"]');
    assert.equal(await tcg.locator('td').first().textContent(), '1', 'one worker serves qemu-tcg:aarch64');
    await shoot(page, 'fleet');
    await ctx.close();
  });

  test('runs list: filters narrow it (status, trigger, image name) and live in the URL', async () => {
    const ctx = await context(farm.token!);
    const page = await ctx.newPage();
    await open(page, '/', 'run-row', 'runs');
    await waitFor(async () => (await page.getByTestId('run-row').count()) === 2, 15_000);
    await page.getByLabel('Image name').fill('seeded');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL('**/?imageName=seeded', T);
    await waitFor(async () => (await page.getByTestId('run-row').count()) === 1, 15_000);
    assert.match((await page.getByTestId('run-row').textContent()) ?? '', /seeded-image/);
    await page.getByLabel('Status').selectOption('passed');
    await page.getByTestId('empty').waitFor(T);
    assert.match((await page.getByTestId('empty').textContent()) ?? '', /No run matches/);
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Status').selectOption('passed');
    await waitFor(async () => (await page.getByTestId('run-row').count()) === 1, 15_000);
    assert.match((await page.getByTestId('run-row').textContent()) ?? '', /probe-aa64/);
    await page.getByLabel('Trigger').selectOption('nightly');
    await page.getByTestId('empty').waitFor(T);
    await shoot(page, 'runs-filtered');
    // The same filter from the API: the list narrows there, not in the page.
    const api = (await (await farm.api('/api/runs?imageName=SEEDED')).json()) as { items: RunDto[] };
    assert.deepEqual(api.items.map((r) => r.id), [seeded.id], 'image name matches case-insensitively');
    await ctx.close();
  });

  test("a vendor cannot reach another vendor's run, cell or image by URL: the page says not found", async () => {
    const ctx = await context(other.token);
    const page = await ctx.newPage();
    for (const path of [`/runs/${run.id}`, `/cells/${run.cells[0]!.id}`, `/images/${probeImage.id}`]) {
      await page.goto(`${farm.dashboardUrl}${path}`);
      await page.getByTestId('not-found').waitFor(T);
      assert.equal(await page.getByTestId('matrix').count(), 0);
      assert.equal(await page.getByTestId('outcome').count(), 0);
      assert.equal(await page.getByTestId('findings').count(), 0);
    }
    await shoot(page, 'not-found');
    // And its own list holds none of them.
    await page.goto(`${farm.dashboardUrl}/`);
    await page.getByTestId('empty').waitFor(T);
    await ctx.close();
  });

  test('a narrow (400 px) screen: pages fit its width, wide tables scroll inside themselves', async () => {
    const ctx = await context(farm.token!, { width: 400, height: 860 });
    const page = await ctx.newPage();
    const pages: [string, string, string][] = [
      ['/', 'run-row', 'narrow-runs'],
      [`/runs/${seeded.id}`, 'matrix', 'narrow-run'],
      [`/cells/${run.cells[0]!.id}`, 'outcome', 'narrow-cell'],
      [`/images/${probeImage.id}`, 'findings', 'narrow-image'],
      ['/fleet', 'worker', 'narrow-fleet'],
      ['/submit', 'submit-status', 'narrow-submit'],
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

  test('the scheduler serves the dashboard: SPA fallback outside /api, content types, no way out of the directory', async () => {
    const base = farm.schedulerUrl;
    const index = await rawGet(base, '/');
    assert.equal(index.status, 200);
    assert.match(index.type, /^text\/html/);
    const deep = await rawGet(base, `/cells/${run.cells[0]!.id}`);
    assert.equal(deep.body, index.body, 'a page URL loads the app');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(index.body)![1]!;
    const js = await rawGet(base, script);
    assert.equal(js.status, 200);
    assert.match(js.type, /javascript/);
    const headers = (await fetch(`${base}/`)).headers;
    assert.match(headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const api404 = await rawGet(base, '/api/no-such-route');
    assert.equal(api404.status, 404);
    assert.match(api404.type, /json/, 'unknown API paths stay API 404s, not the app');
    assert.equal((await rawGet(base, '/api/runs')).status, 401, 'the API still wants a token');
    const secret = readFileSync(join(repoRoot, 'package.json'), 'utf8');
    writeFileSync(join(farm.dir, 'outside.txt'), 'outside the dashboard directory');
    for (const path of ['/../../package.json', '/%2e%2e/%2e%2e/package.json', '/assets/..%2f..%2f..%2f..%2fpackage.json', '/..%5c..%5cpackage.json', `/${'%2e%2e%2f'.repeat(12)}${farm.dir.slice(1)}/outside.txt`]) {
      const res = await rawGet(base, path);
      assert.ok(!res.body.includes('"workspaces"') && res.body !== secret && !res.body.includes('outside the dashboard'), `${path} answered ${res.status} with a file from outside`);
    }
    assert.equal((await fetch(`${base}/metrics`)).status, 200, '/metrics is not the app');
  });
});
