/**
 * The Xen backend: boots one image as an arm64 Xen domU through the `xl` toolstack, with
 * ArmVirtXen (`XEN_EFI.fd`) as the guest firmware, through a throwaway qcow2 overlay, and
 * reports what happened with the same analysis as the QEMU backend.
 *
 * One boot: work dir (0700) → firmware hash → image header check → overlay (`qemu-img create
 * -b IMAGE -F FMT`) → `domain.cfg` → `xl create -p` (paused) → `xl console -t pv` (and
 * `-t vuart`) attached → `xl unpause` → console lines analysed until a marker, the domain
 * going away (`xl list` polled, console EOF), a failure signature, silence, the time limit or
 * an abort → `xl destroy` (always, on every path once `xl create` ran) → work dir removed.
 *
 * Must run in dom0 as a user allowed to drive xl (root). Domains are named
 * `<prefix>-<random>`: a reaper can destroy leftovers of a worker that died mid-boot.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  BackendId,
  type BootBackend,
  type BootCommand,
  type BootReport,
  type BootRequest,
  type ConsoleLine,
  type ContainmentRecord,
  type ExitRecord,
  type FailureClass,
  type FirmwareRecord,
} from '../boot.types.js';
import { stderrSummary, type BootEndCause, type BootVerdict } from '../boot-outcome.classifier.js';
import {
  assembleBootReport,
  BootConsole,
  BootWorkDir,
  bootRequestProblems,
  captureOptions,
  checkBootImage,
  classifySession,
  CLOSE_WAIT_MS,
  DEFAULT_MARKER_GRACE_MS,
  defaultChildEnv,
  errorMessage,
  overlayFailure,
  QEMU_IMG_TIMEOUT_MS,
  runBootFrame,
  SessionTimers,
  silenceLimitMs,
  STDERR_CAP,
  type SetupFailure,
} from '../boot-session.js';
import { ConsoleCapture } from '../console.capture.js';
import { BootRequestInvalidError, ProfileNotSupportedError } from '../emulator.errors.js';
import { FileHasher } from '../file.hasher.js';
import { killProcessGroup } from '../process-group.js';
import { buildOverlayCommand, shellJoin } from '../qemu-command.builder.js';
import type { VmProfile } from '../vm.profile.js';
import { buildXlConfig, domainNamePattern, isValidDomainName, xlPathProblems, type XenConsoleType } from './xl-config.builder.js';
import { isCrashedState, parseXlList } from './xl-output.parser.js';
import { describeXlFailure, runXl, type XlRunResult } from './xl.runner.js';
import { xenUnsupportedReasons, type XenHostCapabilities } from './xen-profile.validator.js';

/** Default paths. Debian's xen-utils installs xl in /usr/sbin; ArmVirtXen is not packaged (built from Debian's edk2 source). */
export const defaultXenPaths = Object.freeze({
  xl: '/usr/sbin/xl',
  qemuImg: '/usr/bin/qemu-img',
  edk2Firmware: '/usr/lib/bootfarm/xen/XEN_EFI.fd',
});

