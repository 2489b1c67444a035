import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CellCompliance, COMPLIANCE_SCHEMA, RunCompliance, type PlatformProbeDto, type VmProfile } from '@bootfarm/contracts';
import { CATALOGUE_VERSION, PROFILES } from './catalogue.js';
import { evaluateCell, evaluateRun, summarise } from './verdicts.js';
import type { BootInput, GuestFactsInput } from './inputs.js';
import {
  cellOf, edk2AcpiGicv3, edk2Arm32, edk2DtGicv2, failedBoot, goodInspection, guestAcpi, guestDt, guestXen, passedBoot, prof, req, silentProbe, st, ubootDt, xenArmVirtXen,
} from './testing.fixtures.js';

const IMAGE = { id: '0b9c7a1e-5d2f-4c3a-9e8b-1a2b3c4d5e6f', name: 'debian-12-arm64', sha256: 'ab'.repeat(32), format: 'qcow2' };
const AT = '2026-11-25T05:00:00.000Z';

function cell(platform: PlatformProbeDto | null, guest: GuestFactsInput | null, boot: BootInput | null = passedBoot(), profile?: VmProfile, inspection = goodInspection()) {
  return evaluateCell(cellOf(profile ?? platform!.profile, { platform, guest, boot, inspection }));
}
const runOf = (cells: CellCompliance[]) => evaluateRun({ runId: 'run-1', image: IMAGE, generatedAt: AT, cells });

const acpiV3 = () => cell(edk2AcpiGicv3(), guestAcpi());
const dtV2 = () => cell(edk2DtGicv2(), guestDt());

