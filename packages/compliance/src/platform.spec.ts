import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { PlatformProbeDto, VmProfile } from '@bootfarm/contracts';
import { evaluateCell } from './verdicts.js';
import { OBS } from './context.js';
import {
  cellOf, edk2AcpiGicv3, edk2Arm32, edk2DtGicv2, guestAcpi, guestDt, passedBoot, probeBoot, probeLines, prof, req, silentProbe, st, ubootDt, xenArmVirtXen,
} from './testing.fixtures.js';

const cellFor = (platform: PlatformProbeDto | null, extra: Parameters<typeof cellOf>[1] = {}, profile?: VmProfile) =>
  evaluateCell(cellOf(profile ?? platform?.profile ?? prof(), { platform, ...extra }));

/** The same platform with some probe facts replaced or added (every boot). */
function patched(p: PlatformProbeDto, set: Record<string, string>, drop: string[] = []): PlatformProbeDto {
  return {
    ...p,
    boots: p.boots.map((b) => {
      const lines = b.lines.filter((l) => !drop.some((k) => l.text.startsWith(`VMSPEC-PROBE ${k}=`)));
      const keys = new Set<string>();
      const out = lines.map((l) => {
        const k = l.text.slice('VMSPEC-PROBE '.length, l.text.indexOf('='));
        if (k in set) {
          keys.add(k);
          return { ...l, text: `VMSPEC-PROBE ${k}=${set[k]}` };
        }
        return l;
      });
      const extra = probeLines(Object.entries(set).filter(([k]) => !keys.has(k)), 900, 1900);
      return { ...b, lines: [...out, ...extra] };
    }),
  };
}

describe('FW-5: the profiles disagree on DT and ACPI', () => {
  it('stock QEMU acpi=on with edk2 (ACPI only): v1.0 fail, v2.0 fail, bbr pass', () => {
    assert.deepEqual(st(req(cellFor(edk2AcpiGicv3()), 'FW-5')), ['fail', 'fail', 'pass']);
  });
  it('QEMU acpi=off with edk2 (DT only): v1.0 pass, v2.0 fail, bbr pass', () => {
    const r = req(cellFor(edk2DtGicv2()), 'FW-5');
    assert.deepEqual(st(r), ['pass', 'fail', 'pass']);
    assert.match(r.verdicts['vmspec-2.0'].reason, /needs both tables/);
  });
  it('Xen ArmVirtXen with acpi=1 (both): v1.0 pass, v2.0 pass, bbr fail', () => {
    const r = req(cellFor(xenArmVirtXen()), 'FW-5');
    assert.deepEqual(st(r), ['pass', 'pass', 'fail']);
    assert.match(r.verdicts.bbr.reason, /exactly one/);
  });
  it('neither table: fail under every profile; evidence is the probe lines', () => {
    const r = req(cellFor(patched(edk2AcpiGicv3(), { acpi20: 'absent' })), 'FW-5');
    assert.deepEqual(st(r), ['fail', 'fail', 'fail']);
    const fdt = r.evidence.find((e) => e.what === 'DEVICE_TREE configuration table')!;
    assert.equal(fdt.line, 'VMSPEC-PROBE fdt=absent');
    assert.equal(fdt.probeBoot, 1);
    assert.equal(typeof fdt.seq, 'number');
    assert.equal(typeof fdt.offsetMs, 'number');
  });
  it('a probe that stopped before its table scan: not tested, not "neither"', () => {
    const early: PlatformProbeDto = { ...edk2DtGicv2(), boots: [probeBoot(1, [['banner', 'vmspec-probe/2 arch=aarch64'], ['uefi.revision', '2.70']], { outcome: 'failed', reason: 'firmware exception' })] };
    for (const id of ['FW-3', 'FW-4', 'FW-5']) assert.deepEqual(st(req(cellFor(early), id)).filter((s) => s !== 'not_applicable'), st(req(cellFor(early), id)).filter((s) => s !== 'not_applicable').map(() => 'not_tested'), id);
  });
  it('without a probe: not tested, with what would test it', () => {
    const r = req(cellFor(null, { guest: guestDt() }), 'FW-5');
    assert.deepEqual(st(r), ['not_tested', 'not_tested', 'not_tested']);
    assert.match(r.verdicts['vmspec-1.0'].reason, /VMSPEC probe/);
  });
});