/** Options of {@link XenLauncher}; every path is injectable, nothing is read from the environment. */
export interface XenLauncherOptions {
  /** The xl binary. */
  readonly xl?: string;
  readonly qemuImg?: string;
  /** ArmVirtXen `XEN_EFI.fd` for firmware `edk2`; null when the host has none. */
  readonly edk2Firmware?: string | null;
  /** U-Boot xenguest image for firmware `u-boot`; null (default) when the host has none. */
  readonly ubootFirmware?: string | null;
  /** The hypervisor supports guest ACPI (default false: Debian's Xen 4.17 arm64 does not). */
  readonly hostAcpi?: boolean;
  /** Xen >= 4.17 with a standalone virtio-mmio backend (default false). */
  readonly virtioMmioDisks?: boolean;
  /** Give every guest the emulated SBSA UART (`vuart = "sbsa_uart"`); per boot: {@link XenBootRequest.xen}. */
  readonly vuart?: boolean;
  /** Console fed to the analyzer and `onLine` (default `pv`; `vuart` needs the vuart). */
  readonly primaryConsole?: XenConsoleType;
  /** Domain names are `<prefix>-<10 hex>` (default `bootfarm`). */
  readonly domainNamePrefix?: string;
  /** Limit for each short xl command (create, unpause, list, destroy), default 60 s. */
  readonly xlTimeoutMs?: number;
  /** How often `xl list <name>` checks whether the domain is still there (default 1000 ms). */
  readonly pollIntervalMs?: number;
  /** Pause between attaching the consoles and unpausing the domain (default 300 ms). */
  readonly consoleAttachMs?: number;
  readonly maxRawConsoleBytes?: number;
  readonly maxLineBytes?: number;
  /** A partial line (a prompt) is delivered after this much quiet (default 300 ms). */
  readonly partialLineFlushMs?: number;
  /** Environment of every xl and qemu-img process (default: PATH and LC_ALL only). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Per-boot Xen settings on top of {@link BootRequest}. */
export interface XenBootRequest extends BootRequest {
  readonly xen?: {
    readonly vuart?: boolean;
    readonly primaryConsole?: XenConsoleType;
    /** Fixed domain name (default: generated, unique). */
    readonly domainName?: string;
  };
}

/** The other console's capture (the one not fed to the analyzer), bounded. */
export interface XenSecondaryConsole {
  readonly type: XenConsoleType;
  readonly bytes: number;
  readonly lineCount: number;
  /** Its first lines (at most 2000). */
  readonly lines: readonly ConsoleLine[];
}

/** Xen-specific facts of a boot. */
export interface XenBootDetails {
  readonly domainName: string;
  /** From `xl domid` after `xl create`; null if unknown. */
  readonly domid: number | null;
  /** The exact xl configuration used. */
  readonly config: string;
  readonly primaryConsole: XenConsoleType;
  readonly vuart: boolean;
  readonly secondaryConsole: XenSecondaryConsole | null;
  /** How the domain ended: by itself (power-off / reboot → destroyed by Xen), crashed, destroyed by the launcher, or never created. */
  readonly domainEnd: 'powered_off' | 'crashed' | 'destroyed' | 'never_created';
  /** Every xl command the boot ran, in order, with its exit status. */
  readonly xlCommands: ReadonlyArray<{ readonly argv: readonly string[]; readonly code: number | null; readonly durationMs: number }>;
}

/** A {@link BootReport} with the Xen details. */
export interface XenBootReport extends BootReport {
  readonly xen: XenBootDetails;
}

/** What is applied around a Xen boot (the guest is isolated by the hypervisor, not by process limits). */
export interface XenContainmentRecord {
  readonly isolation: 'xen-domain';
  /** The xl console helpers lead their own process groups, SIGKILLed on every stop path. */
  readonly ownProcessGroup: true;
  /** Not applicable: the domain outlives a dead worker until `xl destroy` (reaper: domains named `<prefix>-*`). */
  readonly parentDeathSignal: 'none';
  readonly noNewPrivileges: false;
  readonly runAs: null;
  /** No process rlimits: memory and vCPUs are enforced by Xen (`memory`/`maxmem`, `vcpus`). */
  readonly rlimits: null;
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly sandbox: 'none';
  /** No `vif`. */
  readonly network: 'none';
  readonly qmp: 'none';
  readonly environment: readonly string[];
}

interface XenConfig {
  readonly xl: string;
  readonly qemuImg: string;
  readonly edk2Firmware: string | null;
  readonly ubootFirmware: string | null;
  readonly caps: XenHostCapabilities;
  readonly vuart: boolean;
  readonly primaryConsole: XenConsoleType;
  readonly domainNamePrefix: string;
  readonly xlTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly consoleAttachMs: number;
  readonly maxRawConsoleBytes: number | undefined;
  readonly maxLineBytes: number | undefined;
  readonly partialLineFlushMs: number;
  readonly env: Readonly<Record<string, string>>;
}

/** After a crash is seen, how long console output may still arrive. */
const CRASH_DRAIN_MS = 300;
/** Limit of one `xl list` poll. */
const POLL_TIMEOUT_MS = 10_000;
const SECONDARY_LINES_KEPT = 2000;
const PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$/;

/** Boots images as Xen arm64 domUs through `xl` (id `xen`). */
export class XenLauncher implements BootBackend {
  /** This backend's id. */
  readonly id = BackendId.Xen;
  private readonly config: XenConfig;
  private readonly hasher = new FileHasher();

