import type { ByteSource } from '../byte-source.js';
import type { Evidence, Finding, FindingLevel } from '../finding.js';
import { BudgetedSource, escapeLine, hex, hexNum, readAt } from './bytes.util.js';
import { DiskInspectionError } from './disk.errors.js';
import { FAT_LIMITS, FatVolume, type FatBpb, type FatTree, type FatType } from './fat.reader.js';
import { ESP_TYPE_GUID, readGpt, type GptFacts, type GptHeaderCheck } from './gpt.parser.js';
import { parseMbr, type MbrFacts } from './mbr.parser.js';
import { parsePe, type PeFacts } from './pe.parser.js';

/** Architectures with a UEFI removable-media boot file name. */
export type BootArch = 'aarch64' | 'arm' | 'x64' | 'ia32' | 'riscv64' | 'loongarch64' | 'ia64';

/** UEFI removable-media paths (UEFI 2.x §3.5.1.1), per architecture. */
export const REMOVABLE_PATHS: Readonly<Record<BootArch, string>> = {
  aarch64: '\\EFI\\BOOT\\BOOTAA64.EFI',
  arm: '\\EFI\\BOOT\\BOOTARM.EFI',
  x64: '\\EFI\\BOOT\\BOOTX64.EFI',
  ia32: '\\EFI\\BOOT\\BOOTIA32.EFI',
  riscv64: '\\EFI\\BOOT\\BOOTRISCV64.EFI',
  loongarch64: '\\EFI\\BOOT\\BOOTLOONGARCH64.EFI',
  ia64: '\\EFI\\BOOT\\BOOTIA64.EFI',
};

/** COFF machine and optional-header magic each boot file must carry. */
export const EXPECTED_PE: Readonly<Record<BootArch, { machine: number; magic: number }>> = {
  aarch64: { machine: 0xaa64, magic: 0x20b },
  arm: { machine: 0x01c2, magic: 0x10b },
  x64: { machine: 0x8664, magic: 0x20b },
  ia32: { machine: 0x014c, magic: 0x10b },
  riscv64: { machine: 0x5064, magic: 0x20b },
  loongarch64: { machine: 0x6264, magic: 0x20b },
  ia64: { machine: 0x0200, magic: 0x20b },
};

/** Options for {@link inspectDisk}. */
export interface DiskInspectOptions {
  /** Most bytes read from one loader config file (default 256 KiB). */
  readonly maxFileBytes?: number;
  /** Most bytes requested from the disk in one inspection (default 64 MiB). */
  readonly maxBytesRead?: number;
}

/** A typed error turned into data. */
export interface ErrorFact {
  readonly code: string;
  readonly message: string;
  /** Where in the disk, when the error knows. */
  readonly evidence?: readonly Evidence[];
}

/** The EFI system partition that was inspected. */
export interface EspFacts {
  /** GPT partition number (1-based), MBR entry number (1-based), or 0 for a FAT volume at LBA 0. */
  readonly partitionNumber: number;
  readonly source: 'gpt' | 'mbr' | 'superfloppy';
  readonly firstLba: number;
  readonly lastLba: number;
  readonly offset: number;
  readonly length: number;
  readonly filesystem?: FatType;
  readonly clusterCount?: number;
  /** Label from the BPB, or from the root directory's volume-label entry. Untrusted text. */
  readonly label?: string;
  readonly bpb?: FatBpb;
  /** Why the filesystem could not be opened. */
  readonly error?: ErrorFact;
}

/** One removable-media path looked up. */
export interface BootFileFacts {
  readonly arch: BootArch;
  readonly path: string;
  readonly found: boolean;
  readonly size?: number;
  readonly pe?: PeFacts;
  readonly error?: ErrorFact;
}

/** A line of a loader config that hard-codes the platform. */
export interface LoaderConfigHit {
  readonly check: 'fixed-dtb' | 'acpi-off' | 'fixed-earlycon' | 'console-ttyama-only' | 'console-hvc-only';
  readonly lineNumber: number;
  /** Escaped, shortened line. */
  readonly line: string;
}