describe('FW-3: the firmware FDT comes from the DEVICE_TREE table only', () => {
  it('an EFI-stub generated DTB is not a firmware FDT (vmspec-tools\' false pass)', () => {
    const r = req(cellFor(edk2AcpiGicv3(), { guest: guestAcpi() }), 'FW-3');
    assert.deepEqual(st(r), ['fail', 'fail', 'not_applicable']);
    assert.match(r.verdicts['vmspec-1.0'].reason, /generated empty by the EFI stub/);
    assert.match(r.verdicts.bbr.reason, /exactly one/);
    assert.ok(r.evidence.some((e) => e.source === 'console' && e.line === 'EFI stub: Generating empty DTB'));
  });
  it('the guest saying "Using DTB from configuration table" does not replace the probe', () => {
    assert.deepEqual(st(req(cellFor(null, { guest: guestDt() }), 'FW-3')), ['not_tested', 'not_tested', 'not_tested']);
  });
  it('a complete FDT passes; Xen\'s /hypervisor stands in for a UART', () => {
    assert.deepEqual(st(req(cellFor(edk2DtGicv2()), 'FW-3')), ['pass', 'pass', 'pass']);
    const xen = req(cellFor(xenArmVirtXen()), 'FW-3');
    assert.deepEqual(st(xen), ['pass', 'pass', 'pass']);
    assert.match(xen.verdicts['vmspec-1.0'].reason, /Xen PV console/);
  });
  it('an incomplete FDT fails: CPU count, no PSCI, a disabled UART', () => {
    const r = req(cellFor(patched(edk2DtGicv2(), { 'fdt.cpus': '1', 'fdt.psci.compatible': '', 'fdt.uart.status': 'disabled' }), {}, prof({ hwDescription: 'dt', gic: 'v2', cpus: 4 })), 'FW-3');
    assert.deepEqual(st(r), ['fail', 'fail', 'fail']);
    assert.match(r.verdicts['vmspec-1.0'].reason, /4 cpu nodes \(found 1\).*psci node.*enabled UART/);
  });
});

