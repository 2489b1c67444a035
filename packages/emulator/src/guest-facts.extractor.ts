/**
 * Guest facts from a Linux (or Xen dom0) console, for the OS-1..OS-12 verdicts: what the kernel
 * says it saw (EFI revision and tables, which hardware description the EFI stub used, ACPI RSDP
 * and SPCR, PSCI, the virtual arch timer, the EL the CPUs started at, SMP bring-up, the UART it
 * bound, rtc-efi, SMBIOS, the GIC, Xen, hvc0) plus the fixture guest's own
 * `VMSPEC-GUEST key=value` lines. The regexes are those of the VM-spec notes §3.
 *
 * Pure and streaming: fed line by line, bounded memory (a fixed set of facts, the first
 * occurrence of each wins; at most {@link maxGuestKeys} guest keys). Each fact cites its line.
 * Hypervisor lines (`(XEN) ...`) are not the guest's and are skipped; the guest's own replay of
 * its dmesg (`VMSPEC-GUEST dmesg: ...`) is read like the console (first occurrence still wins,
 * so a fact already shown by the console keeps the console line as evidence).
 */
import type { EvidenceLine } from './boot.types.js';

/** A fact and the console line that showed it. */
export interface Fact<T> {
  readonly value: T;
  readonly evidence: EvidenceLine;
}

/** Typed guest facts. `null`: the console never showed it (which is itself evidence). */
export interface GuestFacts {
  /** `efi: EFI v2.70 by EDK II` (OS-1/OS-4; FW-1 seen from the guest). */
  readonly efi: Fact<{ readonly revision: string; readonly major: number; readonly minor: number; readonly vendor: string }> | null;
  /** `efi: UEFI not found.` (a Xen dom0, or a kernel not booted through EFI). */
  readonly efiNotFound: Fact<true> | null;
  /** The `efi: ... ACPI 2.0=0x... SMBIOS 3.0=0x... RTPROP=0x...` config-table line (names only). */
  readonly efiConfigTables: Fact<{
    readonly names: readonly string[];
    readonly acpi20: boolean;
    readonly smbios3: boolean;
    readonly smbios: boolean;
    readonly rtprop: boolean;
  }> | null;
  /** Which description the EFI stub used (OS-7): firmware DT, empty DTB (ACPI), or a DTB from the command line. */
  readonly dtbSource: Fact<'configuration_table' | 'empty' | 'command_line'> | null;
  /** `ACPI: RSDP 0x... (v02 BOCHS )` (OS-6). */
  readonly acpiRsdp: Fact<{ readonly revision: number; readonly oemId: string }> | null;
  /** `ACPI: SPCR: console: pl011,mmio,0x9000000,9600` (OS-12). */
  readonly spcrConsole: Fact<{ readonly type: string; readonly options: string }> | null;
  /** `psci: PSCIv1.1 detected in firmware.` (OS-9). */
  readonly psci: Fact<{ readonly version: string; readonly major: number; readonly minor: number }> | null;
  /** `psci: probing for conduit method from DT.` / `ACPI.` */
  readonly psciConduitSource: Fact<'DT' | 'ACPI'> | null;
  /** `psci: Using standard PSCI v0.2 function IDs` (OS-9). */
  readonly psciStandardFunctionIds: Fact<true> | null;
  /** `arch_timer: cp15 timer(s) running at 62.50MHz (virt).` */
  readonly archTimer: Fact<{ readonly mhz: number; readonly virtual: boolean }> | null;
  /** `CPU: All CPU(s) started at EL1` (or `CPU: CPUs started in inconsistent modes`). */
  readonly cpusStartedAt: Fact<{ readonly el: number | null; readonly consistent: boolean }> | null;
  /** `smp: Brought up 1 node, 4 CPUs` (OS-8/OS-9). */
  readonly cpusBroughtUp: Fact<{ readonly nodes: number; readonly cpus: number }> | null;
  /** `ttyAMA0 at MMIO 0x9000000 (irq = 12, base_baud = 0) is a SBSA` (OS-2, HW-3). */
  readonly uart: Fact<{ readonly tty: string; readonly mmio: string; readonly kind: 'PL011' | 'SBSA'; readonly detail: string }> | null;
  /** `rtc-efi rtc-efi.0: registered as rtc0` (OS-4). */
  readonly rtcEfi: Fact<{ readonly rtc: string }> | null;
  /** Any RTC driver registering (`rtc-pl031 9010000.pl031: registered as rtc0`): names the wall clock used. */
  readonly rtc: Fact<{ readonly driver: string; readonly rtc: string }> | null;
  /** `SMBIOS 3.0.0 present.` */
  readonly smbios: Fact<{ readonly version: string }> | null;
  /** GIC driver lines: `GICv3: ...` (v3), `GIC: ...` / `GICv2m: ...` (v2) (OS-3). A GICv3 line wins over v2 hints. */
  readonly gic: Fact<{ readonly version: 'v2' | 'v3' }> | null;
  /** `Xen 4.17 support found` (OS-2/OS-5 Xen guest). */
  readonly xen: Fact<{ readonly version: string }> | null;
  /** `printk: console [hvc0] enabled` (OS-2 Xen PV console). */
  readonly hvc0: Fact<true> | null;
  /** The first real console the kernel enabled (`printk: console [ttyAMA0] enabled`) (OS-12). */
  readonly console: Fact<{ readonly name: string }> | null;
  /** `Kernel command line: ...` and its `console=` arguments (OS-12, IMG-9). */
  readonly commandLine: Fact<{ readonly text: string; readonly consoleArgs: readonly string[] }> | null;
  /** The fixture guest's `VMSPEC-GUEST key=value` lines, first value per key. */
  readonly guest: Readonly<Record<string, Fact<string>>>;
}

