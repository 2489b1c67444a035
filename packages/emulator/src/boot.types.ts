/**
 * The contract between the worker and a boot backend: what to boot, and what happened.
 *
 * WARNING: the string values below (outcomes, failure classes, stages) are persisted by the
 * worker and shown to users: add new ones, never rename.
 */
import type { VmProfile } from './vm.profile.js';
import type { GuestFacts } from './guest-facts.extractor.js';

/** How a boot ended. Only `infrastructure_error` is the farm's fault (and worth a retry). */
export const BootOutcome = {
  Passed: 'passed',
  Failed: 'failed',
  Timeout: 'timeout',
  Canceled: 'canceled',
  InfrastructureError: 'infrastructure_error',
} as const;
/** How a boot ended. */
export type BootOutcome = (typeof BootOutcome)[keyof typeof BootOutcome];

/** Why a boot did not pass, typed at the source. `null` in a report means passed or canceled. */
export const FailureClass = {
  /** The guest printed nothing at all before the boot ended (firmware never ran or the console is dead). */
  NoConsoleOutput: 'no_console_output',
  /** The firmware found nothing bootable (edk2 fell back to its UEFI shell, U-Boot to its prompt). */
  NoBootDevice: 'no_boot_device',
  /** The kernel panicked. */
  KernelPanic: 'kernel_panic',
  /** The console went quiet for longer than the silence limit, after printing something. */
  Silence: 'silence',
  /** The boot's total time limit passed while the console was still active. */
  Timeout: 'timeout',
  /** The guest powered the VM off (QEMU exited by itself) without printing a success marker. */
  PoweredOffWithoutMarker: 'powered_off_without_marker',
  /** Infrastructure: QEMU (or its firmware) could not be started. */
  QemuStartFailed: 'qemu_start_failed',
  /** Infrastructure: QEMU died from a signal or an internal error mid-boot. */
  QemuCrashed: 'qemu_crashed',
  /** Infrastructure: the host could not prepare the boot (work dir, overlay, image unreadable). */
  HostSetupFailed: 'host_setup_failed',
  /** The image was refused before QEMU opened it (e.g. a qcow2 naming a backing or data file). */
  ImageRejected: 'image_rejected',
  /** The OS loader gave up (GRUB `error: ...` then its rescue/command prompt). */
  LoaderError: 'loader_error',
  /** The kernel oopsed or hit a BUG (`Internal error: Oops`, `BUG:`, `Unable to handle kernel ...`) without a panic line. */
  KernelOops: 'kernel_oops',
  /** The firmware took a CPU exception (edk2 `Synchronous Exception at`, U-Boot `"Synchronous Abort" handler`). */
  FirmwareException: 'firmware_exception',
} as const;
/** Why a boot did not pass. */
export type FailureClass = (typeof FailureClass)[keyof typeof FailureClass];

/** Failure classes that are the farm's fault rather than the image's or the platform's. */
export const infrastructureFailureClasses: readonly FailureClass[] = [
  FailureClass.QemuStartFailed,
  FailureClass.QemuCrashed,
  FailureClass.HostSetupFailed,
];

/** Boot stages, in the order a boot reaches them. */
export const BootStage = {
  None: 'none',
  Firmware: 'firmware',
  BootManager: 'boot_manager',
  Bootloader: 'bootloader',
  Os: 'os',
} as const;
/** Boot stages, in the order a boot reaches them. */
export type BootStage = (typeof BootStage)[keyof typeof BootStage];

/**
 * Finer boot phases tracked next to {@link BootStage} (which stays the coarse, persisted value):
 * `loader` = an OS loader ran (GRUB, systemd-boot, the Linux EFI stub, Xen's EFI loader, the
 * probe); `kernel` = a kernel or hypervisor started; `init` = userspace init started; `ready` = a
 * success marker matched. Coarse mapping: loader → bootloader, kernel/init → os; `ready` keeps
 * whatever coarse stage was reached (the probe is ready at `bootloader`).
 */
