/**
 * The VMSPEC probe's console protocol (PROTOCOL.md, version 2; version 1 still reads): how
 * `VMSPEC-PROBE key=value` facts are found in console lines, and the typed facts they give.
 *
 * Pure: no Node built-ins, no other package, so the compliance code (and a browser) can use it.
 * Console text is hostile: nothing here throws on any input, and every length is capped.
 *
 * @packageDocumentation
 */

/** Prefix of every line the probe prints (followed by one space, then `key=value`). */
export const PROBE_PREFIX = 'VMSPEC-PROBE';

/** The protocol version the probe of this package prints in its banner (`vmspec-probe/2`). */
export const PROBE_PROTOCOL_VERSION = 2;

/** A console line as the emulator delivers it (`ConsoleLine` without its end reason). */
export interface ProbeConsoleLine {
  readonly seq: number;
  readonly offsetMs: number;
  readonly text: string;
}

/** One `VMSPEC-PROBE key=value` fact, with the line it was read from. */
export interface ProbeRecord {
  readonly key: string;
  readonly value: string;
  /** The line's sequence number and offset (ms since the emulator started). */
  readonly seq: number;
  readonly offsetMs: number;
  /** The whole line (capped at {@link MAX_LINE_TEXT} characters), for evidence. */
  readonly text: string;
}

// Bounds for hostile input: the probe itself never prints more than 256 characters a line.
/** Longest key accepted. */
export const MAX_KEY_LENGTH = 128;
/** Values are cut to this many characters. */
export const MAX_VALUE_LENGTH = 4096;
/** A record's `text` is cut to this many characters. */
export const MAX_LINE_TEXT = 8192;
/** At most this many records are read from one call (the rest are dropped). */
export const MAX_RECORDS = 100_000;
const KEY_PATTERN = /^[A-Za-z0-9_.-]+$/;
const MARKER = `${PROBE_PREFIX} `;

/**
 * The facts in one console line: `VMSPEC-PROBE key=value` anywhere in it. Firmware output such as
 * escape sequences may precede the prefix, and two facts that ended up on one line (a lost line
 * break) are both read, each value ending where the next prefix starts. Trailing CR/LF and
 * spaces are dropped. Segments without `=`, with an invalid or over-long key, or outside any
 * prefix are ignored. Never throws (a non-string gives no facts).
 */
export function splitProbeFacts(text: unknown): Array<{ key: string; value: string }> {
  if (typeof text !== 'string' || !text.includes(MARKER)) return [];
  const facts: Array<{ key: string; value: string }> = [];
  for (const segment of text.split(MARKER).slice(1)) {
    const eq = segment.indexOf('=');
    if (eq <= 0 || eq > MAX_KEY_LENGTH) continue;
    const key = segment.slice(0, eq);
    if (!KEY_PATTERN.test(key)) continue;
    facts.push({ key, value: segment.slice(eq + 1, eq + 1 + MAX_VALUE_LENGTH).trimEnd() });
  }
  return facts;
}

/**
 * Every probe fact in console lines, in order: one record per `VMSPEC-PROBE key=value` segment
 * (see {@link splitProbeFacts}). Entries that are not `{ seq, offsetMs, text }` with finite
 * numbers and a string are skipped. Never throws.
 */
export function readProbeRecords(lines: readonly ProbeConsoleLine[]): ProbeRecord[] {
  const records: ProbeRecord[] = [];
  if (!Array.isArray(lines)) return records;
  for (const line of lines as readonly unknown[]) {
    if (typeof line !== 'object' || line === null) continue;
    const { seq, offsetMs, text } = line as Partial<ProbeConsoleLine>;
    if (typeof text !== 'string' || typeof seq !== 'number' || !Number.isFinite(seq)) continue;
    if (typeof offsetMs !== 'number' || !Number.isFinite(offsetMs)) continue;
    for (const { key, value } of splitProbeFacts(text)) {
      if (records.length >= MAX_RECORDS) return records;
      records.push({ key, value, seq, offsetMs, text: text.length > MAX_LINE_TEXT ? text.slice(0, MAX_LINE_TEXT) : text });
    }
  }
  return records;
}