describe('evaluateRun', () => {
  it('produces a valid bootfarm.compliance/v1 report, deterministically', () => {
    const cells = [acpiV3(), dtV2(), cell(xenArmVirtXen(), guestXen())];
    const a = runOf(cells);
    RunCompliance.parse(a);
    for (const c of cells) CellCompliance.parse(c);
    assert.equal(a.schema, COMPLIANCE_SCHEMA);
    assert.equal(a.catalogueVersion, CATALOGUE_VERSION);
    assert.equal(a.generatedAt, AT);
    assert.equal(a.requirements.length, 43);
    assert.deepEqual(runOf([acpiV3(), dtV2(), cell(xenArmVirtXen(), guestXen())]), a);
  });

  it('never gives pass, fail or warn without evidence, and never a verdict without a reason', () => {
    const cells = [acpiV3(), dtV2(), cell(ubootDt(), guestDt()), cell(edk2Arm32(), null, passedBoot(), undefined, goodInspection({ architectures: ['aarch64', 'arm'] })), cell(xenArmVirtXen(), guestXen()),
      cell(silentProbe(prof()), null, failedBoot('no_console_output', 'no console output', 'none', ''))];
    const run = runOf(cells);
    for (const x of [...cells, run]) {
      for (const r of x.requirements) {
        for (const p of PROFILES) {
          const v = r.verdicts[p];
          assert.ok(v.reason.length > 0, `${r.id} ${p}`);
          if (['pass', 'fail', 'warn'].includes(v.status)) assert.ok(r.evidence.length > 0, `${r.id} ${p} ${v.status} has evidence`);
        }
      }
    }
    for (const r of run.requirements) for (const e of r.evidence) assert.ok(e.cellKey, `${r.id} run evidence names its cell`);
  });

  it('per-cell requirements take the worst cell and cite it; not_tested only when no cell tested it', () => {
    const a = acpiV3();
    const d = dtV2();
    const run = runOf([a, d]);
    const fw5 = req(run, 'FW-5');
    assert.deepEqual(st(fw5), ['fail', 'fail', 'pass']);
    assert.ok(fw5.verdicts['vmspec-1.0'].reason.startsWith(`${a.cellKey}: `));
    assert.match(fw5.verdicts['vmspec-1.0'].reason, /2 cells: 1 fail, 1 pass/);
    assert.ok(fw5.evidence.some((e) => e.cellKey === a.cellKey));
    const unprobed = cell(null, guestAcpi(), passedBoot(), prof({ gic: 'v3', cpus: 2, memoryMiB: 1024 }));
    assert.equal(req(unprobed, 'FW-6').verdicts['vmspec-1.0'].status, 'not_tested');
    const r2 = runOf([unprobed, d]);
    assert.deepEqual(st(req(r2, 'FW-6')), ['pass', 'pass', 'pass'], 'one tested cell beats an untested one');
    assert.deepEqual(st(req(runOf([unprobed]), 'FW-6')), ['not_tested', 'not_tested', 'not_tested']);
  });

  it('HW-4: v2.0 needs GICv2 and GICv3 across cells', () => {
    assert.deepEqual(st(req(runOf([acpiV3(), dtV2()]), 'HW-4')), ['pass', 'pass', 'pass']);
    const only3 = req(runOf([acpiV3()]), 'HW-4');
    assert.deepEqual(st(only3), ['pass', 'not_tested', 'pass']);
    assert.match(only3.verdicts['vmspec-2.0'].reason, /no GICv2 cell/);
    const kvm2 = prof({ gic: 'v2', accel: 'kvm', hwDescription: 'dt' });
    const refused = cell(silentProbe(kvm2, 'infrastructure_error', 'qemu-system-aarch64: KVM is not capable of providing GICv2'), null,
      { outcome: 'infrastructure_error', reason: 'qemu-system-aarch64: KVM is not capable of providing GICv2', stage: 'none', failureClass: 'qemu_start_failed' }, kvm2);
    const host = req(runOf([acpiV3(), refused]), 'HW-4');
    assert.deepEqual(st(host), ['pass', 'not_applicable', 'pass']);
    assert.match(host.verdicts['vmspec-2.0'].reason, /N\/A \(host\)/);
  });

  it('OS-3: the image boots under both GIC versions', () => {
    assert.deepEqual(st(req(runOf([acpiV3(), dtV2()]), 'OS-3')), ['pass', 'pass', 'pass']);
    const v2fails = cell(edk2DtGicv2(), guestDt(), failedBoot('kernel_panic', 'kernel panic: no irqchip', 'os', 'Kernel panic - not syncing: No interrupt controller found.'));
    const r = req(runOf([acpiV3(), v2fails]), 'OS-3');
    assert.deepEqual(st(r), ['fail', 'fail', 'fail']);
    assert.match(r.verdicts['vmspec-2.0'].reason, /did not boot under GICv2/);
    const only3 = req(runOf([acpiV3()]), 'OS-3');
    assert.deepEqual(st(only3), ['not_tested', 'not_tested', 'not_tested']);
  });

  it('OS-6: ACPI-only and DT-only boots; v1.0 needs only DT', () => {
    assert.deepEqual(st(req(runOf([acpiV3(), dtV2()]), 'OS-6')), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(runOf([acpiV3()]), 'OS-6')), ['not_tested', 'not_tested', 'not_tested']);
    assert.deepEqual(st(req(runOf([dtV2()]), 'OS-6')), ['pass', 'not_tested', 'not_tested']);
    const acpiFails = cell(edk2AcpiGicv3(), null, failedBoot('kernel_panic', 'kernel panic', 'os', 'Kernel panic - not syncing: Unable to init ACPI'));
    const r = req(runOf([acpiFails, dtV2()]), 'OS-6');
    assert.deepEqual(st(r), ['pass', 'fail', 'fail']);
    assert.match(r.verdicts.bbr.reason, /ACPI-only boot failed/);
    // A dual platform in the matrix: v2.0 also needs the dual boot.
    const withXen = req(runOf([acpiV3(), dtV2(), cell(xenArmVirtXen(), guestXen())]), 'OS-6');
    assert.deepEqual(st(withXen), ['pass', 'pass', 'pass']);
    assert.match(withXen.verdicts['vmspec-2.0'].reason, /dual boot in/);
  });

  it('HW-2: an AArch32 cell; none → not tested', () => {
    assert.deepEqual(st(req(runOf([acpiV3()]), 'HW-2')), ['not_tested', 'not_tested', 'not_tested']);
    const arm = cell(edk2Arm32(), null, passedBoot(), undefined, goodInspection({ architectures: ['aarch64', 'arm'] }));
    const r = req(runOf([acpiV3(), arm]), 'HW-2');
    assert.deepEqual(st(r), ['pass', 'pass', 'pass']);
    assert.ok(r.evidence.some((e) => e.cellKey === arm.cellKey));
  });

  it('IMG-10: each declared execution state is booted by some cell', () => {
    const dual = goodInspection({ architectures: ['aarch64', 'arm'] });
    const a64 = cell(edk2AcpiGicv3(), guestAcpi(), passedBoot(), undefined, dual);
    const r = req(runOf([a64]), 'IMG-10');
    assert.deepEqual(st(r), ['not_tested', 'not_tested', 'not_tested']);
    assert.match(r.verdicts.bbr.reason, /no AArch32 cell/);
    const arm = cell(edk2Arm32(), null, passedBoot(), undefined, dual);
    assert.deepEqual(st(req(runOf([a64, arm]), 'IMG-10')), ['pass', 'pass', 'pass']);
    const armFails = cell(edk2Arm32(), null, failedBoot('no_boot_device', 'no boot device', 'boot_manager', 'BdsDxe: failed to load Boot0001'), undefined, dual);
    assert.deepEqual(st(req(runOf([a64, armFails]), 'IMG-10')), ['warn', 'warn', 'warn']);
  });

  it('HW-9 and OS-5: disk transports', () => {
    const mmio = cell(edk2DtGicv2(), guestDt(), passedBoot(), prof({ hwDescription: 'dt', gic: 'v2', disk: 'virtio-mmio' }));
    assert.deepEqual(st(req(runOf([dtV2()]), 'HW-9')), ['not_tested', 'not_tested', 'not_tested']);
    assert.deepEqual(st(req(runOf([dtV2(), mmio]), 'HW-9')), ['pass', 'pass', 'pass']);
    const mmioFails = cell(edk2DtGicv2(), null, failedBoot('kernel_panic', 'kernel panic: VFS: Unable to mount root fs on unknown-block(0,0)', 'os', 'Kernel panic - not syncing: VFS: Unable to mount root fs'), prof({ hwDescription: 'dt', gic: 'v2', disk: 'virtio-mmio' }));
    assert.deepEqual(st(req(runOf([dtV2(), mmioFails]), 'HW-9')), ['warn', 'warn', 'warn']);
    const os5 = req(runOf([dtV2(), mmio, cell(xenArmVirtXen(), guestXen())]), 'OS-5');
    assert.deepEqual(st(os5), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(runOf([dtV2(), mmioFails]), 'OS-5')), ['warn', 'warn', 'warn']);
  });

  it('OS-2: every driver the profile names, seen in some cell', () => {
    const r = req(runOf([acpiV3(), dtV2()]), 'OS-2');
    assert.deepEqual(st(r), ['not_tested', 'pass', 'pass']);
    assert.match(r.verdicts['vmspec-1.0'].reason, /not exercised: virtio-console, Xen PV console/);
    assert.match(r.verdicts['vmspec-2.0'].reason, /pl011 .*SBSA UART/);
  });

  it('HW-5: needs a cell above 8 vCPUs', () => {
    assert.deepEqual(st(req(runOf([acpiV3()]), 'HW-5')), ['not_tested', 'not_tested', 'not_tested']);
  });

  it('summaries: fail if a must failed, warn if anything warned; counts add up', () => {
    const run = runOf([acpiV3(), dtV2(), cell(xenArmVirtXen(), guestXen())]);
    for (const p of PROFILES) {
      const s = run.summary[p];
      assert.equal(Object.values(s.counts).reduce((a, b) => a + b, 0), 43);
      assert.equal(s.verdict, 'fail');
    }
    assert.ok(run.summary['vmspec-2.0'].failing.includes('FW-5'));
    assert.ok(run.summary.bbr.failing.includes('FW-5'), 'Xen exposes both tables');
    assert.ok(run.summary.bbr.failing.includes('HW-3'), 'Xen has no UART');
    assert.ok(!run.summary['vmspec-1.0'].failing.includes('HW-3'), 'v1.0 accepts the PV console');
    const d = dtV2();
    assert.equal(d.summary['vmspec-1.0'].verdict, 'pass');
    assert.equal(d.summary.bbr.verdict, 'pass');
    assert.deepEqual(d.summary['vmspec-2.0'].failing, ['FW-4', 'FW-5']);
    const warnOnly = summarise([{ ...req(d, 'FW-7'), verdicts: { 'vmspec-1.0': { level: 'strongly_recommended', status: 'warn', reason: 'volatile' }, 'vmspec-2.0': { level: 'strongly_recommended', status: 'pass', reason: '' }, bbr: { level: 'strongly_recommended', status: 'pass', reason: '' } } }]);
    assert.deepEqual(warnOnly['vmspec-1.0'], { verdict: 'warn', counts: { pass: 0, fail: 0, warn: 1, not_applicable: 0, not_tested: 0 }, failing: ['FW-7'] });
    assert.equal(warnOnly['vmspec-2.0'].verdict, 'pass');
  });

  it('an empty run is valid and untested', () => {
    const run = runOf([]);
    RunCompliance.parse(run);
    for (const r of run.requirements) assert.ok(['not_tested', 'not_applicable'].includes(r.verdicts['vmspec-2.0'].status), r.id);
  });
});