export const BootPhase = {
  None: 'none',
  Firmware: 'firmware',
  BootManager: 'boot_manager',
  Loader: 'loader',
  Kernel: 'kernel',
  Init: 'init',
  Ready: 'ready',
} as const;
/** Finer boot phases, in the order a boot reaches them. */
export type BootPhase = (typeof BootPhase)[keyof typeof BootPhase];

/** Container formats accepted for a boot image. QEMU is always told which one; it never guesses. */
export const ImageFormat = { Raw: 'raw', Qcow2: 'qcow2' } as const;
/** Container formats accepted for a boot image. */
export type ImageFormat = (typeof ImageFormat)[keyof typeof ImageFormat];

/** Backends of the emulator core. Only `qemu-tcg` exists so far. */
export const BackendId = { QemuTcg: 'qemu-tcg', QemuKvm: 'qemu-kvm', Xen: 'xen' } as const;
/** Backends of the emulator core. */
export type BackendId = (typeof BackendId)[keyof typeof BackendId];

/** Why a console record ended where it did. */
export const LineEnd = {
  /** The guest wrote `\n`. */
  Newline: 'newline',
  /** The line reached the length cap; the rest continues in the next record. */
  LengthCap: 'length_cap',
  /** The guest stopped writing mid-line for a while (a prompt such as `login: ` or `=> `). */
  Idle: 'idle',
  /** The console closed mid-line. */
  Eof: 'eof',
} as const;
/** Why a console record ended where it did. */
export type LineEnd = (typeof LineEnd)[keyof typeof LineEnd];

/** One console line as delivered to `onLine` and stored by the worker. */
export interface ConsoleLine {
  /** 0-based, consecutive within one boot. */
  readonly seq: number;
  /** Milliseconds since QEMU was started (monotonic clock), when the line was complete. */
  readonly offsetMs: number;
  /** The line with ANSI/control sequences removed, `\r` stripped, invalid UTF-8 replaced. */
  readonly text: string;
  /** Why the record ended here. */
  readonly end: LineEnd;
}

/** The disk image to boot. It is only ever opened read-only, as the backing file of an overlay. */
export interface BootImage {
  /** Absolute path of the image file. */
  readonly path: string;
  /** Its container format, always explicit. */
  readonly format: ImageFormat;
}

/** What the launcher tells `onStart` once QEMU is running. */
export interface BootStartInfo {
  /** Process id of QEMU (same pid as the containment wrappers, which exec into it). */
  readonly pid: number;
  /** The QEMU command, as in the report. */
  readonly command: BootCommand;
}

/** One boot to run. */
export interface BootRequest {
  readonly image: BootImage;
  readonly profile: VmProfile;
  /**
   * Absolute path of a per-boot directory. The launcher creates it (mode 0700; it must not exist,
   * or be empty), puts the overlay, the UEFI vars copy and the QMP socket in it, and removes it
   * at the end of the boot, whatever the outcome.
   */
  readonly workDir: string;
  /** Limit for the whole boot, preparation included. */
  readonly timeoutMs: number;
  /** No console output for this long ends the boot (default 30 s). */
  readonly silenceTimeoutMs?: number;
  /**
   * Positive markers: the first console line matching one of them passes the boot. Replaces
   * {@link defaultSuccessMarkers} when given. Matched line by line (a prompt without a newline
   * is delivered as a line after a short idle time, so `login: ` prompts match too).
   */
  readonly successMarkers?: readonly RegExp[];
  /** Aborting it kills QEMU; the outcome is then `canceled`. */
  readonly signal?: AbortSignal;
  /** Called synchronously for each console line as it arrives. Exceptions are caught and reported as warnings. */
  readonly onLine?: (line: ConsoleLine) => void;
  /** Called once QEMU has been spawned. */
  readonly onStart?: (info: BootStartInfo) => void;
  /**
   * When given, the raw console bytes (up to the byte cap) are written to this file at the end
   * of the boot. It must lie outside `workDir`, which is removed.
   */
  readonly rawConsolePath?: string;
  /**
   * Stop as soon as a definitive failure signature (e.g. edk2 falling back to its UEFI shell)
   * is seen. Default true; false lets the boot run on to its marker, silence or timeout.
   */
  readonly stopOnFailureSignature?: boolean;
  /** After a success marker, how long the guest gets to power off by itself before QMP `quit` (default 3 s). */
  readonly markerGraceMs?: number;
  /**
   * Absolute path of a UEFI variable store (pflash unit 1) outside `workDir`, used instead of a
   * fresh per-boot copy of the template: created from the template (mode 0600, owned by `runAs`)
   * when it does not exist, reused as it is when it does, and never removed by the launcher.
   * Lets boots of one VM share variables (FW-7 persistence). Ignored by firmware without a vars
   * store (U-Boot's `-bios`).
   */
  readonly varsStore?: string;
}