describe('protocol v2: a missing key means "not found"', () => {
  it('FW-3: no fdt.gic.* / fdt.psci.* keys under v2 is a missing node (v1: not reported → warn)', () => {
    const v2 = req(cellFor(patched(edk2DtGicv2(), {}, ['fdt.gic.compatible', 'fdt.gic.version', 'fdt.psci.compatible', 'fdt.psci.method'])), 'FW-3');
    assert.deepEqual(st(v2), ['fail', 'fail', 'fail']);
    assert.match(v2.verdicts['vmspec-1.0'].reason, /a GIC node.*a psci node/);
    const v1 = req(cellFor(patched(edk2DtGicv2(), { banner: 'vmspec-probe/1 arch=aarch64' }, ['fdt.memory.count', 'fdt.memory.bytes'])), 'FW-3');
    assert.deepEqual(st(v1), ['warn', 'warn', 'warn']);
  });
  it('FW-3: a truncated FDT walk fails', () => {
    const r = req(cellFor(patched(edk2DtGicv2(), { 'fdt.walk': 'struct-truncated' })), 'FW-3');
    assert.deepEqual(st(r), ['fail', 'fail', 'fail']);
    assert.match(r.verdicts['vmspec-2.0'].reason, /walk stopped: struct-truncated/);
  });
  it('FW-4: an ACPI table that is not an RSDP fails', () => {
    const r = req(cellFor(patched(edk2AcpiGicv3(), { 'acpi.rsdp.signature': 'bad' })), 'FW-4');
    assert.deepEqual(st(r), ['not_applicable', 'fail', 'fail']);
  });
  it('FW-6: SetTime skipped after a failed second read is not reported twice', () => {
    const r = req(cellFor(patched(edk2DtGicv2(), { 'rt.gettime.2': 'EFI_DEVICE_ERROR', 'rt.settime': 'skipped' }, ['rt.gettime.2.time'])), 'FW-6');
    assert.deepEqual(st(r), ['fail', 'fail', 'fail']);
    assert.doesNotMatch(r.verdicts['vmspec-1.0'].reason, /SetTime/);
    const stall = req(cellFor(patched(edk2DtGicv2(), { 'rt.stall': 'missing', 'rt.gettime.2.time': '2026-11-25T04:03:05' })), 'FW-6');
    assert.deepEqual(st(stall), ['not_tested', 'not_tested', 'not_tested'], 'no stall, no advance to expect');
  });
  it('FW-7: a NULL GetVariable fails', () => {
    const r = req(cellFor(patched(edk2DtGicv2(), { 'var.previous': 'missing' })), 'FW-7');
    assert.deepEqual(st(r), ['warn', 'warn', 'warn']);
    assert.match(r.verdicts.bbr.reason, /GetVariable is missing/);
  });
  it('HW-4: a GIC of unknown version is not tested', () => {
    const r = req(cellFor(patched(edk2DtGicv2(), { 'fdt.gic.version': 'unknown', 'fdt.gic.compatible': 'acme,gic' })), 'HW-4');
    assert.deepEqual(st(r), ['not_tested', 'not_tested', 'not_tested']);
  });
});

describe('FW-4: ACPI', () => {
  it('QEMU\'s tables pass v2.0 and bbr, and are not part of v1.0', () => {
    const r = req(cellFor(edk2AcpiGicv3()), 'FW-4');
    assert.deepEqual(st(r), ['not_applicable', 'pass', 'pass']);
    assert.match(r.verdicts['vmspec-1.0'].reason, /v1\.0 dropped ACPI.*; observed: ACPI 2\.0 table/);
  });
  it('Xen\'s minimal tables (no SPCR) warn; MCFG is not asked for without PCIe', () => {
    const r = req(cellFor(xenArmVirtXen()), 'FW-4');
    assert.deepEqual(st(r), ['not_applicable', 'warn', 'warn']);
    assert.match(r.verdicts['vmspec-2.0'].reason, /no SPCR/);
    assert.doesNotMatch(r.verdicts['vmspec-2.0'].reason, /MCFG/);
  });
  it('DT only: v2.0 fail, bbr not applicable', () => {
    assert.deepEqual(st(req(cellFor(edk2DtGicv2()), 'FW-4')), ['not_applicable', 'fail', 'not_applicable']);
  });
  it('a non-HW-reduced FADT or a missing GTDT fails', () => {
    const r = req(cellFor(patched(edk2AcpiGicv3(), { 'acpi.fadt.hw_reduced': 'no', 'acpi.xsdt.tables': 'FACP,APIC,MCFG,SPCR' })), 'FW-4');
    assert.deepEqual(st(r), ['not_applicable', 'fail', 'fail']);
    assert.match(r.verdicts.bbr.reason, /GTDT.*HW_REDUCED/);
  });
});