  constructor(options: XenLauncherOptions = {}) {
    const edk2Firmware = options.edk2Firmware === undefined ? defaultXenPaths.edk2Firmware : options.edk2Firmware;
    const ubootFirmware = options.ubootFirmware ?? null;
    const prefix = options.domainNamePrefix ?? 'bootfarm';
    if (!PREFIX_PATTERN.test(prefix)) throw new BootRequestInvalidError([`domainNamePrefix must match ${PREFIX_PATTERN}`]);
    const pathProblems = [
      ...(edk2Firmware === null ? [] : xlPathProblems('edk2Firmware', edk2Firmware)),
      ...(ubootFirmware === null ? [] : xlPathProblems('ubootFirmware', ubootFirmware)),
    ];
    if (pathProblems.length > 0) throw new BootRequestInvalidError(pathProblems);
    this.config = {
      xl: options.xl ?? defaultXenPaths.xl,
      qemuImg: options.qemuImg ?? defaultXenPaths.qemuImg,
      edk2Firmware,
      ubootFirmware,
      caps: {
        acpi: options.hostAcpi ?? false,
        edk2Firmware: edk2Firmware !== null,
        ubootFirmware: ubootFirmware !== null,
        virtioMmioDisks: options.virtioMmioDisks ?? false,
      },
      vuart: options.vuart ?? false,
      primaryConsole: options.primaryConsole ?? 'pv',
      domainNamePrefix: prefix,
      xlTimeoutMs: options.xlTimeoutMs ?? 60_000,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      consoleAttachMs: options.consoleAttachMs ?? 300,
      maxRawConsoleBytes: options.maxRawConsoleBytes,
      maxLineBytes: options.maxLineBytes,
      partialLineFlushMs: options.partialLineFlushMs ?? 300,
      env: options.env ?? defaultChildEnv,
    };
  }

  /** The host capabilities this launcher was configured with. */
  get capabilities(): XenHostCapabilities {
    return this.config.caps;
  }

  /** Why this backend cannot run `profile` on this host (empty when it can). */
  unsupportedReasons(profile: VmProfile): readonly string[] {
    return xenUnsupportedReasons(profile, this.config.caps);
  }

  /**
   * Runs one boot. Always settles with a report (xl missing or `xl create` failing are
   * `infrastructure_error`); every path after `xl create` ends with `xl destroy`, and the work
   * dir is removed. Rejects only for an unusable request.
   */
  async boot(request: XenBootRequest): Promise<XenBootReport> {
    const startedAt = performance.now();
    const unsupported = this.unsupportedReasons(request.profile);
    if (unsupported.length > 0) throw new ProfileNotSupportedError(this.id, unsupported);
    const vuart = request.xen?.vuart ?? this.config.vuart;
    const primary = request.xen?.primaryConsole ?? this.config.primaryConsole;
    const name = request.xen?.domainName ?? `${this.config.domainNamePrefix}-${randomBytes(5).toString('hex')}`;
    validateRequest(request, { vuart, primary, name });
    const firmware = request.profile.firmware === 'u-boot' ? this.config.ubootFirmware! : this.config.edk2Firmware!;
    return new XenBootSession(this.config, this.hasher, request, startedAt, { name, vuart, primary, firmware }).run();
  }
}

function validateRequest(r: XenBootRequest, x: { vuart: boolean; primary: XenConsoleType; name: string }): void {
  // The overlay path goes into domain.cfg: the work dir must be writable there.
  const problems = bootRequestProblems(r, (workDir) => xlPathProblems('workDir', workDir));
  if (!isValidDomainName(x.name)) problems.push(`xen.domainName must match ${domainNamePattern}`);
  if (x.primary !== 'pv' && x.primary !== 'vuart') problems.push(`primaryConsole must be pv or vuart, not ${String(x.primary)}`);
  if (x.primary === 'vuart' && !x.vuart) problems.push('primaryConsole vuart needs the vuart (xen.vuart or the vuart option)');
  if (problems.length > 0) throw new BootRequestInvalidError(problems);
}

/** `domain.cfg` and `overlay.qcow2` inside the work dir. */
export function xenWorkDirLayout(workDir: string): { readonly config: string; readonly overlay: string } {
  return { config: path.join(workDir, 'domain.cfg'), overlay: path.join(workDir, 'overlay.qcow2') };
}

interface ConsoleProc {
  readonly type: XenConsoleType;
  readonly child: ChildProcess;
  closed: boolean;
  stderr: string;
  /** How it ended, once closed. */
  exit: string | null;
}

/** One boot's state, from preparation to teardown. */
class XenBootSession {
  private readonly workDir: BootWorkDir;
  private readonly layout: { readonly config: string; readonly overlay: string };
  private readonly configText: string;
  private readonly overlayArgv: string[];
  private readonly command: BootCommand;
  private readonly containment: XenContainmentRecord;
  private readonly silenceMs: number;
  private readonly console: BootConsole;
  private readonly secondaryCapture: ConsoleCapture;
  private readonly secondaryLines: ConsoleLine[] = [];
  private readonly warnings: string[] = [];
  private readonly xlLog: Array<{ argv: readonly string[]; code: number | null; durationMs: number }> = [];
  private readonly prepAbort = new AbortController();
  private readonly timers = new SessionTimers();
  private readonly name: string;
  private readonly vuart: boolean;
  private readonly primary: XenConsoleType;
  private readonly firmwarePath: string;

