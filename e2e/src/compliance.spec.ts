// Compliance through the whole farm on real parts: the Linux guest image uploaded, booted on two
// platforms (ACPI + GICv3, DT + GICv2) with the platform probe on each, verdicts stored per cell
// and per run, and the three reports served: JSON (schema-checked), JUnit (validated against the
// JUnit XSD by libxml2) and HTML (rendered in headless Chromium, screenshot kept).
import { RunCompliance, type ComplianceProfile, type RequirementResult, type RunDto, type VmProfile, defaultProfile } from '@bootfarm/contracts';
import { ensureFixture } from '@bootfarm/fixtures';
import assert from 'node:assert/strict';
import { createReadStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { validateXML } from 'xmllint-wasm';
import { repoRoot, startFarm, waitFor, type Farm } from './farm.harness.js';

const artifactsDir = process.env.TEST_ARTIFACTS_DIR ?? join(repoRoot, '.artifacts');
const acpiV3: VmProfile = { ...defaultProfile, hwDescription: 'acpi', gic: 'v3', cpus: 2 };
const dtV2: VmProfile = { ...defaultProfile, hwDescription: 'dt', gic: 'v2', cpus: 2 };

const status = (r: RequirementResult | undefined, p: ComplianceProfile) => r?.verdicts[p].status;
const req = (list: RequirementResult[], id: string) => list.find((r) => r.id === id);

describe('compliance through the farm', () => {
  let farm: Farm;
  let run: RunDto;

  before(async () => {
    const guest = await ensureFixture('linux-uki');
    farm = await startFarm({ WORKER_CONCURRENCY: '2' });
    const up = await farm.api(`/api/images?name=linux-uki&format=raw`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Readable.toWeb(createReadStream(guest.path)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    assert.equal(up.status, 201, await up.clone().text());
    const image = (await up.json()) as { id: string };
    const created = await farm.api(`/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ imageId: image.id, timeoutSec: 180, profiles: [acpiV3, dtV2] }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = (await created.json()) as RunDto;
    await waitFor(
      async () => {
        run = (await (await farm.api(`/api/runs/${id}`)).json()) as RunDto;
        return !['queued', 'running'].includes(run.status);
      },
      300_000,
      () => farm.log('worker'),
    );
  });

  after(async () => {
    await farm?.stop();
  });

  test('the run passes and carries a verdict per profile', () => {
    assert.equal(run.status, 'passed', JSON.stringify(run.cells.map((c) => c.result?.reason)));
    const compliance = run.images[0]!.compliance;
    assert.ok(compliance, 'the run\'s image has its compliance summary');
    for (const p of ['vmspec-1.0', 'vmspec-2.0', 'bbr'] as const) assert.ok(['pass', 'warn', 'fail'].includes(compliance[p].verdict));
    // Stock edk2 never exposes ACPI and DT together: v2.0 (both required) cannot pass.
    assert.equal(compliance['vmspec-2.0'].verdict, 'fail');
    assert.ok(compliance['vmspec-2.0'].failing.includes('FW-5'));
  });

  test('the JSON report follows bootfarm.compliance/v1 and cites the platform probe of each cell', async () => {
    const res = await farm.api(`/api/runs/${run.id}/compliance`);
    assert.equal(res.status, 200);
    const report = RunCompliance.parse(await res.json());
    assert.equal(report.cells.length, 2);
    const acpi = report.cells.find((c) => c.profile.hwDescription === 'acpi')!;
    const dt = report.cells.find((c) => c.profile.hwDescription === 'dt')!;
    // FW-5 per profile: ACPI only → v1.0 fail (needs DT), v2.0 fail (needs both), BBR pass (exactly one).
    assert.deepEqual(
      (['vmspec-1.0', 'vmspec-2.0', 'bbr'] as const).map((p) => status(req(acpi.requirements, 'FW-5'), p)),
      ['fail', 'fail', 'pass'],
    );
    assert.deepEqual(
      (['vmspec-1.0', 'vmspec-2.0', 'bbr'] as const).map((p) => status(req(dt.requirements, 'FW-5'), p)),
      ['pass', 'fail', 'pass'],
    );
    // FW/HW verdicts cite probe lines of the same cell's platform.
    const fw5 = req(acpi.requirements, 'FW-5')!;
    assert.ok(fw5.evidence.some((e) => e.source === 'probe' && typeof e.seq === 'number' && e.line?.includes('VMSPEC-PROBE')));
    const hw4acpi = req(acpi.requirements, 'HW-4')!;
    assert.ok(hw4acpi.evidence.some((e) => e.line?.includes('acpi.madt.gicd.version=3')), JSON.stringify(hw4acpi.evidence));
    const hw4dt = req(dt.requirements, 'HW-4')!;
    assert.ok(hw4dt.evidence.some((e) => e.line?.includes('fdt.gic.version=v2')), JSON.stringify(hw4dt.evidence));
    // OS verdicts from the guest's console: booted (OS-1), the description came from the firmware (OS-7).
    for (const cell of [acpi, dt]) {
      assert.equal(status(req(cell.requirements, 'OS-1'), 'vmspec-2.0'), 'pass');
      const os7 = req(cell.requirements, 'OS-7')!;
      assert.equal(status(os7, 'vmspec-2.0'), 'pass', JSON.stringify(os7));
      assert.ok(os7.evidence.some((e) => e.source === 'console' && /EFI stub: (Using DTB from configuration table|Generating empty DTB)/.test(e.line ?? '')));
    }
    // Run level: both GIC versions and both descriptions were booted.
    assert.equal(status(req(report.requirements, 'HW-4'), 'vmspec-2.0'), 'pass');
    assert.equal(status(req(report.requirements, 'OS-6'), 'vmspec-2.0'), 'pass');
    assert.equal(status(req(report.requirements, 'OS-3'), 'vmspec-2.0'), 'pass');
    // Every one of the 43 requirements has a verdict.
    assert.equal(report.requirements.length, 43);
  });

  test('the JUnit report validates against the JUnit schema', async () => {
    const res = await farm.api(`/api/runs/${run.id}/compliance/junit?profile=bbr`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/xml/);
    const xml = await res.text();
    const xsd = readFileSync(join(repoRoot, 'packages/compliance/schema/junit.xsd'), 'utf8');
    const result = await validateXML({ xml: [{ fileName: 'report.xml', contents: xml }], schema: [{ fileName: 'junit.xsd', contents: xsd }] });
    assert.equal(result.valid, true, result.rawOutput);
    // One test case per requirement × cell, plus the run-level suite.
    assert.equal((xml.match(/<testcase /g) ?? []).length, 43 * 3);
  });

  test('the HTML report renders offline in Chromium and the dashboard shows the verdicts', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      // The report is an API resource: the browser sends the vendor's token with it.
      const page = await browser.newPage({ extraHTTPHeaders: { authorization: `Bearer ${farm.token}` } });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const url = `${farm.schedulerUrl}/api/runs/${run.id}/compliance/html`;
      const res = await page.goto(url);
      assert.equal(res?.status(), 200);
      assert.deepEqual(requests, [url], 'the report is self-contained');
      await page.getByText('FW-5', { exact: false }).first().waitFor();
      mkdirSync(join(artifactsDir, 'compliance'), { recursive: true });
      await page.screenshot({ path: join(artifactsDir, 'compliance', 'farm-report.png'), fullPage: true });

      const dashboard = await browser.newPage();
      await dashboard.goto(`${farm.dashboardUrl}/runs/${run.id}`);
      await dashboard.getByLabel('API token').fill(farm.token!);
      await dashboard.getByRole('button', { name: 'Sign in' }).click();
      await dashboard.getByTestId('compliance').waitFor({ timeout: 15_000 });
      const row = await dashboard.getByTestId('verdict-vmspec-2.0').textContent();
      assert.match(row ?? '', /fail/);
      assert.match(row ?? '', /FW-5/);
      // The report buttons download with the token (a plain link could not authenticate).
      const [download] = await Promise.all([dashboard.waitForEvent('download'), dashboard.getByRole('button', { name: 'JSON' }).click()]);
      assert.equal(download.suggestedFilename(), `bootfarm-${run.id}-${run.images[0]!.name}.json`);
      assert.equal(RunCompliance.parse(JSON.parse(readFileSync(await download.path(), 'utf8'))).runId, run.id);
    } finally {
      await browser.close();
    }
  });
});
