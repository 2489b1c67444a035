/**
 * The requirement catalogue: the 43 testable requirements of the ARM VM System Specification
 * (v1.0 2014, v2.0 2016) and its successors (EBBR/SBBR, VBSA), paraphrased, with the level each
 * profile gives them and how the farm decides them. Source: shared/reference/vm-spec-requirements.md
 * (§2 deltas, §4 checklist, §6 policy).
 */
import type { ComplianceProfile, RequirementGroup, RequirementLevel } from '@bootfarm/contracts';

/** Bump when a requirement, a level or a decision rule changes: reports name the version they used. */
export const CATALOGUE_VERSION = '2026.11-1';

/** The profiles, in report order. */
export const PROFILES: readonly ComplianceProfile[] = ['vmspec-1.0', 'vmspec-2.0', 'bbr'];

export const REQUIREMENT_IDS = [
  'IMG-1', 'IMG-2', 'IMG-3', 'IMG-4', 'IMG-5', 'IMG-6', 'IMG-7', 'IMG-8', 'IMG-9', 'IMG-10',
  'FW-1', 'FW-2', 'FW-3', 'FW-4', 'FW-5', 'FW-6', 'FW-7', 'FW-8', 'FW-9', 'FW-10', 'FW-11',
  'HW-1', 'HW-2', 'HW-3', 'HW-4', 'HW-5', 'HW-6', 'HW-7', 'HW-8', 'HW-9', 'HW-10',
  'OS-1', 'OS-2', 'OS-3', 'OS-4', 'OS-5', 'OS-6', 'OS-7', 'OS-8', 'OS-9', 'OS-10', 'OS-11', 'OS-12',
] as const;
export type RequirementId = (typeof REQUIREMENT_IDS)[number];

/**
 * Where a requirement is judged: the image file (intake), the cell's platform (probe), the guest
 * booted in a cell (boot + console), or the whole run (needs several cells).
 */
export type RequirementScope = 'image' | 'platform' | 'guest' | 'run';

/** What the verdict reads: intake findings, the platform probe, the guest console, the boot result, several cells. */
export type EvaluatedFrom = 'image' | 'probe' | 'console' | 'boot' | 'run';

export interface RequirementDef {
  readonly id: RequirementId;
  readonly group: RequirementGroup;
  readonly title: string;
  /** The requirement, paraphrased. */
  readonly text: string;
  /** Where each version (or successor) says it. */
  readonly source: readonly string[];
  readonly scope: RequirementScope;
  readonly levels: Readonly<Record<ComplianceProfile, RequirementLevel>>;
  /** A profile's level that holds only under a condition (e.g. bbr FW-3 "if the platform chose DT"). */
  readonly levelConditions?: Readonly<Partial<Record<ComplianceProfile, string>>>;
  /** Why a profile does not contain it (the not_applicable reason). */
  readonly absentWhy?: Readonly<Partial<Record<ComplianceProfile, string>>>;
  /** Where the profiles disagree, and how. */
  readonly profileNote?: string;
  /** Empty when the farm cannot test it at all. */
  readonly evaluatedFrom: readonly EvaluatedFrom[];
  /** How the verdict is decided. */
  readonly evaluation: string;
  /** `full`: decided here; `partial`: part of it is not tested; `none`: not tested. */
  readonly coverage: 'full' | 'partial' | 'none';
  /** For partial/none: what is not tested and what would test it. */
  readonly notTestedReason?: string;
}

const all = (level: RequirementLevel): Record<ComplianceProfile, RequirementLevel> => ({ 'vmspec-1.0': level, 'vmspec-2.0': level, bbr: level });
const lv = (v10: RequirementLevel, v20: RequirementLevel, bbr: RequirementLevel): Record<ComplianceProfile, RequirementLevel> => ({ 'vmspec-1.0': v10, 'vmspec-2.0': v20, bbr });

