/**
 * What the compliance evaluators read about one matrix cell. Plain data (the stored JSON forms),
 * typed structurally so this package depends on neither the emulator nor the database.
 */
import type { InspectionDto, PlatformProbeDto, VmProfile } from '@bootfarm/contracts';

/** A console line: sequence number, offset in ms since the emulator started, text. */
export interface EvidenceLine {
  readonly seq: number;
  readonly offsetMs: number;
  readonly text: string;
}

/** One guest fact and the console line that showed it (the emulator's `Fact<T>`). */
export interface GuestFact<T> {
  readonly value: T;
  readonly evidence: EvidenceLine;
}

/**
 * The stored JSON form of the emulator's `GuestFacts`. Every field may be missing in older
 * records; `null` means the console never showed it.
 */
export interface GuestFactsInput {
  readonly efi?: GuestFact<{ readonly revision: string; readonly major: number; readonly minor: number; readonly vendor: string }> | null;
  readonly efiNotFound?: GuestFact<true> | null;
  readonly efiConfigTables?: GuestFact<{
    readonly names: readonly string[];
    readonly acpi20: boolean;
    readonly smbios3: boolean;
    readonly smbios: boolean;
    readonly rtprop: boolean;
  }> | null;
  readonly dtbSource?: GuestFact<'configuration_table' | 'empty' | 'command_line'> | null;
  readonly acpiRsdp?: GuestFact<{ readonly revision: number; readonly oemId: string }> | null;
  readonly spcrConsole?: GuestFact<{ readonly type: string; readonly options: string }> | null;
  readonly psci?: GuestFact<{ readonly version: string; readonly major: number; readonly minor: number }> | null;
  readonly psciConduitSource?: GuestFact<'DT' | 'ACPI'> | null;
  readonly psciStandardFunctionIds?: GuestFact<true> | null;
  readonly archTimer?: GuestFact<{ readonly mhz: number; readonly virtual: boolean }> | null;
  readonly cpusStartedAt?: GuestFact<{ readonly el: number | null; readonly consistent: boolean }> | null;
  readonly cpusBroughtUp?: GuestFact<{ readonly nodes: number; readonly cpus: number }> | null;
  readonly uart?: GuestFact<{ readonly tty: string; readonly mmio: string; readonly kind: 'PL011' | 'SBSA'; readonly detail: string }> | null;
  readonly rtcEfi?: GuestFact<{ readonly rtc: string }> | null;
  readonly rtc?: GuestFact<{ readonly driver: string; readonly rtc: string }> | null;
  readonly smbios?: GuestFact<{ readonly version: string }> | null;
  readonly gic?: GuestFact<{ readonly version: 'v2' | 'v3' }> | null;
  readonly xen?: GuestFact<{ readonly version: string }> | null;
  readonly hvc0?: GuestFact<true> | null;
  readonly console?: GuestFact<{ readonly name: string }> | null;
  readonly commandLine?: GuestFact<{ readonly text: string; readonly consoleArgs: readonly string[] }> | null;
  /** The farm guest's `VMSPEC-GUEST key=value` lines, first value per key. */
  readonly guest?: Readonly<Record<string, GuestFact<string>>>;
}

/** How the image's boot in this cell ended (the worker's boot report, stored form). */
export interface BootInput {
  /** `passed`, `failed`, `timeout`, `canceled` or `infrastructure_error`. */
  readonly outcome: string;
  readonly reason: string;
  /** Last stage reached: `none`, `firmware`, `boot_manager`, `bootloader`, `os`. */
  readonly stage: string;
  readonly failureClass: string | null;
  /** The line that matched the success marker. */
  readonly marker?: EvidenceLine | null;
  /** The line that decided the outcome (marker or failure). */
  readonly decidingLine?: EvidenceLine | null;
}

/** Everything known about one cell: its platform, the image, the image's boot, the guest, the probe. */
export interface CellInput {
  readonly cellId: string;
  /** The cell's profile key (`profileKey(profile)`); evidence in run-level verdicts names it. */
  readonly cellKey: string;
  readonly profile: VmProfile;
  readonly image: { readonly inspection: InspectionDto | null };
  /** null: the image was not booted in this cell (yet). */
  readonly boot: BootInput | null;
  /** null: no guest facts recorded (the boot never reached a kernel, or older records). */
  readonly guest: GuestFactsInput | null;
  /** null: the platform was not probed. */
  readonly platform: PlatformProbeDto | null;
}
