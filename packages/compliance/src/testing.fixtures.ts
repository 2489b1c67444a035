/**
 * Test data for this package's specs (not exported from the index): probe transcripts written
 * after PROTOCOL.md v2 and the real v1 samples in fixtures/console (edk2 ACPI GICv3, edk2 DT GICv2,
 * U-Boot, AArch32, Xen ArmVirtXen), intake findings, guest facts shaped like the extractor's.
 */
import type { FindingDto, InspectionDto, PlatformProbeDto, ProbeBootDto, RequirementResult, VmProfile } from '@bootfarm/contracts';
import { profileKey } from '@bootfarm/contracts';
import type { BootInput, CellInput, EvidenceLine, GuestFact, GuestFactsInput } from './inputs.js';

type Facts = readonly (readonly [string, string])[];

/** `VMSPEC-PROBE key=value` lines with consecutive sequence numbers, 1 ms apart. */
export function probeLines(facts: Facts, seq0 = 40, ms0 = 1013): ProbeBootDto['lines'] {
  return facts.map(([k, v], i) => ({ seq: seq0 + i, offsetMs: ms0 + i, text: `VMSPEC-PROBE ${k}=${v}` }));
}

export const HOST_START = '2026-11-25T04:03:04.000Z';
export const HOST_END = '2026-11-25T04:03:09.500Z';

export function probeBoot(boot: number, facts: Facts, over: Partial<ProbeBootDto> = {}): ProbeBootDto {
  return {
    boot, outcome: 'passed', reason: 'probe finished', commandLine: 'qemu-system-aarch64 -machine virt -drive if=pflash,unit=0,readonly=on,file=AAVMF_CODE.fd -drive if=pflash,unit=1,file=vars.fd -drive file=probe.img',
    hostStartedAt: HOST_START, hostFinishedAt: HOST_END, exit: { code: 0, signal: null }, lines: probeLines(facts), ...over,
  };
}

const head = (arch: 'aarch64' | 'arm', vendor = 'EDK II', raw = '0x0000000000020046', rev = '2.70'): Facts => [
  ['banner', `vmspec-probe/2 arch=${arch}`],
  ['uefi.revision', rev],
  ['uefi.revision_raw', raw],
  ['fw.vendor', vendor],
  ['fw.revision', '0x0000000000010000'],
];

const rtGood = (t1 = '2026-11-25T04:03:05', t2 = '2026-11-25T04:03:07'): Facts => [
  ['rt.gettime.1', 'EFI_SUCCESS'], ['rt.gettime.1.time', t1], ['rt.stall_us', '2000000'],
  ['rt.gettime.2', 'EFI_SUCCESS'], ['rt.gettime.2.time', t2], ['rt.settime', 'EFI_SUCCESS'],
  ['rt.getwakeuptime', 'EFI_UNSUPPORTED'], ['rt.getnexthighmonotoniccount', 'EFI_SUCCESS'],
  ['rt.queryvariableinfo', 'EFI_SUCCESS'], ['rt.getnextvariablename', 'EFI_SUCCESS'],
];

const vars = (previous: string, written: string): Facts => [
  ['var.previous', previous], ['var.setvariable', 'EFI_SUCCESS'], ['var.written', written],
  ['var.readback', 'EFI_SUCCESS'], ['var.readback.match', 'yes'],
];
const tail: Facts = [['result', 'done'], ['action', 'ResetSystem(EfiResetShutdown)']];

const dtFacts = (o: { cpus: number; memBytes: number; gic: 'v2' | 'v3'; timer?: string; rtcStatus?: string }): Facts => [
  ['fdt.magic', 'ok'], ['fdt.totalsize', '1048576'], ['fdt.version', '17'], ['fdt.root.compatible', 'linux,dummy-virt'], ['fdt.nodes', '118'],
  ['fdt.cpus', String(o.cpus)], ['fdt.memory.count', '1'], ['fdt.memory.bytes', String(o.memBytes)],
  ['fdt.gic.compatible', o.gic === 'v3' ? 'arm,gic-v3' : 'arm,cortex-a15-gic'], ['fdt.gic.version', o.gic],
  ['fdt.timer.compatible', o.timer ?? 'arm,armv8-timer'], ['fdt.timer.virt_ppi', '11'],
  ['fdt.psci.compatible', 'arm,psci-1.0 arm,psci-0.2 arm,psci'], ['fdt.psci.method', 'hvc'],
  ['fdt.uart.compatible', 'arm,pl011'], ['fdt.uart.status', 'okay'], ['fdt.uart.count', '1'],
  ['fdt.chosen.stdout_path', '/pl011@9000000'], ['fdt.rtc.compatible', 'arm,pl031'], ['fdt.rtc.status', o.rtcStatus ?? 'disabled'],
  ['fdt.virtio_mmio.count', '32'], ['fdt.pcie', 'present'], ['fdt.xen', 'absent'],
];