  private firmware: FirmwareRecord;
  private createAttempted = false;
  private domid: number | null = null;
  private running = false;
  /** `xl unpause` was sent: a console closing now is a short boot, decided once unpause returns. */
  private unpauseSent = false;
  private t0 = 0;
  private cause: BootEndCause | null = null;
  private endAtMs: number | null = null;
  private setupFailure: SetupFailure | null = null;
  /** The domain went away (or crashed) by itself. */
  private domainEnded: { offsetMs: number; crashed: boolean; state: string | null } | null = null;
  private consoleFailure: string | null = null;
  private consoles: ConsoleProc[] = [];
  private stderr = '';
  private finished = false;
  private finishRun: (() => void) | null = null;
  private polling = false;
  /** Polls still running: teardown waits for them, so no xl process outlives boot(). */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly config: XenConfig,
    private readonly hasher: FileHasher,
    private readonly request: XenBootRequest,
    private readonly startedAt: number,
    x: { name: string; vuart: boolean; primary: XenConsoleType; firmware: string },
  ) {
    this.name = x.name;
    this.vuart = x.vuart;
    this.primary = x.primary;
    this.firmwarePath = x.firmware;
    this.workDir = new BootWorkDir(path.resolve(request.workDir), this.warnings);
    this.layout = xenWorkDirLayout(this.workDir.path);
    const image = { path: path.resolve(request.image.path), format: request.image.format };
    this.configText = buildXlConfig({
      name: this.name,
      profile: request.profile,
      firmwarePath: this.firmwarePath,
      overlayPath: this.layout.overlay,
      imagePath: image.path,
      vuart: this.vuart,
    });
    this.overlayArgv = buildOverlayCommand(image, this.layout.overlay, config.qemuImg);
    const argv = [config.xl, 'create', '-p', this.layout.config];
    const consoles = this.consoleTypes.map((t) => shellJoin([config.xl, 'console', '-t', t, this.name]));
    this.command = {
      argv,
      shell: shellJoin(argv),
      launchArgv: argv,
      overlayArgv: this.overlayArgv,
      reproduce: [
        shellJoin(['mkdir', '-p', '-m', '700', this.workDir.path]),
        shellJoin(this.overlayArgv),
        `cat > ${shellJoin([this.layout.config])} <<'BOOTFARM_XL_CFG'`,
        this.configText.trimEnd(),
        'BOOTFARM_XL_CFG',
        shellJoin(argv),
        `${consoles[0]}   # primary console; in a second terminal:${consoles[1] ? ` ${consoles[1]}` : ''}`,
        shellJoin([config.xl, 'unpause', this.name]),
        `${shellJoin([config.xl, 'destroy', this.name])}   # when done`,
      ].join('\n'),
    };
    this.containment = {
      isolation: 'xen-domain',
      ownProcessGroup: true,
      parentDeathSignal: 'none',
      noNewPrivileges: false,
      runAs: null,
      rlimits: null,
      memoryMiB: request.profile.memoryMiB,
      vcpus: request.profile.cpus,
      sandbox: 'none',
      network: 'none',
      qmp: 'none',
      environment: Object.keys(config.env),
    };
    this.firmware = { codePath: this.firmwarePath, codeSha256: null, varsTemplatePath: '', varsTemplateSha256: null };
    this.silenceMs = silenceLimitMs(request);
    const capture = {
      now: () => performance.now() - this.t0,
      maxRawConsoleBytes: config.maxRawConsoleBytes,
      maxLineBytes: config.maxLineBytes,
    };
    this.console = new BootConsole({
      ...capture,
      request,
      partialLineFlushMs: config.partialLineFlushMs,
      warnings: this.warnings,
      onDecision: (cause) => this.end(cause),
    });
    this.secondaryCapture = new ConsoleCapture(captureOptions(capture));
  }