/** The commands a boot ran, exact, so a human can reproduce it. */
export interface BootCommand {
  /** The QEMU argv, binary first. */
  readonly argv: readonly string[];
  /** `argv` as one POSIX-shell-quoted string. */
  readonly shell: string;
  /** What was actually executed: the containment wrappers (setpriv, prlimit) followed by `argv`. */
  readonly launchArgv: readonly string[];
  /** The `qemu-img create` argv that made the overlay. */
  readonly overlayArgv: readonly string[];
  /**
   * A shell script (one command per line) that recreates the work dir, the overlay and the vars
   * copy (or creates the shared vars store only if it is missing), then boots.
   */
  readonly reproduce: string;
}

/** The firmware files a boot used, by path and content hash. */
export interface FirmwareRecord {
  readonly codePath: string;
  /** Hex sha256 of the code file, or null if it could not be read. */
  readonly codeSha256: string | null;
  readonly varsTemplatePath: string;
  /** Hex sha256 of the vars template (copied fresh per boot), or null if it could not be read. */
  readonly varsTemplateSha256: string | null;
  /** The shared store the boot used instead of a fresh copy ({@link BootRequest.varsStore}), if any. */
  readonly varsStorePath?: string;
  /** True when this boot created the shared store from the template, false when it reused it. */
  readonly varsStoreCreated?: boolean;
}

/** Resource limits applied to QEMU through prlimit. */
export interface RlimitRecord {
  /** RLIMIT_AS in bytes. */
  readonly addressSpaceBytes: number;
  /** RLIMIT_FSIZE in bytes: caps every file QEMU writes (overlay, vars copy). */
  readonly fileSizeBytes: number;
  /** RLIMIT_CORE: 0, no core dumps. */
  readonly coreBytes: number;
  /** RLIMIT_CPU in seconds: a backstop behind the launcher's own timeout. */
  readonly cpuSeconds: number;
  /** RLIMIT_NOFILE. */
  readonly openFiles: number;
}

/** Which containment was applied to QEMU. */
export interface ContainmentRecord {
  /** Signal QEMU receives when the process that spawned it dies (setpriv --pdeathsig). */
  readonly parentDeathSignal: 'SIGKILL';
  /** QEMU leads its own process group; every stop path SIGKILLs the whole group. */
  readonly ownProcessGroup: true;
  /** `--no-new-privs` was set. */
  readonly noNewPrivileges: true;
  /** uid/gid QEMU ran as (null: those of the worker). */
  readonly runAs: { readonly uid: number; readonly gid: number } | null;
  readonly rlimits: RlimitRecord;
  /** QEMU's seccomp `-sandbox` argument. */
  readonly sandbox: string;
  /** Guest networking. */
  readonly network: 'none' | 'user-restricted';
  /** QMP is only on a UNIX socket inside the work dir. */
  readonly qmp: 'unix-socket';
  /** Environment variable names QEMU was given (a fixed minimal set; never the worker's). */
  readonly environment: readonly string[];
}

