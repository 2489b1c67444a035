// The FW/HW verdicts on real platforms: the VMSPEC probe booted (twice, sharing its variable
// store) under QEMU TCG on edk2 with ACPI and with DT, GICv2 and GICv3, on U-Boot, and on 32-bit
// ARM edk2; then the IMG verdicts of negative images, with their evidence.
import { evaluateCell, evaluateRun, type CellInput } from '@bootfarm/compliance';
import { defaultProfile, type CellCompliance, type ComplianceProfile, type InspectionDto, type VmProfile, type VerdictStatus } from '@bootfarm/contracts';
import { QemuLauncher } from '@bootfarm/emulator';
import { ensureFixture, type FixtureName } from '@bootfarm/fixtures';
import { inspectImage } from '@bootfarm/inspect';
import { probePlatform } from '@bootfarm/probe';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

const profiles = ['vmspec-1.0', 'vmspec-2.0', 'bbr'] as const satisfies readonly ComplianceProfile[];
type Expect = Record<string, readonly [VerdictStatus, VerdictStatus, VerdictStatus] | VerdictStatus>;

function verdicts(cell: CellCompliance, id: string): VerdictStatus[] {
  const r = cell.requirements.find((x) => x.id === id);
  assert.ok(r, `${id} is evaluated`);
  return profiles.map((p) => r.verdicts[p].status);
}