/** The last record of `key` (single-valued keys: the last value wins), or undefined. */
export function lastRecord(records: readonly ProbeRecord[], key: string): ProbeRecord | undefined {
  for (let i = records.length - 1; i >= 0; i--) if (records[i]!.key === key) return records[i];
  return undefined;
}

/** Every record of `key`, in order (repeated keys such as `cfgtable.guid`). */
export function allRecords(records: readonly ProbeRecord[], key: string): ProbeRecord[] {
  return records.filter((r) => r.key === key);
}

/** An EFI status as printed: a name such as `EFI_SUCCESS`, a hex code, or `missing` (NULL service). */
export type ProbeStatus = string;

/** Facts extracted from the probe's console output ({@link probeFactsFromRecords}). */
export interface ProbeFacts {
  /** `banner`, e.g. `vmspec-probe/2 arch=aarch64`. */
  banner?: string;
  /** Protocol version named in the banner (1 or 2). */
  protocolVersion?: number;
  /** Architecture named in the banner, e.g. `aarch64`. */
  arch?: string;
  /** `uefi.revision` as printed, e.g. `2.70` (see also `uefiRevisionRaw`). */
  uefiRevision?: string;
  /** `uefi.revision_raw`: EFI_SYSTEM_TABLE.Hdr.Revision in hex, e.g. `0x0000000000020046`. */
  uefiRevisionRaw?: string;
  /** `fw.vendor`: FirmwareVendor in ASCII (non-printable characters shown as `?`). */
  firmwareVendor?: string;
  /** `fw.revision`: FirmwareRevision in hex. */
  firmwareRevision?: string;
  /** `cpu.current_el`: exception level the application ran at (AArch64 only). */
  currentEl?: number;
  /** `cpu.cpsr_mode`: CPSR.M of a 32-bit ARM probe, e.g. 0x13 (SVC, PL1) or 0x1a (HYP, PL2). */
  cpsrMode?: number;
  /** `timer.cntfrq_hz`: generic timer frequency. */
  timerFrequencyHz?: number;
  /** `timer.cntvct.1` / `timer.cntvct.2`: virtual counter before and after the stall. */
  cntvct1?: number;
  cntvct2?: number;
  /** `cfgtable.count`: EFI_SYSTEM_TABLE.NumberOfTableEntries. */
  configTableCount?: number;
  /** Every `cfgtable.guid`, in order, lowercase. */
  configTableGuids: string[];
  /** `fdt`: a DEVICE_TREE configuration table was installed. */
  fdtPresent?: boolean;
  /** `acpi20`: an ACPI 2.0+ RSDP configuration table was installed. */
  acpi20Present?: boolean;
  /** `acpi10`: an ACPI 1.0 RSDP configuration table was installed. */
  acpi10Present?: boolean;
  /** `smbios3`: an SMBIOS 3.x entry point was installed. */
  smbios3Present?: boolean;
  /** `smbios`: an SMBIOS 2.x entry point was installed. */
  smbiosPresent?: boolean;
  /** `rtprop`: an EFI_RT_PROPERTIES_TABLE was installed. */
  rtpropPresent?: boolean;

  /** `fdt.magic`: true for `ok`, false for `bad`. */
  fdtMagicOk?: boolean;
  /** `fdt.totalsize` in bytes. */
  fdtTotalSize?: number;
  /** `fdt.version`. */
  fdtVersion?: number;
  /** `fdt.root.compatible`: first string of the root node's compatible, e.g. `linux,dummy-virt`. */
  fdtRootCompatible?: string;
  /** `fdt.error`: why the probe could not read the root compatible. */
  fdtError?: string;
  /** `fdt.walk`: `ok`, or why the full walk stopped early (what it saw before still counts). */
  fdtWalk?: string;
  fdtNodes?: number;
  /** `fdt.cpus`: `/cpus` children with device_type `cpu`. */
  fdtCpus?: number;
  fdtMemoryCount?: number;
  /** `fdt.memory.bytes`: sum of the memory nodes' reg sizes. */
  fdtMemoryBytes?: number;
  /** First compatible of the GIC node, e.g. `arm,gic-v3`. */
  fdtGicCompatible?: string;
  /** `v2`, `v3` or `unknown`; undefined when no GIC node was found. */
  fdtGicVersion?: string;
  fdtTimerCompatible?: string;
  /** PPI number (INTID - 16) of the timer's third interrupt: 11 for the virtual timer's INTID 27. */
  fdtTimerVirtPpi?: number;
  /** Every PSCI compatible, e.g. `['arm,psci-1.0', 'arm,psci-0.2', 'arm,psci']`. */
  fdtPsciCompatible?: string[];
  /** `hvc` or `smc`. */
  fdtPsciMethod?: string;
  fdtUartCompatible?: string;
  /** `okay` (also when the node has no status), `disabled`, … */
  fdtUartStatus?: string;
  fdtUartCount?: number;
  fdtStdoutPath?: string;
  fdtRtcCompatible?: string;
  fdtRtcStatus?: string;
  fdtVirtioMmioCount?: number;
  /** `fdt.pcie`: a `pci-host-ecam-generic` node exists. */
  fdtPcie?: boolean;
  /** `fdt.xen`: `/hypervisor` is compatible with `xen,xen`. */
  fdtXen?: boolean;