/** How QEMU's process ended. */
export interface ExitRecord {
  /** Exit status, or null if killed by a signal or never started. */
  readonly code: number | null;
  /** Signal name, or null. */
  readonly signal: string | null;
  /** Milliseconds since QEMU started, when it was seen to exit (null if it never started). */
  readonly offsetMs: number | null;
  /** Who ended it: the guest/QEMU by itself, the launcher's QMP `quit`, the launcher's SIGKILL. */
  readonly by: 'self' | 'qmp_quit' | 'sigkill' | 'not_started';
}

/** The console line that decided something (marker or failure signature). */
export interface MatchedLine {
  readonly seq: number;
  readonly offsetMs: number;
  readonly text: string;
  /** The marker's regex source, or the failure signature's id. */
  readonly pattern: string;
}

/** When a stage was first reached. */
export interface StageEvent {
  readonly stage: BootStage;
  readonly seq: number;
  readonly offsetMs: number;
}

/** A console line cited as evidence. */
export interface EvidenceLine {
  readonly seq: number;
  readonly offsetMs: number;
  readonly text: string;
}

/** When a finer phase was first reached, and the line that showed it. */
export interface PhaseEvent extends EvidenceLine {
  readonly phase: BootPhase;
}

/** Everything the worker needs to record about one boot. */
export interface BootReport {
  readonly backend: BackendId;
  readonly outcome: BootOutcome;
  /** null when passed or canceled. */
  readonly failureClass: FailureClass | null;
  /** One human sentence. */
  readonly reason: string;
  /** Last stage reached. */
  readonly stage: BootStage;
  /** Every stage reached, in order, with the line that showed it. */
  readonly stages: readonly StageEvent[];
  /** The line that matched a success marker. */
  readonly marker: MatchedLine | null;
  /** The line that matched a known failure signature (definitive or not), if any. */
  readonly failureSignature: MatchedLine | null;
  /** Wall time of the whole boot call, preparation and cleanup included. */
  readonly durationMs: number;
  readonly exit: ExitRecord;
  /** The exact commands (built before anything runs, so present for every outcome). */
  readonly command: BootCommand;
  readonly firmware: FirmwareRecord;
  readonly containment: ContainmentRecord;
  readonly lineCount: number;
  /** Console bytes received (all of them, stored or not). */
  readonly consoleBytes: number;
  /** The raw console exceeded the byte cap: bytes past it were drained but not stored. */
  readonly consoleTruncated: boolean;
  /** QEMU's own stderr (capped), e.g. its error message when it refused to start. */
  readonly stderr: string;
  /** Things that went wrong around the boot without changing its outcome (cleanup, callbacks). */
  readonly warnings: readonly string[];
  /** Finer phase timeline (see {@link BootPhase}); optional until every backend fills it. */
  readonly phases?: readonly PhaseEvent[];
  /** syzbot-style normalised failure signature (null when passed or canceled). */
  readonly normalisedSignature?: string | null;
  /** The console line that decided the outcome (marker or failure), if any. */
  readonly decidingLine?: EvidenceLine | null;
  /** Facts the guest's console showed (OS-1..OS-12 evidence). */
  readonly guestFacts?: GuestFacts;
}

/**
 * A boot backend: QEMU TCG today; QEMU+KVM and Xen later. A worker asks each backend which
 * profiles it can run and routes cells accordingly.
 */
export interface BootBackend {
  readonly id: BackendId;
  /** Why this backend cannot run the profile; empty when it can. */
  unsupportedReasons(profile: VmProfile): readonly string[];
  /** Run one boot. Settles with a report for every outcome; rejects only for an unusable request. */
  boot(request: BootRequest): Promise<BootReport>;
}