describe('FW-6: the RTC must tell real, advancing time', () => {
  it('Xen\'s constant GetTime (2015-01-20T16:06:51, EFI_SUCCESS) and failing SetTime fail', () => {
    const r = req(cellFor(xenArmVirtXen()), 'FW-6');
    assert.deepEqual(st(r), ['fail', 'fail', 'fail']);
    const why = r.verdicts['vmspec-2.0'].reason;
    assert.match(why, /did not advance: 2015-01-20T16:06:51 then 2015-01-20T16:06:51/);
    assert.match(why, /more than 5 min apart/);
    assert.match(why, /SetTime returned EFI_DEVICE_ERROR/);
    const t2 = r.evidence.find((e) => e.what === 'GetTime time (after the stall)')!;
    assert.equal(t2.value, '2015-01-20T16:06:51');
    assert.equal(t2.probeBoot, 1);
    assert.match(t2.line!, /^VMSPEC-PROBE rt\.gettime\.2\.time=/);
    assert.ok(r.evidence.some((e) => e.what === 'GetTime status (after the stall)' && e.value === 'EFI_SUCCESS'), 'EFI_SUCCESS is shown, and not enough');
  });
  it('edk2 on QEMU passes', () => {
    assert.deepEqual(st(req(cellFor(edk2AcpiGicv3()), 'FW-6')), ['pass', 'pass', 'pass']);
  });
  it('a clock outside the host window ±5 min fails even when it advances', () => {
    const r = req(cellFor(patched(edk2DtGicv2(), { 'rt.gettime.1.time': '2026-11-25T04:13:05', 'rt.gettime.2.time': '2026-11-25T04:13:07' })), 'FW-6');
    assert.deepEqual(st(r), ['fail', 'fail', 'fail']);
    assert.match(r.verdicts['vmspec-1.0'].reason, /more than 5 min apart/);
    const edge = req(cellFor(patched(edk2DtGicv2(), { 'rt.gettime.1.time': '2026-11-25T04:08:05', 'rt.gettime.2.time': '2026-11-25T04:08:07' })), 'FW-6');
    assert.deepEqual(st(edge), ['pass', 'pass', 'pass'], 'within hostFinishedAt + 5 min');
  });
  it('U-Boot: RT_PROPERTIES does not claim GetTime → not applicable under bbr, fail under the VM spec', () => {
    const r = req(cellFor(ubootDt()), 'FW-6');
    assert.deepEqual(st(r), ['fail', 'fail', 'not_applicable']);
    assert.match(r.verdicts['vmspec-1.0'].reason, /SetTime returned EFI_UNSUPPORTED.*does not claim GetTime and SetTime/);
  });
  it('a v1 probe read the clock once: not tested unless what it read is already wrong', () => {
    const v1 = patched(edk2DtGicv2(), { 'rt.gettime': 'EFI_SUCCESS', 'rt.gettime.time': '2026-11-25T04:03:05' }, ['rt.gettime.1', 'rt.gettime.1.time', 'rt.gettime.2', 'rt.gettime.2.time', 'rt.settime']);
    const r = req(cellFor(v1), 'FW-6');
    assert.deepEqual(st(r), ['not_tested', 'not_tested', 'not_tested']);
    assert.match(r.verdicts['vmspec-1.0'].reason, /not measured: time advance/);
  });
});

describe('FW-7: persistent variables across two boots sharing the store', () => {
  it('edk2 pflash: boot 2 found boot 1\'s token', () => {
    const r = req(cellFor(edk2DtGicv2()), 'FW-7');
    assert.deepEqual(st(r), ['pass', 'pass', 'pass']);
    const w = r.evidence.find((e) => e.what === 'token written in boot 1')!;
    const p = r.evidence.find((e) => e.what === 'token found in boot 2 before writing')!;
    assert.equal(w.probeBoot, 1);
    assert.equal(p.probeBoot, 2);
    assert.equal(w.value, p.value);
  });
  it('U-Boot and ArmVirtXen are volatile: unmet, strongly recommended → warn', () => {
    assert.deepEqual(st(req(cellFor(ubootDt()), 'FW-7')), ['warn', 'warn', 'warn']);
    const x = req(cellFor(xenArmVirtXen()), 'FW-7');
    assert.deepEqual(st(x), ['warn', 'warn', 'warn']);
    assert.match(x.verdicts.bbr.reason, /volatile/);
  });
  it('one boot only: not tested', () => {
    const p = edk2DtGicv2();
    const r = req(cellFor({ ...p, boots: p.boots.slice(0, 1) }), 'FW-7');
    assert.deepEqual(st(r), ['not_tested', 'not_tested', 'not_tested']);
    assert.match(r.verdicts.bbr.reason, /second probe boot/);
  });
});