  /** Primary console first. */
  private get consoleTypes(): XenConsoleType[] {
    if (!this.vuart) return ['pv'];
    return this.primary === 'vuart' ? ['vuart', 'pv'] : ['pv', 'vuart'];
  }

  async run(): Promise<XenBootReport> {
    await runBootFrame({
      request: this.request,
      startedAt: this.startedAt,
      timers: this.timers,
      onAbort: () => this.abort(),
      onDeadline: () => this.onDeadline(),
      abortedBeforeStart: () => (this.cause = 'aborted'),
      body: async () => {
        await this.prepare();
        if (!this.stopped) await this.createDomain();
        if (!this.stopped) await this.runDomain();
      },
      onUnexpectedError: (message) => this.failSetup('host_setup_failed', message),
      cleanup: () => this.teardown(),
    });
    return this.report();
  }

  // ---- preparation -------------------------------------------------------------------------

  private failSetup(failureClass: FailureClass, message: string): void {
    if (this.cause !== null) return;
    this.setupFailure = { failureClass, message };
    this.cause = 'setup_failed';
    this.endAtMs = this.offsetNow();
  }

  /** Records the failure of a shared preparation step (none: null). */
  private failWith(failure: SetupFailure | null): void {
    if (failure) this.failSetup(failure.failureClass, failure.message);
  }

  private get stopped(): boolean {
    return this.cause !== null;
  }