/** Most `VMSPEC-GUEST` keys kept (a hostile guest cannot grow the facts without bound). */
export const maxGuestKeys = 64;
/** Longest `VMSPEC-GUEST` value kept, in characters. */
export const maxGuestValueChars = 512;
/** Longest evidence text kept, in characters. */
export const maxEvidenceChars = 512;

type MutableFacts = { -readonly [K in keyof GuestFacts]: GuestFacts[K] };
type SingleKey = Exclude<keyof GuestFacts, 'guest'>;

interface FactRule {
  readonly key: SingleKey;
  /** Cheap substring that must be present before the regex runs. */
  readonly guard: string;
  readonly pattern: RegExp;
  readonly value: (m: RegExpExecArray) => unknown;
}

const num = (s: string | undefined): number => Number(s ?? 'NaN');

/** The §3 regexes, one rule per fact. Every pattern is linear (no nested quantifiers). */
export const guestFactRules: readonly FactRule[] = [
  {
    key: 'efi',
    guard: 'efi: EFI v',
    pattern: /\befi: EFI v(\d+)\.(\d+)(?:\.(\d+))? by (.{1,120})$/,
    value: (m) => ({ revision: `${m[1]}.${m[2]}${m[3] ? `.${m[3]}` : ''}`, major: num(m[1]), minor: num(m[2]), vendor: m[4]!.trim() }),
  },
  { key: 'efiNotFound', guard: 'efi: UEFI not found', pattern: /\befi: UEFI not found/, value: () => true },
  {
    key: 'efiConfigTables',
    guard: 'efi: ',
    pattern: /\befi: ((?:[A-Z][A-Za-z0-9 .]{0,15}=0x[0-9a-fA-F]+ ?){1,24})\s*$/,
    value: (m) => {
      const names = [...m[1]!.matchAll(/([A-Z][A-Za-z0-9 .]{0,15}?)=0x/g)].map((x) => x[1]!.trim());
      return {
        names,
        acpi20: names.includes('ACPI 2.0'),
        smbios3: names.includes('SMBIOS 3.0'),
        smbios: names.includes('SMBIOS'),
        rtprop: names.includes('RTPROP'),
      };
    },
  },
  {
    key: 'dtbSource',
    guard: 'EFI stub: ',
    pattern: /^EFI stub: (?:Using DTB from (configuration table|command line)|(Generating empty DTB))/,
    value: (m) => (m[2] ? 'empty' : m[1] === 'command line' ? 'command_line' : 'configuration_table'),
  },
  {
    key: 'acpiRsdp',
    guard: 'ACPI: RSDP',
    pattern: /\bACPI: RSDP 0x[0-9A-Fa-f]+ [0-9A-Fa-f]+ \(v(\d+) ?([^)]{0,8})\)/,
    value: (m) => ({ revision: num(m[1]), oemId: m[2]!.trim() }),
  },
  {
    key: 'spcrConsole',
    guard: 'SPCR: console:',
    pattern: /\bACPI: SPCR: console: ([\w-]+)(?:,(\S{0,120}))?/,
    value: (m) => ({ type: m[1]!, options: m[2] ?? '' }),
  },
  {
    key: 'psci',
    guard: 'psci: PSCIv',
    pattern: /\bpsci: PSCIv(\d+)\.(\d+) detected in firmware\./,
    value: (m) => ({ version: `${m[1]}.${m[2]}`, major: num(m[1]), minor: num(m[2]) }),
  },
  {
    key: 'psciConduitSource',
    guard: 'psci: probing for conduit method from ',
    pattern: /\bpsci: probing for conduit method from (DT|ACPI)\b/,
    value: (m) => m[1],
  },
  {
    key: 'psciStandardFunctionIds',
    guard: 'psci: Using standard PSCI v0.2 function IDs',
    pattern: /\bpsci: Using standard PSCI v0\.2 function IDs/,
    value: () => true,
  },
  {
    key: 'archTimer',
    guard: 'arch_timer: ',
    pattern: /\barch_timer: cp15(?: and mmio)? timer\(s\) running at ([\d.]+)MHz \((virt|phys)\)/,
    value: (m) => ({ mhz: num(m[1]), virtual: m[2] === 'virt' }),
  },
  {
    key: 'cpusStartedAt',
    guard: 'CPU',
    pattern: /\bCPU: (?:All CPU\(s\) started at EL(\d)|(CPUs started in inconsistent modes))/,
    value: (m) => (m[2] ? { el: null, consistent: false } : { el: num(m[1]), consistent: true }),
  },
  {
    key: 'cpusBroughtUp',
    guard: 'smp: Brought up ',
    pattern: /\bsmp: Brought up (\d+) nodes?, (\d+) CPUs?/,
    value: (m) => ({ nodes: num(m[1]), cpus: num(m[2]) }),
  },
  {
    key: 'uart',
    guard: ' at MMIO ',
    pattern: /\b(ttyAMA\d+) at MMIO (0x[0-9a-fA-F]+) .{0,80}? is a (PL011 rev\d+|SBSA)\b/,
    value: (m) => ({ tty: m[1]!, mmio: m[2]!, kind: m[3]!.startsWith('SBSA') ? 'SBSA' : 'PL011', detail: m[3]! }),
  },
  {
    key: 'rtcEfi',
    guard: 'rtc-efi',
    pattern: /\brtc-efi rtc-efi\.\d+: registered as (rtc\d+)/,
    value: (m) => ({ rtc: m[1]! }),
  },
  {
    key: 'rtc',
    guard: ': registered as rtc',
    pattern: /\b(rtc-[\w-]+) \S+: registered as (rtc\d+)/,
    value: (m) => ({ driver: m[1]!, rtc: m[2]! }),
  },
  {
    key: 'smbios',
    guard: 'SMBIOS ',
    pattern: /\bSMBIOS (\d+\.\d+(?:\.\d+)?) present\./,
    value: (m) => ({ version: m[1]! }),
  },
  { key: 'xen', guard: ' support found', pattern: /\bXen (\S{1,20}) support found/, value: (m) => ({ version: m[1]! }) },
  { key: 'hvc0', guard: 'console [hvc0] enabled', pattern: /\bconsole \[hvc0\] enabled/, value: () => true },
  {
    key: 'console',
    guard: 'printk: console [',
    pattern: /\bprintk: console \[([\w-]{1,32})\] enabled/,
    value: (m) => ({ name: m[1]! }),
  },
  {
    key: 'commandLine',
    guard: 'Kernel command line:',
    pattern: /\bKernel command line: ?(.{0,2048})$/,
    value: (m) => {
      const text = m[1]!.trim();
      return { text, consoleArgs: text.split(/\s+/).filter((a) => a.startsWith('console=')).map((a) => a.slice('console='.length)) };
    },
  },
];

