/**
 * Detects how far a boot got from its console lines. Deliberately small and pure: a table of
 * patterns, matched against sanitized lines; the stage only ever moves forward.
 * Grows with new firmware, loaders and operating systems by adding rows.
 *
 * Two views are tracked together:
 * - `stage` ({@link BootStage}: none, firmware, boot_manager, bootloader, os) is the coarse value
 *   the launcher reports and the farm persists (the shared contracts enumerate exactly these);
 * - `phase` ({@link BootPhase}: none, firmware, boot_manager, loader, kernel, init, ready) is the
 *   finer timeline. Mapping: loader → bootloader, kernel and init → os; `ready` is set by the
 *   analyzer when a success marker matches and leaves the coarse stage where it was.
 * Both are monotonic: each only ever moves forward, independently of the other.
 */
import type { BootPhase, BootStage } from './boot.types.js';

/** A pattern whose first match means the boot reached `stage` (and `phase`). */
export interface StageRule {
  readonly stage: Exclude<BootStage, 'none'>;
  /** The finer phase; defaults to the phase of `stage` (see {@link phaseOfStage}). */
  readonly phase?: Exclude<BootPhase, 'none' | 'ready'>;
  readonly pattern: RegExp;
  /** What the pattern recognises, for humans. */
  readonly description: string;
}

/** Stage order, lowest first. */
export const stageOrder: readonly BootStage[] = ['none', 'firmware', 'boot_manager', 'bootloader', 'os'];

/** Phase order, lowest first. */
export const phaseOrder: readonly BootPhase[] = ['none', 'firmware', 'boot_manager', 'loader', 'kernel', 'init', 'ready'];

/** Position of a stage in {@link stageOrder}. */
export function stageRank(stage: BootStage): number {
  return stageOrder.indexOf(stage);
}

/** Position of a phase in {@link phaseOrder}. */
export function phaseRank(phase: BootPhase): number {
  return phaseOrder.indexOf(phase);
}

/** The phase a coarse stage stands for when a rule names no phase. */
export function phaseOfStage(stage: BootStage): BootPhase {
  switch (stage) {
    case 'bootloader':
      return 'loader';
    case 'os':
      return 'kernel';
    default:
      return stage;
  }
}

/** The coarse stage of a phase (`ready` has none of its own: null). */
export function stageOfPhase(phase: BootPhase): BootStage | null {
  switch (phase) {
    case 'loader':
      return 'bootloader';
    case 'kernel':
    case 'init':
      return 'os';
    case 'ready':
      return null;
    default:
      return phase;
  }
}

/** The rules, checked from the highest phase down (the first that matches wins). */
export const stageRules: readonly StageRule[] = [
  { stage: 'os', phase: 'init', pattern: /\bRun \S{1,128} as init process\b/, description: 'Linux started userspace init' },
  { stage: 'os', phase: 'init', pattern: /\bsystemd\[1\]: /, description: 'systemd is running as PID 1' },
  { stage: 'os', phase: 'init', pattern: /\bFreeing unused kernel (?:image )?memory\b/, description: 'Linux finished its init sections (init follows)' },
  { stage: 'os', phase: 'init', pattern: /^VMSPEC-GUEST/, description: "Bootfarm's guest agent" },
  { stage: 'os', pattern: /Booting Linux on physical CPU/, description: 'Linux kernel started' },
  { stage: 'os', pattern: /\bLinux version \d+\.\d+/, description: 'Linux kernel banner' },
  { stage: 'os', pattern: /^\(XEN\) Xen version \d/, description: 'Xen hypervisor started' },
  { stage: 'bootloader', pattern: /^VMSPEC-PROBE /, description: "Bootfarm's probe UEFI application" },
  { stage: 'bootloader', pattern: /^EFI stub: /, description: "Linux's EFI stub" },
  { stage: 'bootloader', pattern: /Welcome to GRUB!|^\s*GNU GRUB\s/, description: 'GRUB' },
  { stage: 'bootloader', pattern: /\bsystemd-boot \d+|^Loading Linux \S+ \.\.\.$/, description: 'systemd-boot / a GRUB menu entry' },
  { stage: 'bootloader', pattern: /^Xen \d+\.\d+\S* .*EFI loader/, description: "Xen's EFI loader" },
  { stage: 'boot_manager', pattern: /BdsDxe: (?:loading|starting|failed to load) Boot[0-9A-Fa-f]{4}/, description: "edk2's boot manager" },
  { stage: 'boot_manager', pattern: /^EFI boot manager: /, description: "U-Boot's EFI boot manager" },
  { stage: 'boot_manager', pattern: /^Booting \/efi\\boot\\/i, description: "U-Boot's EFI boot" },
  { stage: 'boot_manager', pattern: /^Found EFI removable media binary/, description: "U-Boot's distro boot" },
  { stage: 'boot_manager', pattern: /^(?:\*\* Booting bootflow |Scanning for bootflows|Booting: )|^=> bootefi\b/, description: "U-Boot's bootflow / bootefi" },
  { stage: 'firmware', pattern: /UEFI firmware \(version/, description: 'edk2 banner' },
  { stage: 'firmware', pattern: /^U-Boot \d{4}\.\d{2}/, description: 'U-Boot banner' },
];

const ruleTable = stageRules.map((rule) => {
  const phase = rule.phase ?? phaseOfStage(rule.stage);
  return { rule, phase, stageRank: stageRank(rule.stage), phaseRank: phaseRank(phase) };
});

/** Tracks the furthest stage (and phase) a boot reached. */
export class BootStageDetector {
  private current: BootStage = 'none';
  private currentPhase: BootPhase = 'none';
  private stageR = 0;
  private phaseR = 0;
  private lastRule: StageRule | null = null;

  /** The furthest stage reached so far. */
  get stage(): BootStage {
    return this.current;
  }

  /** The furthest phase reached so far. */
  get phase(): BootPhase {
    return this.currentPhase;
  }

  /** The rule that matched last (what moved the stage or phase), if any. */
  get lastMatchedRule(): StageRule | null {
    return this.lastRule;
  }

  /** Any console output at all means the firmware is running. Returns the new stage if it advanced. */
  noteOutput(): BootStage | null {
    this.advancePhase('firmware');
    return this.advance('firmware');
  }

  /**
   * Feeds one sanitized line. Returns the new stage if it advanced, else null (the phase may
   * have advanced without the stage: compare {@link phase} before and after).
   */
  feed(text: string): BootStage | null {
    let found = this.advance('firmware');
    this.advancePhase('firmware');
    for (const row of ruleTable) {
      if (row.stageRank <= this.stageR && row.phaseRank <= this.phaseR) continue;
      if (row.rule.pattern.test(text)) {
        this.lastRule = row.rule;
        found = this.advance(row.rule.stage) ?? found;
        this.advancePhase(row.phase);
        break;
      }
    }
    return found === null ? null : this.current;
  }

  /** Moves the phase forward to `to` (the analyzer does this for `ready`). Returns true if it advanced. */
  reachPhase(to: BootPhase): boolean {
    return this.advancePhase(to);
  }

  private advance(to: BootStage): BootStage | null {
    const r = stageRank(to);
    if (r <= this.stageR) return null;
    this.current = to;
    this.stageR = r;
    return to;
  }

  private advancePhase(to: BootPhase): boolean {
    const r = phaseRank(to);
    if (r <= this.phaseR) return false;
    this.currentPhase = to;
    this.phaseR = r;
    return true;
  }
}