/** Stock QEMU virt acpi=on + edk2 ArmVirtQemu (since 2017: ACPI only), GICv3, 2 vCPUs, 1 GiB. */
export function edk2AcpiGicv3(): PlatformProbeDto {
  const f = (prev: string, tok: string): Facts => [
    ...head('aarch64'),
    ['cpu.current_el', '1'], ['timer.cntfrq_hz', '62500000'], ['timer.cntvct.1', '41668347'],
    ['cfgtable.count', '9'],
    ['cfgtable.guid', 'fc1bcdb0-7d31-49aa-936a-a4600d9dd083'], ['cfgtable.guid', 'f2fd1544-9794-4a2c-992e-e5bbcf20e394'], ['cfgtable.guid', '8868e871-e4f1-11d3-bc22-0080c73c8881'],
    ['fdt', 'absent'], ['acpi20', 'present'], ['acpi10', 'absent'], ['smbios3', 'present'], ['smbios', 'absent'], ['rtprop', 'absent'],
    ['acpi.rsdp.revision', '2'], ['acpi.rsdp.checksum', 'ok'], ['acpi.xsdt', 'present'], ['acpi.xsdt.tables', 'FACP,APIC,PPTT,GTDT,MCFG,SPCR,DBG2,IORT'],
    ['acpi.fadt.hw_reduced', 'yes'], ['acpi.fadt.arm_boot_arch', '0x0003'], ['acpi.fadt.psci', 'yes'], ['acpi.fadt.psci_hvc', 'yes'], ['acpi.fadt.minor', '3'],
    ['acpi.dsdt', 'present'], ['acpi.dsdt.armh0011', 'present'],
    ['acpi.madt.gicc', '2'], ['acpi.madt.gicd.version', '3'], ['acpi.madt.gicr', '1'], ['acpi.madt.its', '1'],
    ['acpi.gtdt.virt_gsiv', '27'], ['acpi.spcr.interface_type', '3'], ['acpi.spcr.base', '0x0000000009000000'],
    ['smbios3.anchor', 'ok'], ['smbios3.version', '3.0'], ['smbios.structures', '11'], ['smbios.type19', '1'],
    ['mem.ram_bytes', '1073741824'],
    ...rtGood(), ['timer.cntvct.2', '166668347'],
    ...vars(prev, tok), ...tail,
  ];
  return {
    profile: prof({ hwDescription: 'acpi', gic: 'v3', cpus: 2, memoryMiB: 1024 }), varsShared: true,
    boots: [probeBoot(1, f('absent', '00000000027bc86b')), probeBoot(2, f('00000000027bc86b', '0000000003a1f00d'))],
  };
}

/** QEMU virt acpi=off + edk2: DT only, GICv2, 1 vCPU, 512 MiB. */
export function edk2DtGicv2(): PlatformProbeDto {
  const f = (prev: string, tok: string): Facts => [
    ...head('aarch64'),
    ['cpu.current_el', '1'], ['timer.cntfrq_hz', '62500000'], ['timer.cntvct.1', '34184347'],
    ['cfgtable.count', '9'], ['cfgtable.guid', 'f2fd1544-9794-4a2c-992e-e5bbcf20e394'], ['cfgtable.guid', 'b1b621d5-f19c-41a5-830b-d9152c69aae0'],
    ['fdt', 'present'], ['acpi20', 'absent'], ['acpi10', 'absent'], ['smbios3', 'present'], ['smbios', 'absent'], ['rtprop', 'absent'],
    ...dtFacts({ cpus: 1, memBytes: 536870912, gic: 'v2' }),
    ['smbios3.anchor', 'ok'], ['smbios3.version', '3.0'], ['smbios.structures', '11'], ['smbios.type19', '1'],
    ['mem.ram_bytes', '536870912'],
    ...rtGood(), ['timer.cntvct.2', '159184347'],
    ...vars(prev, tok), ...tail,
  ];
  return { profile: prof({ hwDescription: 'dt', gic: 'v2' }), varsShared: true, boots: [probeBoot(1, f('absent', '0000000002099f9b')), probeBoot(2, f('0000000002099f9b', '00000000030c2e11'))] };
}