  /** `acpi.rsdp.revision`: 2 or more for ACPI 2.0+. */
  acpiRsdpRevision?: number;
  /** `acpi.rsdp.checksum`: both RSDP checksums are right. */
  acpiRsdpChecksumOk?: boolean;
  acpiXsdtPresent?: boolean;
  /** XSDT table signatures in order, e.g. `['FACP', 'APIC', 'GTDT', …]` (the DSDT is reached through the FADT). */
  acpiTables?: string[];
  /** FADT Flags bit 20 (HW_REDUCED_ACPI). */
  acpiHwReduced?: boolean;
  /** FADT ARM_BOOT_ARCH. */
  acpiArmBootArch?: number;
  acpiPsci?: boolean;
  acpiPsciHvc?: boolean;
  acpiFadtMinor?: number;
  acpiDsdtPresent?: boolean;
  /** The DSDT contains `ARMH0011` (the SBSA/PL011 UART's _HID). */
  acpiDsdtArmh0011?: boolean;
  acpiMadtGicc?: number;
  acpiMadtGicd?: number;
  /** MADT GICD version byte: 2, 3 or 4 (0 = "use the hardware's"). */
  acpiGicdVersion?: number;
  acpiMadtGicr?: number;
  acpiMadtIts?: number;
  /** GTDT virtual EL1 timer GSIV (27 expected). */
  acpiGtdtVirtGsiv?: number;
  /** SPCR interface type: 3 = PL011, 14 = SBSA Generic UART. */
  acpiSpcrInterfaceType?: number;
  /** SPCR base address as printed (`0x` + 16 hex digits). */
  acpiSpcrBase?: string;

  /** EFI_RT_PROPERTIES_TABLE version and RuntimeServicesSupported mask. */
  rtpropVersion?: number;
  rtpropSupported?: number;
  smbios3AnchorOk?: boolean;
  /** `smbios3.version`, e.g. `3.0`. */
  smbios3Version?: string;
  smbiosAnchorOk?: boolean;
  smbiosStructures?: number;
  smbiosType19?: number;

  /** `mem.getmemorymap` status. */
  getMemoryMap?: ProbeStatus;
  /** Sum of the memory map's RAM descriptors, bytes. */
  memRamBytes?: number;

  /** GetTime status: `rt.gettime.1` (v2) or `rt.gettime` (v1). */
  getTime?: ProbeStatus;
  /** `YYYY-MM-DDTHH:MM:SS` as the RTC reported it (no zone): `rt.gettime.1.time` or v1's `rt.gettime.time`. */
  getTimeValue?: string;
  /** `rt.stall_us`: microseconds stalled between the two GetTime calls. */
  stallUs?: number;
  getTime2?: ProbeStatus;
  getTime2Value?: string;
  setTime?: ProbeStatus;
  getWakeupTime?: ProbeStatus;
  getNextHighMonotonicCount?: ProbeStatus;
  queryVariableInfo?: ProbeStatus;
  getNextVariableName?: ProbeStatus;

