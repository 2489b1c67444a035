/**
 * syzbot-style failure signatures: one short, stable title per failure, so the same failure on
 * another run, image build or hypervisor groups with its earlier occurrences while a different
 * reason gets a different title. Pure.
 *
 * Normalisation (after syzkaller's pkg/report): the `[    1.234567]` printk prefix goes; hex
 * numbers (`0x…`, or bare runs of 8+ hex digits) become `ADDR`; GUIDs become `GUID`; `func+0x1c/0x4c`
 * becomes `func`; `file.c:123` becomes `file.c:LINE`; `CPU#3`/`CPU: 3`/`PID: 96` lose their numbers;
 * other free-standing decimal numbers become `N` (digits inside identifiers such as `ttyAMA0`,
 * `virtio_blk`, `Boot0001` stay); whitespace is collapsed; the result is at most
 * {@link maxSignatureChars} characters.
 */
import type { BootStage, FailureClass } from './boot.types.js';

/** Longest signature, in characters (syzbot's title limit). */
export const maxSignatureChars = 120;

const PRINTK_PREFIX = /^\[\s*\d+\.\d+\]\s?/;
const GUID = /\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b/g;
const FUNC_OFFSET = /\b([A-Za-z_.$][\w.$]*)\+0x[0-9a-fA-F]+\/0x[0-9a-fA-F]+/g;
const FILE_LINE = /\b([\w./-]+\.(?:c|h|S|rs|cc)):\d+\b/g;
const HEX_PREFIXED = /\b0x[0-9a-fA-F]+\b/g;
const HEX_BARE = /\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b/g;
const CPU_ID = /\bCPU(?:#|: ?| )\d+/g;
const PID = /\bPID: ?\d+/g;
const DECIMAL = /(?<![\w.])\d+(?:\.\d+)*(?![\w])/g;
// An edk2 device path that follows a boot option (` from PciRoot(0x0)/Pci(0x1,0x0)`, ` from Fv(...)/FvFile(...)`).
const EDK2_DEVICE_PATH = / from (?:PciRoot|Fv|VenHw|MemoryMapped|HD|Scsi|Sata|Usb)\([^ ]*?(?=:? |:?$)/g;

/** The normalised text of one console line (no class prefix, not clipped). */
export function normaliseConsoleText(text: string): string {
  return text
    .replace(PRINTK_PREFIX, '')
    .replace(EDK2_DEVICE_PATH, '')
    .replace(GUID, 'GUID')
    .replace(FUNC_OFFSET, '$1')
    .replace(FILE_LINE, '$1:LINE')
    .replace(HEX_PREFIXED, 'ADDR')
    .replace(HEX_BARE, 'ADDR')
    .replace(CPU_ID, 'CPU')
    .replace(PID, 'PID')
    .replace(DECIMAL, 'N')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Clips a signature to {@link maxSignatureChars} characters (at a word boundary when it can). */
export function clipSignature(s: string): string {
  if (s.length <= maxSignatureChars) return s;
  const cut = s.slice(0, maxSignatureChars);
  const space = cut.lastIndexOf(' ');
  return (space > maxSignatureChars * 0.6 ? cut.slice(0, space) : cut).trimEnd();
}

/** Functions that are never the guilty frame (printing, panic and report machinery). */
const SKIPPED_FRAMES =
  /^(?:dump_backtrace|show_stack|dump_stack(?:_lvl)?|panic|__warn|warn_slowpath\w*|report_bug|bug_handler|__die|die|die_kernel_fault|__do_kernel_fault|do_page_fault|do_translation_fault|do_mem_abort|el1_abort|el1h_64_sync_handler|el1h_64_sync|el1_sync|el1_da|brk_handler|do_debug_exception|call_break_hook|arm64_notify_die|_raw_\w+|__kasan\w*|kasan_\w+|print_\w+|show_regs|\w*printk\w*)$/;

/** The function of a call-trace or `pc :` line (`  foo+0x1c/0x4c [mod]`, `pc : foo+0x1c/0x4c`), or null. */
export function frameOf(text: string): string | null {
  const t = text.replace(PRINTK_PREFIX, '');
  const m = /^\s*(?:pc : )?\(?([A-Za-z_][\w.$]*)\+0x[0-9a-fA-F]+\/0x[0-9a-fA-F]+\)?/.exec(t);
  if (!m) return null;
  const name = m[1]!.replace(/\.(?:constprop|isra|part|cold|llvm)\.\w*$/, '');
  return SKIPPED_FRAMES.test(name) ? null : name;
}

/** What a signature is made from. */
export interface SignatureInput {
  readonly failureClass: FailureClass;
  /** The deciding console line (sanitized text), or null (silence, timeout, no output). */
  readonly line: string | null;
  /** The guilty frame, when one was seen after an oops/BUG/WARNING/exception header. */
  readonly frame?: string | null;
  /** Last stage reached (for hangs and timeouts). */
  readonly stage?: BootStage;
  /** For a panic that only says `Fatal exception` (or similar): the signature of the oops that caused it. */
  readonly cause?: string | null;
}

const KERNEL_PANIC = /Kernel panic - not syncing: ?(.*)$/;
const OOPS_HEADERS: ReadonlyArray<readonly [RegExp, (m: RegExpExecArray) => string]> = [
  [/Unable to handle kernel (.+?)(?: at virtual address.*)?$/, (m) => `Unable to handle kernel ${m[1]}`],
  [/Internal error: (Oops - BUG|Oops|[\w -]+):.*$/, (m) => `Internal error: ${m[1]}`],
  [/kernel BUG at ([\w./-]+):\d+!?/, (m) => `kernel BUG at ${m[1]}`],
  [/\bBUG: (.+?)(?: at virtual address.*| in .*)?$/, (m) => `BUG: ${m[1]}`],
  [/\bWARNING: .*? at ([\w./-]+):\d+ ?(\S*)/, (m) => (m[2] ? `WARNING in ${m[2].replace(/\+0x.*$/, '')}` : `WARNING at ${m[1]}`)],
];

/** The title of a kernel report line (panic reason, oops/BUG/WARNING header), without frame. */
export function kernelReportTitle(line: string): string | null {
  const t = line.replace(PRINTK_PREFIX, '');
  if (t.startsWith('---[ end ')) return null; // the trailer of a report already seen
  const panic = KERNEL_PANIC.exec(t);
  if (panic) return `kernel panic: ${panic[1]!.trim()}`;
  for (const [re, fmt] of OOPS_HEADERS) {
    const m = re.exec(t);
    if (m) return fmt(m);
  }
  return null;
}

/** Panic reasons that only say "an earlier oops killed us": the oops is the better title. */
const GENERIC_PANIC = /^kernel panic: (?:Oops(?: - BUG)?: )?Fatal exception(?: in interrupt)?\s*$/;

/**
 * The normalised signature of a failure, or null when there is nothing to name (passed).
 * Examples: `kernel panic: VFS: Unable to mount root fs on unknown-block(N,N)`,
 * `oops: Unable to handle kernel NULL pointer dereference in foo_probe`,
 * `no boot device: BdsDxe: failed to load Boot0001 "UEFI Misc Device": Not Found`,
 * `hang after bootloader: Using bootargs from Xen configuration file.`
 */
export function failureSignatureOf(input: SignatureInput): string | null {
  const line = input.line === null ? null : normaliseConsoleText(input.line);
  const frame = input.frame ? ` in ${input.frame}` : '';
  const after = (what: string): string => (line ? `${what}: ${line}` : what);
  switch (input.failureClass) {
    case 'kernel_panic': {
      const title = input.line ? kernelReportTitle(input.line) : null;
      if (title && GENERIC_PANIC.test(title) && input.cause) return clipSignature(`${normaliseConsoleText(title)}: ${input.cause}`);
      return clipSignature(title ? normaliseConsoleText(title) : after('kernel panic'));
    }
    case 'kernel_oops': {
      const title = input.line ? kernelReportTitle(input.line) : null;
      return clipSignature(`oops: ${title ? normaliseConsoleText(title) : (line ?? 'unknown')}${frame}`);
    }
    case 'firmware_exception':
      return clipSignature(`firmware exception: ${line ?? 'unknown'}${frame}`);
    case 'no_boot_device':
      return clipSignature(after('no boot device'));
    case 'loader_error':
      return clipSignature(after('loader error'));
    case 'silence':
      return clipSignature(after(`hang after ${input.stage ?? 'none'}`));
    case 'timeout':
      return clipSignature(after(`timeout at ${input.stage ?? 'none'}`));
    case 'powered_off_without_marker':
      return clipSignature(after(`powered off at ${input.stage ?? 'none'}`));
    case 'no_console_output':
      return 'no console output';
    default:
      // Infrastructure and image refusals: the class is the signature (details are in the reason).
      return input.failureClass;
  }
}