/** A loader configuration file found on the ESP. */
export interface LoaderConfigFacts {
  readonly path: string;
  readonly size: number;
  readonly hits: readonly LoaderConfigHit[];
  readonly error?: ErrorFact;
}

/** One line of the ESP listing. */
export interface EspTreeLine {
  readonly path: string;
  readonly isDir: boolean;
  readonly size: number;
}

/** Static facts about a disk image plus the IMG-1, 3, 4, 5, 6, 8, 9, 10 findings. */
export interface DiskInspection {
  readonly size: number;
  /** Bytes the source reported read during this inspection. */
  readonly bytesRead: number;
  readonly mbr: MbrFacts | null;
  readonly gpt: GptFacts | null;
  /** Number of EFI system partitions in the partition table. */
  readonly espCount: number;
  readonly esp: EspFacts | null;
  readonly bootFiles: readonly BootFileFacts[];
  readonly espTree: { readonly entries: readonly EspTreeLine[]; readonly truncated: boolean; readonly issues: FatTree['issues'] } | null;
  /** Architectures with a removable-media boot file present. */
  readonly architectures: readonly BootArch[];
  /** What the removable paths declare (IMG-10). */
  readonly executionState: 'aarch64' | 'aarch32' | 'dual' | 'none';
  /** `\EFI\<vendor>\*.EFI` files outside `\EFI\BOOT`. */
  readonly vendorBootFiles: readonly string[];
  /** `*.fd` files on the ESP. */
  readonly firmwareFiles: readonly string[];
  readonly loaderConfigs: readonly LoaderConfigFacts[];
  readonly findings: readonly Finding[];
}

const DEFAULT_MAX_FILE_BYTES = 256 * 1024;
const PE_HEAD_BYTES = 256 * 1024;
const MAX_CONFIG_FILES = 32;
const MAX_CONFIG_LINES = 10_000;
const MAX_FINDINGS_PER_CHECK = 20;
const FIRMWARE_NAME = /(QEMU_EFI|QEMU_VARS|AAVMF|XEN_EFI|OVMF)/i;

/**
 * Inspects the guest-visible disk: protective MBR, GPT (primary and backup), the ESP's FAT filesystem,
 * the removable-media boot files (PE/COFF) and loader configs. Always returns: content problems
 * become findings (fail/warn), never exceptions. IMG-2 (container) and IMG-7 (dynamic) are decided
 * elsewhere.
 */