  private async prepare(): Promise<void> {
    this.failWith(await this.workDir.create());
    if (this.stopped) return;
    await this.checkFirmware();
    if (this.stopped) return;
    this.failWith(await checkBootImage(this.request.image));
    if (this.stopped) return;
    await this.createOverlay();
    if (this.stopped) return;
    try {
      await writeFile(this.layout.config, this.configText, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      this.failSetup('host_setup_failed', `Could not write the xl configuration ${this.layout.config}: ${errorMessage(e)}.`);
    }
  }

  private async checkFirmware(): Promise<void> {
    try {
      const sha = await this.hasher.sha256(this.firmwarePath);
      this.firmware = { ...this.firmware, codeSha256: sha };
    } catch (e) {
      this.failSetup('qemu_start_failed', `The Xen guest firmware ${this.firmwarePath} cannot be read (${errorMessage(e)}).`);
    }
  }

  private async createOverlay(): Promise<void> {
    const [bin, ...args] = this.overlayArgv as [string, ...string[]];
    // Same runner as xl: own process group, timeout, abort, capped output.
    const r = await runXl(bin, args, { env: this.config.env, cwd: this.workDir.path, timeoutMs: QEMU_IMG_TIMEOUT_MS, signal: this.prepAbort.signal });
    if (this.stopped) return;
    this.failWith(overlayFailure({ error: r.spawnError, code: r.code, signal: r.signal, timedOut: r.timedOut, output: `${r.stderr}${r.stdout}` }));
  }

  private async xl(args: readonly string[], withAbort: boolean, timeoutMs = this.config.xlTimeoutMs): Promise<XlRunResult> {
    const r = await runXl(this.config.xl, args, {
      env: this.config.env,
      cwd: this.workDir.path,
      timeoutMs,
      ...(withAbort ? { signal: this.prepAbort.signal } : {}),
    });
    this.xlLog.push({ argv: r.argv, code: r.code, durationMs: r.durationMs });
    return r;
  }

  private noteStderr(text: string): void {
    if (text && this.stderr.length < STDERR_CAP) this.stderr += text.slice(0, STDERR_CAP - this.stderr.length);
  }

  /** `xl create -p`: the domain exists, paused, when this succeeds. */
  private async createDomain(): Promise<void> {
    const r = await this.xl(['create', '-p', this.layout.config], true);
    this.createAttempted = r.spawnError === null;
    this.noteStderr(r.stderr);
    if (this.stopped) return;
    if (r.spawnError) {
      this.failSetup('host_setup_failed', `The Xen toolstack is not usable: ${describeXlFailure(r)}.`);
      return;
    }
    if (r.code !== 0) {
      this.failSetup('qemu_start_failed', `Xen could not create the domain: ${describeXlFailure(r)}.`);
      return;
    }
    const id = await this.xl(['domid', this.name], true);
    if (this.stopped) return;
    const n = Number(id.stdout.trim());
    if (id.code === 0 && Number.isInteger(n)) this.domid = n;
    else this.warnings.push(`Could not read the domain id: ${describeXlFailure(id)}`);
  }

  // ---- running the domain ------------------------------------------------------------------

  private offsetNow(): number | null {
    return this.running ? Math.floor(performance.now() - this.t0) : null;
  }

  private async runDomain(): Promise<void> {
    this.t0 = performance.now();
    for (const type of this.consoleTypes) {
      const proc = this.spawnConsole(type);
      if (!proc) return;
    }
    await new Promise((r) => setTimeout(r, this.config.consoleAttachMs));
    if (this.stopped) return;
    this.t0 = performance.now();
    this.unpauseSent = true;
    const r = await this.xl(['unpause', this.name], true);
    this.noteStderr(r.stderr);
    if (this.stopped) return;
    if (r.code !== 0) {
      this.failSetup('qemu_start_failed', `Xen could not start the domain: ${describeXlFailure(r)}.`);
      return;
    }
    this.running = true;
    const done = new Promise<void>((resolve) => (this.finishRun = resolve));
    this.resetSilenceTimer();
    this.timers.every(this.config.pollIntervalMs, () => void this.poll());
    const primary = this.consoles[0]!;
    try {
      this.request.onStart?.({ pid: primary.child.pid!, command: this.command });
    } catch (e) {
      this.warnings.push(`onStart threw: ${errorMessage(e)}`);
    }
    if (primary.closed) void this.onPrimaryClosed(primary);
    await done;
  }

  private spawnConsole(type: XenConsoleType): ConsoleProc | null {
    const child = spawn(this.config.xl, ['console', '-t', type, this.name], {
      detached: true,
      // stdin stays an open pipe: xenconsole ends its session when stdin reaches EOF.
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...this.config.env },
      cwd: this.workDir.path,
    });
    const proc: ConsoleProc = { type, child, closed: false, stderr: '', exit: null };
    if (child.pid === undefined) {
      this.failSetup('host_setup_failed', `Could not execute ${this.config.xl} console.`);
      child.on('error', () => undefined);
      return null;
    }
    this.consoles.push(proc);
    const isPrimary = this.consoles.length === 1;
    child.on('error', (e) => this.warnings.push(`xl console -t ${type}: ${e.message}`));
    child.stdin?.on('error', () => undefined);
    child.stdout!.on('data', (chunk: Buffer) => (isPrimary ? this.onConsole(chunk) : this.onSecondary(chunk)));
    child.stderr!.on('data', (d: Buffer) => {
      if (proc.stderr.length < 4096) proc.stderr += d.toString('utf8');
    });
    child.on('close', (code, signal) => {
      proc.closed = true;
      if (code !== 0 && !this.finished) this.noteStderr(proc.stderr);
      if (isPrimary) {
        proc.exit = signal ? `killed by ${signal}` : `exit status ${code}`;
        void this.onPrimaryClosed(proc);
      } else if (!this.finished && this.running) {
        for (const line of this.secondaryCapture.flush('eof')) this.keepSecondary(line);
      }
    });
    return proc;
  }

  private onConsole(chunk: Buffer): void {
    if (this.finished) return;
    this.console.noteOutput(this.offsetNow() ?? 0);
    this.resetSilenceTimer();
    this.console.write(chunk);
  }

  private onSecondary(chunk: Buffer): void {
    if (this.finished) return;
    this.resetSilenceTimer();
    for (const line of this.secondaryCapture.write(chunk)) this.keepSecondary(line);
  }

  private keepSecondary(line: ConsoleLine): void {
    if (this.secondaryLines.length < SECONDARY_LINES_KEPT) this.secondaryLines.push(line);
  }