describe('FW-1, FW-2, FW-8, FW-9, FW-10', () => {
  it('FW-1: the probe banner proves the firmware ran the removable-path app; a silent probe fails', () => {
    const ok = req(cellFor(edk2DtGicv2()), 'FW-1');
    assert.deepEqual(st(ok), ['pass', 'pass', 'pass']);
    assert.equal(ok.evidence[0]!.line, 'VMSPEC-PROBE banner=vmspec-probe/2 arch=aarch64');
    assert.deepEqual(st(req(cellFor(silentProbe(prof())), 'FW-1')), ['fail', 'fail', 'fail']);
    const infra = req(cellFor(silentProbe(prof(), 'infrastructure_error', 'qemu-system-aarch64: could not load firmware')), 'FW-1');
    assert.deepEqual(st(infra), ['not_tested', 'not_tested', 'not_tested']);
    const direct = req(cellFor({ ...edk2DtGicv2(), boots: edk2DtGicv2().boots.map((b) => ({ ...b, commandLine: 'qemu-system-aarch64 -machine virt -kernel probe.efi' })) }), 'FW-1');
    assert.deepEqual(st(direct), ['warn', 'warn', 'warn']);
  });
  it('FW-2: v1.0 wants 2.4, v2.0 and bbr 2.6', () => {
    assert.deepEqual(st(req(cellFor(ubootDt()), 'FW-2')), ['pass', 'pass', 'pass']);
    const old = req(cellFor(patched(edk2DtGicv2(), { 'uefi.revision_raw': '0x0000000000020028', 'uefi.revision': '2.40' })), 'FW-2');
    assert.deepEqual(st(old), ['pass', 'warn', 'warn']);
    assert.deepEqual(st(req(cellFor(null, { guest: guestAcpi() }), 'FW-2')), ['pass', 'pass', 'pass'], 'from the guest\'s efi: line');
  });
  it('FW-8: U-Boot\'s advertised subset fails the VM spec and passes bbr', () => {
    const r = req(cellFor(ubootDt()), 'FW-8');
    assert.deepEqual(st(r), ['fail', 'fail', 'pass']);
    assert.match(r.verdicts['vmspec-1.0'].reason, /claims only 0x05b0/);
    assert.deepEqual(st(req(cellFor(edk2AcpiGicv3()), 'FW-8')), ['pass', 'pass', 'pass']);
    const claimedButBroken = req(cellFor(patched(edk2AcpiGicv3(), { 'rt.queryvariableinfo': 'EFI_UNSUPPORTED' })), 'FW-8');
    assert.deepEqual(st(claimedButBroken), ['fail', 'fail', 'fail']);
  });
  it('FW-9: EL1 passes; EL2 fails v2.0, is informative for v1.0 and allowed by bbr; ARM SVC is EL1', () => {
    assert.deepEqual(st(req(cellFor(edk2DtGicv2()), 'FW-9')), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(cellFor(patched(edk2DtGicv2(), { 'cpu.current_el': '2' })), 'FW-9')), ['warn', 'fail', 'pass']);
    const svc = req(cellFor(edk2Arm32()), 'FW-9');
    assert.deepEqual(st(svc), ['pass', 'pass', 'pass']);
    assert.match(svc.verdicts['vmspec-2.0'].reason, /SVC/);
    assert.deepEqual(st(req(cellFor(patched(edk2Arm32(), { 'cpu.cpsr_mode': '0x0000001a' })), 'FW-9')), ['warn', 'fail', 'pass']);
  });
  it('FW-10: SMBIOS 3 only matters to bbr', () => {
    assert.deepEqual(st(req(cellFor(edk2DtGicv2()), 'FW-10')), ['not_applicable', 'not_applicable', 'pass']);
    assert.deepEqual(st(req(cellFor(ubootDt()), 'FW-10')), ['not_applicable', 'not_applicable', 'warn']);
    const xen = req(cellFor(xenArmVirtXen()), 'FW-10');
    assert.deepEqual(st(xen), ['not_applicable', 'not_applicable', 'warn']);
    assert.match(xen.verdicts['vmspec-1.0'].reason, /not in the VM spec.*observed: no SMBIOS table/);
  });
});

