// The cell page's console on megabytes: a worker replays a recorded probe boot with 60,000
// firmware debug lines (about 6 MB) added before the probe's output, through the real capture,
// analyzer, console writer, PostgreSQL and live stream. The flood starts after a pause long enough
// for a loaded machine to open the page, and lasts six seconds. The browser follows it live, then
// reads it back stored, and keeps only the rows in view in the DOM.
import type { ConsoleDto, RunDto } from '@bootfarm/contracts';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot, startFarm, type Farm } from './farm.harness.js';
import { submitRun, twoCells, uploadProbe, waitSettled } from './queue.helpers.js';

const FLOOD = 60_000;
const BURST = 100; // lines per 10 ms of transcript time: 600 bursts, six seconds
const PAUSE_S = 12; // between the boot manager's line and the flood: the page is open and live by then
const T = { timeout: 120_000 };

/** The recorded probe boot with FLOOD lines of firmware debug output after the boot manager starts it. */
function floodedTranscript(): string {
  const lines = readFileSync(join(repoRoot, 'fixtures/console/probe-aa64-aavmf-acpi.tlog'), 'utf8').split('\n').filter(Boolean);
  const at = lines.findIndex((l) => l.includes('BdsDxe: starting Boot0001'));
  assert.ok(at > 0, 'the fixture has the boot manager line');
  const start = Number(/^\[\s*([\d.]+)\]/.exec(lines[at]!)![1]);
  const shift = PAUSE_S + (FLOOD / BURST) * 0.01;
  const flood = Array.from({ length: FLOOD }, (_, i) => {
    const t = (start + PAUSE_S + Math.floor(i / BURST) * 0.01).toFixed(3).padStart(8);
    return `[${t}] ConvertPages: range 0x${(0x40000000 + i * 4096).toString(16)} - 0x${(0x40000fff + i * 4096).toString(16)} checked by the DXE core memory services, flood line ${i + 1} of ${FLOOD}`;
  });
  // The probe's own lines follow the flood, later by its length.
  const after = lines.slice(at + 1).map((l) => l.replace(/^\[\s*([\d.]+)\]/, (_m, s: string) => `[${(Number(s) + shift).toFixed(3).padStart(8)}]`));
  return [...lines.slice(0, at + 1), ...flood, ...after].join('\n') + '\n';
}

describe('the dashboard: a console of megabytes', () => {
  let farm: Farm;
  let browser: Browser;
  let dir: string;
  let run: RunDto;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bootfarm-flood-'));
    const transcript = join(dir, 'probe-flooded.tlog');
    writeFileSync(transcript, floodedTranscript());
    farm = await startFarm({}, { workerEnv: { WORKER_REPLAY_TRANSCRIPT: transcript, WORKER_REPLAY_TIME_SCALE: '1' } });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close();
    await farm?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const openCell = async (cellId: string): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await ctx.addInitScript((t) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('bootfarm.token', t), farm.token!);
    const page = await ctx.newPage();
    await page.goto(`${farm.dashboardUrl}/cells/${cellId}`);
    return page;
  };
  const rowsInDom = (page: Page) => page.locator('[data-testid="console"] [data-seq]').count();

  test('live: the lines stream in while the replay runs, and the DOM holds only the rows in view', async () => {
    const image = await uploadProbe(farm);
    const submitted = await submitRun(farm, { imageId: image.id, profiles: [twoCells[0]], timeoutSec: 120 });
    assert.equal(submitted.status, 201, JSON.stringify(submitted.run));
    run = submitted.run;
    const page = await openCell(run.cells[0]!.id);
    const status = page.getByTestId('console-status');
    await status.getByText(/^Live: \d+ lines? so far$/).waitFor(T);
    const counts: number[] = [];
    while (!/^\d+ lines?$/.test((await status.textContent()) ?? '') && counts.length < 600) {
      counts.push(Number(/(\d+)/.exec((await status.textContent()) ?? '')?.[1] ?? 0));
      assert.ok((await rowsInDom(page)) < 200, 'a live console renders only the rows in view');
      await page.waitForTimeout(250);
    }
    assert.ok(new Set(counts.filter((n) => n > 0)).size >= 3, `the count grew while the boot ran: ${counts.join(',')}`);
    await page.getByTestId('outcome').waitFor(T);
    assert.equal(await page.getByTestId('outcome').textContent(), 'passed');
    await page.context().close();
  });

  test('stored: all lines load, the page opens at the deciding line, End reaches the last line, DOM rows stay bounded', async () => {
    await waitSettled(farm, run.id);
    const cellId = run.cells[0]!.id;
    // What PostgreSQL holds, page by page through the API.
    let total = 0;
    let bytes = 0;
    let last = '';
    for (let after = -1; ; ) {
      const page = (await (await farm.api(`/api/cells/${cellId}/console?afterSeq=${after}&limit=5000`)).json()) as ConsoleDto;
      total += page.lines.length;
      for (const l of page.lines) bytes += l.text.length + 1;
      if (page.lines.length > 0) last = page.lines.at(-1)!.text;
      if (page.nextSeq === null) break;
      after = page.lines.at(-1)!.seq;
    }
    assert.ok(total > FLOOD, `every line was stored (${total})`);
    assert.ok(bytes > 5_000_000, `megabytes of console (${bytes} bytes)`);

    const t0 = performance.now();
    const page = await openCell(cellId);
    await page.getByTestId('console-status').getByText(new RegExp(`^${total} lines$`)).waitFor(T);
    const loadMs = Math.round(performance.now() - t0);
    await page.getByTestId('deciding-line').waitFor(T);
    assert.match((await page.getByTestId('deciding-line').textContent()) ?? '', /VMSPEC-PROBE result=done/, 'opened at the line that decided the boot');
    assert.ok((await rowsInDom(page)) < 200, `only the rows in view are in the DOM (${await rowsInDom(page)})`);

    await page.getByTestId('console').focus();
    await page.keyboard.press('Home');
    await page.getByTestId('console').getByText(/^UEFI firmware/).waitFor(T);
    await page.keyboard.press('End');
    await page.getByTestId('console').getByText(last, { exact: false }).waitFor(T);
    assert.ok((await rowsInDom(page)) < 200, 'still bounded after scrolling through');
    console.log(`megabyte console: ${total} lines, ${(bytes / 1e6).toFixed(1)} MB, shown in ${loadMs} ms from navigation`);
    await page.context().close();
  });
});
