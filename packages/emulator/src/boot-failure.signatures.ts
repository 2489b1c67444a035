/**
 * Console signatures of known boot failures, checked line by line. Pure data + one matcher.
 *
 * A *definitive* signature ends the boot at once (the firmware has given up: waiting longer
 * only burns a slot). A non-definitive one is a hint: it is remembered and names the failure
 * class if the boot later ends without a marker, because the firmware may still try another
 * boot option (edk2 with several disks; U-Boot goes on to other boot targets).
 */
import type { BootPhase, FailureClass } from './boot.types.js';
import { phaseRank } from './boot-stage.detector.js';

/** One known failure, as seen on the console. */
export interface FailureSignature {
  /** Stable id (persisted with results: never rename). */
  readonly id: string;
  readonly failureClass: FailureClass;
  /** True when the boot cannot recover from here. */
  readonly definitive: boolean;
  readonly pattern: RegExp;
  /** One human sentence used as the failure reason. */
  readonly description: string;
  /** Only matches once the boot has reached this phase (e.g. kernel oopses). */
  readonly fromPhase?: BootPhase;
  /** Only matches before the boot reaches this phase (e.g. GRUB's `error:` lines). */
  readonly beforePhase?: BootPhase;
  /**
   * A hint goes stale (no longer names the failure) once the boot reaches this phase: the
   * firmware's failed first option does not explain a kernel that later hangs.
   */
  readonly staleFromPhase?: BootPhase;
}

/**
 * How serious a failure class is, for choosing between hints: a later hint replaces an earlier
 * one only when it is more serious, or equally serious and firmware/loader level (where the
 * latest message is the most specific). For kernel reports the first one is the root cause.
 */
export function failureSeverity(failureClass: FailureClass): number {
  switch (failureClass) {
    case 'no_boot_device':
      return 1;
    case 'loader_error':
      return 2;
    case 'firmware_exception':
    case 'kernel_oops':
      return 3;
    case 'kernel_panic':
      return 4;
    default:
      return 0;
  }
}

/** Every known signature, most specific first. */
export const failureSignatures: readonly FailureSignature[] = [
  {
    id: 'edk2.shell_fallback',
    failureClass: 'no_boot_device',
    definitive: true,
    pattern: /BdsDxe: (?:loading|starting) Boot[0-9A-Fa-f]{4} "EFI Internal Shell"/,
    description: 'edk2 found no bootable image on the disk and fell back to its UEFI shell',
  },
  {
    id: 'edk2.uefi_shell',
    failureClass: 'no_boot_device',
    definitive: true,
    pattern: /^UEFI Interactive Shell v\d/,
    description: 'edk2 found no bootable image on the disk and started its UEFI shell',
  },
  {
    id: 'linux.panic',
    failureClass: 'kernel_panic',
    definitive: true,
    pattern: /Kernel panic - not syncing/,
    description: 'the Linux kernel panicked',
  },
  {
    id: 'uboot.prompt',
    failureClass: 'no_boot_device',
    definitive: true,
    pattern: /^=> ?$/,
    description: 'U-Boot found nothing to boot and stopped at its command prompt',
  },
  {
    id: 'edk2.no_bootable_option',
    failureClass: 'no_boot_device',
    definitive: true,
    pattern: /BdsDxe: No bootable option or device was found/,
    description: 'edk2 found no bootable option or device',
  },
  {
    id: 'edk2.boot_menu',
    failureClass: 'no_boot_device',
    definitive: true,
    pattern: /BdsDxe: (?:loading|starting) Boot[0-9A-Fa-f]{4} "(?:UiApp|Enter Setup|Boot Manager Menu)"|\bBoot Manager Menu\b/,
    description: 'edk2 found no bootable image and opened its boot-manager menu',
    beforePhase: 'loader',
  },
  {
    id: 'edk2.sync_exception',
    failureClass: 'firmware_exception',
    definitive: true,
    pattern: /^\s*Synchronous Exception at 0x[0-9A-Fa-f]+/,
    description: 'the firmware (or an EFI application) took a synchronous exception',
    beforePhase: 'kernel',
  },
  {
    id: 'uboot.sync_abort',
    failureClass: 'firmware_exception',
    definitive: true,
    pattern: /^"Synchronous Abort" handler, esr 0x[0-9A-Fa-f]+/,
    description: 'U-Boot (or an EFI application) took a synchronous abort',
    beforePhase: 'kernel',
  },
  {
    id: 'grub.rescue',
    failureClass: 'loader_error',
    definitive: true,
    pattern: /^grub rescue> ?$/,
    description: 'GRUB could not load its modules or config and stopped at its rescue prompt',
    beforePhase: 'kernel',
  },
  {
    id: 'grub.prompt',
    failureClass: 'loader_error',
    definitive: true,
    pattern: /^grub> ?$/,
    description: 'GRUB found no usable configuration and stopped at its command prompt',
    beforePhase: 'kernel',
  },
  {
    id: 'linux.oops',
    failureClass: 'kernel_oops',
    definitive: false,
    pattern: /\bInternal error: Oops\b|(?:^|\] )Unable to handle kernel |(?:^|\] )kernel BUG at |(?:^|\] )BUG: /,
    description: 'the Linux kernel oopsed (BUG / bad memory access)',
    fromPhase: 'kernel',
  },
  {
    id: 'edk2.load_failed',
    failureClass: 'no_boot_device',
    definitive: false,
    pattern: /BdsDxe: failed to load Boot[0-9A-Fa-f]{4}/,
    description: 'edk2 could not load the boot option from the disk (no valid EFI/BOOT/BOOTAA64.EFI)',
    staleFromPhase: 'loader',
  },
  {
    id: 'uboot.efi_bootmgr_failed',
    failureClass: 'no_boot_device',
    definitive: false,
    pattern: /^EFI boot manager: Cannot load any image/,
    description: "U-Boot's EFI boot manager could not load any image",
    staleFromPhase: 'loader',
  },
  {
    id: 'uboot.efi_load_failed',
    failureClass: 'no_boot_device',
    definitive: false,
    pattern: /^(?:EFI LOAD FAILED\b|Loading image failed\b|Cannot boot: |No EFI binary)/,
    description: 'U-Boot found an EFI binary but could not load or start it',
    staleFromPhase: 'loader',
  },
  {
    id: 'grub.error',
    failureClass: 'loader_error',
    definitive: false,
    pattern: /^error: \S/,
    description: 'GRUB reported an error',
    beforePhase: 'kernel',
    staleFromPhase: 'kernel',
  },
];

/**
 * The first signature matching a sanitized console line, or null. With `phase`, signatures
 * restricted to other phases (`fromPhase`, `beforePhase`) are skipped; without it they all apply.
 */
export function matchFailureSignature(
  text: string,
  signatures: readonly FailureSignature[] = failureSignatures,
  phase?: BootPhase,
): FailureSignature | null {
  const rank = phase === undefined ? -1 : phaseRank(phase);
  for (const s of signatures) {
    if (rank >= 0) {
      if (s.fromPhase !== undefined && rank < phaseRank(s.fromPhase)) continue;
      if (s.beforePhase !== undefined && rank >= phaseRank(s.beforePhase)) continue;
    }
    if (s.pattern.test(text)) return s;
  }
  return null;
}

/** True when a hint from `signature` no longer explains a boot that reached `phase`. */
export function isStaleHint(signature: Pick<FailureSignature, 'definitive' | 'staleFromPhase'>, phase: BootPhase): boolean {
  return !signature.definitive && signature.staleFromPhase !== undefined && phaseRank(phase) >= phaseRank(signature.staleFromPhase);
}