/** QEMU virt + U-Boot 2023.01: DT, SMBIOS 2.x, RT_PROPERTIES 0x5b0, volatile variables. */
export function ubootDt(): PlatformProbeDto {
  const f = (tok: string): Facts => [
    ...head('aarch64', 'Das U-Boot', '0x0000000000020064', '2.100'),
    ['cpu.current_el', '1'], ['timer.cntfrq_hz', '62500000'], ['timer.cntvct.1', '23769063'],
    ['cfgtable.count', '4'], ['cfgtable.guid', 'eb66918a-7eef-402a-842e-931d21c38ae9'], ['cfgtable.guid', 'eb9d2d31-2d88-11d3-9a16-0090273fc14d'], ['cfgtable.guid', 'b1b621d5-f19c-41a5-830b-d9152c69aae0'],
    ['fdt', 'present'], ['acpi20', 'absent'], ['acpi10', 'absent'], ['smbios3', 'absent'], ['smbios', 'present'], ['rtprop', 'present'],
    ['rtprop.version', '1'], ['rtprop.supported', '0x00000000000005b0'],
    ...dtFacts({ cpus: 1, memBytes: 536870912, gic: 'v2', rtcStatus: 'okay' }),
    ['smbios.anchor', 'ok'], ['smbios.structures', '6'], ['smbios.type19', '0'],
    ['mem.ram_bytes', '536870912'],
    ['rt.gettime.1', 'EFI_SUCCESS'], ['rt.gettime.1.time', '2026-11-25T04:03:05'], ['rt.stall_us', '2000000'],
    ['rt.gettime.2', 'EFI_SUCCESS'], ['rt.gettime.2.time', '2026-11-25T04:03:07'], ['rt.settime', 'EFI_UNSUPPORTED'],
    ['timer.cntvct.2', '148769063'],
    ['rt.getwakeuptime', 'EFI_UNSUPPORTED'], ['rt.getnexthighmonotoniccount', 'EFI_SUCCESS'], ['rt.queryvariableinfo', 'EFI_SUCCESS'], ['rt.getnextvariablename', 'EFI_SUCCESS'],
    ...vars('absent', tok), ...tail,
  ];
  return {
    profile: prof({ firmware: 'u-boot', hwDescription: 'dt', gic: 'v2' }), varsShared: false,
    boots: [probeBoot(1, f('00000000016aaf27'), { commandLine: 'qemu-system-aarch64 -machine virt -bios u-boot.bin -drive file=probe.img' }), probeBoot(2, f('00000000017bb038'), { commandLine: 'qemu-system-aarch64 -machine virt -bios u-boot.bin -drive file=probe.img' })],
  };
}

/** qemu-system-arm virt + 32-bit ArmVirtQemu: AArch32, SVC mode, DT, GICv2. */
export function edk2Arm32(): PlatformProbeDto {
  const f = (prev: string, tok: string): Facts => [
    ...head('arm', 'EDK II', '0x00020046'),
    ['cpu.cpsr_mode', '0x00000013'], ['timer.cntfrq_hz', '62500000'], ['timer.cntvct.1', '40472089'],
    ['cfgtable.count', '10'], ['cfgtable.guid', 'b1b621d5-f19c-41a5-830b-d9152c69aae0'],
    ['fdt', 'present'], ['acpi20', 'absent'], ['acpi10', 'absent'], ['smbios3', 'present'], ['smbios', 'present'], ['rtprop', 'absent'],
    ...dtFacts({ cpus: 1, memBytes: 536870912, gic: 'v2', timer: 'arm,armv7-timer' }),
    ['smbios3.anchor', 'ok'], ['smbios3.version', '3.0'], ['smbios.type19', '1'],
    ['mem.ram_bytes', '536870912'],
    ...rtGood(), ['timer.cntvct.2', '165472089'],
    ...vars(prev, tok), ...tail,
  ];
  return { profile: prof({ arch: 'arm', hwDescription: 'dt', gic: 'v2' }), varsShared: true, boots: [probeBoot(1, f('absent', '000000000269a119')), probeBoot(2, f('000000000269a119', '0000000003100aa7'))] };
}

