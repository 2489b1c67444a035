import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { renderHtmlReport } from './html-report.js';
import { HOSTILE_LINE_SHOWN, HOSTILE_REASON, sampleReport } from './test-support/sample-report.js';
import { artifactsDir } from './test-support/paths.js';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Served by Playwright's router, never resolved: the only request the page may make.
const PAGE_URL = 'http://report.bootfarm.test/compliance.html';

describe('renderHtmlReport (static)', () => {
  it('is one self-contained document: no scripts, no external URLs', () => {
    const html = renderHtmlReport(sampleReport());
    assert.ok(html.startsWith('<!DOCTYPE html>'));
    assert.ok(!/<script/i.test(html), 'no script element');
    // Guest text is escaped, so every '<' left in the file starts a real tag.
    for (const [tag] of html.matchAll(/<[a-z][^>]*>/gi)) assert.ok(!/\son[a-z]+\s*=/i.test(tag), `no event handler: ${tag}`);
    assert.ok(!/(?:https?:)?\/\/[a-z0-9]/i.test(html), 'no absolute or protocol-relative URLs');
    for (const m of html.matchAll(/\b(?:href|src)="([^"]*)"/g)) {
      assert.ok(m[1]!.startsWith('#') || m[1] === 'data:,', `local reference only: ${m[1]}`);
    }
    assert.ok(!/@import|url\(/i.test(html), 'no CSS imports or url()');
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  });

  it('escapes hostile text', () => {
    const html = renderHtmlReport(sampleReport());
    assert.ok(!html.includes('<x-injected') && !html.includes('<img') && !html.includes('</failure>'));
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(html));
    assert.ok(html.includes('rtc0 is &quot;rtc-pl031&quot; &amp; not &lt;rtc-efi&gt;'));
  });
});

