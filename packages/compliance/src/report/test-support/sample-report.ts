// A realistic RunCompliance for the renderer specs: three cells (edk2 ACPI/GICv3, edk2 DT/GICv2,
// U-Boot DT/GICv3), every status, every evidence source, and one hostile guest console line.
import { COMPLIANCE_SCHEMA } from '@bootfarm/contracts';
import type {
  CellCompliance,
  ComplianceProfile,
  ProfileSummary,
  RequirementLevel,
  RequirementResult,
  RunCompliance,
  VerdictEvidence,
  VerdictStatus,
  VmProfile,
} from '@bootfarm/contracts';

/** What a hostile guest printed: ANSI, NUL and other C0, CDATA end, closing tags, markup, bad Unicode. */
export const HOSTILE_LINE =
  '\x1b[1;31m[FAILED]\x1b[0m hwclock: <script>alert(1)</script> ]]> </failure></system-out><x-injected>pwn</x-injected>' +
  ' \x00NUL\x07BEL\x0bVT\x0cFF\x7fDEL & "dq" \'sq\' \ud800lone \ufffe\uffff \u202Eevil <img src=x onerror=alert(2)> ✓ 😀 \x1b]0;title\x07end';

/** The same line as the renderers must show it (written by hand, not computed, so the specs check the cleaner). */
export const HOSTILE_LINE_SHOWN =
  '[FAILED] hwclock: <script>alert(1)</script> ]]> </failure></system-out><x-injected>pwn</x-injected>' +
  ' NULBELVTFFDEL & "dq" \'sq\' lone  evil <img src=x onerror=alert(2)> ✓ 😀 end';

/** A reason that quotes guest text (evaluators do that). */
export const HOSTILE_REASON = 'rtc0 is "rtc-pl031" & not <rtc-efi>: the guest keeps its own clock';

type P<T> = Record<ComplianceProfile, T>;
type V = [RequirementLevel, VerdictStatus, string];

const GROUPS = { IMG: 'IMG', FW: 'FW', HW: 'HW', OS: 'OS' } as const;

function req(id: string, title: string, v: { v1: V; v2: V; bbr: V }, evidence: VerdictEvidence[] = []): RequirementResult {
  const group = GROUPS[id.split('-')[0] as keyof typeof GROUPS];
  const verdict = ([level, status, reason]: V) => ({ level, status, reason });
  return {
    id,
    group,
    title,
    verdicts: { 'vmspec-1.0': verdict(v.v1), 'vmspec-2.0': verdict(v.v2), bbr: verdict(v.bbr) },
    evidence,
  };
}

/** Same verdict under all three profiles. */
function all(level: RequirementLevel, status: VerdictStatus, reason: string): { v1: V; v2: V; bbr: V } {
  return { v1: [level, status, reason], v2: [level, status, reason], bbr: [level, status, reason] };
}

const img = (what: string, offset: number, bytes: string, value?: string, expected?: string): VerdictEvidence => ({
  source: 'image',
  what,
  offset,
  bytes,
  ...(value !== undefined ? { value } : {}),
  ...(expected !== undefined ? { expected } : {}),
});
const con = (seq: number, offsetMs: number, line: string, what = 'guest console'): VerdictEvidence => ({
  source: 'console',
  what,
  seq,
  offsetMs,
  line,
});
const probe = (probeBoot: number, seq: number, offsetMs: number, line: string, what = 'probe report'): VerdictEvidence => ({
  source: 'probe',
  what,
  probeBoot,
  seq,
  offsetMs,
  line,
});
const boot = (what: string, value: string): VerdictEvidence => ({ source: 'boot', what, value });