const GIC_V3 = /(?:^|\] )GICv[34]: /;
const GIC_V2 = /(?:^|\] )(?:GIC|GICv2m): /;
const GUEST_LINE = /^VMSPEC-GUEST ([A-Za-z_][\w.]{0,63})=/;
const GUEST_SPLIT = / (?=[A-Za-z_][\w.]{0,63}=)/;
/** Keys whose value is the rest of the line (it may itself contain `key=value` words). */
const WHOLE_LINE_KEYS = new Set(['cmdline', 'uname']);

function emptyFacts(): MutableFacts {
  return {
    efi: null,
    efiNotFound: null,
    efiConfigTables: null,
    dtbSource: null,
    acpiRsdp: null,
    spcrConsole: null,
    psci: null,
    psciConduitSource: null,
    psciStandardFunctionIds: null,
    archTimer: null,
    cpusStartedAt: null,
    cpusBroughtUp: null,
    uart: null,
    rtcEfi: null,
    rtc: null,
    smbios: null,
    gic: null,
    xen: null,
    hvc0: null,
    console: null,
    commandLine: null,
    guest: {},
  };
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const guardOf = (rules: readonly FactRule[]): RegExp => new RegExp(rules.length ? [...new Set(rules.map((r) => escapeRegExp(r.guard)))].join('|') : '(?!)');

const clip = (s: string, max: number): string => (s.length > max ? s.slice(0, max) : s);

/** Extracts {@link GuestFacts} from console lines as they arrive. */
export class GuestFactsExtractor {
  private readonly facts: MutableFacts = emptyFacts();
  private readonly guest: Record<string, Fact<string>> = Object.create(null) as Record<string, Fact<string>>;
  private guestKeys = 0;
  private pending: FactRule[] = [...guestFactRules];
  /** One regex over the pending rules' guards: a line none of them could match costs one test. */
  private guard: RegExp = guardOf(this.pending);

  /** The facts so far (a snapshot; safe to keep). */
  get value(): GuestFacts {
    return { ...this.facts, guest: { ...this.guest } };
  }

  /** Feeds one sanitized console line (a whole logical line). */
  feed(seq: number, offsetMs: number, text: string): void {
    if (text.length < 6 || text.startsWith('(XEN)')) return;
    if (text.charCodeAt(0) === 0x56 /* V */ && text.startsWith('VMSPEC-GUEST ')) {
      if (!text.startsWith('VMSPEC-GUEST dmesg: ')) {
        this.feedGuest(seq, offsetMs, text);
        return;
      }
    }
    const evidence = (): EvidenceLine => ({ seq, offsetMs, text: clip(text, maxEvidenceChars) });
    if (this.pending.length > 0 && this.guard.test(text)) {
      let done = false;
      for (const rule of this.pending) {
        if (!text.includes(rule.guard)) continue;
        const m = rule.pattern.exec(text);
        if (!m) continue;
        (this.facts as Record<SingleKey, unknown>)[rule.key] = { value: rule.value(m), evidence: evidence() };
        done = true;
      }
      if (done) {
        this.pending = this.pending.filter((r) => this.facts[r.key] === null);
        this.guard = guardOf(this.pending);
      }
    }
    if (this.facts.gic?.value.version !== 'v3' && text.includes('GIC')) {
      if (GIC_V3.test(text)) this.facts.gic = { value: { version: 'v3' }, evidence: evidence() };
      else if (this.facts.gic === null && GIC_V2.test(text)) this.facts.gic = { value: { version: 'v2' }, evidence: evidence() };
    }
  }

  private feedGuest(seq: number, offsetMs: number, text: string): void {
    if (!GUEST_LINE.test(text)) return;
    const body = text.slice('VMSPEC-GUEST '.length);
    const firstKey = body.slice(0, body.indexOf('='));
    const parts = WHOLE_LINE_KEYS.has(firstKey) ? [body] : body.split(GUEST_SPLIT);
    const evidence: EvidenceLine = { seq, offsetMs, text: clip(text, maxEvidenceChars) };
    for (const part of parts) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const key = part.slice(0, eq);
      if (key in this.guest) continue;
      if (this.guestKeys >= maxGuestKeys) return;
      this.guest[key] = { value: clip(part.slice(eq + 1).trim(), maxGuestValueChars), evidence };
      this.guestKeys++;
    }
  }
}

/** Guest facts of a whole transcript (for tests and offline re-analysis). */
export function extractGuestFacts(lines: Iterable<{ readonly seq: number; readonly offsetMs: number; readonly text: string }>): GuestFacts {
  const x = new GuestFactsExtractor();
  for (const l of lines) x.feed(l.seq, l.offsetMs, l.text);
  return x.value;
}