export const CATALOGUE: readonly RequirementDef[] = [
  // ---- IMAGE ----
  {
    id: 'IMG-1', group: 'IMG', title: 'GPT disk layout', scope: 'image', levels: all('must'),
    text: 'The disk as the VM sees it carries a protective MBR and a valid primary GPT header; a backup header at the last LBA is expected.',
    source: ['RFC v1', 'v1.0 "Image Format"', 'v2.0 "VM Image Format"', 'EBBR (firmware side)'],
    profileNote: 'EBBR firmware must also read MBR and El Torito media, but the image rule stays the VM spec\'s GPT under every profile.',
    evaluatedFrom: ['image'], coverage: 'full',
    evaluation: 'Intake findings: 55AA and a 0xEE entry at offset 450, "EFI PART" at LBA 1 with matching header and entry-array CRCs (512 then 4096-byte sectors); backup header missing, stale or not at the end → warn.',
  },
  {
    id: 'IMG-2', group: 'IMG', title: 'Container format is not part of compliance', scope: 'image', levels: all('informative'),
    text: 'Only the guest-visible disk matters: raw, qcow2 and other containers are all acceptable.',
    source: ['v1.0 ("as presented to the VM")', 'v2.0 "VM Image Format" (explicit)'],
    evaluatedFrom: ['image'], coverage: 'full',
    evaluation: 'Intake opened the file as a disk (qemu-img format and virtual size recorded) and ran every IMG check on the guest view; only a file that cannot be opened as a disk is reported.',
  },
  {
    id: 'IMG-3', group: 'IMG', title: 'EFI system partition', scope: 'image', levels: all('must'),
    text: 'A partition carries the ESP type GUID C12A7328-F81F-11D2-BA4B-00A0C93EC93B.',
    source: ['RFC v1', 'v1.0', 'v2.0 (image format)'],
    evaluatedFrom: ['image'], coverage: 'full',
    evaluation: 'Intake findings: the GPT entry array holds the ESP type GUID bytes; more than one ESP → warn; an MBR 0xEF partition only → fail.',
  },
  {
    id: 'IMG-4', group: 'IMG', title: 'ESP is FAT32', scope: 'image', levels: all('must'),
    text: 'The ESP filesystem is FAT32.',
    source: ['v1.0', 'v2.0 (UEFI §12.3.1.1 in the 2.4A/2.6 numbering)'],
    evaluatedFrom: ['image'], coverage: 'full',
    evaluation: 'Intake findings: FAT boot sector, cluster count ≥ 65525 → pass; FAT12/16 → warn (policy §6.3: UEFI firmware mounts them); not FAT → fail.',
  },
  {
    id: 'IMG-5', group: 'IMG', title: 'Removable-media boot path', scope: 'image', levels: all('must'),
    text: 'The bootable software sits at \\EFI\\BOOT\\BOOTAA64.EFI (AArch64) or \\EFI\\BOOT\\BOOTARM.EFI (AArch32).',
    source: ['v1.0', 'v2.0', 'UEFI 2.6 §3.5.1.1', 'EBBR boot-manager table'],
    evaluatedFrom: ['image'], coverage: 'full',
    evaluation: 'Intake findings: case-insensitive FAT lookup of the removable paths; only a vendor path (\\EFI\\debian\\…) or only another architecture → fail.',
  },
  {
    id: 'IMG-6', group: 'IMG', title: 'Boot file is a UEFI application for its architecture', scope: 'image', levels: all('must'),
    text: 'The removable-path file is a UEFI-compliant PE/COFF application for the architecture its name declares.',
    source: ['v1.0 (UEFI 2.4A)', 'v2.0 (UEFI 2.6)'],
    evaluatedFrom: ['image'], coverage: 'full',
    evaluation: 'Intake findings: COFF Machine 0xAA64 + Magic 0x20B (BOOTAA64) or 0x01C2 + 0x10B (BOOTARM), Subsystem 10; signature recorded (informative).',
  },
  {
    id: 'IMG-7', group: 'IMG', title: 'Boots with empty NVRAM', scope: 'guest', levels: all('must'),
    text: 'The image does not rely on a pre-configured UEFI environment: it boots from an empty variable store through the removable-path fallback.',
    source: ['v1.0 "Virtual Firmware"', 'v2.0 "Virtual Firmware"'],
    evaluatedFrom: ['boot'], coverage: 'full',
    evaluation: 'Dynamic: the cell boots the image from a fresh variable store; pass when the boot reached its success marker, fail when it failed or timed out.',
  },
  {
    id: 'IMG-8', group: 'IMG', title: 'No VM firmware inside the image', scope: 'image', levels: all('should'),
    text: 'The VM firmware is the hypervisor\'s; the image does not ship it.',
    source: ['v1.0', 'v2.0'],
    evaluatedFrom: ['image'], coverage: 'full',
    evaluation: 'Intake findings: no QEMU_EFI/AAVMF/XEN_EFI/OVMF *.fd files on the ESP (other .fd files informative).',
  },
  {
    id: 'IMG-9', group: 'IMG', title: 'Nothing platform-specific hard-coded', scope: 'image', levels: all('should'),
    text: 'No fixed memory map, console or device tree in the image\'s boot configuration.',
    source: ['v1.0/v2.0 "VM Platform"', 'RFC v2 note on console='],
    evaluatedFrom: ['image'], coverage: 'partial',
    evaluation: 'Intake findings: ESP loader configs (grub.cfg, loader/entries/*.conf, cmdline.txt, startup.nsh) scanned for devicetree/dtb=, acpi=off, fixed earlycon, console=ttyAMA without hvc0 fallback, console=hvc0 only; each hit → warn.',
    notTestedReason: 'loader configs under /boot on the root filesystem are not read (needs a root-filesystem reader such as libguestfs); the dynamic half is OS-12',
  },
  {
    id: 'IMG-10', group: 'IMG', title: 'Declared execution state matches the matrix', scope: 'run', levels: all('informative'),
    text: 'BOOTAA64 declares a 64-bit image, BOOTARM a 32-bit one, both a dual image; each declared state should boot.',
    source: ['v1.0/v2.0 (removable paths, execution-state paragraph)'],
    evaluatedFrom: ['image', 'run'], coverage: 'full',
    evaluation: 'Intake declares the state (and flags a machine type that contradicts the file name → warn); across the run every declared architecture should have a cell that booted it.',
  },
  // ---- FIRMWARE ----
  {
    id: 'FW-1', group: 'FW', title: 'UEFI firmware boots the removable-path application', scope: 'platform', levels: all('must'),
    text: 'The hypervisor provides UEFI firmware that starts the removable-path application of the boot disk; recommended: UEFI is the first code the VM runs.',
    source: ['v1.0 "Virtual Firmware"', 'v2.0 "Virtual Firmware"'],
    evaluatedFrom: ['probe', 'console'], coverage: 'partial',
    evaluation: 'Probe: the farm\'s probe disk holds only \\EFI\\BOOT\\BOOTAA64.EFI (BOOTARM.EFI); its banner proves the firmware started it. Fallback: the guest kernel\'s `efi: EFI v… by …` line. A probe boot through -kernel (direct kernel boot) → warn.',
    notTestedReason: '"UEFI is the first code the VM runs" (should) is only checked against -kernel in the probe\'s command line; a full audit needs the hypervisor configuration',
  },
  {
    id: 'FW-2', group: 'FW', title: 'UEFI revision', scope: 'platform', levels: all('should'),
    text: 'The UEFI implementation is at 2.4 Errata A or later (v1.0), 2.6 or later (v2.0).',
    source: ['v1.0', 'v2.0'],
    profileNote: 'v1.0 asks for ≥ 2.4 (0x00020028), v2.0 for ≥ 2.6 (0x0002003C); bbr keeps 2.6 (EBBR cites a subset of a newer UEFI, which the revision field does not claim).',
    evaluatedFrom: ['probe', 'console'], coverage: 'full',
    evaluation: 'Probe: uefi.revision_raw (ST->Hdr.Revision), fw.vendor; fallback: the guest\'s `efi: EFI v2.70 by EDK II` line.',
  },
  {
    id: 'FW-3', group: 'FW', title: 'Complete FDT in the DEVICE_TREE configuration table', scope: 'platform', levels: all('must'),
    levelConditions: { bbr: 'if DT' },
    text: 'The firmware installs a flattened device tree describing the whole VM as the EFI configuration table DEVICE_TREE_GUID (B1B621D5-…).',
    source: ['v1.0 "Hardware Description" (must)', 'v2.0 (must, with ACPI)', 'EBBR (one of DT or ACPI)'],
    profileNote: 'v1.0 requires a complete FDT; v2.0 requires it alongside ACPI; under bbr the platform describes itself with exactly one of DT or ACPI (FW-5), so FW-3 applies only when it chose DT. A DTB the Linux EFI stub generated ("EFI stub: Generating empty DTB") is not a firmware FDT: vmspec-tools\' /sys/firmware/fdt check passes falsely on it.',
    evaluatedFrom: ['probe'], coverage: 'full',
    evaluation: 'Probe only: the DEVICE_TREE table with FDT magic, /cpus count == vCPUs, memory nodes, a GIC, the arch timer, PSCI, and a UART (enabled) or /hypervisor (Xen PV console).',
  },
  {
    id: 'FW-4', group: 'FW', title: 'ACPI tables in the ACPI 2.0 configuration table', scope: 'platform', levels: lv('absent', 'must', 'must'),
    levelConditions: { bbr: 'if ACPI' },
    absentWhy: { 'vmspec-1.0': 'v1.0 dropped ACPI: the hardware description is the FDT alone' },
    text: 'The firmware installs an ACPI description of the whole VM through ACPI_20_TABLE_GUID: RSDP rev ≥ 2 → XSDT with FADT (HW-reduced), MADT, GTDT, DSDT; SPCR (and MCFG with PCIe) for OS use.',
    source: ['v2.0 "Hardware Description" + "ARM Server Architecture"', 'RFC v1 (allowed)', 'RFC v2/v1.0 (removed)', 'SBBR'],
    profileNote: 'Absent from v1.0; v2.0 requires it alongside DT; bbr applies it when the platform chose ACPI (SBBR: ACPI; EBBR: one of DT or ACPI).',
    evaluatedFrom: ['probe'], coverage: 'full',
    evaluation: 'Probe: ACPI 2.0 table, RSDP revision ≥ 2 and checksums, XSDT with FACP, APIC, GTDT, DSDT and FADT HW_REDUCED; SPCR missing, or MCFG missing on a PCIe platform → warn.',
  },
  {
    id: 'FW-5', group: 'FW', title: 'Hardware description per profile (DT, ACPI, both, exactly one)', scope: 'platform', levels: all('must'),
    text: 'v1.0: an FDT; v2.0: both FDT and ACPI at once; EBBR: exactly one of them.',
    source: ['v1.0 vs v2.0 vs EBBR "UEFI Configuration Tables"'],
    profileNote: 'The three profiles disagree outright. Stock edk2 ArmVirtQemu since 2017 exposes exactly one: acpi=on → v1.0 fail, v2.0 fail, bbr pass; acpi=off → v1.0 pass, v2.0 fail, bbr pass. Xen ArmVirtXen with acpi=1 exposes both → v1.0 pass, v2.0 pass, bbr fail.',
    evaluatedFrom: ['probe'], coverage: 'full',
    evaluation: 'Probe: which of the DEVICE_TREE and ACPI 2.0 tables are installed; vmspec-1.0 needs DT, vmspec-2.0 both, bbr exactly one; none → fail everywhere.',
  },
  {
    id: 'FW-6', group: 'FW', title: 'UEFI real-time clock', scope: 'platform', levels: all('must'),
    levelConditions: { bbr: 'if claimed' },
    text: 'The firmware provides GetTime/SetTime backed by an RTC private to the VM and its firmware; the time is real and advances.',
    source: ['v1.0 (added in RFC v3)', 'v2.0 "Virtual Firmware"', 'EBBR (RTC optional)'],
    profileNote: 'EBBR makes the RTC optional: under bbr FW-6 applies when the firmware claims GetTime (no RT_PROPERTIES table, or its GetTime bit set). ArmVirtXen\'s GetTime returns the constant 2015-01-20T16:06:51 with EFI_SUCCESS and SetTime fails: a success status alone is not enough.',
    evaluatedFrom: ['probe'], coverage: 'full',
    evaluation: 'Probe: GetTime twice across a 2 s stall, both EFI_SUCCESS, advanced ≥ 1 s, the second read (as UTC) within [hostStartedAt − 5 min, hostFinishedAt + 5 min]; SetTime EFI_SUCCESS; RT_PROPERTIES (if any) with bits 0x1 and 0x2.',
  },
  {
    id: 'FW-7', group: 'FW', title: 'Persistent UEFI variables per VM instance', scope: 'platform', levels: all('strongly_recommended'),
    text: 'Non-volatile UEFI variables persist across power cycles, in storage owned by the VM instance and not in the portable image.',
    source: ['v1.0', 'v2.0'],
    evaluatedFrom: ['probe'], coverage: 'partial',
    evaluation: 'Probe, two boots sharing one variable store: boot 1 writes an NV+BS+RT token, boot 2 must find it (var.previous == boot 1\'s var.written). U-Boot\'s and ArmVirtXen\'s volatile stores → warn.',
    notTestedReason: 'that the store is a per-VM artefact outside the image (pflash unit 1, libvirt <nvram>) is the worker\'s configuration and is not audited here',
  },
  {
    id: 'FW-8', group: 'FW', title: 'UEFI runtime services', scope: 'platform', levels: all('must'),
    text: 'The firmware is UEFI compliant, runtime services included; a successor (EBBR) allows a subset only when advertised in EFI_RT_PROPERTIES_TABLE.',
    source: ['v1.0/v2.0 (UEFI compliance)', 'EBBR runtime table'],
    profileNote: 'VM spec: the full runtime set (no RT_PROPERTIES table, or all of 0x3FFF); bbr (EBBR): a subset is fine when RT_PROPERTIES advertises it.',
    evaluatedFrom: ['probe'], coverage: 'partial',
    evaluation: 'Probe: RT_PROPERTIES mask; GetWakeupTime (EFI_UNSUPPORTED accepted), GetNextHighMonotonicCount, QueryVariableInfo, GetNextVariableName and SetVariable statuses; ResetSystem ends the probe.',
    notTestedReason: 'the probe calls the services before ExitBootServices; their behaviour at OS runtime needs FWTS (uefirttime, uefirtvariable, uefirtmisc) in a guest',
  },
  {
    id: 'FW-9', group: 'FW', title: 'Virtual UEFI runs at EL1', scope: 'platform', levels: lv('informative', 'must', 'must'),
    levelConditions: { bbr: 'EL1 or EL2' },
    text: 'The virtual firmware runs at EL1; EL2 belongs to the hypervisor.',
    source: ['v2.0 "ARM Server Architecture"', 'v1.0 note (SBSA\'s EL2 is not the VM\'s)', 'EBBR (EL1 or EL2)'],
    profileNote: 'v2.0 expects EL1; v1.0 only notes that EL2 belongs to the hypervisor (informative); EBBR allows EL1 or EL2.',
    evaluatedFrom: ['probe', 'console'], coverage: 'full',
    evaluation: 'Probe: cpu.current_el (AArch64) == 1, or cpu.cpsr_mode (ARM) == 0x13 (SVC); 0x1A (HYP) is EL2. Fallback: the guest\'s `CPU: All CPU(s) started at EL1`.',
  },
  {
    id: 'FW-10', group: 'FW', title: 'SMBIOS 3.x table', scope: 'platform', levels: lv('absent', 'absent', 'should'),
    absentWhy: { 'vmspec-1.0': 'SMBIOS is not in the VM spec (successors only)', 'vmspec-2.0': 'SMBIOS is not in the VM spec (successors only)' },
    text: 'An SMBIOS 3.x entry point (with Type 19 memory-array mappings) is installed.',
    source: ['SBBR', 'SystemReady VE v1.0 (FWTS dmicheck)', 'QEMU virt 2022 patch (Type 19)'],
    profileNote: 'Not in the VM spec. Under bbr: SBBR and SystemReady require SMBIOS 3.x, EBBR does not — scored should.',
    evaluatedFrom: ['probe', 'console'], coverage: 'full',
    evaluation: 'Probe: SMBIOS3 table with anchor _SM3_ and Type 19 structures; a 2.x (_SM_) table only, or no Type 19 → warn. Fallback: the guest\'s `SMBIOS 3.0.0 present.`',
  },
  {
    id: 'FW-11', group: 'FW', title: 'Boot-manager fallback and BootOrder', scope: 'guest', levels: all('must'),
    text: 'The firmware boots the removable path when no Boot#### exists and honours BootOrder once the OS created its entry.',
    source: ['v1.0/v2.0 (UEFI compliance)', 'EBBR boot-manager table'],
    evaluatedFrom: ['boot'], coverage: 'partial',
    evaluation: 'The image boot from a fresh variable store reached the OS loader (stage bootloader or later); the firmware ending at its shell/prompt although the image\'s removable path is valid (IMG-5, IMG-6 pass) → fail.',
    notTestedReason: 'BootOrder handling needs a second boot after the OS created its Boot#### entry, checking BootCurrent (efibootmgr -v)',
  },
  // ---- HARDWARE ----
  {
    id: 'HW-1', group: 'HW', title: 'No fixed memory map: CPUs and memory discoverable', scope: 'platform', levels: all('must'),
    text: 'Every PE, all memory and all devices are discoverable through DT/ACPI and bus enumeration.',
    source: ['RFC v1', 'v1.0 "VM Platform"', 'v2.0 "VM Platform"'],
    evaluatedFrom: ['probe'], coverage: 'partial',
    evaluation: 'Probe: DT /cpus count or MADT GICC count == the cell\'s vCPUs; FDT memory bytes and the UEFI memory map\'s RAM within 10 % below the configured RAM (never above).',
    notTestedReason: 'device discovery through PCI enumeration is not compared; RAM/vCPU variety (1–16 GiB, 1–16 vCPUs) is the matrix\'s choice',
  },
  {
    id: 'HW-2', group: 'HW', title: 'AArch32 and AArch64 VMs', scope: 'run', levels: lv('should', 'informative', 'informative'),
    text: 'If the host can run AArch32 at EL1, the hypervisor boots both AArch32 and AArch64 VMs.',
    source: ['RFC v1 (one of three combos)', 'v1.0 (recommended)', 'v2.0 (recommended but optional)'],
    profileNote: 'v1.0 recommends both execution states; v2.0 makes it optional (informative); bbr follows v2.0.',
    evaluatedFrom: ['probe', 'run'], coverage: 'partial',
    evaluation: 'Across cells: an AArch32 cell whose probe ran (arch=arm) and an AArch64 cell whose probe ran; an AArch32 cell the host refused → not applicable (host).',
    notTestedReason: 'the host\'s AArch32-at-EL1 support (ID_AA64PFR0_EL1.EL1) is not probed; a run without AArch32 cells leaves it untested',
  },
  {
    id: 'HW-3', group: 'HW', title: 'Serial console / emulated UART', scope: 'platform', levels: lv('should', 'must', 'must'),
    text: 'v1.0: a console (pl011, virtio-console or Xen PV console). v2.0: an emulated UART meeting the SBSA Generic UART minimum (a pl011 qualifies).',
    source: ['RFC v1', 'v1.0 (should)', 'v2.0 (must)', 'VBSA via BSA B_PER_05/06'],
    profileNote: 'v1.0: any console will do; v2.0: an SBSA-compatible UART is must; bbr (BSA B_PER_05): an Arm Generic UART/pl011 or a 16550. Stock Xen (PV console hvc0 only) passes v1.0 and fails v2.0 and bbr.',
    evaluatedFrom: ['probe', 'console'], coverage: 'full',
    evaluation: 'Probe: an enabled arm,pl011/arm,sbsa-uart DT node, or SPCR interface type 3/14 (13 tolerated; 16550 types for bbr) with a DSDT ARMH0011 device (one without the other → warn); /hypervisor (Xen PV console) counts for v1.0. Fallback: the guest bound ttyAMA (PL011/SBSA).',
  },
  {
    id: 'HW-4', group: 'HW', title: 'GIC versions', scope: 'run', levels: all('must'),
    text: 'v1.0: GICv2 or newer. v2.0: the hypervisor supports both GICv2 and GICv3 (vGICv2 on GICv3 hardware recommended).',
    source: ['v1.0/v2.0 "VM Platform" (+ v2.0 footnote)', 'VBSA V_L1GI_01 (BSA B_GIC_01..05)'],
    profileNote: 'v1.0 and bbr: any GICv2 or newer per cell; v2.0: both GICv2 and GICv3 across the run\'s cells. A host that cannot provide a GIC version is not applicable (host), not fail (policy §6.5).',
    evaluatedFrom: ['probe', 'console', 'run'], coverage: 'full',
    evaluation: 'Per cell: the GIC the firmware described (DT GIC compatible or MADT GICD version, GICR for v3) matches the requested version. Run: vmspec-2.0 needs a GICv2 and a GICv3 cell.',
  },
  {
    id: 'HW-5', group: 'HW', title: 'GICv2 8-vCPU limit', scope: 'run', levels: all('informative'),
    text: 'A GICv2 VM is limited to 8 vCPUs; GICv3 removes the limit.',
    source: ['v1.0'],
    evaluatedFrom: ['probe', 'console', 'boot', 'run'], coverage: 'full',
    evaluation: 'Cells with more than 8 vCPUs: under GICv3 all of them come up (probe CPU count, guest `smp: Brought up`); under GICv2 the platform refuses or caps the VM. Cells with ≤ 8 vCPUs do not apply.',
  },
  {
    id: 'HW-6', group: 'HW', title: 'Generic timer: virtual timer and counter', scope: 'platform', levels: lv('should', 'must', 'must'),
    text: 'The virtual timer and the counter system-register view are available to the VM.',
    source: ['RFC v1/v1.0 (should)', 'v2.0 (must)', 'VBSA V_L1TM_01, V_L1TM_04, V_L1PP_00'],
    evaluatedFrom: ['probe', 'console'], coverage: 'partial',
    evaluation: 'Probe: CNTFRQ ≠ 0, CNTVCT increasing across the stall, the DT timer\'s virtual PPI 11 or GTDT virtual GSIV 27. Supporting: the guest\'s `arch_timer: … (virt)`.',
    notTestedReason: 'taking the virtual timer interrupt (PPI 27) is not exercised by the probe (Vbsa.efi would)',
  },
  {
    id: 'HW-7', group: 'HW', title: 'PSCI ≥ 0.2', scope: 'platform', levels: lv('absent', 'must', 'must'),
    absentWhy: { 'vmspec-1.0': 'PSCI entered the spec with v2.0' },
    text: 'PSCI 0.2 or later for secondary CPU boot, shutdown and reboot.',
    source: ['v2.0 "ARM Server Architecture"'],
    evaluatedFrom: ['probe', 'console'], coverage: 'partial',
    evaluation: 'Probe: DT /psci compatible arm,psci-0.2/1.0 with method hvc/smc, or FADT ARM_BOOT_ARCH PSCI_COMPLIANT; the probe\'s ResetSystem shutdown ended the VM (result=reset-failed → fail). Fallback: the guest\'s `psci: PSCIv1.x detected`.',
    notTestedReason: 'reboot (firmware banner again after `reboot`) is not exercised',
  },
  {
    id: 'HW-8', group: 'HW', title: 'Hotpluggable bus for block and network', scope: 'platform', levels: all('strongly_recommended'),
    text: 'A hotpluggable bus (virtual PCIe or the Xen PV bus) for at least block and network devices.',
    source: ['v1.0/v2.0 (strongly recommended)', 'Dall 2016 blog ("requires")'],
    profileNote: 'Scored strongly recommended as the spec says (policy §6.7).',
    evaluatedFrom: ['probe'], coverage: 'partial',
    evaluation: 'Probe: a PCIe host bridge (DT pci-host-ecam-generic or ACPI MCFG) or the Xen bus (/hypervisor); none → warn. Hotplug itself is not exercised (not tested).',
    notTestedReason: 'hotplug needs QMP device_add into a pcie-root-port (or xl block-attach / network-attach) with the guest watching for the new device',
  },
  {
    id: 'HW-9', group: 'HW', title: 'Any block/network device type', scope: 'run', levels: all('informative'),
    text: 'Other block and network devices may exist; images may assume neither their presence nor their type (virtio-pci, virtio-mmio, Xen PV).',
    source: ['v1.0', 'v2.0 (closing paragraph)'],
    evaluatedFrom: ['boot', 'run'], coverage: 'full',
    evaluation: 'Across cells: the image boots on every root-disk transport tried (virtio-pci, virtio-mmio, xen-pv); fewer than two transports → not tested.',
  },
  {
    id: 'HW-10', group: 'HW', title: 'VBSA level 1', scope: 'platform', levels: lv('absent', 'absent', 'should'),
    absentWhy: { 'vmspec-1.0': 'VBSA is a successor standard', 'vmspec-2.0': 'VBSA is a successor standard' },
    text: 'The virtual platform meets Arm VBSA 1.0 level-1 rules (vPE features, PMU, GIC, PPIs, timers, wake-up, UART, PCIe).',
    source: ['VBSA 1.0 (DEN0150) via Vbsa.efi (sysarch-acs)'],
    evaluatedFrom: [], coverage: 'none',
    evaluation: 'Not evaluated.',
    notTestedReason: 'needs Vbsa.efi (ARM-software/sysarch-acs) run from the UEFI Shell (-v 1 -f vbsa.log) plus the bsa_app Linux module, their PASS/FAIL/SKIP lines parsed',
  },
  // ---- GUEST OS ----
  {
    id: 'OS-1', group: 'OS', title: 'Boots to userspace', scope: 'guest', levels: all('must'),
    text: 'The image boots to userspace on every compliant platform configuration.',
    source: ['v1.0 "Goal"', 'v2.0 "Scope"'],
    evaluatedFrom: ['boot'], coverage: 'full',
    evaluation: 'The boot reached its success marker (farm guest VMSPEC-GUEST-READY or a login prompt) within the timeout; failed/timeout → fail; the farm\'s own errors → not tested.',
  },
  {
    id: 'OS-2', group: 'OS', title: 'Console drivers', scope: 'run', levels: all('must'),
    text: 'v1.0: the guest drives pl011, virtio-console and the Xen PV console. v2.0: SBSA UART and pl011.',
    source: ['v1.0 guest-OS bullets', 'v2.0 guest-OS bullets'],
    profileNote: 'v1.0: pl011 + virtio-console + Xen PV console; v2.0 and bbr: SBSA UART + pl011.',
    evaluatedFrom: ['probe', 'console', 'run'], coverage: 'partial',
    evaluation: 'Per cell: the guest bound the console the platform offers (ttyAMA … is a PL011 / is a SBSA, hvc0 under Xen). Run: every driver the profile names was seen working in some cell.',
    notTestedReason: 'the static half (kernel config SERIAL_AMBA_PL011, VIRTIO_CONSOLE, HVC_XEN and initramfs modules) needs a root-filesystem reader; virtio-console needs a cell that offers one',
  },
  {
    id: 'OS-3', group: 'OS', title: 'GIC drivers', scope: 'run', levels: all('must'),
    text: 'v1.0: GICv2 plus any newer; v2.0: both GICv2 and GICv3.',
    source: ['v1.0', 'v2.0'],
    profileNote: 'v1.0: GICv2 plus whatever newer GIC the matrix offers; v2.0 and bbr: both GICv2 and GICv3.',
    evaluatedFrom: ['boot', 'console', 'run'], coverage: 'partial',
    evaluation: 'Run: the image booted (OS-1) in a GICv2 cell and in a GICv3 cell (the guest\'s GIC driver line as evidence).',
    notTestedReason: 'the static half (ARM_GIC, ARM_GIC_V3, ARM_GIC_V2M, ARM_GIC_V3_ITS in the kernel config) needs a root-filesystem reader',
  },
  {
    id: 'OS-4', group: 'OS', title: 'Guest uses the UEFI RTC', scope: 'guest', levels: lv('must', 'must', 'should'),
    text: 'The guest uses the UEFI RTC runtime API for wall-clock time.',
    source: ['v1.0', 'v2.0'],
    profileNote: 'EBBR makes the RTC optional: scored should under bbr.',
    evaluatedFrom: ['console'], coverage: 'partial',
    evaluation: 'Console: `rtc-efi rtc-efi.0: registered as rtc0` or the farm guest\'s rtc0.name=rtc-efi; another RTC driver (rtc-pl031) or none, or a kernel not booted through EFI → unmet.',
    notTestedReason: 'the static half (RTC_DRV_EFI=y, EFI=y) needs a root-filesystem reader',
  },
  {
    id: 'OS-5', group: 'OS', title: 'virtio and Xen PV drivers', scope: 'run', levels: all('strongly_recommended'),
    text: 'virtio-pci, virtio-mmio and Xen PV drivers (block, network, console, balloon) are in the kernel or initramfs.',
    source: ['v1.0', 'v2.0'],
    evaluatedFrom: ['boot', 'console', 'run'], coverage: 'partial',
    evaluation: 'Per cell: the guest enumerated a block device on the cell\'s transport (farm guest block=…). Run: every transport (virtio-pci, virtio-mmio, xen-pv) seen working.',
    notTestedReason: 'network, console and balloon drivers and the static half (VIRTIO_*/XEN_* config symbols, initramfs .ko listing) need a root-filesystem reader',
  },
  {
    id: 'OS-6', group: 'OS', title: 'Boots with ACPI-only and DT-only descriptions', scope: 'run', levels: all('must'),
    text: 'The image boots whichever description the platform offers: ACPI-only, DT-only, and both.',
    source: ['derived from FW-3/4/5 and real-world firmware (policy §6.1)'],
    profileNote: 'v1.0: a DT-only boot; v2.0: ACPI-only, DT-only and (when a dual platform is in the matrix) dual; bbr: ACPI-only and DT-only.',
    evaluatedFrom: ['probe', 'boot', 'run'], coverage: 'full',
    evaluation: 'Run: cells grouped by the description their probe saw (else the requested one); the image booted (OS-1) in each group the profile needs.',
  },
  {
    id: 'OS-7', group: 'OS', title: 'Loader uses the firmware\'s description', scope: 'guest', levels: all('should'),
    text: 'The OS loader uses the firmware-provided description and brings no DTB of its own.',
    source: ['v1.0/v2.0 "Hardware Description"'],
    evaluatedFrom: ['console', 'image'], coverage: 'full',
    evaluation: 'Console: `EFI stub: Using DTB from configuration table` or `Generating empty DTB` → pass; `Using DTB from command line` or an intake fixed-dtb finding → warn.',
  },
  {
    id: 'OS-8', group: 'OS', title: 'OS enumerates all CPUs, memory and devices', scope: 'guest', levels: all('must'),
    text: 'The OS finds all CPUs, memory and devices through the description and the buses.',
    source: ['v1.0/v2.0 "VM Platform"'],
    evaluatedFrom: ['console'], coverage: 'full',
    evaluation: 'Console: `smp: Brought up … N CPUs` (or cpus=) == vCPUs; MemTotal between 80 % and 100 % of the configured RAM; a block device enumerated.',
  },
  {
    id: 'OS-9', group: 'OS', title: 'SMP and power management through PSCI', scope: 'guest', levels: lv('absent', 'must', 'must'),
    absentWhy: { 'vmspec-1.0': 'PSCI entered the spec with v2.0' },
    text: 'The OS brings up secondary CPUs and powers off through PSCI.',
    source: ['v2.0 (PSCI)'],
    evaluatedFrom: ['console', 'boot'], coverage: 'partial',
    evaluation: 'Console: `psci: PSCIv≥0.2 detected` and `smp: Brought up … N CPUs` with N = vCPUs.',
    notTestedReason: 'reboot (firmware banner after `reboot`) is not exercised; poweroff is only implied by the farm guest ending the boot',
  },
  {
    id: 'OS-10', group: 'OS', title: 'OS-side UEFI variable access', scope: 'guest', levels: all('strongly_recommended'),
    text: 'The OS can read and write UEFI variables (installers, upgrades).',
    source: ['v1.0/v2.0 rationale for persistent variables'],
    profileNote: 'Under bbr (EBBR) runtime SetVariable may be absent when RT_PROPERTIES says so: then not applicable.',
    evaluatedFrom: ['console', 'probe'], coverage: 'full',
    evaluation: 'Console: the farm guest mounted efivarfs, wrote an NV+BS+RT variable and read it back (efivars.write=ok); failed/unavailable → warn.',
  },
  {
    id: 'OS-11', group: 'OS', title: 'Guest handles hotplugged block and network devices', scope: 'guest', levels: all('strongly_recommended'),
    text: 'Hot-added and removed block and network devices appear in and leave the guest.',
    source: ['v1.0/v2.0 (hotplug, strongly recommended)'],
    evaluatedFrom: [], coverage: 'none',
    evaluation: 'Not evaluated.',
    notTestedReason: 'needs the HW-8 hotplug steps (QMP device_add / xl block-attach) with the guest reporting the new vdX/xvdX and netdev within 30 s',
  },
  {
    id: 'OS-12', group: 'OS', title: 'Console without platform-specific console=', scope: 'guest', levels: all('should'),
    text: 'A console works without console= arguments: from DT /chosen/stdout-path, ACPI SPCR or Xen\'s hvc preference.',
    source: ['RFC v2 note (no console=)', 'v2.0 UART rules'],
    evaluatedFrom: ['console', 'probe'], coverage: 'full',
    evaluation: 'Console: kernel messages reached the platform console; a console= on the kernel command line → warn (it may be what made them visible), console=ttyAMA on a platform without a UART → warn.',
  },
];

const BY_ID: ReadonlyMap<string, RequirementDef> = new Map(CATALOGUE.map((r) => [r.id, r]));

/** The catalogue entry of an id; throws on an unknown id (a programming error). */
export function requirement(id: RequirementId): RequirementDef {
  const r = BY_ID.get(id);
  if (!r) throw new Error(`unknown requirement ${id}`);
  return r;
}