/**
 * Xen 4.17 xl + ArmVirtXen (XEN_EFI.fd) with acpi=1: DT always plus ACPI (no SPCR, no MCFG), GICv3,
 * constant GetTime 2015-01-20T16:06:51 and SetTime EFI_DEVICE_ERROR, emulated (volatile) NV store,
 * PV console only (no vuart), no SMBIOS.
 */
export function xenArmVirtXen(): PlatformProbeDto {
  const f = (tok: string): Facts => [
    ...head('aarch64'),
    ['cpu.current_el', '1'], ['timer.cntfrq_hz', '62500000'], ['timer.cntvct.1', '91337511'],
    ['cfgtable.count', '6'], ['cfgtable.guid', 'b1b621d5-f19c-41a5-830b-d9152c69aae0'], ['cfgtable.guid', '8868e871-e4f1-11d3-bc22-0080c73c8881'],
    ['fdt', 'present'], ['acpi20', 'present'], ['acpi10', 'absent'], ['smbios3', 'absent'], ['smbios', 'absent'], ['rtprop', 'absent'],
    ['fdt.magic', 'ok'], ['fdt.totalsize', '4096'], ['fdt.version', '17'], ['fdt.root.compatible', 'xen,xenvm-4.17'], ['fdt.nodes', '14'],
    ['fdt.cpus', '2'], ['fdt.memory.count', '1'], ['fdt.memory.bytes', '1073741824'],
    ['fdt.gic.compatible', 'arm,gic-v3'], ['fdt.gic.version', 'v3'],
    ['fdt.timer.compatible', 'arm,armv8-timer'], ['fdt.timer.virt_ppi', '11'],
    ['fdt.psci.compatible', 'arm,psci-1.0 arm,psci-0.2 arm,psci'], ['fdt.psci.method', 'hvc'],
    ['fdt.uart.count', '0'], ['fdt.virtio_mmio.count', '0'], ['fdt.pcie', 'absent'], ['fdt.xen', 'present'],
    ['acpi.rsdp.revision', '2'], ['acpi.rsdp.checksum', 'ok'], ['acpi.xsdt', 'present'], ['acpi.xsdt.tables', 'GTDT,APIC,FACP'],
    ['acpi.fadt.hw_reduced', 'yes'], ['acpi.fadt.arm_boot_arch', '0x0003'], ['acpi.fadt.psci', 'yes'], ['acpi.fadt.psci_hvc', 'yes'], ['acpi.fadt.minor', '1'],
    ['acpi.dsdt', 'present'], ['acpi.dsdt.armh0011', 'absent'],
    ['acpi.madt.gicc', '2'], ['acpi.madt.gicd.version', '3'], ['acpi.madt.gicr', '1'], ['acpi.madt.its', '0'], ['acpi.gtdt.virt_gsiv', '27'],
    ['mem.ram_bytes', '1073741824'],
    ['rt.gettime.1', 'EFI_SUCCESS'], ['rt.gettime.1.time', '2015-01-20T16:06:51'], ['rt.stall_us', '2000000'],
    ['rt.gettime.2', 'EFI_SUCCESS'], ['rt.gettime.2.time', '2015-01-20T16:06:51'], ['rt.settime', 'EFI_DEVICE_ERROR'],
    ['timer.cntvct.2', '216337511'],
    ['rt.getwakeuptime', 'EFI_UNSUPPORTED'], ['rt.getnexthighmonotoniccount', 'EFI_SUCCESS'], ['rt.queryvariableinfo', 'EFI_SUCCESS'], ['rt.getnextvariablename', 'EFI_SUCCESS'],
    ...vars('absent', tok), ...tail,
  ];
  const cl = { commandLine: 'xl create -c probe.cfg (kernel="XEN_EFI.fd", acpi=1, gic_version="v3", disk=[probe.img,raw,xvda])', exit: null };
  return { profile: prof({ accel: 'xen', disk: 'xen-pv', gic: 'v3', hwDescription: 'dt', cpus: 2, memoryMiB: 1024 }), varsShared: false, boots: [probeBoot(1, f('0000000005719d27'), cl), probeBoot(2, f('0000000005a2c0f3'), cl)] };
}

/** A probe boot that printed nothing (e.g. the firmware never started it). */
export function silentProbe(profile: VmProfile, outcome = 'failed', reason = 'no console output'): PlatformProbeDto {
  return { profile, varsShared: true, boots: [probeBoot(1, [], { outcome, reason, lines: [] })] };
}

