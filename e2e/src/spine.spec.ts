// End to end on real parts: HTTP upload → BullMQ → worker → QEMU TCG + edk2 → PostgreSQL →
// dashboard in headless Chromium. Also what the farm refuses, and that it leaves nothing behind.
import type { ConsoleDto, ErrorDto, ImageDto, RunDto } from '@bootfarm/contracts';
import { ensureProbeImage } from '@bootfarm/probe';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { processesMentioning, startFarm, waitFor, type Farm } from './farm.harness.js';

const UPLOAD_CAP = 100 * 1024 * 1024;

const sha256File = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function upload(farm: Farm, body: string | Uint8Array | Readable, query: string, headers: Record<string, string> = {}) {
  const init: RequestInit & { duplex?: 'half' } = {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body: body instanceof Readable ? (Readable.toWeb(body) as ReadableStream) : (body as RequestInit['body']),
    duplex: 'half',
  };
  const res = await farm.api(`/api/images?${query}`, init);
  return { status: res.status, body: (await res.json()) as ImageDto & ErrorDto };
}

/**
 * An upload that the server may answer before it has read the whole body (413 then close): like
 * curl, take the response as soon as it arrives and ignore the write error that follows.
 */
function uploadEarlyAnswer(farm: Farm, body: Readable, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: ErrorDto }>((resolve, reject) => {
    const req = request(`${farm.schedulerUrl}/api/images?name=big&format=raw`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${farm.token}`, ...headers },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as ErrorDto }));
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    body.on('error', () => {});
    body.pipe(req);
  });
}

describe('the spine: one real boot from upload to page', () => {
  let farm: Farm;
  let probe: Awaited<ReturnType<typeof ensureProbeImage>>;
  let probeShaBefore: string;
  let run: RunDto;

  before(async () => {
    probe = await ensureProbeImage();
    probeShaBefore = sha256File(probe.imagePath);
    farm = await startFarm({ UPLOAD_MAX_BYTES: String(UPLOAD_CAP), UPLOAD_IDLE_TIMEOUT_MS: '1500' });
  });

  after(async () => {
    await farm?.stop();
  });

  test('upload the probe image, boot it under QEMU TCG + edk2, and read the result back', async () => {
    const up = await upload(farm, createReadStream(probe.imagePath), 'name=vmspec-probe&format=raw');
    assert.equal(up.status, 201, JSON.stringify(up.body));
    assert.equal(up.body.sha256, probeShaBefore);
    assert.equal(up.body.format, 'raw');

    const again = await upload(farm, createReadStream(probe.imagePath), 'name=vmspec-probe&format=raw');
    assert.equal(again.status, 200, 'the same bytes again return the first record');
    assert.equal(again.body.id, up.body.id);

    const created = await farm.api(`/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ imageId: up.body.id, timeoutSec: 120 }),
    });
    assert.equal(created.status, 201);
    run = (await created.json()) as RunDto;
    assert.equal(run.cells.length, 1);

    await waitFor(async () => {
      run = (await (await farm.api(`/api/runs/${run.id}`)).json()) as RunDto;
      return run.status !== 'queued' && run.status !== 'running';
    }, 180_000, () => farm.log('worker'));
    const cell = run.cells[0]!;
    assert.equal(run.status, 'passed', JSON.stringify(cell.result));
    assert.equal(cell.status, 'passed');
    const result = cell.result!;
    assert.match(result.reason, /marker|VMSPEC-PROBE/i);
    assert.ok(['bootloader', 'os'].includes(result.stage), result.stage);
    assert.match(result.commandLine, /qemu-system-aarch64/);
    assert.match(result.commandLine, /format=qcow2/, 'the image is booted through a qcow2 overlay');
    assert.doesNotMatch(result.commandLine, new RegExp(`file=${probe.imagePath}`), 'the image itself is never a QEMU drive');
    assert.match(String(result.firmware.codeSha256), /^[0-9a-f]{64}$/);

    // The probe's facts for the default profile (edk2, ACPI): ACPI 2.0 present, no FDT.
    const facts = result.facts.probe as Record<string, unknown>;
    assert.equal(facts.uefiRevision, '2.70');
    assert.equal(facts.firmwareVendor, 'EDK II');
    assert.equal(facts.acpi20Present, true);
    assert.equal(facts.fdtPresent, false);
    assert.equal(facts.done, true);

    const consoleRes = await farm.api(`/api/cells/${cell.id}/console`);
    const console = (await consoleRes.json()) as ConsoleDto;
    const texts = console.lines.map((l) => l.text);
    assert.ok(texts.some((t) => t.startsWith('UEFI firmware')), 'the firmware banner is in the console');
    const probeLines = console.lines.filter((l) => l.text.includes('VMSPEC-PROBE'));
    assert.ok(probeLines.length >= 10, `probe lines: ${probeLines.length}`);
    assert.ok(texts.includes('VMSPEC-PROBE result=done'));
    for (let i = 1; i < console.lines.length; i++) {
      assert.ok(console.lines[i]!.offsetMs >= console.lines[i - 1]!.offsetMs, 'offsets never decrease');
      assert.equal(console.lines[i]!.seq, console.lines[i - 1]!.seq + 1, 'no line is missing');
    }
    const first = console.lines[0]!;
    const last = probeLines.at(-1)!;
    assert.ok(last.offsetMs > first.offsetMs, 'the probe prints after the firmware banner');
  });

  test('the vendor image is unchanged and no QEMU process is left behind', async () => {
    assert.equal(sha256File(probe.imagePath), probeShaBefore);
    const stored = join(farm.env.IMAGE_STORE_DIR!, 'sha256', probeShaBefore);
    assert.equal(sha256File(stored), probeShaBefore);
    assert.equal(statSync(stored).mode & 0o222, 0, 'the stored image is read-only');
    assert.deepEqual(processesMentioning(farm.env.WORKER_WORK_DIR!), [], 'no process still uses the work directory');
    assert.deepEqual(readdirSync(farm.env.WORKER_WORK_DIR!), [], 'per-boot directories are removed');
  });

  test('the dashboard shows the run and its console in headless Chromium', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(farm.dashboardUrl);
      // The dashboard asks for a token first; a wrong one is refused, the farm's vendor token accepted.
      await page.getByLabel('API token').fill('bft_not-a-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').getByText('not accepted').waitFor({ timeout: 15_000 });
      await page.getByLabel('API token').fill(farm.token!);
      await page.getByRole('button', { name: 'Sign in' }).click();
      assert.equal(await page.getByTestId('caller').textContent({ timeout: 15_000 }), 'e2e (vendor)');
      const link = page.getByRole('link', { name: 'vmspec-probe' });
      await link.waitFor({ timeout: 15_000 });
      await link.click();
      await page.waitForURL(`**/runs/${run.id}`);
      // The run's grid links each cell to its page: outcome, console, facts.
      await page.getByTestId('grid-cell').first().click();
      await page.waitForURL(`**/cells/${run.cells[0]!.id}`);
      await page.getByTestId('outcome').waitFor({ timeout: 15_000 });
      assert.equal(await page.getByTestId('outcome').textContent(), 'passed');
      // A finished console opens at its deciding line; the virtual list renders the rows in view only.
      await page.getByTestId('console').getByText('VMSPEC-PROBE result=done', { exact: true }).waitFor({ timeout: 30_000 });
      await page.getByTestId('console').evaluate((el) => el.scrollTo(0, 0));
      await page.getByTestId('console').getByText(/^UEFI firmware/).first().waitFor({ timeout: 15_000 });
      const facts = await page.getByTestId('probe-fact').allTextContents();
      assert.ok(facts.some((f) => f.includes('UEFI revision') && f.includes('2.70')), facts.join(' | '));
      assert.ok(facts.some((f) => f.includes('ACPI 2.0') && f.includes('present')), facts.join(' | '));
      await page.screenshot({ path: join(farm.dir, 'run-page.png'), fullPage: true });
      // Signing out forgets the token: the next page asks for one again.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API token').waitFor({ timeout: 15_000 });
      await page.reload();
      await page.getByLabel('API token').waitFor({ timeout: 15_000 });
      assert.equal(await page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('bootfarm.token')), null);
    } finally {
      await browser.close();
    }
  });

  test('bad input gets a clear 4xx and leaves nothing half-written', async () => {
    const empty = await upload(farm, new Uint8Array(0), 'name=empty&format=raw');
    assert.equal(empty.status, 422);
    assert.match(empty.body.message, /empty/);

    const text = await upload(farm, 'this is not a disk image\n'.repeat(100), 'name=notes&format=raw');
    assert.equal(text.status, 422);
    assert.match(text.body.message, /not a disk image/);

    const mismatch = await upload(farm, createReadStream(probe.imagePath), 'name=probe&format=qcow2');
    assert.equal(mismatch.status, 422);
    assert.match(mismatch.body.message, /declared format qcow2/);

    // Over the cap with a truthful Content-Length: refused before the body is read.
    const truthful = await uploadEarlyAnswer(farm, Readable.from([new Uint8Array(UPLOAD_CAP + 1)]), { 'content-length': String(UPLOAD_CAP + 1) });
    assert.equal(truthful.status, 413);
    // Over the cap with no Content-Length (chunked): counted while streaming.
    const chunked = await uploadEarlyAnswer(farm, Readable.from((function* () {
      for (let i = 0; i < 101; i++) yield new Uint8Array(1024 * 1024);
    })()));
    assert.equal(chunked.status, 413);
    assert.match(chunked.body.message, /exceeds the limit/);

    // A client that vanishes mid-upload, and one that stalls: both leave nothing behind.
    const aborted = request(`${farm.schedulerUrl}/api/images?name=gone&format=raw`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${farm.token}` } });
    aborted.on('error', () => {});
    aborted.write(new Uint8Array(1024 * 1024));
    await new Promise((r) => setTimeout(r, 300));
    aborted.destroy();
    // A stalled upload (slow loris) has its connection closed once the idle timeout passes.
    const stalledAt = Date.now();
    const stalled = await new Promise<string>((resolve) => {
      const req = request(`${farm.schedulerUrl}/api/images?name=slow&format=raw`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${farm.token}` } });
      req.on('response', (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.write(new Uint8Array(64 * 1024)); // then nothing
    });
    assert.match(stalled, /ECONNRESET|socket hang up/);
    assert.ok(Date.now() - stalledAt < 10_000, 'closed by the idle guard, not by a generic timeout');

    const noFormat = await upload(farm, 'x', 'name=x');
    assert.equal(noFormat.status, 400);
    assert.ok(noFormat.body.issues?.some((i) => i.path === 'format'));

    const badName = await upload(farm, 'x', `name=${encodeURIComponent('../../etc/passwd')}&format=raw`);
    assert.equal(badName.status, 400);

    for (const path of ['/api/runs/8d7c3f4e-0000-4000-8000-000000000000', '/api/runs/not-a-uuid', '/api/images/8d7c3f4e-0000-4000-8000-000000000000', '/api/cells/8d7c3f4e-0000-4000-8000-000000000000/console']) {
      const res = await farm.api(path);
      assert.equal(res.status, 404, path);
      assert.match(((await res.json()) as ErrorDto).message, /not found/);
    }

    const unknownImage = await farm.api(`/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ imageId: '8d7c3f4e-0000-4000-8000-000000000000' }),
    });
    assert.equal(unknownImage.status, 404);
    const forged = await farm.api(`/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ imageId: run.images[0]!.id, status: 'passed', vendorId: 'x' }),
    });
    assert.equal(forged.status, 400, 'unknown fields are refused, not ignored');

    // Nothing half-written: the quarantine is empty, the store holds only the probe, one image row.
    await waitFor(() => readdirSync(join(farm.env.IMAGE_STORE_DIR!, 'quarantine')).length === 0, 5_000);
    assert.deepEqual(readdirSync(join(farm.env.IMAGE_STORE_DIR!, 'sha256')), [probeShaBefore]);
    const runs = (await (await farm.api(`/api/runs`)).json()) as { items: unknown[] };
    assert.equal(runs.items.length, 1);
  });

  test('the API documents itself (OpenAPI)', async () => {
    const doc = (await (await farm.api(`/api/openapi.json`)).json()) as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    for (const path of ['/api/images', '/api/runs', '/api/runs/{id}', '/api/cells/{id}/console']) assert.ok(doc.paths[path], path);
    assert.ok(doc.components.schemas.RunDto);
    assert.equal((await farm.api(`/api/docs`)).status, 200);
    for (const path of ['/api/runs/{id}/compliance', '/api/runs/{id}/compliance/junit', '/api/runs/{id}/compliance/html']) assert.ok(doc.paths[path], path);
  });

  test('a matrix run boots what can exist and keeps the impossible cells as not applicable, with the reason', async () => {
    const post = (body: unknown) =>
      farm.api(`/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // GICv2 cannot address 9 vCPUs: that cell exists only as not applicable.
    const created = await post({ imageId: run.images[0]!.id, timeoutSec: 120, matrix: { axes: { gic: ['v2', 'v3'], cpus: [9] } } });
    assert.equal(created.status, 201, await created.clone().text());
    let matrixRun = (await created.json()) as RunDto;
    assert.equal(matrixRun.cells.length, 2);
    const impossible = matrixRun.cells.find((c) => c.profile.gic === 'v2')!;
    assert.equal(impossible.status, 'not_applicable');
    assert.match(impossible.reason ?? '', /8/, 'the reason names the GICv2 limit');
    await waitFor(async () => {
      matrixRun = (await (await farm.api(`/api/runs/${matrixRun.id}`)).json()) as RunDto;
      return matrixRun.status !== 'queued' && matrixRun.status !== 'running';
    }, 180_000, () => farm.log('worker'));
    assert.equal(matrixRun.status, 'passed', 'a not-applicable cell does not decide the run');
    assert.equal(matrixRun.cells.find((c) => c.profile.gic === 'v3')!.status, 'passed');
    assert.equal(matrixRun.cells.find((c) => c.profile.gic === 'v2')!.attempts, 0, 'never booted');

    const nothingRuns = await post({ imageId: run.images[0]!.id, matrix: { axes: { gic: ['v2'], cpus: [9] } } });
    assert.equal(nothingRuns.status, 400);
    const both = await post({ imageId: run.images[0]!.id, profiles: [matrixRun.cells[0]!.profile], matrix: { preset: 'quick' } });
    assert.equal(both.status, 400);
    const typo = await post({ imageId: run.images[0]!.id, matrix: { axes: { gics: ['v2'] } } });
    assert.equal(typo.status, 400, 'an unknown axis is refused, not ignored');
  });
});