describe('HW evaluators', () => {
  it('HW-3: Xen\'s PV console is enough for v1.0 only', () => {
    const r = req(cellFor(xenArmVirtXen()), 'HW-3');
    assert.deepEqual(st(r), ['pass', 'fail', 'fail']);
    assert.match(r.verdicts['vmspec-2.0'].reason, /vuart="sbsa_uart"/);
    assert.deepEqual(st(req(cellFor(edk2AcpiGicv3()), 'HW-3')), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(cellFor(edk2DtGicv2()), 'HW-3')), ['pass', 'pass', 'pass']);
    const noArmh = req(cellFor(patched(edk2AcpiGicv3(), { 'acpi.dsdt.armh0011': 'absent' })), 'HW-3');
    assert.deepEqual(st(noArmh), ['pass', 'warn', 'warn']);
    const ns16550 = req(cellFor(patched(edk2AcpiGicv3(), { 'acpi.spcr.interface_type': '18', 'acpi.dsdt.armh0011': 'absent' })), 'HW-3');
    assert.deepEqual(st(ns16550), ['pass', 'fail', 'pass'], 'a 16550 is a BSA UART, not an SBSA one');
  });
  it('HW-4 per cell: the requested GIC; v2.0\'s "both" is left to the run', () => {
    const r = req(cellFor(edk2AcpiGicv3()), 'HW-4');
    assert.deepEqual(st(r), ['pass', 'not_tested', 'pass']);
    assert.ok(r.evidence.some((e) => e.what === OBS.gicVersion && e.value === 'v3'));
    const wrong = req(cellFor(edk2DtGicv2(), {}, prof({ hwDescription: 'dt', gic: 'v3' })), 'HW-4');
    assert.deepEqual(st(wrong), ['fail', 'fail', 'fail']);
    const host = req(cellFor(silentProbe(prof({ gic: 'v2', accel: 'kvm' }), 'infrastructure_error', 'qemu-system-aarch64: KVM is not capable of providing GICv2'), { boot: null }), 'HW-4');
    assert.deepEqual(st(host), ['not_applicable', 'not_applicable', 'not_applicable']);
    assert.match(host.verdicts['vmspec-2.0'].reason, /N\/A \(host\)/);
  });
  it('HW-5: GICv2 with more than 8 vCPUs is refused; the cell\'s boot verdicts do not apply', () => {
    const p = prof({ gic: 'v2', cpus: 12, hwDescription: 'dt' });
    const c = cellFor(silentProbe(p, 'infrastructure_error', 'qemu-system-aarch64: Number of SMP CPUs requested (12) exceeds max CPUs supported by machine \'mach-virt\' (8)'), {
      boot: { outcome: 'infrastructure_error', reason: 'QEMU refused: max CPUs 8 with GICv2', stage: 'none', failureClass: 'qemu_start_failed' },
    }, p);
    assert.deepEqual(st(req(c, 'HW-5')), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(c, 'OS-1')), ['not_applicable', 'not_applicable', 'not_applicable']);
    assert.match(req(c, 'OS-1').verdicts['vmspec-1.0'].reason, /GICv2 supports at most 8 vCPUs/);
    const v3 = prof({ gic: 'v3', cpus: 16, memoryMiB: 2048 });
    assert.deepEqual(st(req(cellFor(null, { guest: guestAcpi({ cpusBroughtUp: { value: { nodes: 1, cpus: 16 }, evidence: { seq: 1, offsetMs: 1, text: 'smp: Brought up 1 node, 16 CPUs' } } }) }, v3), 'HW-5')), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(cellFor(null, { guest: guestAcpi({ cpusBroughtUp: { value: { nodes: 1, cpus: 8 }, evidence: { seq: 1, offsetMs: 1, text: 'smp: Brought up 1 node, 8 CPUs' } } }) }, v3), 'HW-5')), ['warn', 'warn', 'warn']);
    assert.deepEqual(st(req(cellFor(edk2DtGicv2()), 'HW-5')), ['not_applicable', 'not_applicable', 'not_applicable']);
  });
  it('HW-1: the description must match the configured VM', () => {
    assert.deepEqual(st(req(cellFor(edk2AcpiGicv3()), 'HW-1')), ['pass', 'pass', 'pass']);
    const r = req(cellFor(edk2AcpiGicv3(), {}, prof({ cpus: 4, memoryMiB: 2048 })), 'HW-1');
    assert.deepEqual(st(r), ['fail', 'fail', 'fail']);
    assert.match(r.verdicts.bbr.reason, /2 CPU\(s\) described for a 4-vCPU VM.*1024 MiB for a 2048 MiB VM/);
  });
  it('HW-2 per cell: AArch64 cells do not apply, an AArch32 probe passes', () => {
    assert.deepEqual(st(req(cellFor(edk2DtGicv2()), 'HW-2')), ['not_applicable', 'not_applicable', 'not_applicable']);
    assert.deepEqual(st(req(cellFor(edk2Arm32()), 'HW-2')), ['pass', 'pass', 'pass']);
  });
  it('HW-6: counter, frequency and the virtual timer interrupt', () => {
    assert.deepEqual(st(req(cellFor(edk2AcpiGicv3()), 'HW-6')), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(cellFor(patched(edk2DtGicv2(), { 'fdt.timer.virt_ppi': '14' })), 'HW-6')), ['warn', 'fail', 'fail']);
    assert.deepEqual(st(req(cellFor(patched(edk2DtGicv2(), { 'timer.cntvct.2': '1' })), 'HW-6')), ['warn', 'fail', 'fail']);
  });
  it('HW-7: PSCI ≥ 0.2 and a working shutdown', () => {
    assert.deepEqual(st(req(cellFor(edk2DtGicv2()), 'HW-7')), ['not_applicable', 'pass', 'pass']);
    assert.deepEqual(st(req(cellFor(patched(edk2DtGicv2(), { 'fdt.psci.compatible': 'arm,psci' })), 'HW-7')), ['not_applicable', 'fail', 'fail']);
    assert.deepEqual(st(req(cellFor(patched(edk2AcpiGicv3(), { result: 'reset-failed' })), 'HW-7')), ['not_applicable', 'fail', 'fail']);
  });
  it('HW-8: a hotplug bus is present (hotplug not exercised); none → warn', () => {
    const x = req(cellFor(xenArmVirtXen()), 'HW-8');
    assert.deepEqual(st(x), ['not_tested', 'not_tested', 'not_tested']);
    assert.match(x.verdicts.bbr.reason, /Xen PV bus/);
    assert.deepEqual(st(req(cellFor(patched(edk2DtGicv2(), { 'fdt.pcie': 'absent' }), {}, prof({ hwDescription: 'dt', gic: 'v2', disk: 'virtio-mmio' })), 'HW-8')), ['warn', 'warn', 'warn']);
  });
  it('HW-10 and OS-11 are never tested', () => {
    const c = cellFor(edk2AcpiGicv3(), { guest: guestAcpi(), boot: passedBoot() });
    assert.deepEqual(st(req(c, 'HW-10')), ['not_applicable', 'not_applicable', 'not_tested']);
    assert.deepEqual(st(req(c, 'OS-11')), ['not_tested', 'not_tested', 'not_tested']);
  });
});