  /** `var.previous`: the token found before writing, `absent`, or `missing`. */
  varPrevious?: string;
  varSetVariable?: ProbeStatus;
  /** `var.written`: the 16-hex-digit token this boot wrote. */
  varWritten?: string;
  varReadback?: ProbeStatus;
  varReadbackMatch?: boolean;

  /** True once `result=done` was seen: the probe ran to the end. */
  done: boolean;
  /** True when the probe reported `result=reset-failed` (ResetSystem returned). */
  resetFailed: boolean;
  /** Every key with all its values in order of appearance. */
  raw: Record<string, string[]>;
}

/** Typed facts from records (see {@link readProbeRecords}); for single-valued keys the last value wins. */
export function probeFactsFromRecords(records: readonly ProbeRecord[]): ProbeFacts {
  const all = new Map<string, string[]>();
  for (const { key, value } of records) {
    const values = all.get(key);
    if (values) values.push(value);
    else all.set(key, [value]);
  }
  const last = (key: string): string | undefined => all.get(key)?.at(-1);
  const int = (key: string): number | undefined => toInt(last(key));
  const banner = last('banner');
  const results = all.get('result') ?? [];
  const version = banner ? /^vmspec-probe\/(\d{1,3})(?:\s|$)/.exec(banner)?.[1] : undefined;
  const list = (key: string, sep: RegExp): string[] | undefined => {
    const v = last(key);
    return v === undefined ? undefined : v.split(sep).filter((s) => s.length > 0);
  };

  return {
    banner,
    protocolVersion: version === undefined ? undefined : Number(version),
    arch: banner ? /(?:^|\s)arch=(\S+)/.exec(banner)?.[1] : undefined,
    uefiRevision: last('uefi.revision'),
    uefiRevisionRaw: last('uefi.revision_raw'),
    firmwareVendor: last('fw.vendor'),
    firmwareRevision: last('fw.revision'),
    currentEl: int('cpu.current_el'),
    cpsrMode: toHex32(last('cpu.cpsr_mode')),
    timerFrequencyHz: int('timer.cntfrq_hz'),
    cntvct1: int('timer.cntvct.1'),
    cntvct2: int('timer.cntvct.2'),
    configTableCount: int('cfgtable.count'),
    configTableGuids: (all.get('cfgtable.guid') ?? []).map((g) => g.toLowerCase()),
    fdtPresent: toPresence(last('fdt')),
    acpi20Present: toPresence(last('acpi20')),
    acpi10Present: toPresence(last('acpi10')),
    smbios3Present: toPresence(last('smbios3')),
    smbiosPresent: toPresence(last('smbios')),
    rtpropPresent: toPresence(last('rtprop')),

    fdtMagicOk: toFlag(last('fdt.magic'), 'ok', 'bad'),
    fdtTotalSize: int('fdt.totalsize'),
    fdtVersion: int('fdt.version'),
    fdtRootCompatible: last('fdt.root.compatible'),
    fdtError: last('fdt.error'),
    fdtWalk: last('fdt.walk'),
    fdtNodes: int('fdt.nodes'),
    fdtCpus: int('fdt.cpus'),
    fdtMemoryCount: int('fdt.memory.count'),
    fdtMemoryBytes: int('fdt.memory.bytes'),
    fdtGicCompatible: last('fdt.gic.compatible'),
    fdtGicVersion: last('fdt.gic.version'),
    fdtTimerCompatible: last('fdt.timer.compatible'),
    fdtTimerVirtPpi: int('fdt.timer.virt_ppi'),
    fdtPsciCompatible: list('fdt.psci.compatible', / +/),
    fdtPsciMethod: last('fdt.psci.method'),
    fdtUartCompatible: last('fdt.uart.compatible'),
    fdtUartStatus: last('fdt.uart.status'),
    fdtUartCount: int('fdt.uart.count'),
    fdtStdoutPath: last('fdt.chosen.stdout_path'),
    fdtRtcCompatible: last('fdt.rtc.compatible'),
    fdtRtcStatus: last('fdt.rtc.status'),
    fdtVirtioMmioCount: int('fdt.virtio_mmio.count'),
    fdtPcie: toPresence(last('fdt.pcie')),
    fdtXen: toPresence(last('fdt.xen')),

    acpiRsdpRevision: int('acpi.rsdp.revision'),
    acpiRsdpChecksumOk: toFlag(last('acpi.rsdp.checksum'), 'ok', 'bad'),
    acpiXsdtPresent: toPresence(last('acpi.xsdt')),
    acpiTables: list('acpi.xsdt.tables', /,/),
    acpiHwReduced: toYesNo(last('acpi.fadt.hw_reduced')),
    acpiArmBootArch: toHex32(last('acpi.fadt.arm_boot_arch')),
    acpiPsci: toYesNo(last('acpi.fadt.psci')),
    acpiPsciHvc: toYesNo(last('acpi.fadt.psci_hvc')),
    acpiFadtMinor: int('acpi.fadt.minor'),
    acpiDsdtPresent: toPresence(last('acpi.dsdt')),
    acpiDsdtArmh0011: toPresence(last('acpi.dsdt.armh0011')),
    acpiMadtGicc: int('acpi.madt.gicc'),
    acpiMadtGicd: int('acpi.madt.gicd'),
    acpiGicdVersion: int('acpi.madt.gicd.version'),
    acpiMadtGicr: int('acpi.madt.gicr'),
    acpiMadtIts: int('acpi.madt.its'),
    acpiGtdtVirtGsiv: int('acpi.gtdt.virt_gsiv'),
    acpiSpcrInterfaceType: int('acpi.spcr.interface_type'),
    acpiSpcrBase: last('acpi.spcr.base'),

    rtpropVersion: int('rtprop.version'),
    rtpropSupported: toHex32(last('rtprop.supported')),
    smbios3AnchorOk: toFlag(last('smbios3.anchor'), 'ok', 'bad'),
    smbios3Version: last('smbios3.version'),
    smbiosAnchorOk: toFlag(last('smbios.anchor'), 'ok', 'bad'),
    smbiosStructures: int('smbios.structures'),
    smbiosType19: int('smbios.type19'),

    getMemoryMap: last('mem.getmemorymap'),
    memRamBytes: int('mem.ram_bytes'),

    getTime: last('rt.gettime.1') ?? last('rt.gettime'),
    getTimeValue: last('rt.gettime.1.time') ?? last('rt.gettime.time'),
    stallUs: int('rt.stall_us'),
    getTime2: last('rt.gettime.2'),
    getTime2Value: last('rt.gettime.2.time'),
    setTime: last('rt.settime'),
    getWakeupTime: last('rt.getwakeuptime'),
    getNextHighMonotonicCount: last('rt.getnexthighmonotoniccount'),
    queryVariableInfo: last('rt.queryvariableinfo'),
    getNextVariableName: last('rt.getnextvariablename'),

    varPrevious: last('var.previous'),
    varSetVariable: last('var.setvariable'),
    varWritten: last('var.written'),
    varReadback: last('var.readback'),
    varReadbackMatch: toYesNo(last('var.readback.match')),

    done: results.includes('done'),
    resetFailed: results.includes('reset-failed'),
    // fromEntries defines own properties, so a `__proto__` key cannot reach the prototype.
    raw: Object.fromEntries(all),
  };
}

/**
 * `YYYY-MM-DDTHH:MM:SS` (the probe's `<time>`, no zone) as milliseconds since the epoch, read as
 * UTC (QEMU's RTC runs in UTC by default), or undefined when malformed.
 */
export function probeTimeToEpochMs(value: string | undefined): number | undefined {
  const m = value === undefined ? null : /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

function toInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

function toPresence(value: string | undefined): boolean | undefined {
  return toFlag(value, 'present', 'absent');
}

function toYesNo(value: string | undefined): boolean | undefined {
  return toFlag(value, 'yes', 'no');
}

function toFlag(value: string | undefined, yes: string, no: string): boolean | undefined {
  if (value === yes) return true;
  if (value === no) return false;
  return undefined;
}

/** `0x` followed by 1..16 hex digits whose value fits 32 bits, else undefined. */
function toHex32(value: string | undefined): number | undefined {
  if (value === undefined || !/^0x[0-9a-fA-F]{1,16}$/.test(value)) return undefined;
  const n = Number.parseInt(value.slice(2), 16);
  return n <= 0xffffffff ? n : undefined;
}