function check(cell: CellCompliance, expected: Expect): void {
  for (const [id, want] of Object.entries(expected)) {
    const got = verdicts(cell, id);
    const r = cell.requirements.find((x) => x.id === id)!;
    const detail = `${cell.cellKey} ${id}: ${JSON.stringify(r.verdicts)} evidence ${JSON.stringify(r.evidence.slice(0, 4))}`;
    if (typeof want === 'string') assert.ok(got.every((g) => g === want || g === 'not_applicable'), detail);
    else assert.deepEqual(got, [...want], detail);
    // A pass or a fail always carries its evidence.
    if (got.some((g) => g === 'pass' || g === 'fail')) assert.ok(r.evidence.length > 0, `${detail}: no evidence`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bootfarm-platforms-'));
const launcher = new QemuLauncher();
after(() => rmSync(dir, { recursive: true, force: true }));

async function platformCell(name: string, profile: VmProfile): Promise<CellCompliance> {
  const platform = await probePlatform({ launcher, profile, workDir: join(dir, name) });
  const input: CellInput = { cellId: name, cellKey: name, profile, image: { inspection: null }, boot: null, guest: null, platform };
  return evaluateCell(input);
}

const edk2 = (over: Partial<VmProfile>): VmProfile => ({ ...defaultProfile, cpus: 2, ...over });

describe('platform verdicts from real probe boots', { concurrency: 2 }, () => {
  test('edk2, ACPI, GICv3: ACPI only (v2.0 fails FW-5, BBR passes), SPCR UART, GTDT virtual timer, persistent variables', async () => {
    const cell = await platformCell('edk2-acpi-v3', edk2({ hwDescription: 'acpi', gic: 'v3' }));
    check(cell, {
      'FW-1': 'pass',
      'FW-2': 'pass',
      'FW-4': ['not_applicable', 'pass', 'pass'],
      'FW-5': ['fail', 'fail', 'pass'],
      'FW-6': 'pass',
      'FW-7': 'pass',
      'FW-9': 'pass',
      'HW-3': 'pass',
      'HW-4': ['pass', 'not_tested', 'pass'], // v2.0 wants GICv2 and GICv3: a run-level verdict
      'HW-6': 'pass',
      'HW-7': 'pass',
    });
  });

  test('edk2, DT (acpi=off), GICv2: DT only (v1.0 passes FW-3/FW-5), GICv2 node, timer PPI, PSCI method', async () => {
    const cell = await platformCell('edk2-dt-v2', edk2({ hwDescription: 'dt', gic: 'v2' }));
    check(cell, {
      'FW-1': 'pass',
      'FW-3': ['pass', 'pass', 'pass'],
      'FW-5': ['pass', 'fail', 'pass'],
      'FW-6': 'pass',
      'FW-7': 'pass',
      'FW-9': 'pass',
      'HW-3': 'pass',
      'HW-4': ['pass', 'not_tested', 'pass'], // v2.0 wants GICv2 and GICv3: a run-level verdict
      'HW-6': 'pass',
      'HW-7': 'pass',
    });
  });

  test('edk2, ACPI, GICv2 and edk2, DT, GICv3', async () => {
    const acpiV2 = await platformCell('edk2-acpi-v2', edk2({ hwDescription: 'acpi', gic: 'v2' }));
    check(acpiV2, { 'FW-5': ['fail', 'fail', 'pass'], 'HW-4': ['pass', 'not_tested', 'pass'], 'HW-6': 'pass' });
    const dtV3 = await platformCell('edk2-dt-v3', edk2({ hwDescription: 'dt', gic: 'v3' }));
    check(dtV3, { 'FW-5': ['pass', 'fail', 'pass'], 'HW-4': ['pass', 'not_tested', 'pass'], 'HW-6': 'pass' });
    // Across the two cells the platform offered both GIC versions: v2.0's HW-4 passes at run level.
    const run = evaluateRun({ runId: 'r', image: { id: 'i', name: 'probe', sha256: '0'.repeat(64), format: 'raw' }, generatedAt: new Date().toISOString(), cells: [acpiV2, dtV3] });
    const hw4 = run.requirements.find((r) => r.id === 'HW-4')!;
    assert.equal(hw4.verdicts['vmspec-2.0'].status, 'pass', JSON.stringify(hw4));
    assert.deepEqual(new Set(hw4.evidence.map((e) => e.cellKey)), new Set(['edk2-acpi-v2', 'edk2-dt-v3']));
  });

  test('U-Boot: UEFI from U-Boot with its DT; no persistent variable store', async () => {
    const cell = await platformCell('uboot', edk2({ firmware: 'u-boot', hwDescription: 'dt', gic: 'v3', cpus: 1 }));
    check(cell, { 'FW-1': 'pass', 'FW-5': ['pass', 'fail', 'pass'], 'FW-9': 'pass' });
    assert.notEqual(verdicts(cell, 'FW-7')[1], 'pass', 'two boots of U-Boot do not share variables');
  });

  test('AArch32 edk2: the 32-bit probe runs at PL1 (SVC)', async () => {
    const cell = await platformCell('arm32', edk2({ arch: 'arm', hwDescription: 'dt', gic: 'v2', cpus: 1 }));
    check(cell, { 'FW-1': 'pass', 'FW-9': 'pass', 'HW-2': 'pass' });
  });
});

describe('image verdicts of negative images', () => {
  async function imageCell(name: FixtureName): Promise<CellCompliance> {
    const fixture = await ensureFixture(name);
    const report = await inspectImage(fixture.path, { declaredFormat: 'raw', policy: { maxVirtualBytes: 64 * 1024 ** 3 } });
    const inspection: InspectionDto = {
      virtualSize: report.virtualSize,
      architectures: [...report.architectures],
      findings: report.findings.map((f) => ({ ...f, evidence: f.evidence.map((e) => ({ ...e })) })),
      qemuImg: null,
    };
    return evaluateCell({ cellId: name, cellKey: name, profile: defaultProfile, image: { inspection }, boot: null, guest: null, platform: null });
  }

  test('an x64-only image fails IMG-5 (no AArch64 removable path), with the ESP listing as evidence', async () => {
    const cell = await imageCell('neg-x64-only');
    check(cell, { 'IMG-1': 'pass', 'IMG-3': 'pass', 'IMG-5': 'fail' });
  });

  test('an MBR-only image fails IMG-1 with the protective-MBR bytes as evidence', async () => {
    const cell = await imageCell('neg-mbr-only');
    check(cell, { 'IMG-1': 'fail' });
    const img1 = cell.requirements.find((r) => r.id === 'IMG-1')!;
    assert.ok(img1.evidence.some((e) => e.source === 'image' && typeof e.offset === 'number' && e.bytes !== undefined), JSON.stringify(img1.evidence));
  });

  test('a corrupt GPT fails IMG-1 with the CRC evidence', async () => {
    const cell = await imageCell('neg-gpt-corrupt');
    check(cell, { 'IMG-1': 'fail' });
  });
});