// ---- the real v1 transcripts in fixtures/console ----------------------------------------------

const SAMPLES = fileURLToPath(new URL('../../../fixtures/console/', import.meta.url));

async function sampleProbe(name: string, profile: VmProfile): Promise<PlatformProbeDto> {
  const body = await readFile(`${SAMPLES}${name}.tlog`, 'utf8');
  const lines = body.split('\n').filter(Boolean).map((l, i) => {
    const m = /^\[\s*([\d.]+)\] ?(.*)$/.exec(l)!;
    return { seq: i, offsetMs: Math.round(Number(m[1]) * 1000), text: m[2]!.replaceAll('^[', '\x1b') };
  }).filter((l) => l.text.includes('VMSPEC-PROBE '));
  // The samples were captured on 2026-11-25 around 04:03 UTC.
  return { profile, varsShared: true, boots: [probeBoot(1, [], { lines, hostStartedAt: '2026-11-25T04:02:50.000Z', hostFinishedAt: '2026-11-25T04:03:40.000Z' })] };
}

describe('real probe transcripts (protocol v1)', () => {
  it('edk2 ACPI: FW-5 v1.0 fail, v2.0 fail, bbr pass; EL1; GetTime only read once', async () => {
    const p = prof({ hwDescription: 'acpi', gic: 'v2' });
    const c = cellFor(await sampleProbe('probe-aa64-aavmf-acpi', p), {}, p);
    assert.deepEqual(st(req(c, 'FW-5')), ['fail', 'fail', 'pass']);
    assert.deepEqual(st(req(c, 'FW-9')), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(c, 'FW-6')), ['not_tested', 'not_tested', 'not_tested']);
    assert.deepEqual(st(req(c, 'FW-1')), ['pass', 'pass', 'pass']);
    assert.equal(req(c, 'FW-5').evidence.find((e) => e.what === 'ACPI 2.0 configuration table')?.line, 'VMSPEC-PROBE acpi20=present');
  });
  it('edk2 DT: FW-5 v1.0 pass; FW-3 reads the v1 node counts', async () => {
    const p = prof({ hwDescription: 'dt', gic: 'v2' });
    const c = cellFor(await sampleProbe('probe-aa64-aavmf-fdt', p), {}, p);
    assert.deepEqual(st(req(c, 'FW-5')), ['pass', 'fail', 'pass']);
    assert.deepEqual(st(req(c, 'FW-3')), ['warn', 'warn', 'warn'], 'memory nodes were not reported by v1');
    assert.deepEqual(st(req(c, 'HW-4')), ['pass', 'not_tested', 'pass']);
    assert.deepEqual(st(req(c, 'HW-1')), ['pass', 'pass', 'pass']);
  });
  it('edk2 with virtualization=on runs the firmware at EL2: FW-9 v2.0 fail', async () => {
    const p = prof({ hwDescription: 'dt', gic: 'v3' });
    const c = cellFor(await sampleProbe('probe-aa64-aavmf-el2-gicv3', p), {}, p);
    assert.deepEqual(st(req(c, 'FW-9')), ['warn', 'fail', 'pass']);
    assert.deepEqual(st(req(c, 'HW-4')), ['pass', 'not_tested', 'pass']);
  });
  it('U-Boot: RT_PROPERTIES 0x5b0 read from the v1 keys', async () => {
    const p = prof({ firmware: 'u-boot', hwDescription: 'dt', gic: 'v2' });
    const c = cellFor(await sampleProbe('probe-aa64-uboot-bootdelay0', p), {}, p);
    assert.deepEqual(st(req(c, 'FW-6')), ['fail', 'fail', 'not_applicable']);
    assert.deepEqual(st(req(c, 'FW-8')), ['fail', 'fail', 'not_tested']);
    assert.deepEqual(st(req(c, 'FW-2')), ['pass', 'pass', 'pass']);
  });
  it('AArch32 edk2: CPSR mode 0x13 is SVC (EL1)', async () => {
    const p = prof({ arch: 'arm', hwDescription: 'dt', gic: 'v2' });
    const c = cellFor(await sampleProbe('probe-arm32-aavmf32', p), { inspection: null }, p);
    assert.deepEqual(st(req(c, 'FW-9')), ['pass', 'pass', 'pass']);
    assert.deepEqual(st(req(c, 'HW-2')), ['pass', 'pass', 'pass']);
  });
});