  /** The primary console ended: the domain went away, or the console helper died. */
  private async onPrimaryClosed(proc: ConsoleProc): Promise<void> {
    if (this.finished) this.console.stopPartialFlush();
    else this.console.close();
    if (this.finished || !this.running) {
      if (!this.running && !this.stopped && !this.unpauseSent) {
        this.failSetup('qemu_start_failed', `xl console -t ${proc.type} ended before the domain started: ${stderrSummary(proc.stderr) || 'no message'}.`);
      }
      return;
    }
    if (this.cause !== null) {
      // Draining after a decision: note whether the domain went away by itself, then stop.
      if (this.domainEnded === null) await this.poll(true);
      this.finish();
      return;
    }
    if (this.domainEnded === null) await this.poll(true);
    if (this.finished || this.cause !== null) {
      if (!this.finished && this.domainEnded) this.finish();
      return;
    }
    if (this.domainEnded) {
      this.end('exited');
    } else {
      const how = proc.exit ?? 'ended';
      this.consoleFailure = `xl console -t ${proc.type} ended (${how}) while the domain was still running${proc.stderr.trim() ? `: ${stderrSummary(proc.stderr)}` : ''}`;
      this.end('exited');
    }
  }

  /** `xl list <name>`: notices the domain going away (power-off, reboot) or crashing. */
  private poll(force = false): Promise<void> {
    if ((this.polling && !force) || this.finished || this.domainEnded) return Promise.resolve();
    const p = this.pollOnce();
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  private async pollOnce(): Promise<void> {
    this.polling = true;
    try {
      const r = await this.xl(['list', this.name], false, POLL_TIMEOUT_MS);
      if (this.finished || this.domainEnded) return;
      if (r.spawnError || r.timedOut) {
        this.warnings.push(`Polling the domain failed: ${describeXlFailure(r)}`);
        return;
      }
      const at = this.offsetNow() ?? 0;
      if (r.code !== 0) {
        this.domainEnded = { offsetMs: at, crashed: false, state: null };
      } else {
        const entry = parseXlList(r.stdout, this.name);
        if (entry && isCrashedState(entry.state)) this.domainEnded = { offsetMs: at, crashed: true, state: entry.state };
        else if (!entry) this.domainEnded = { offsetMs: at, crashed: false, state: null };
      }
      if (this.domainEnded) this.onDomainEnded();
    } catch (e) {
      this.warnings.push(`Polling the domain failed: ${errorMessage(e)}`);
    } finally {
      this.polling = false;
    }
  }

  private onDomainEnded(): void {
    if (this.finished) return;
    if (this.cause !== null) {
      if (this.cause === 'marker') this.finishAfterDrain();
      return;
    }
    if (this.domainEnded!.crashed || this.consoles[0]!.closed) {
      this.end('exited');
      return;
    }
    // Output may still be on its way through xenconsoled: decide once the console closes.
    this.timers.after(CLOSE_WAIT_MS, () => {
      if (this.cause === null) this.end('exited');
      else this.finish();
    });
  }

  // ---- stopping ----------------------------------------------------------------------------

  private end(cause: BootEndCause): void {
    if (this.cause !== null) return;
    this.cause = cause;
    this.endAtMs = this.offsetNow();
    this.timers.clearRun();
    if (cause === 'marker') {
      if (this.domainEnded) {
        this.finishAfterDrain();
      } else {
        // Let the guest power off by itself (the probe does at once); then destroy it.
        this.timers.after(this.request.markerGraceMs ?? DEFAULT_MARKER_GRACE_MS, () => this.finish());
        // Poll faster during the grace period.
        this.timers.every(Math.min(this.config.pollIntervalMs, 250), () => void this.poll());
      }
    } else if (cause === 'exited') {
      this.finishAfterDrain();
    } else {
      this.finish();
    }
  }

  private finishAfterDrain(): void {
    if (this.consoles[0]?.closed !== false) this.finish();
    // A crashed domain is kept (on_crash=preserve), so its console never closes: short drain only.
    else this.timers.after(this.domainEnded?.crashed ? CRASH_DRAIN_MS : CLOSE_WAIT_MS, () => this.finish());
  }

  /** Stops watching; teardown kills the consoles and destroys the domain. */
  private finish(): void {
    if (this.finished) return;
    this.console.close();
    this.finished = true;
    this.finishRun?.();
  }

  private abort(): void {
    if (!this.running) {
      if (this.cause === null) this.cause = 'aborted';
      this.prepAbort.abort();
      return;
    }
    if (this.cause === null) this.end('aborted');
    else this.finish(); // e.g. during the post-marker grace: the verdict stands, stop now
  }

  private onDeadline(): void {
    if (!this.running) {
      this.failSetup('host_setup_failed', `Preparing and starting the domain took longer than the ${this.request.timeoutMs} ms time limit.`);
      this.prepAbort.abort();
      return;
    }
    this.end('timeout');
  }

  private resetSilenceTimer(): void {
    if (this.cause !== null || !this.running) return;
    this.timers.resetSilence(this.silenceMs, () => this.end('silence'));
  }

  // ---- teardown and report -----------------------------------------------------------------

  private async teardown(): Promise<void> {
    this.finished = true;
    this.timers.clearAll();
    this.console.stopPartialFlush();
    const exits = this.consoles
      .filter((p) => !p.closed)
      .map((p) => new Promise<void>((r) => (p.child.exitCode !== null || p.child.signalCode !== null ? r() : p.child.once('exit', () => r()))));
    for (const p of this.consoles) killProcessGroup(p.child);
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, CLOSE_WAIT_MS))]);
    await Promise.all([...this.inFlight]);
    if (this.createAttempted) await this.destroyDomain();
    await this.console.saveRaw(this.request.rawConsolePath);
    await this.workDir.remove();
  }

  /** `xl destroy <name>`, exactly once; a domain already gone is fine. */
  private async destroyDomain(): Promise<void> {
    const r = await this.xl(['destroy', this.name], false);
    if (r.code === 0) return;
    const check = await this.xl(['list', this.name], false);
    if (check.code !== 0 && !check.spawnError && !check.timedOut) return; // it was already gone
    this.warnings.push(`xl destroy failed and domain ${this.name} may still exist (the reaper must destroy it): ${describeXlFailure(r)}`);
  }

  private verdict(): BootVerdict {
    const cause: BootEndCause = this.cause ?? 'exited';
    const atMs = this.endAtMs ?? this.domainEnded?.offsetMs ?? null;
    if (cause === 'exited' && this.consoleFailure) {
      return { outcome: 'infrastructure_error', failureClass: 'qemu_crashed', reason: `${this.consoleFailure}.` };
    }
    const { analyzer } = this.console;
    if (cause === 'exited' && this.domainEnded?.crashed) {
      const sig = analyzer.signature;
      return {
        outcome: 'failed',
        failureClass: sig?.failureClass ?? 'powered_off_without_marker',
        reason: `The Xen domain crashed (xl list state ${this.domainEnded.state}) at ${((atMs ?? 0) / 1000).toFixed(2)} s without a success marker (last stage: ${analyzer.stage}${sig ? `; earlier: ${sig.description}` : ''}).`,
      };
    }
    return classifySession(this.console, this.request, {
      cause,
      exit: this.domainEnded ? { code: 0, signal: null } : null,
      stderr: this.stderr,
      atMs,
      setupFailure: this.setupFailure,
    });
  }

  private report(): XenBootReport {
    const verdict = this.verdict();
    const exit: ExitRecord = !this.running
      ? { code: null, signal: null, offsetMs: null, by: 'not_started' }
      : this.domainEnded && !this.domainEnded.crashed
        ? { code: 0, signal: null, offsetMs: this.domainEnded.offsetMs, by: 'self' }
        : { code: null, signal: null, offsetMs: this.endAtMs, by: 'sigkill' }; // 'sigkill' here means `xl destroy`
    const domainEnd: XenBootDetails['domainEnd'] = !this.createAttempted
      ? 'never_created'
      : this.domainEnded && !this.domainEnded.crashed
        ? 'powered_off'
        : this.domainEnded?.crashed
          ? 'crashed'
          : 'destroyed';
    const secondaryType = this.consoleTypes[1];
    return {
      ...assembleBootReport(this.console, {
        backend: BackendId.Xen,
        verdict,
        // Not yet for Xen: phases, normalised signature, deciding line, guest facts.
        analyzerExtras: false,
        startedAt: this.startedAt,
        exit,
        command: this.command,
        firmware: this.firmware,
        // The shared ContainmentRecord describes QEMU's process containment; a Xen guest is
        // contained by the hypervisor instead. Stored as evidence JSON, so record the truth.
        containment: this.containment as unknown as ContainmentRecord,
        stderr: this.stderr,
        warnings: this.warnings,
      }),
      xen: {
        domainName: this.name,
        domid: this.domid,
        config: this.configText,
        primaryConsole: this.primary,
        vuart: this.vuart,
        secondaryConsole: secondaryType
          ? { type: secondaryType, bytes: this.secondaryCapture.totalBytes, lineCount: this.secondaryCapture.lineCount, lines: this.secondaryLines }
          : null,
        domainEnd,
        xlCommands: this.xlLog,
      },
    };
  }
}
