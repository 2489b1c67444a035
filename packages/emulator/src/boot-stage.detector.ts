/**
 * Detects how far a boot got from its console lines. Deliberately small and pure: a table of
 * patterns per stage, matched against sanitized lines; the stage only ever moves forward.
 * Grows with new firmware, loaders and operating systems by adding rows.
 */
import { BootStage } from './boot.types.js';

/** A pattern whose first match means the boot reached `stage`. */
export interface StageRule {
  readonly stage: Exclude<BootStage, 'none'>;
  readonly pattern: RegExp;
  /** What the pattern recognises, for humans. */
  readonly description: string;
}

/** Stage order, lowest first. */
export const stageOrder: readonly BootStage[] = ['none', 'firmware', 'boot_manager', 'bootloader', 'os'];

/** Position of a stage in {@link stageOrder}. */
export function stageRank(stage: BootStage): number {
  return stageOrder.indexOf(stage);
}

/** The rules, checked from the highest stage down (the first that matches wins). */
export const stageRules: readonly StageRule[] = [
  { stage: 'os', pattern: /Booting Linux on physical CPU/, description: 'Linux kernel started' },
  { stage: 'os', pattern: /\bLinux version \d+\.\d+/, description: 'Linux kernel banner' },
  { stage: 'os', pattern: /^\(XEN\) Xen version \d/, description: 'Xen hypervisor started' },
  { stage: 'os', pattern: /^VMSPEC-GUEST/, description: "Bootfarm's guest agent" },
  { stage: 'bootloader', pattern: /^VMSPEC-PROBE /, description: "Bootfarm's probe UEFI application" },
  { stage: 'bootloader', pattern: /^EFI stub: /, description: "Linux's EFI stub" },
  { stage: 'bootloader', pattern: /Welcome to GRUB!|^GNU GRUB\s/, description: 'GRUB' },
  { stage: 'bootloader', pattern: /^Xen \d+\.\d+\S* .*EFI loader/, description: "Xen's EFI loader" },
  { stage: 'boot_manager', pattern: /BdsDxe: (?:loading|starting|failed to load) Boot[0-9A-Fa-f]{4}/, description: "edk2's boot manager" },
  { stage: 'boot_manager', pattern: /^EFI boot manager: /, description: "U-Boot's EFI boot manager" },
  { stage: 'boot_manager', pattern: /^Booting \/efi\\boot\\/i, description: "U-Boot's EFI boot" },
  { stage: 'boot_manager', pattern: /^Found EFI removable media binary/, description: "U-Boot's distro boot" },
  { stage: 'firmware', pattern: /UEFI firmware \(version/, description: 'edk2 banner' },
  { stage: 'firmware', pattern: /^U-Boot \d{4}\.\d{2}/, description: 'U-Boot banner' },
];

/** Tracks the furthest stage a boot reached. */
export class BootStageDetector {
  private current: BootStage = 'none';

  /** The furthest stage reached so far. */
  get stage(): BootStage {
    return this.current;
  }

  /** Any console output at all means the firmware is running. Returns the new stage if it advanced. */
  noteOutput(): BootStage | null {
    return this.advance('firmware');
  }

  /** Feeds one sanitized line. Returns the new stage if it advanced, else null. */
  feed(text: string): BootStage | null {
    let found = this.advance('firmware');
    for (const rule of stageRules) {
      if (stageRank(rule.stage) <= stageRank(this.current)) continue;
      if (rule.pattern.test(text)) {
        found = this.advance(rule.stage) ?? found;
        break;
      }
    }
    return found === null ? null : this.current;
  }

  private advance(to: BootStage): BootStage | null {
    if (stageRank(to) <= stageRank(this.current)) return null;
    this.current = to;
    return to;
  }
}