describe('renderHtmlReport in headless Chromium', () => {
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const blocked: string[] = [];
  const dialogs: string[] = [];
  const report = sampleReport();
  const html = renderHtmlReport(report);

  before(async () => {
    writeFileSync(join(artifactsDir(), 'report.html'), html);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url === PAGE_URL) {
        await route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
      } else {
        blocked.push(url);
        await route.abort('blockedbyclient');
      }
    });
    page = await context.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(PAGE_URL, { waitUntil: 'load' });
  });

  after(async () => {
    await browser?.close();
  });

  it('makes no network request besides the page itself', async () => {
    await page.waitForLoadState('networkidle');
    assert.deepEqual(blocked, []);
    assert.deepEqual(requests, [PAGE_URL]);
  });

  it('shows the header', async () => {
    await page.getByRole('heading', { level: 1, name: 'VM System Specification compliance' }).waitFor({ state: 'visible' });
    const header = page.locator('header');
    for (const text of [report.image.name, report.image.sha256, report.runId, report.catalogueVersion, 'bootfarm.compliance/v1', '2026-11-25 06:49:35 UTC']) {
      assert.ok(await header.getByText(text, { exact: false }).first().isVisible(), `header shows ${text}`);
    }
  });

  it('shows a summary per profile with badge text, counts and failing ids', async () => {
    const summary = page.getByRole('region', { name: 'Summary' });
    for (const [label, verdict] of [
      ['VM spec 1.0', 'FAIL'],
      ['VM spec 2.0', 'FAIL'],
      ['BBR', 'FAIL'],
    ] as const) {
      const card = summary.getByRole('article', { name: new RegExp(`^${label.replace('.', '\\.')}`) });
      assert.ok(await card.isVisible(), `${label} card`);
      assert.match((await card.innerText()).replace(/\s+/g, ' '), new RegExp(`Verdict: . ${verdict}`));
    }
    const v2 = summary.getByRole('article', { name: /^VM spec 2\.0/ });
    const s = report.summary['vmspec-2.0'];
    const text = (await v2.innerText()).replace(/\s+/g, ' ');
    assert.ok(text.includes(`${s.counts.pass} pass`) && text.includes(`${s.counts.fail} fail`) && text.includes(`${s.counts.not_tested} not tested`), text);
    for (const id of s.failing) assert.ok(await v2.getByRole('link', { name: id, exact: true }).isVisible(), `failing link ${id}`);
  });

  it('shows the requirement × cell grid with per-profile marks as text', async () => {
    const grid = page.getByRole('table', { name: 'Requirements by cell: verdict per profile' });
    assert.ok(await grid.isVisible());
    const cols = grid.getByRole('columnheader');
    assert.equal(await cols.count(), report.cells.length + 2);
    assert.ok((await cols.nth(2).innerText()).replace(/\s+/g, '').includes(report.cells[0]!.cellKey));
    const ids = new Set([...report.requirements, ...report.cells.flatMap((c) => c.requirements)].map((r) => r.id));
    assert.equal(await grid.getByRole('rowheader').count(), ids.size, 'one row per requirement');
    // FW-5 in the ACPI cell: fails 1.0 and 2.0, passes BBR.
    const fw5 = grid.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^FW-5 / }) });
    const acpiCell = (await fw5.getByRole('cell').nth(1).innerText()).replace(/\s+/g, ' ');
    assert.match(acpiCell, /1\.0 ✗ FAIL.*2\.0 ✗ FAIL.*BBR ✓ PASS/);
  });

  it('shows each requirement with verdicts and evidence (image, probe, console, run)', async () => {
    const img1 = page.locator('#req-IMG-1');
    assert.ok(await img1.getByRole('heading', { name: /IMG-1 The disk has a GPT/ }).isVisible());
    assert.ok(await img1.getByText('450 (0x1c2)').first().isVisible(), 'image offset');
    assert.ok(await img1.getByText('45 46 49 20 50 41 52 54').first().isVisible(), 'image bytes');
    const fw7 = page.locator('#req-FW-7');
    assert.ok(await fw7.getByText('VMSPEC-PROBE var get name=VmspecFarm status=0x800000000000000e').isVisible(), 'probe line');
    assert.ok(await fw7.getByText('boot 2 seq 8 @520ms').first().isVisible(), 'probe boot, seq and offset');
    assert.ok(await page.locator('#req-OS-7').getByText('EFI stub: Using DTB from command line').isVisible(), 'console line of a warning cell');
    assert.ok(await page.locator('#req-OS-7').getByText('seq 88 @830ms').isVisible(), 'console seq and offset');
    const hw4 = page.locator('#req-HW-4');
    assert.ok(await hw4.getByText('booted with GICv2 and with GICv3').first().isVisible(), 'run-level reason');
    assert.ok(await hw4.locator('.ev-run').first().isVisible(), 'run evidence with cell key');
    // Long evidence is folded, and opens on demand.
    const cell = page.locator('#req-OS-1-cell-2');
    assert.equal(await cell.getAttribute('open'), null, 'passing cells start closed');
    await cell.locator('> summary').click();
    const folded = cell.locator('details.evidence-block');
    assert.equal(await folded.getAttribute('open'), null);
    assert.equal(await folded.getByText('Found EFI removable media binary efi/boot/bootaa64.efi').isVisible(), false);
    await folded.locator('summary').click();
    assert.ok(await folded.getByText('Found EFI removable media binary efi/boot/bootaa64.efi').isVisible());
  });

  it('renders the hostile console line as text, injecting nothing', async () => {
    assert.equal(await page.locator('script, img, x-injected, [onerror], iframe, object, embed').count(), 0);
    assert.deepEqual(dialogs, []);
    const pre = page.locator('pre', { hasText: 'alert(1)' });
    assert.equal(await pre.count(), 1);
    assert.ok(await pre.isVisible());
    assert.equal(await pre.textContent(), `seq 930 @12044ms ${HOSTILE_LINE_SHOWN}`);
    assert.ok(await page.getByText(HOSTILE_REASON).first().isVisible());
  });

  it('prints folded evidence too', async () => {
    await page.emulateMedia({ media: 'print' });
    try {
      const line = page.locator('#req-HW-8-cell-0 .verdicts');
      assert.ok(await line.isVisible(), 'closed per-cell details print their content');
    } finally {
      await page.emulateMedia({ media: 'screen' });
    }
  });

  it('saves a full-page screenshot', async () => {
    const path = join(artifactsDir(), 'report.png');
    const png = await page.screenshot({ path, fullPage: true });
    assert.ok(png.length > 10_000);
  });
});