export async function inspectDisk(source: ByteSource, opts: DiskInspectOptions = {}): Promise<DiskInspection> {
  const startRead = source.bytesRead;
  const disk = new BudgetedSource(source, opts.maxBytesRead ?? 64 * 1024 * 1024);
  const maxFileBytes = Math.max(0, opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
  const f = new Findings();
  const r: Mutable<DiskInspection> = {
    size: source.size, bytesRead: 0, mbr: null, gpt: null, espCount: 0, esp: null, bootFiles: [], espTree: null,
    architectures: [], executionState: 'none', vendorBootFiles: [], firmwareFiles: [], loaderConfigs: [], findings: [],
  };
  try {
    await inspectInto(disk, maxFileBytes, r, f);
  } catch (e) {
    f.add('IMG-1', 'inspection-error', 'fail', `inspection stopped: ${errorFact(e).message}`, [{ what: 'error', value: errorFact(e).code }]);
  }
  r.findings = f.list.map((x, i) => ({ x, i })).sort((a, b) => Number(a.x.id.slice(4)) - Number(b.x.id.slice(4)) || a.i - b.i).map((o) => o.x);
  r.bytesRead = source.bytesRead - startRead;
  return r;
}

async function inspectInto(disk: BudgetedSource, maxFileBytes: number, r: Mutable<DiskInspection>, f: Findings): Promise<void> {
  if (disk.size < 512 * 3) {
    f.add('IMG-1', 'disk-too-small', 'fail', `the disk is ${disk.size} bytes, too small for a GPT`, [{ what: 'disk size', value: String(disk.size) }]);
    return;
  }
  // IMG-1: protective MBR + GPT
  const sector0 = await readAt(disk, 0, 512);
  const mbr = parseMbr(sector0);
  r.mbr = mbr;
  let gpt: GptFacts | null = null;
  try {
    gpt = await readGpt(disk);
  } catch (e) {
    f.add('IMG-1', 'gpt-unreadable', 'fail', `GPT could not be read: ${errorFact(e).message}`, [{ what: 'error', value: errorFact(e).code }]);
  }
  r.gpt = gpt;
  mbrFindings(mbr, gpt, sector0, f);
  if (gpt) gptFindings(gpt, f);

  // IMG-3: the ESP
  let espPart: { number: number; source: EspFacts['source']; first: number; last: number; ss: number } | undefined;
  if (gpt && gpt.used !== 'none') {
    const esps = gpt.partitions.filter((p) => p.isEsp);
    r.espCount = esps.length;
    if (esps.length === 0) {
      f.add('IMG-3', 'esp-missing', 'fail', `no partition has the ESP type GUID ${ESP_TYPE_GUID}`, gpt.partitions.slice(0, 16).map((p) => ({ what: `GPT entry ${p.number} type GUID`, offset: p.entryOffset, value: p.typeGuid })));
    } else {
      const p = esps[0]!;
      const ev: Evidence[] = esps.map((e) => ({ what: `GPT entry ${e.number} type GUID`, offset: e.entryOffset, value: `${e.typeGuid}, LBA ${e.firstLba}..${e.lastLba}` }));
      if (esps.length > 1) f.add('IMG-3', 'esp-multiple', 'warn', `${esps.length} partitions carry the ESP type GUID; firmware may pick any of them (inspecting partition ${p.number})`, ev);
      else f.add('IMG-3', 'esp-found', 'pass', `partition ${p.number} is the ESP (LBA ${p.firstLba}..${p.lastLba})`, ev);
      espPart = { number: p.number, source: 'gpt', first: p.firstLba, last: p.lastLba, ss: gpt.sectorSize };
    }
  } else {
    const ef = mbr.kind === 'mbr-only' ? mbr.entries.find((e) => e.type === 0xef && e.sectors > 0) : undefined;
    if (ef) {
      espPart = { number: ef.index + 1, source: 'mbr', first: ef.startLba, last: ef.startLba + ef.sectors - 1, ss: 512 };
      f.add('IMG-3', 'esp-mbr-only', 'fail', `no GPT ESP; MBR entry ${ef.index + 1} has type 0xEF (an MBR-style ESP), inspected for the other checks`, [{ what: `MBR partition entry ${ef.index}`, offset: ef.offset, value: `type 0xEF, LBA ${ef.startLba}, ${ef.sectors} sectors` }]);
    } else if (mbr.kind === 'fat-boot-sector') {
      espPart = { number: 0, source: 'superfloppy', first: 0, last: Math.floor(disk.size / 512) - 1, ss: 512 };
      f.add('IMG-3', 'esp-missing', 'fail', 'no partition table: the disk is a bare FAT volume (inspected for the other checks)', [{ what: 'LBA 0', offset: 0, bytes: hex(sector0.subarray(0, 16)) }]);
    } else {
      f.add('IMG-3', 'esp-missing', 'fail', 'no EFI system partition: there is no valid GPT to hold one', []);
    }
  }
  if (!espPart) {
    notChecked(f, 'no ESP');
    return;
  }

  // IMG-4: FAT32 ESP
  const offset = espPart.first * espPart.ss;
  const length = Math.min((espPart.last - espPart.first + 1) * espPart.ss, disk.size - offset);
  const espBase = { partitionNumber: espPart.number, source: espPart.source, firstLba: espPart.first, lastLba: espPart.last, offset, length };
  let vol: FatVolume;
  try {
    vol = await FatVolume.open(disk, offset, length);
  } catch (e) {
    const err = errorFact(e);
    r.esp = { ...espBase, error: err };
    f.add('IMG-4', 'esp-not-fat', 'fail', `the ESP is not a usable FAT filesystem: ${err.message}`, [...evidenceOf(e), { what: 'error', value: err.code }]);
    notChecked(f, 'the ESP is not readable', ['IMG-5', 'IMG-6']);
    return;
  }
  const bpb = vol.bpb;
  let label = bpb.label;
  if (!label || label === 'NO NAME') {
    try { label = (await vol.rootLabel()) ?? label; } catch { /* reported by the tree walk */ }
  }
  r.esp = { ...espBase, filesystem: bpb.type, clusterCount: bpb.clusterCount, label, bpb };
  const fatEv: Evidence[] = [
    { what: 'ESP cluster count', value: String(bpb.clusterCount), expected: '>= 65525 (FAT32)' },
    { what: 'ESP BPB_FATSz16', offset: offset + 22, bytes: hex(vol.bootSector.subarray(22, 24)), value: String(bpb.fatSize16) },
    { what: 'ESP filesystem', value: bpb.type },
  ];
  if (bpb.type === 'FAT32') f.add('IMG-4', 'esp-fat32', 'pass', `the ESP is FAT32 (${bpb.clusterCount} clusters)`, fatEv);
  else f.add('IMG-4', 'esp-not-fat32', 'warn', `the ESP is ${bpb.type} (${bpb.clusterCount} clusters), not FAT32; UEFI firmware mounts it but the VM spec asks for FAT32`, fatEv);

  // ESP listing (IMG-5 vendor paths, IMG-8, IMG-9)
  const tree = await vol.listTree({ maxDepth: FAT_LIMITS.maxDepth, maxEntries: FAT_LIMITS.maxEntries });
  r.espTree = { entries: tree.entries.map((e) => ({ path: e.path, isDir: e.isDir, size: e.size })), truncated: tree.truncated, issues: tree.issues };
  for (const issue of tree.issues.slice(0, MAX_FINDINGS_PER_CHECK)) {
    f.add('IMG-4', `esp-${issue.code.replace(/_/g, '-')}`, 'warn', `ESP directory walk: ${issue.message}`, [{ what: 'ESP path', value: issue.path }, { what: 'error', value: issue.code }]);
  }

  // IMG-5 / IMG-6 / IMG-10: removable-media boot files
  const bootFiles: BootFileFacts[] = [];
  for (const arch of Object.keys(REMOVABLE_PATHS) as BootArch[]) {
    const path = REMOVABLE_PATHS[arch];
    try {
      const entry = await vol.lookup(path);
      if (!entry || entry.isDir) {
        bootFiles.push({ arch, path, found: false });
        continue;
      }
      try {
        const head = await vol.readFile(entry, PE_HEAD_BYTES);
        const pe = parsePe(head, entry.size, vol.firstClusterExtent(entry));
        bootFiles.push({ arch, path, found: true, size: entry.size, pe });
      } catch (e) {
        bootFiles.push({ arch, path, found: true, size: entry.size, error: errorFact(e) });
      }
    } catch (e) {
      bootFiles.push({ arch, path, found: false, error: errorFact(e) });
    }
  }
  r.bootFiles = bootFiles;
  const present = bootFiles.filter((b) => b.found);
  r.architectures = present.map((b) => b.arch);
  const archEv: Evidence[] = present.map((b) => ({ what: `removable-media boot file (${b.arch})`, value: b.path }));
  r.vendorBootFiles = tree.entries
    .filter((e) => !e.isDir && /^\\EFI\\[^\\]+\\[^\\]+\.EFI$/i.test(e.path) && !/^\\EFI\\BOOT\\/i.test(e.path))
    .map((e) => e.path);
  const hasA64 = r.architectures.includes('aarch64');
  const hasA32 = r.architectures.includes('arm');
  for (const b of bootFiles.filter((x) => !x.found && x.error)) {
    f.add('IMG-5', 'removable-path-unreadable', 'warn', `looking up ${b.path} failed: ${b.error!.message}`, [{ what: 'error', value: b.error!.code }]);
  }
  if (hasA64 || hasA32) {
    f.add('IMG-5', 'removable-path', 'pass', `removable-media boot file present for ${r.architectures.join(', ')}`, archEv);
  } else if (present.length > 0) {
    f.add('IMG-5', 'removable-path-not-arm', 'fail', `no ARM removable-media boot file; only ${r.architectures.join(', ')} (${present.map((b) => b.path).join(', ')})`, [
      ...archEv, { what: 'architectures found', value: r.architectures.join(','), expected: 'aarch64 and/or arm' },
    ]);
  } else if (r.vendorBootFiles.length > 0) {
    f.add('IMG-5', 'vendor-path-only', 'fail', `no \\EFI\\BOOT\\BOOTAA64.EFI or BOOTARM.EFI; only vendor paths such as ${r.vendorBootFiles[0]} (needs NVRAM boot entries)`, r.vendorBootFiles.slice(0, 8).map((p) => ({ what: 'vendor boot file', value: p })));
  } else {
    f.add('IMG-5', 'removable-path-missing', 'fail', 'no removable-media boot file (\\EFI\\BOOT\\BOOTAA64.EFI or \\EFI\\BOOT\\BOOTARM.EFI) on the ESP', [{ what: 'expected path', value: REMOVABLE_PATHS.aarch64 }]);
  }

  let mismatch = false;
  for (const b of present) {
    const isArm = b.arch === 'aarch64' || b.arch === 'arm';
    const exp = EXPECTED_PE[b.arch];
    if (b.error) {
      f.add('IMG-6', 'pe-invalid', isArm ? 'fail' : 'warn', `${b.path} is not a valid PE/COFF image: ${b.error.message}`, [...(b.error.evidence ?? []), { what: 'error', value: b.error.code }]);
      continue;
    }
    const pe = b.pe!;
    const wrong: Evidence[] = [];
    if (pe.machine !== exp.machine) wrong.push({ what: 'PE machine', value: hexNum(pe.machine, 4), expected: hexNum(exp.machine, 4) });
    if (pe.magic !== exp.magic) wrong.push({ what: 'PE optional header magic', value: hexNum(pe.magic, 4), expected: hexNum(exp.magic, 4) });
    if (pe.subsystem !== 10) wrong.push({ what: 'PE subsystem', value: String(pe.subsystem), expected: '10 (EFI application)' });
    if (pe.machine !== exp.machine) mismatch = true;
    const facts: Evidence[] = [
      { what: 'PE machine', value: `${hexNum(pe.machine, 4)} (${pe.machineName})` },
      { what: 'PE optional header magic', value: hexNum(pe.magic, 4) },
      { what: 'PE subsystem', value: `${pe.subsystem} (${pe.subsystemName})` },
    ];
    if (!isArm) {
      f.add('IMG-6', 'pe-other-arch', 'info', `${b.path} is a ${pe.machineName} PE (${wrong.length ? 'with mismatches' : 'consistent'}); not an ARM boot file`, [...facts, ...wrong]);
    } else if (wrong.length > 0) {
      f.add('IMG-6', 'pe-wrong-type', 'fail', `${b.path} is not a UEFI application for ${b.arch}`, wrong);
    } else {
      f.add('IMG-6', 'pe-uefi-app', 'pass', `${b.path} is a UEFI application for ${b.arch}`, facts);
    }
    if (pe.problems.length > 0) f.add('IMG-6', 'pe-malformed', 'warn', `${b.path}: ${pe.problems[0]}${pe.problems.length > 1 ? ` (+${pe.problems.length - 1} more)` : ''}`, pe.problems.slice(0, 8).map((p) => ({ what: 'PE problem', value: p })));
    f.add('IMG-6', 'pe-signature', 'info', `${b.path} is ${pe.signed ? '' : 'not '}Authenticode-signed (informative: Secure Boot is not in the VM spec)`, [{ what: 'PE security directory', value: pe.signed ? 'non-empty' : 'empty' }]);
  }
  if (!hasA64 && !hasA32) f.add('IMG-6', 'pe-none', 'fail', 'no ARM removable-media boot file to check', []);

  r.executionState = hasA64 && hasA32 ? 'dual' : hasA64 ? 'aarch64' : hasA32 ? 'aarch32' : 'none';
  f.add('IMG-10', 'execution-state', 'info', `declared execution state: ${r.executionState}`, [{ what: 'architectures', value: r.architectures.join(',') || 'none' }]);
  if (mismatch) {
    f.add('IMG-10', 'execution-state-mismatch', 'warn', 'a removable-media boot file carries a different machine type than its name declares', present.filter((b) => b.pe && b.pe.machine !== EXPECTED_PE[b.arch].machine).map((b) => ({ what: b.path, value: hexNum(b.pe!.machine, 4), expected: hexNum(EXPECTED_PE[b.arch].machine, 4) })));
  }

  // IMG-8: firmware shipped in the image
  const fds = tree.entries.filter((e) => !e.isDir && /\.fd$/i.test(e.path));
  r.firmwareFiles = fds.map((e) => e.path);
  const named = fds.filter((e) => FIRMWARE_NAME.test(e.path.slice(e.path.lastIndexOf('\\') + 1)));
  for (const e of named.slice(0, MAX_FINDINGS_PER_CHECK)) f.add('IMG-8', 'firmware-shipped', 'warn', `the ESP ships a VM firmware image (${e.path}); firmware belongs to the hypervisor`, [{ what: 'firmware file', value: e.path }, { what: 'size', value: String(e.size) }]);
  for (const e of fds.filter((x) => !named.includes(x)).slice(0, MAX_FINDINGS_PER_CHECK)) f.add('IMG-8', 'fd-file', 'info', `the ESP holds a .fd file (${e.path}); possibly firmware`, [{ what: 'file', value: e.path }]);
  if (fds.length === 0) f.add('IMG-8', 'no-firmware', 'pass', 'no firmware (.fd) files on the ESP', []);

  // IMG-9: loader configs
  const configs = tree.entries.filter((e) => !e.isDir && isLoaderConfig(e.path)).slice(0, MAX_CONFIG_FILES);
  const loaderConfigs: LoaderConfigFacts[] = [];
  let hitCount = 0;
  for (const c of configs) {
    try {
      const bytes = await vol.readFile(c.entry, maxFileBytes);
      const hits = scanConfig(new TextDecoder('utf-8', { fatal: false }).decode(bytes));
      loaderConfigs.push({ path: c.path, size: c.size, hits });
      for (const h of hits) {
        if (hitCount++ >= 50) break;
        f.add('IMG-9', h.check, 'warn', `${c.path} line ${h.lineNumber} hard-codes the platform (${HIT_TEXT[h.check]})`, [{ what: 'loader config line', value: `${c.path}:${h.lineNumber}: ${h.line}` }]);
      }
    } catch (e) {
      loaderConfigs.push({ path: c.path, size: c.size, hits: [], error: errorFact(e) });
      f.add('IMG-9', 'config-unreadable', 'warn', `${c.path} could not be read: ${errorFact(e).message}`, [{ what: 'error', value: errorFact(e).code }]);
    }
  }
  r.loaderConfigs = loaderConfigs;
  if (configs.length === 0) f.add('IMG-9', 'no-loader-config', 'info', 'no loader config (grub.cfg, loader/entries/*.conf, cmdline.txt, startup.nsh) on the ESP', []);
  else if (hitCount === 0) f.add('IMG-9', 'no-fixed-platform', 'pass', `${configs.length} loader config(s) checked; nothing platform-specific hard-coded`, configs.slice(0, 8).map((c) => ({ what: 'loader config', value: c.path })));
}

const HIT_TEXT: Record<LoaderConfigHit['check'], string> = {
  'fixed-dtb': 'a fixed device tree',
  'acpi-off': 'acpi=off',
  'fixed-earlycon': 'an earlycon at a fixed address',
  'console-ttyama-only': 'console=ttyAMA without a console=hvc0 fallback',
  'console-hvc-only': 'console=hvc0 only',
};

function isLoaderConfig(path: string): boolean {
  const base = path.slice(path.lastIndexOf('\\') + 1).toLowerCase();
  return base === 'grub.cfg' || base === 'cmdline.txt' || base === 'startup.nsh' || /\\loader\\entries\\[^\\]+\.conf$/i.test(path);
}

/** Scans the text of a loader config for hard-coded platform details (IMG-9). */
export function scanConfig(text: string): LoaderConfigHit[] {
  const hits: LoaderConfigHit[] = [];
  const lines = text.split(/\r?\n/, MAX_CONFIG_LINES);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('#') || /^rem\s/i.test(line)) return;
    const add = (check: LoaderConfigHit['check']) => hits.push({ check, lineNumber: i + 1, line: escapeLine(line) });
    if (/^devicetree\s+\S/.test(line) || /(^|\s)dtb=\S/.test(line)) add('fixed-dtb');
    if (/(^|\s)acpi=off(\s|$|")/.test(line)) add('acpi-off');
    if (/(^|\s)earlycon=\w+,(?:\w+,)?0x[0-9a-f]+/i.test(line)) add('fixed-earlycon');
    const consoles = [...line.matchAll(/(?:^|\s)console=([^\s"]+)/g)].map((m) => m[1]!);
    if (consoles.length > 0) {
      const ama = consoles.some((c) => /^ttyAMA\d+/.test(c));
      const hvc = consoles.some((c) => /^hvc\d+/.test(c));
      if (ama && !hvc) add('console-ttyama-only');
      if (hvc && consoles.every((c) => /^hvc\d+/.test(c))) add('console-hvc-only');
    }
  });
  return hits;
}

function mbrFindings(mbr: MbrFacts, gpt: GptFacts | null, s0: Uint8Array, f: Findings): void {
  const sigEv: Evidence = { what: 'MBR boot signature', offset: 510, bytes: hex(s0.subarray(510, 512)), expected: '55aa' };
  const typeEv: Evidence = { what: 'protective MBR partition type', offset: 450, bytes: hex(s0.subarray(450, 451)), expected: 'ee' };
  switch (mbr.kind) {
    case 'none':
      f.add('IMG-1', 'pmbr-missing', 'fail', 'LBA 0 has no 55AA boot signature: no protective MBR', [sigEv]);
      break;
    case 'fat-boot-sector':
      f.add('IMG-1', 'pmbr-missing', 'fail', 'LBA 0 is a FAT boot sector, not a protective MBR (a bare filesystem, no partition table)', [sigEv]);
      break;
    case 'mbr-only':
      f.add('IMG-1', gpt ? 'pmbr-missing' : 'mbr-only', 'fail', gpt ? 'the MBR has no 0xEE protective entry although a GPT header exists; firmware will read the MBR' : 'MBR-only disk: no protective 0xEE entry and no GPT', [typeEv, ...mbr.entries.map((e) => ({ what: `MBR partition entry ${e.index}`, offset: e.offset, value: `type ${hexNum(e.type, 2)}, start LBA ${e.startLba}, ${e.sectors} sectors` }))]);
      break;
    default:
      if (mbr.issues.length === 0) f.add('IMG-1', 'pmbr', 'pass', 'protective MBR: 55AA, a single 0xEE entry starting at LBA 1', [sigEv, typeEv]);
      for (const i of mbr.issues) f.add('IMG-1', `pmbr-${i.code}`, 'warn', i.message, i.evidence);
  }
}

function headerEvidence(h: GptHeaderCheck): Evidence[] {
  return h.problems.slice(0, 8).flatMap((p) => [...p.evidence, { what: 'problem', value: p.code }]);
}

function gptFindings(g: GptFacts, f: Findings): void {
  const where = `${g.sectorSize}-byte sectors`;
  if (g.sectorSize === 4096) f.add('IMG-1', 'gpt-sector-size', 'info', 'the GPT uses 4096-byte logical sectors (4Kn)', [{ what: 'GPT header', offset: g.primary.offset, value: 'EFI PART at LBA 1 × 4096' }]);
  if (g.primary.valid) {
    f.add('IMG-1', 'gpt-primary', 'pass', `valid primary GPT header at LBA 1 (${where}), header and entry-array CRCs match`, [
      { what: 'GPT header CRC32', offset: g.primary.offset + 16, value: hexNum(g.primary.fields!.headerCrc, 8) },
      { what: 'GPT PartitionEntryArrayCRC32', offset: g.primary.offset + 88, value: hexNum(g.primary.fields!.entryArrayCrc, 8) },
    ]);
  } else if (g.backup.valid) {
    f.add('IMG-1', 'gpt-primary-corrupt', 'fail', `primary GPT corrupt (${g.primary.problems.map((p) => p.code).join(', ')}); the valid backup at LBA ${g.backup.lba} was used`, headerEvidence(g.primary));
  } else {
    f.add('IMG-1', 'gpt-invalid', 'fail', `no valid GPT header: primary ${g.primary.problems.map((p) => p.code).join(', ') || 'ok'}; backup ${g.backup.problems.map((p) => p.code).join(', ') || 'ok'}`, [...headerEvidence(g.primary), ...headerEvidence(g.backup)]);
  }
  if (g.primary.valid || g.backup.valid) {
    if (!g.backup.valid) {
      f.add('IMG-1', g.backup.present ? 'gpt-backup-invalid' : 'gpt-backup-missing', 'warn', g.backup.present ? `backup GPT header at LBA ${g.backup.lba} is invalid (${g.backup.problems.map((p) => p.code).join(', ')})` : `no backup GPT header at LBA ${g.backup.lba} (typical after resizing the disk)`, headerEvidence(g.backup));
    } else if (g.backupNotAtEnd) {
      f.add('IMG-1', 'gpt-backup-not-at-end', 'warn', `the backup GPT header is at LBA ${g.backup.lba}, not at the last LBA ${g.lastLba} (the disk was resized)`, [{ what: 'backup GPT header', offset: g.backup.offset, value: `LBA ${g.backup.lba}`, expected: `LBA ${g.lastLba}` }]);
    } else if (g.backupStale) {
      f.add('IMG-1', 'gpt-backup-stale', 'warn', 'the backup GPT entry array differs from the primary one', [{ what: 'primary entry-array CRC32', value: hexNum(g.primary.fields!.entryArrayCrc, 8) }, { what: 'backup entry-array CRC32', value: hexNum(g.backup.fields!.entryArrayCrc, 8) }]);
    } else if (g.primary.valid) {
      f.add('IMG-1', 'gpt-backup', 'pass', `valid backup GPT header at the last LBA ${g.backup.lba}`, [{ what: 'backup GPT header', offset: g.backup.offset, value: `LBA ${g.backup.lba}` }]);
    }
  }
  for (const e of g.rejectedEntries.slice(0, MAX_FINDINGS_PER_CHECK)) f.add('IMG-1', `gpt-entry-${e.reason}`, 'warn', `${e.message}; entry ignored`, e.evidence);
  if (g.rejectedEntries.length > MAX_FINDINGS_PER_CHECK) f.add('IMG-1', 'gpt-entry-more', 'warn', `${g.rejectedEntries.length - MAX_FINDINGS_PER_CHECK} more invalid GPT entries ignored`, []);
}

function notChecked(f: Findings, why: string, failIds: readonly Finding['id'][] = ['IMG-4', 'IMG-5', 'IMG-6']): void {
  for (const id of failIds) f.add(id, 'not-checked', 'fail', `cannot be checked: ${why}`, []);
  for (const id of ['IMG-8', 'IMG-9'] as const) f.add(id, 'not-checked', 'info', `not checked: ${why}`, []);
  f.add('IMG-10', 'execution-state', 'info', 'declared execution state: none', [{ what: 'architectures', value: 'none' }]);
}

function errorFact(e: unknown): ErrorFact {
  if (e instanceof DiskInspectionError) return { code: e.code, message: e.message, ...(e.evidence.length ? { evidence: e.evidence } : {}) };
  if (e instanceof Error) return { code: e.name === 'Error' ? 'internal_error' : `internal_error:${e.name}`, message: e.message.slice(0, 300) };
  return { code: 'internal_error', message: String(e).slice(0, 300) };
}

function evidenceOf(e: unknown): Evidence[] {
  return e instanceof DiskInspectionError ? [...e.evidence] : [];
}

class Findings {
  readonly list: Finding[] = [];
  add(id: Finding['id'], check: string, level: FindingLevel, message: string, evidence: readonly Evidence[]): void {
    this.list.push({ id, check, level, message, evidence });
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