// ---- profiles, findings, boots, guest facts --------------------------------------------------

export function prof(over: Partial<VmProfile> = {}): VmProfile {
  return { arch: 'aarch64', firmware: 'edk2', hwDescription: 'acpi', gic: 'v3', disk: 'virtio-pci', cpus: 1, memoryMiB: 512, accel: 'tcg', ...over };
}

const finding = (id: string, check: string, level: FindingDto['level'], message: string, evidence: FindingDto['evidence'] = []): FindingDto => ({ id, check, level, message, evidence });

/** Intake of a compliant AArch64-only image (GPT, FAT32 ESP, BOOTAA64.EFI). */
export function goodInspection(over: { findings?: FindingDto[]; architectures?: string[]; replace?: string[] } = {}): InspectionDto {
  const base: FindingDto[] = [
    finding('IMG-1', 'pmbr', 'pass', 'protective MBR: 55AA, a single 0xEE entry starting at LBA 1', [{ what: 'MBR boot signature', offset: 510, bytes: '55aa', expected: '55aa' }, { what: 'protective MBR partition type', offset: 450, bytes: 'ee', expected: 'ee' }]),
    finding('IMG-1', 'gpt-primary', 'pass', 'valid primary GPT header at LBA 1 (512-byte sectors), header and entry-array CRCs match', [{ what: 'GPT header CRC32', offset: 528, value: '0x1c2d3e4f' }]),
    finding('IMG-1', 'gpt-backup', 'pass', 'valid backup GPT header at the last LBA 196607', [{ what: 'backup GPT header', offset: 100663296 - 512, value: 'LBA 196607' }]),
    finding('IMG-3', 'esp-found', 'pass', 'partition 1 is the ESP (LBA 2048..133119)', [{ what: 'GPT entry 1 type GUID', offset: 1024, value: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B, LBA 2048..133119' }]),
    finding('IMG-4', 'esp-fat32', 'pass', 'the ESP is FAT32 (65536 clusters)', [{ what: 'ESP cluster count', value: '65536', expected: '>= 65525 (FAT32)' }]),
    finding('IMG-5', 'removable-path', 'pass', 'removable-media boot file present for aarch64', [{ what: 'removable-media boot file (aarch64)', value: '\\EFI\\BOOT\\BOOTAA64.EFI' }]),
    finding('IMG-6', 'pe-uefi-app', 'pass', '\\EFI\\BOOT\\BOOTAA64.EFI is a UEFI application for aarch64', [{ what: 'PE machine', value: '0xaa64 (ARM64)' }, { what: 'PE subsystem', value: '10 (EFI application)' }]),
    finding('IMG-6', 'pe-signature', 'info', '\\EFI\\BOOT\\BOOTAA64.EFI is not Authenticode-signed (informative: Secure Boot is not in the VM spec)', [{ what: 'PE security directory', value: 'empty' }]),
    finding('IMG-8', 'no-firmware', 'pass', 'no firmware (.fd) files on the ESP'),
    finding('IMG-9', 'no-fixed-platform', 'pass', '1 loader config(s) checked; nothing platform-specific hard-coded', [{ what: 'loader config', value: '\\loader\\entries\\debian.conf' }]),
    finding('IMG-10', 'execution-state', 'info', 'declared execution state: aarch64', [{ what: 'architectures', value: 'aarch64' }]),
  ];
  const replaced = over.replace ? base.filter((f) => !over.replace!.includes(f.id)) : base;
  return { virtualSize: 100663296, architectures: over.architectures ?? ['aarch64'], findings: [...replaced, ...(over.findings ?? [])], qemuImg: { format: 'qcow2', virtualSize: 100663296 } };
}
export { finding };

export const line = (seq: number, offsetMs: number, text: string): EvidenceLine => ({ seq, offsetMs, text });
const fact = <T>(value: T, seq: number, ms: number, text: string): GuestFact<T> => ({ value, evidence: line(seq, ms, text) });

export function passedBoot(markerSeq = 400, markerMs = 2590): BootInput {
  const marker = line(markerSeq, markerMs, 'VMSPEC-GUEST-READY');
  return { outcome: 'passed', reason: 'success marker seen', stage: 'os', failureClass: null, marker, decidingLine: marker };
}

export function failedBoot(failureClass: string, reason: string, stage: string, decidingText: string): BootInput {
  const d = line(300, 9000, decidingText);
  return { outcome: 'failed', reason, stage, failureClass, marker: null, decidingLine: d };
}

const guestKeys = (seq0: number, kv: Record<string, string>): Record<string, GuestFact<string>> =>
  Object.fromEntries(Object.entries(kv).map(([k, v], i) => [k, fact(v, seq0 + i, 2600 + i * 10, `VMSPEC-GUEST ${k}=${v}`)]));

/** The Debian 6.1 farm guest on edk2 ACPI (linux-uki-aavmf-acpi), with the current init's keys. */
export function guestAcpi(over: Partial<GuestFactsInput> = {}, keys: Record<string, string> = {}): GuestFactsInput {
  return {
    efi: fact({ revision: '2.70', major: 2, minor: 70, vendor: 'EDK II' }, 60, 1300, '[    0.000000] efi: EFI v2.70 by EDK II'),
    efiNotFound: null,
    efiConfigTables: fact({ names: ['SMBIOS 3.0', 'MEMATTR', 'ACPI 2.0', 'INITRD', 'MEMRESERVE'], acpi20: true, smbios3: true, smbios: false, rtprop: false }, 61, 1300, '[    0.000000] efi: SMBIOS 3.0=0x5fed0000 MEMATTR=0x5ec8a018 ACPI 2.0=0x5c430018 INITRD=0x5c42fd98 MEMRESERVE=0x5c42fe18'),
    dtbSource: fact('empty' as const, 55, 1238, 'EFI stub: Generating empty DTB'),
    acpiRsdp: fact({ revision: 2, oemId: 'BOCHS' }, 62, 1300, '[    0.000000] ACPI: RSDP 0x000000005C430018 000024 (v02 BOCHS )'),
    spcrConsole: fact({ type: 'pl011', options: 'mmio,0x9000000,9600' }, 64, 1301, '[    0.000000] ACPI: SPCR: console: pl011,mmio,0x9000000,9600'),
    psci: fact({ version: '1.1', major: 1, minor: 1 }, 70, 1311, '[    0.000000] psci: PSCIv1.1 detected in firmware.'),
    psciConduitSource: fact('ACPI' as const, 69, 1311, '[    0.000000] psci: probing for conduit method from ACPI.'),
    psciStandardFunctionIds: fact(true as const, 71, 1311, '[    0.000000] psci: Using standard PSCI v0.2 function IDs'),
    archTimer: fact({ mhz: 62.5, virtual: true }, 90, 1474, '[    0.000000] arch_timer: cp15 timer(s) running at 62.50MHz (virt).'),
    cpusStartedAt: fact({ el: 1, consistent: true }, 101, 1549, '[    0.074062] CPU: All CPU(s) started at EL1'),
    cpusBroughtUp: fact({ nodes: 1, cpus: 2 }, 100, 1547, '[    0.072076] smp: Brought up 1 node, 2 CPUs'),
    uart: fact({ tty: 'ttyAMA0', mmio: '0x9000000', kind: 'SBSA' as const, detail: 'SBSA' }, 130, 1753, '[    0.278101] ARMH0011:00: ttyAMA0 at MMIO 0x9000000 (irq = 12, base_baud = 0) is a SBSA'),
    rtcEfi: fact({ rtc: 'rtc0' }, 160, 2102, '[    0.627234] rtc-efi rtc-efi.0: registered as rtc0'),
    rtc: fact({ driver: 'rtc-efi', rtc: 'rtc0' }, 160, 2102, '[    0.627234] rtc-efi rtc-efi.0: registered as rtc0'),
    smbios: fact({ version: '3.0.0' }, 110, 1617, '[    0.142458] SMBIOS 3.0.0 present.'),
    gic: fact({ version: 'v3' as const }, 85, 1465, '[    0.000000] GICv3: 256 SPIs implemented'),
    xen: null,
    hvc0: null,
    console: fact({ name: 'ttyAMA0' }, 131, 1754, '[    0.279036] printk: console [ttyAMA0] enabled'),
    commandLine: null,
    guest: guestKeys(400, { kernel: '6.1.0-56-arm64', arch: 'aarch64', cpus: '2', acpi: 'present', 'rtc0.name': 'rtc-efi', memtotal_kb: '968412', block: 'vda', net: 'eth0,lo', gic: 'GICv3', uart: 'uart:SBSA', 'efivars.write': 'ok', ...keys }),
    ...over,
  };
}

/** The farm guest on edk2 DT (linux-uki-aavmf-fdt): firmware DTB, pl011, GICv2. */
export function guestDt(over: Partial<GuestFactsInput> = {}, keys: Record<string, string> = {}): GuestFactsInput {
  return guestAcpi({
    efiConfigTables: fact({ names: ['SMBIOS 3.0', 'MEMATTR', 'INITRD', 'MEMRESERVE'], acpi20: false, smbios3: true, smbios: false, rtprop: false }, 61, 761, '[    0.000000] efi: SMBIOS 3.0=0x5fed0000 MEMATTR=0x5ec8c018 INITRD=0x5c43fd98 MEMRESERVE=0x5c43fe18'),
    dtbSource: fact('configuration_table' as const, 55, 710, 'EFI stub: Using DTB from configuration table'),
    acpiRsdp: null, spcrConsole: null,
    psciConduitSource: fact('DT' as const, 69, 775, '[    0.000000] psci: probing for conduit method from DT.'),
    cpusBroughtUp: fact({ nodes: 1, cpus: 1 }, 100, 973, '[    0.053355] smp: Brought up 1 node, 1 CPU'),
    uart: fact({ tty: 'ttyAMA0', mmio: '0x9000000', kind: 'PL011' as const, detail: 'PL011 rev1' }, 130, 1077, '[    0.157665] 9000000.pl011: ttyAMA0 at MMIO 0x9000000 (irq = 13, base_baud = 0) is a PL011 rev1'),
    gic: fact({ version: 'v2' as const }, 85, 912, '[    0.000000] GICv2m: range[mem 0x08020000-0x08020fff], SPI[80:143]'),
    ...over,
  }, { cpus: '1', acpi: 'absent', devicetree: 'present', memtotal_kb: '472236', gic: 'GIC-0', uart: 'uart:PL011', ...keys });
}

/** A Xen domU (ArmVirtXen) guest: hvc0 only, no RTC, efivarfs unavailable. */
export function guestXen(): GuestFactsInput {
  return guestAcpi({
    dtbSource: fact('configuration_table' as const, 55, 710, 'EFI stub: Using DTB from configuration table'),
    acpiRsdp: null, spcrConsole: null, uart: null, rtcEfi: null, rtc: null, smbios: null,
    psciConduitSource: fact('DT' as const, 69, 2067, '[    0.000000] psci: probing for conduit method from DT.'),
    xen: fact({ version: '4.17' }, 50, 2037, '[    0.000000] Xen 4.17 support found'),
    hvc0: fact(true as const, 120, 2359, '[    0.007451] printk: console [hvc0] enabled'),
    console: fact({ name: 'hvc0' }, 120, 2359, '[    0.007451] printk: console [hvc0] enabled'),
    commandLine: fact({ text: 'console=hvc0 earlycon=xenboot panic=-1', consoleArgs: ['hvc0'] }, 75, 2077, '[    0.000000] Kernel command line: console=hvc0 earlycon=xenboot panic=-1'),
  }, { 'rtc0.name': '', block: 'xvda', uart: '', gic: 'GICv3', 'efivars.write': 'failed', memtotal_kb: '968412' });
}

/** A cell from its parts; the key is the profile key. */
export function cellOf(profile: VmProfile, parts: { inspection?: InspectionDto | null; boot?: BootInput | null; guest?: GuestFactsInput | null; platform?: PlatformProbeDto | null; id?: string }): CellInput {
  return {
    cellId: parts.id ?? `cell-${profileKey(profile)}`,
    cellKey: profileKey(profile),
    profile,
    image: { inspection: parts.inspection === undefined ? goodInspection() : parts.inspection },
    boot: parts.boot === undefined ? passedBoot() : parts.boot,
    guest: parts.guest === undefined ? null : parts.guest,
    platform: parts.platform === undefined ? null : parts.platform,
  };
}

// ---- assertions helpers --------------------------------------------------------------------

/** Statuses under vmspec-1.0, vmspec-2.0, bbr. */
export function st(r: { readonly verdicts: RequirementResult['verdicts'] }): [string, string, string] {
  return [r.verdicts['vmspec-1.0'].status, r.verdicts['vmspec-2.0'].status, r.verdicts.bbr.status];
}

/** A requirement of a cell or run result. */
export function req(x: { readonly requirements: readonly RequirementResult[] }, id: string): RequirementResult {
  const r = x.requirements.find((q) => q.id === id);
  if (!r) throw new Error(`no ${id}`);
  return r;
}