const IMAGE_EVIDENCE: Record<string, VerdictEvidence[]> = {
  'IMG-1': [
    img('protective MBR boot signature', 510, '55 aa', '0xAA55', '0xAA55'),
    img('protective MBR partition type', 450, 'ee', '0xEE', '0xEE'),
    img('primary GPT header signature', 512, '45 46 49 20 50 41 52 54', 'EFI PART', 'EFI PART'),
    img('backup GPT header (AlternateLBA 4194303)', 2147483136, '45 46 49 20 50 41 52 54', 'EFI PART', 'EFI PART'),
  ],
  'IMG-3': [img('ESP partition type GUID (entry 15)', 1024 + 14 * 128, '28 73 2a c1 1f f8 d2 11 ba 4b 00 a0 c9 3e c9 3b', 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B')],
  'IMG-4': [img('ESP boot sector BPB_FATSz16', 1048576 + 22, 'f8 00', 'FAT16 (cluster count 61440)', 'FAT32 (cluster count ≥ 65525)')],
  'IMG-5': [img('removable-media boot file', 1048576 + 0x20a40, '42 4f 4f 54 41 41 36 34 45 46 49', '\\EFI\\BOOT\\BOOTAA64.EFI', '\\EFI\\BOOT\\BOOTAA64.EFI')],
  'IMG-6': [img('PE/COFF machine of BOOTAA64.EFI', 1048576 + 0x31000 + 0x44, '64 aa', '0xAA64 (ARM64), PE32+, subsystem 10', '0xAA64, PE32+, subsystem 10')],
};

function imageRequirements(): RequirementResult[] {
  return [
    req('IMG-1', 'The disk has a GPT (protective MBR, valid primary and backup headers)', all('must', 'pass', 'protective MBR and both GPT headers valid, CRCs match'), IMAGE_EVIDENCE['IMG-1']),
    req('IMG-3', 'An EFI system partition exists', all('must', 'pass', 'one ESP, partition 15, LBA 2048–206847'), IMAGE_EVIDENCE['IMG-3']),
    req('IMG-4', 'The ESP is FAT32', all('must', 'warn', 'ESP is FAT16; UEFI firmware mounts it, but the spec names FAT32'), IMAGE_EVIDENCE['IMG-4']),
    req('IMG-5', 'The boot file sits at the removable-media path', all('must', 'pass', '\\EFI\\BOOT\\BOOTAA64.EFI present'), IMAGE_EVIDENCE['IMG-5']),
    req('IMG-6', 'The boot file is a UEFI application for AArch64', all('must', 'pass', 'PE32+ ARM64 EFI application'), IMAGE_EVIDENCE['IMG-6']),
    req('IMG-10', 'Declared execution state matches the content', all('informative', 'pass', 'AArch64 only: BOOTAA64.EFI, no BOOTARM.EFI')),
  ];
}

interface CellSpec {
  cellId: string;
  profile: VmProfile;
  requirements: RequirementResult[];
}

const CELL_ACPI: CellSpec = {
  cellId: 'cel_01JDX4Q9Z8ACPI3',
  profile: { arch: 'aarch64', firmware: 'edk2', hwDescription: 'acpi', gic: 'v3', disk: 'virtio-pci', cpus: 2, memoryMiB: 2048, accel: 'tcg' },
  requirements: [
    ...imageRequirements(),
    req(
      'FW-3',
      'A complete FDT is installed as the DEVICE_TREE configuration table',
      {
        v1: ['must', 'fail', 'no DEVICE_TREE configuration table: ArmVirtQemu exposes ACPI only when QEMU generates tables'],
        v2: ['must', 'fail', 'no DEVICE_TREE configuration table'],
        bbr: ['absent', 'not_applicable', 'BBR asks for ACPI or DT, judged by FW-5'],
      },
      [probe(1, 14, 812, 'VMSPEC-PROBE config-table dtb=absent acpi20=present smbios3=present', 'configuration tables')],
    ),
    req(
      'FW-4',
      'An ACPI description is installed (RSDP rev ≥ 2, XSDT, FACP/APIC/GTDT/DSDT)',
      {
        v1: ['absent', 'not_applicable', 'VM spec 1.0 dropped ACPI'],
        v2: ['must', 'pass', 'RSDP rev 2; XSDT lists FACP APIC GTDT DSDT SPCR MCFG'],
        bbr: ['must', 'pass', 'RSDP rev 2; HW_REDUCED_ACPI set'],
      },
      [
        probe(1, 15, 815, 'VMSPEC-PROBE acpi rsdp.rev=2 xsdt=FACP,APIC,GTDT,DSDT,SPCR,MCFG,IORT', 'ACPI tables'),
        probe(1, 16, 817, 'VMSPEC-PROBE acpi facp.flags=0x00100000 hw_reduced=1', 'FADT flags'),
      ],
    ),
    req(
      'FW-5',
      'Hardware description tables match the profile (both / exactly one / DT)',
      {
        v1: ['must', 'fail', 'ACPI only; VM spec 1.0 needs the FDT'],
        v2: ['must', 'fail', 'ACPI only; VM spec 2.0 needs ACPI and DT together'],
        bbr: ['must', 'pass', 'exactly one of ACPI and DT'],
      },
      [probe(1, 14, 812, 'VMSPEC-PROBE config-table dtb=absent acpi20=present smbios3=present', 'configuration tables')],
    ),
    req(
      'FW-6',
      'UEFI real-time clock services work (GetTime/SetTime)',
      all('must', 'pass', 'GetTime advanced 2 s across a 2 s stall and is 0.4 s from host UTC; SetTime succeeded'),
      [
        probe(1, 21, 2950, 'VMSPEC-PROBE rtc get=2026-11-25T06:47:02Z status=0'),
        probe(1, 22, 4968, 'VMSPEC-PROBE rtc get=2026-11-25T06:47:04Z status=0 set=0'),
      ],
    ),
    req(
      'FW-7',
      'UEFI variables persist across a power cycle',
      all('strongly_recommended', 'pass', 'variable written on boot 1 read back on boot 2 (shared pflash store)'),
      [probe(1, 30, 5120, 'VMSPEC-PROBE var set name=VmspecFarm status=0'), probe(2, 9, 790, 'VMSPEC-PROBE var get name=VmspecFarm status=0 value=7a3f')],
    ),
    req(
      'FW-10',
      'SMBIOS 3.x table is present',
      {
        v1: ['absent', 'not_applicable', 'not part of the VM spec'],
        v2: ['absent', 'not_applicable', 'not part of the VM spec'],
        bbr: ['must', 'pass', 'SMBIOS3 entry point _SM3_ present'],
      },
      [probe(1, 14, 812, 'VMSPEC-PROBE config-table dtb=absent acpi20=present smbios3=present', 'configuration tables')],
    ),
    req(
      'HW-2',
      'AArch32 and AArch64 VMs can both be booted',
      {
        v1: ['should', 'not_tested', 'needs an AArch32 cell (arm/… profile) in the matrix'],
        v2: ['informative', 'not_tested', 'needs an AArch32 cell (arm/… profile) in the matrix'],
        bbr: ['absent', 'not_applicable', 'not in BBR'],
      },
    ),
    req('HW-3', 'An emulated UART meeting the SBSA Generic UART minimum', all('must', 'pass', 'SPCR type 0x03 (PL011); ttyAMA0 registered'), [
      probe(1, 17, 820, 'VMSPEC-PROBE acpi spcr.type=0x03 base=0x09000000'),
      con(402, 3311, 'ARMH0011:00: ttyAMA0 at MMIO 0x9000000 (irq = 14, base_baud = 0) is a SBSA'),
    ]),
    req('HW-4', 'GICv2 and GICv3 are supported', all('must', 'pass', 'this cell runs GICv3; MADT GICD version 3 with GICR'), [
      probe(1, 18, 824, 'VMSPEC-PROBE acpi madt.gicd.version=3 gicr=1 its=1'),
      con(118, 1204, 'GICv3: 256 SPIs implemented'),
    ]),
    req('HW-8', 'A hotpluggable bus for block and network devices', all('strongly_recommended', 'not_tested', 'needs the QMP device_add step, not run in this matrix')),
    req('OS-1', 'The image boots to userspace', all('must', 'pass', 'VMSPEC-READY after 41.2 s'), [
      boot('boot outcome', 'booted (marker after 41.2 s)'),
      con(1190, 41215, 'VMSPEC-READY'),
    ]),
    req('OS-4', 'The guest uses the UEFI RTC', all('must', 'pass', 'rtc-efi registered as rtc0'), [con(530, 4102, 'rtc-efi rtc-efi.0: registered as rtc0')]),
    req('OS-7', 'The loader uses the firmware-provided description', all('should', 'pass', 'EFI stub generated an empty DTB (ACPI boot)'), [
      con(96, 880, 'EFI stub: Generating empty DTB'),
    ]),
  ],
};

const CELL_DT: CellSpec = {
  cellId: 'cel_01JDX4QA11DTV2',
  profile: { arch: 'aarch64', firmware: 'edk2', hwDescription: 'dt', gic: 'v2', disk: 'virtio-mmio', cpus: 1, memoryMiB: 1024, accel: 'tcg' },
  requirements: [
    ...imageRequirements(),
    req('FW-3', 'A complete FDT is installed as the DEVICE_TREE configuration table', all('must', 'pass', 'DTB with cpus, memory, GIC, timer, psci and pl011'), [
      probe(1, 14, 790, 'VMSPEC-PROBE config-table dtb=present acpi20=absent smbios3=present', 'configuration tables'),
      probe(1, 15, 792, 'VMSPEC-PROBE dtb magic=0xd00dfeed cpus=1 memory=1 gic=arm,cortex-a15-gic timer=arm,armv8-timer psci=arm,psci-1.0 uart=arm,pl011'),
    ]),
    req(
      'FW-4',
      'An ACPI description is installed (RSDP rev ≥ 2, XSDT, FACP/APIC/GTDT/DSDT)',
      {
        v1: ['absent', 'not_applicable', 'VM spec 1.0 dropped ACPI'],
        v2: ['must', 'fail', 'no ACPI 2.0 configuration table (QEMU run with acpi=off)'],
        bbr: ['absent', 'not_applicable', 'BBR asks for ACPI or DT, judged by FW-5'],
      },
      [probe(1, 14, 790, 'VMSPEC-PROBE config-table dtb=present acpi20=absent smbios3=present', 'configuration tables')],
    ),
    req(
      'FW-5',
      'Hardware description tables match the profile (both / exactly one / DT)',
      {
        v1: ['must', 'pass', 'DT present'],
        v2: ['must', 'fail', 'DT only; VM spec 2.0 needs ACPI and DT together'],
        bbr: ['must', 'pass', 'exactly one of ACPI and DT'],
      },
      [probe(1, 14, 790, 'VMSPEC-PROBE config-table dtb=present acpi20=absent smbios3=present', 'configuration tables')],
    ),
    req('FW-6', 'UEFI real-time clock services work (GetTime/SetTime)', all('must', 'pass', 'GetTime advanced 2 s; SetTime succeeded'), [
      probe(1, 21, 2890, 'VMSPEC-PROBE rtc get=2026-11-25T06:47:31Z status=0'),
    ]),
    req('FW-7', 'UEFI variables persist across a power cycle', all('strongly_recommended', 'pass', 'variable read back on boot 2'), [
      probe(2, 9, 770, 'VMSPEC-PROBE var get name=VmspecFarm status=0 value=7a3f'),
    ]),
    req(
      'FW-10',
      'SMBIOS 3.x table is present',
      {
        v1: ['absent', 'not_applicable', 'not part of the VM spec'],
        v2: ['absent', 'not_applicable', 'not part of the VM spec'],
        bbr: ['must', 'pass', 'SMBIOS3 entry point _SM3_ present'],
      },
    ),
    req(
      'HW-2',
      'AArch32 and AArch64 VMs can both be booted',
      {
        v1: ['should', 'not_tested', 'needs an AArch32 cell (arm/… profile) in the matrix'],
        v2: ['informative', 'not_tested', 'needs an AArch32 cell (arm/… profile) in the matrix'],
        bbr: ['absent', 'not_applicable', 'not in BBR'],
      },
    ),
    req('HW-3', 'An emulated UART meeting the SBSA Generic UART minimum', all('must', 'pass', 'DT node arm,pl011 enabled; ttyAMA0 registered'), [
      con(388, 3120, '9000000.pl011: ttyAMA0 at MMIO 0x9000000 (irq = 13, base_baud = 0) is a PL011 rev1'),
    ]),
    req('HW-4', 'GICv2 and GICv3 are supported', all('must', 'pass', 'this cell runs GICv2 (arm,cortex-a15-gic)'), [
      con(112, 1150, 'GIC: Using split EOI/Deactivate mode'),
    ]),
    req('HW-8', 'A hotpluggable bus for block and network devices', all('strongly_recommended', 'not_tested', 'virtio-mmio transports are not hotpluggable; no PCIe hotplug step in this matrix')),
    req('OS-1', 'The image boots to userspace', all('must', 'pass', 'VMSPEC-READY after 38.9 s'), [boot('boot outcome', 'booted (marker after 38.9 s)'), con(1102, 38911, 'VMSPEC-READY')]),
    req('OS-4', 'The guest uses the UEFI RTC', all('must', 'pass', 'rtc-efi registered as rtc0'), [con(512, 3990, 'rtc-efi rtc-efi.0: registered as rtc0')]),
    req('OS-7', 'The loader uses the firmware-provided description', all('should', 'pass', 'EFI stub used the DTB from the configuration table'), [
      con(90, 842, 'EFI stub: Using DTB from configuration table'),
    ]),
  ],
};

// Six console lines of evidence, so the HTML report folds them into a <details>.
const UBOOT_BOOT_LINES = [
  con(3, 12, 'U-Boot 2024.01+dfsg-5 (Nov 02 2026 - 10:11:12 +0000)', 'firmware banner'),
  con(41, 402, 'Scanning disk virtio-blk#0...', 'boot device scan'),
  con(47, 455, 'Found EFI removable media binary efi/boot/bootaa64.efi', 'removable-media fallback'),
  con(60, 610, 'Booting /efi\\boot\\bootaa64.efi', 'loader start'),
  con(1240, 44050, 'VMSPEC-READY', 'boot marker'),
  boot('boot outcome', 'booted (marker after 44.1 s)'),
];

export const HOSTILE_CELL_ID = 'cel_01JDX4QB7UBOOT';

const CELL_UBOOT: CellSpec = {
  cellId: HOSTILE_CELL_ID,
  profile: { arch: 'aarch64', firmware: 'u-boot', hwDescription: 'dt', gic: 'v3', disk: 'virtio-pci', cpus: 1, memoryMiB: 512, accel: 'tcg' },
  requirements: [
    ...imageRequirements(),
    req('FW-3', 'A complete FDT is installed as the DEVICE_TREE configuration table', all('must', 'pass', 'DTB from QEMU passed through by U-Boot'), [
      probe(1, 11, 455, 'VMSPEC-PROBE config-table dtb=present acpi20=absent smbios3=absent', 'configuration tables'),
    ]),
    req(
      'FW-4',
      'An ACPI description is installed (RSDP rev ≥ 2, XSDT, FACP/APIC/GTDT/DSDT)',
      {
        v1: ['absent', 'not_applicable', 'VM spec 1.0 dropped ACPI'],
        v2: ['must', 'fail', 'no ACPI 2.0 configuration table (U-Boot on QEMU virt provides DT only)'],
        bbr: ['absent', 'not_applicable', 'BBR asks for ACPI or DT, judged by FW-5'],
      },
      [probe(1, 11, 455, 'VMSPEC-PROBE config-table dtb=present acpi20=absent smbios3=absent', 'configuration tables')],
    ),
    req(
      'FW-5',
      'Hardware description tables match the profile (both / exactly one / DT)',
      {
        v1: ['must', 'pass', 'DT present'],
        v2: ['must', 'fail', 'DT only; VM spec 2.0 needs ACPI and DT together'],
        bbr: ['must', 'pass', 'exactly one of ACPI and DT'],
      },
    ),
    req(
      'FW-6',
      'UEFI real-time clock services work (GetTime/SetTime)',
      {
        v1: ['must', 'fail', 'SetTime returned EFI_UNSUPPORTED'],
        v2: ['must', 'fail', 'SetTime returned EFI_UNSUPPORTED'],
        bbr: ['should', 'warn', 'RTC is optional in EBBR, but RT_PROPERTIES claims SetTime'],
      },
      [
        probe(1, 18, 2610, 'VMSPEC-PROBE rtc get=2026-11-25T06:48:10Z status=0 set=0x8000000000000003'),
        probe(1, 19, 2612, 'VMSPEC-PROBE rt-properties mask=0x00003fff'),
      ],
    ),
    req('FW-7', 'UEFI variables persist across a power cycle', all('strongly_recommended', 'warn', "volatile variable store: boot 2 did not find boot 1's variable"), [
      probe(1, 25, 3300, 'VMSPEC-PROBE var set name=VmspecFarm status=0'),
      probe(2, 8, 520, 'VMSPEC-PROBE var get name=VmspecFarm status=0x800000000000000e'),
    ]),
    req(
      'FW-10',
      'SMBIOS 3.x table is present',
      {
        v1: ['absent', 'not_applicable', 'not part of the VM spec'],
        v2: ['absent', 'not_applicable', 'not part of the VM spec'],
        bbr: ['must', 'not_tested', 'probe line for SMBIOS missing from boot 1 (output capped)'],
      },
    ),
    req(
      'HW-2',
      'AArch32 and AArch64 VMs can both be booted',
      {
        v1: ['should', 'not_tested', 'needs an AArch32 cell (arm/… profile) in the matrix'],
        v2: ['informative', 'not_tested', 'needs an AArch32 cell (arm/… profile) in the matrix'],
        bbr: ['absent', 'not_applicable', 'not in BBR'],
      },
    ),
    req('HW-3', 'An emulated UART meeting the SBSA Generic UART minimum', all('must', 'pass', 'DT node arm,pl011 enabled'), [
      con(380, 3050, '9000000.pl011: ttyAMA0 at MMIO 0x9000000 (irq = 13, base_baud = 0) is a PL011 rev1'),
    ]),
    req('HW-4', 'GICv2 and GICv3 are supported', all('must', 'pass', 'this cell runs GICv3'), [con(120, 1190, 'GICv3: 288 SPIs implemented')]),
    req('HW-8', 'A hotpluggable bus for block and network devices', all('strongly_recommended', 'not_tested', 'needs the QMP device_add step, not run in this matrix')),
    req('OS-1', 'The image boots to userspace', all('must', 'pass', 'VMSPEC-READY after 44.1 s (U-Boot removable-media fallback)'), UBOOT_BOOT_LINES),
    req('OS-4', 'The guest uses the UEFI RTC', all('must', 'fail', HOSTILE_REASON), [
      con(930, 12044, HOSTILE_LINE, 'hwclock service output'),
      con(931, 12046, 'rtc-pl031 9010000.pl031: registered as rtc0'),
    ]),
    req('OS-7', 'The loader uses the firmware-provided description', all('should', 'warn', 'grub.cfg passes its own DTB (devicetree line)'), [
      img('grub.cfg devicetree line', 1048576 + 0x5b200, '64 65 76 69 63 65 74 72 65 65', 'devicetree /boot/dtbs/virt.dtb'),
      con(88, 830, 'EFI stub: Using DTB from command line'),
    ]),
  ],
};

const STATUS_RANK: Record<VerdictStatus, number> = { fail: 4, warn: 3, not_tested: 2, pass: 1, not_applicable: 0 };

/** Run-level verdict over cells: the worst status per profile, with run evidence naming each cell. */
function overCells(cells: CellCompliance[], id: string): RequirementResult {
  const perCell = cells.map((c) => ({ key: c.cellKey, r: c.requirements.find((x) => x.id === id)! }));
  const first = perCell[0]!.r;
  const verdicts = {} as P<RequirementResult['verdicts'][ComplianceProfile]>;
  for (const p of ['vmspec-1.0', 'vmspec-2.0', 'bbr'] as const) {
    const worst = perCell.reduce((a, b) => (STATUS_RANK[b.r.verdicts[p].status] > STATUS_RANK[a.r.verdicts[p].status] ? b : a));
    const v = worst.r.verdicts[p];
    verdicts[p] = { level: v.level, status: v.status, reason: perCell.length > 1 && v.status !== 'pass' ? `${v.reason} (in ${worst.key})` : v.reason };
  }
  // Image requirements: one image, so the run level carries the image evidence itself.
  if (first.group === 'IMG') return { id, group: first.group, title: first.title, verdicts, evidence: first.evidence };
  const evidence: VerdictEvidence[] = perCell.map(({ key, r }) => ({
    source: 'run',
    what: 'cell verdict',
    cellKey: key,
    value: (['vmspec-1.0', 'vmspec-2.0', 'bbr'] as const).map((p) => `${p}=${r.verdicts[p].status}`).join(' '),
  }));
  return { id, group: first.group, title: first.title, verdicts, evidence };
}

/** Summary rule of the contract: fail if a must failed; warn if anything else failed or warned. */
export function summarize(reqs: readonly RequirementResult[]): P<ProfileSummary> {
  const out = {} as P<ProfileSummary>;
  for (const p of ['vmspec-1.0', 'vmspec-2.0', 'bbr'] as const) {
    const counts = { pass: 0, fail: 0, warn: 0, not_applicable: 0, not_tested: 0 };
    for (const r of reqs) counts[r.verdicts[p].status]++;
    const mustFails = reqs.filter((r) => r.verdicts[p].status === 'fail' && r.verdicts[p].level === 'must').map((r) => r.id);
    const shortOf = reqs.filter((r) => r.verdicts[p].status === 'fail' || r.verdicts[p].status === 'warn').map((r) => r.id);
    out[p] = mustFails.length
      ? { verdict: 'fail', counts, failing: mustFails }
      : shortOf.length
        ? { verdict: 'warn', counts, failing: shortOf }
        : { verdict: 'pass', counts, failing: [] };
  }
  return out;
}

export function cellKeyOf(p: VmProfile): string {
  return `${p.arch}/${p.firmware}/${p.hwDescription}/gic${p.gic}/${p.disk}/${p.cpus}cpu/${p.memoryMiB}M/${p.accel}`;
}

/** A fresh copy each call: specs may mutate it. */
export function sampleReport(): RunCompliance {
  const cells: CellCompliance[] = [CELL_ACPI, CELL_DT, CELL_UBOOT].map((c) => ({
    cellId: c.cellId,
    cellKey: cellKeyOf(c.profile),
    profile: c.profile,
    summary: summarize(c.requirements),
    requirements: c.requirements,
  }));
  const ids = cells[0]!.requirements.map((r) => r.id);
  const requirements = ids.map((id) => overCells(cells, id));
  // HW-4 is the run-level requirement that needs several cells: both GIC versions were booted.
  const hw4 = requirements.find((r) => r.id === 'HW-4')!;
  hw4.verdicts['vmspec-2.0'] = { level: 'must', status: 'pass', reason: 'booted with GICv2 and with GICv3' };
  hw4.verdicts['vmspec-1.0'] = { level: 'must', status: 'pass', reason: 'GICv2 or newer: booted with GICv2 and GICv3' };
  hw4.verdicts.bbr = { level: 'informative', status: 'pass', reason: 'booted with GICv2 and with GICv3' };
  // OS-3 only exists at run level: the guest's GIC drivers are judged from both GIC versions' boots.
  requirements.push({
    id: 'OS-3',
    group: 'OS',
    title: 'The guest has GICv2 and GICv3 drivers',
    verdicts: {
      'vmspec-1.0': { level: 'must', status: 'pass', reason: 'booted on GICv2 (and newer)' },
      'vmspec-2.0': { level: 'must', status: 'pass', reason: 'booted on GICv2 and GICv3' },
      bbr: { level: 'absent', status: 'not_applicable', reason: 'not in BBR' },
    },
    evidence: [
      { source: 'run', what: 'GICv2 boot', cellKey: cells[1]!.cellKey, value: 'OS-1 pass' },
      { source: 'run', what: 'GICv3 boot', cellKey: cells[0]!.cellKey, value: 'OS-1 pass' },
    ],
  });
  const report: RunCompliance = {
    schema: COMPLIANCE_SCHEMA,
    runId: 'run_01JDX4Q7M3V9N2B8KZ6T0R5WFA',
    image: {
      id: 'img_01JDX4P2D7H8Q4W6E1R3T5Y7U9',
      name: 'debian-13-genericcloud-arm64-20261120.qcow2',
      sha256: '3b7f1c0e9d2a4f6b8c1e3d5f7a9b0c2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b',
      format: 'qcow2',
    },
    generatedAt: '2026-11-25T06:49:35.123Z',
    catalogueVersion: 'vmspec-catalogue-2026.11',
    summary: summarize(requirements),
    requirements,
    cells,
  };
  return structuredClone(report);
}
