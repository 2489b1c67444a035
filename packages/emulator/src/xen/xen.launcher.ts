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
import { access, chmod, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
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
import { BootConsoleAnalyzer } from '../boot-console.analyzer.js';
import { classifyBootEnd, stderrSummary, type BootEndCause, type BootVerdict } from '../boot-outcome.classifier.js';
import { ConsoleCapture } from '../console.capture.js';
import { BootRequestInvalidError, ProfileNotSupportedError } from '../emulator.errors.js';
import { FileHasher } from '../file.hasher.js';
import { imageHeaderProblems } from '../image-header.guard.js';
import { buildOverlayCommand, shellJoin } from '../qemu-command.builder.js';
import { defaultChildEnv, defaultSuccessMarkers } from '../qemu.launcher.js';
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

const DEFAULT_SILENCE_MS = 30_000;
const DEFAULT_MARKER_GRACE_MS = 3000;
const CLOSE_WAIT_MS = 2000;
/** After a crash is seen, how long console output may still arrive. */
const CRASH_DRAIN_MS = 300;
const STDERR_CAP = 16 * 1024;
const QEMU_IMG_TIMEOUT_MS = 30_000;
/** Limit of one `xl list` poll. */
const POLL_TIMEOUT_MS = 10_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
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
  const problems: string[] = [];
  if (!r.image || typeof r.image.path !== 'string' || !path.isAbsolute(r.image.path)) problems.push('image.path must be an absolute path');
  if (r.image && r.image.format !== 'raw' && r.image.format !== 'qcow2') problems.push(`image.format must be raw or qcow2, not ${String(r.image.format)}`);
  if (typeof r.workDir !== 'string' || !path.isAbsolute(r.workDir)) {
    problems.push('workDir must be an absolute path');
  } else {
    if (path.resolve(r.workDir) === path.parse(r.workDir).root) problems.push('workDir must not be the root directory');
    problems.push(...xlPathProblems('workDir', r.workDir)); // the overlay path goes into domain.cfg
    if (r.image && typeof r.image.path === 'string' && isInside(r.image.path, r.workDir)) problems.push('the image must not lie inside workDir');
  }
  const ms = (v: number, min: number): boolean => Number.isFinite(v) && v >= min && v <= MAX_TIMER_MS;
  if (!ms(r.timeoutMs, 1)) problems.push(`timeoutMs must be between 1 and ${MAX_TIMER_MS}`);
  if (r.silenceTimeoutMs !== undefined && !ms(r.silenceTimeoutMs, 1)) problems.push(`silenceTimeoutMs must be between 1 and ${MAX_TIMER_MS}`);
  if (r.markerGraceMs !== undefined && !ms(r.markerGraceMs, 0)) problems.push(`markerGraceMs must be between 0 and ${MAX_TIMER_MS}`);
  if (r.successMarkers !== undefined && !(Array.isArray(r.successMarkers) && r.successMarkers.every((m) => m instanceof RegExp))) problems.push('successMarkers must be an array of RegExp');
  if (r.rawConsolePath !== undefined) {
    if (!path.isAbsolute(r.rawConsolePath)) problems.push('rawConsolePath must be an absolute path');
    else if (typeof r.workDir === 'string' && isInside(r.rawConsolePath, r.workDir)) problems.push('rawConsolePath must lie outside workDir (it is removed)');
  }
  if (!isValidDomainName(x.name)) problems.push(`xen.domainName must match ${domainNamePattern}`);
  if (x.primary !== 'pv' && x.primary !== 'vuart') problems.push(`primaryConsole must be pv or vuart, not ${String(x.primary)}`);
  if (x.primary === 'vuart' && !x.vuart) problems.push('primaryConsole vuart needs the vuart (xen.vuart or the vuart option)');
  if (problems.length > 0) throw new BootRequestInvalidError(problems);
}

function isInside(file: string, dir: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(file));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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
  private readonly workDir: string;
  private readonly layout: { readonly config: string; readonly overlay: string };
  private readonly configText: string;
  private readonly overlayArgv: string[];
  private readonly command: BootCommand;
  private readonly containment: XenContainmentRecord;
  private readonly silenceMs: number;
  private readonly capture: ConsoleCapture;
  private readonly secondaryCapture: ConsoleCapture;
  private readonly secondaryLines: ConsoleLine[] = [];
  private readonly analyzer: BootConsoleAnalyzer;
  private readonly warnings: string[] = [];
  private readonly xlLog: Array<{ argv: readonly string[]; code: number | null; durationMs: number }> = [];
  private readonly prepAbort = new AbortController();
  private readonly name: string;
  private readonly vuart: boolean;
  private readonly primary: XenConsoleType;
  private readonly firmwarePath: string;

  private firmware: FirmwareRecord;
  private ownsWorkDir = false;
  private createAttempted = false;
  private domid: number | null = null;
  private running = false;
  private t0 = 0;
  private cause: BootEndCause | null = null;
  private endAtMs: number | null = null;
  private setupFailure: { failureClass: FailureClass; message: string } | null = null;
  /** The domain went away (or crashed) by itself. */
  private domainEnded: { offsetMs: number; crashed: boolean; state: string | null } | null = null;
  private consoleFailure: string | null = null;
  private consoles: ConsoleProc[] = [];
  private stderr = '';
  private sawOutput = false;
  private onLineFailures = 0;
  private finished = false;
  private finishRun: (() => void) | null = null;
  private polling = false;
  /** Polls still running: teardown waits for them, so no xl process outlives boot(). */
  private readonly inFlight = new Set<Promise<void>>();

  private deadlineTimer: NodeJS.Timeout | null = null;
  private silenceTimer: NodeJS.Timeout | null = null;
  private partialTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private stopTimers: NodeJS.Timeout[] = [];
  private readonly onAbort = (): void => this.abort();

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
    this.workDir = path.resolve(request.workDir);
    this.layout = xenWorkDirLayout(this.workDir);
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
        shellJoin(['mkdir', '-p', '-m', '700', this.workDir]),
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
    this.analyzer = new BootConsoleAnalyzer({
      markers: request.successMarkers ?? defaultSuccessMarkers,
      stopOnFailureSignature: request.stopOnFailureSignature ?? true,
    });
    this.silenceMs = request.silenceTimeoutMs ?? DEFAULT_SILENCE_MS;
    const captureOptions = {
      now: () => performance.now() - this.t0,
      ...(config.maxRawConsoleBytes === undefined ? {} : { maxRawBytes: config.maxRawConsoleBytes }),
      ...(config.maxLineBytes === undefined ? {} : { maxLineBytes: config.maxLineBytes }),
    };
    this.capture = new ConsoleCapture(captureOptions);
    this.secondaryCapture = new ConsoleCapture(captureOptions);
  }

  /** Primary console first. */
  private get consoleTypes(): XenConsoleType[] {
    if (!this.vuart) return ['pv'];
    return this.primary === 'vuart' ? ['vuart', 'pv'] : ['pv', 'vuart'];
  }

  async run(): Promise<XenBootReport> {
    const signal = this.request.signal;
    if (signal?.aborted) {
      this.cause = 'aborted';
      return this.report();
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    const remaining = this.request.timeoutMs - (performance.now() - this.startedAt);
    this.deadlineTimer = setTimeout(() => this.onDeadline(), Math.max(0, remaining));
    try {
      await this.prepare();
      if (!this.stopped) await this.createDomain();
      if (!this.stopped) await this.runDomain();
    } catch (e) {
      this.failSetup('host_setup_failed', `Unexpected error while running the boot: ${errorMessage(e)}`);
    } finally {
      await this.teardown();
    }
    return this.report();
  }

  // ---- preparation -------------------------------------------------------------------------

  private failSetup(failureClass: FailureClass, message: string): void {
    if (this.cause !== null) return;
    this.setupFailure = { failureClass, message };
    this.cause = 'setup_failed';
    this.endAtMs = this.offsetNow();
  }

  private get stopped(): boolean {
    return this.cause !== null;
  }

  private async prepare(): Promise<void> {
    await this.makeWorkDir();
    if (this.stopped) return;
    await this.checkFirmware();
    if (this.stopped) return;
    await this.checkImage();
    if (this.stopped) return;
    await this.createOverlay();
    if (this.stopped) return;
    try {
      await writeFile(this.layout.config, this.configText, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      this.failSetup('host_setup_failed', `Could not write the xl configuration ${this.layout.config}: ${errorMessage(e)}.`);
    }
  }

  private async makeWorkDir(): Promise<void> {
    try {
      await mkdir(path.dirname(this.workDir), { recursive: true });
      try {
        await mkdir(this.workDir, { mode: 0o700 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const st = await stat(this.workDir);
        if (!st.isDirectory() || (await readdir(this.workDir)).length > 0) {
          this.failSetup('host_setup_failed', `The work dir ${this.workDir} already exists and is not an empty directory.`);
          return;
        }
        await chmod(this.workDir, 0o700);
      }
      this.ownsWorkDir = true;
    } catch (e) {
      this.failSetup('host_setup_failed', `Could not create the work dir ${this.workDir}: ${errorMessage(e)}.`);
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

  private async checkImage(): Promise<void> {
    const p = path.resolve(this.request.image.path);
    try {
      const st = await stat(p);
      if (!st.isFile()) throw new Error('not a regular file');
      await access(p, fsConstants.R_OK);
    } catch (e) {
      this.failSetup('host_setup_failed', `The image ${p} cannot be read: ${errorMessage(e)}.`);
      return;
    }
    try {
      const problems = await imageHeaderProblems(p, this.request.image.format);
      if (problems.length > 0) this.failSetup('image_rejected', `The image was refused before boot: ${problems.join('; ')}.`);
    } catch (e) {
      this.failSetup('host_setup_failed', `The image header of ${p} cannot be read: ${errorMessage(e)}.`);
    }
  }

  private async createOverlay(): Promise<void> {
    const [bin, ...args] = this.overlayArgv as [string, ...string[]];
    // Same runner as xl: own process group, timeout, abort, capped output.
    const r = await runXl(bin, args, { env: this.config.env, cwd: this.workDir, timeoutMs: QEMU_IMG_TIMEOUT_MS, signal: this.prepAbort.signal });
    if (this.stopped) return;
    if (r.spawnError) {
      this.failSetup('host_setup_failed', `Could not run qemu-img to create the overlay: ${r.spawnError.message}.`);
    } else if (r.code !== 0) {
      const why = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`;
      this.failSetup('host_setup_failed', `qemu-img could not create the overlay (${why}): ${`${r.stderr}${r.stdout}`.trim().slice(0, 500)}`);
    }
  }

  private async xl(args: readonly string[], withAbort: boolean, timeoutMs = this.config.xlTimeoutMs): Promise<XlRunResult> {
    const r = await runXl(this.config.xl, args, {
      env: this.config.env,
      cwd: this.workDir,
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
    this.pollTimer = setInterval(() => void this.poll(), this.config.pollIntervalMs);
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
      cwd: this.workDir,
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
    if (!this.sawOutput) {
      this.sawOutput = true;
      this.analyzer.noteOutput(this.capture.lineCount, this.offsetNow() ?? 0);
    }
    this.resetSilenceTimer();
    for (const line of this.capture.write(chunk)) this.onLine(line);
    this.schedulePartialFlush();
  }

  private onSecondary(chunk: Buffer): void {
    if (this.finished) return;
    this.resetSilenceTimer();
    for (const line of this.secondaryCapture.write(chunk)) this.keepSecondary(line);
  }

  private keepSecondary(line: ConsoleLine): void {
    if (this.secondaryLines.length < SECONDARY_LINES_KEPT) this.secondaryLines.push(line);
  }

  private schedulePartialFlush(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = null;
    if (!this.capture.hasPartialLine) return;
    this.partialTimer = setTimeout(() => {
      this.partialTimer = null;
      for (const line of this.capture.flush('idle')) this.onLine(line);
    }, this.config.partialLineFlushMs);
  }

  private onLine(line: ConsoleLine): void {
    const decision = this.analyzer.feed(line);
    if (decision && this.cause === null) this.end(decision);
    const stored = this.capture.forStorage(line);
    if (this.request.onLine && stored) {
      try {
        this.request.onLine(stored);
      } catch (e) {
        if (this.onLineFailures++ === 0) this.warnings.push(`onLine threw (first of possibly several): ${errorMessage(e)}`);
      }
    }
  }

  /** The primary console ended: the domain went away, or the console helper died. */
  private async onPrimaryClosed(proc: ConsoleProc): Promise<void> {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    if (!this.finished) for (const line of this.capture.flush('eof')) this.onLine(line);
    if (this.finished || !this.running) {
      if (!this.running && !this.stopped) {
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
    this.stopTimers.push(
      setTimeout(() => {
        if (this.cause === null) this.end('exited');
        else this.finish();
      }, CLOSE_WAIT_MS),
    );
  }

  // ---- stopping ----------------------------------------------------------------------------

  private end(cause: BootEndCause): void {
    if (this.cause !== null) return;
    this.cause = cause;
    this.endAtMs = this.offsetNow();
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.silenceTimer = null;
    this.deadlineTimer = null;
    if (cause === 'marker') {
      if (this.domainEnded) {
        this.finishAfterDrain();
      } else {
        // Let the guest power off by itself (the probe does at once); then destroy it.
        this.stopTimers.push(setTimeout(() => this.finish(), this.request.markerGraceMs ?? DEFAULT_MARKER_GRACE_MS));
        // Poll faster during the grace period.
        this.stopTimers.push(setInterval(() => void this.poll(), Math.min(this.config.pollIntervalMs, 250)));
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
    else this.stopTimers.push(setTimeout(() => this.finish(), this.domainEnded?.crashed ? CRASH_DRAIN_MS : CLOSE_WAIT_MS));
  }

  /** Stops watching; teardown kills the consoles and destroys the domain. */
  private finish(): void {
    if (this.finished) return;
    if (this.partialTimer) clearTimeout(this.partialTimer);
    for (const line of this.capture.flush('eof')) this.onLine(line);
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
    this.deadlineTimer = null;
    if (!this.running) {
      this.failSetup('host_setup_failed', `Preparing and starting the domain took longer than the ${this.request.timeoutMs} ms time limit.`);
      this.prepAbort.abort();
      return;
    }
    this.end('timeout');
  }

  private resetSilenceTimer(): void {
    if (this.cause !== null || !this.running) return;
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => this.end('silence'), this.silenceMs);
  }

  // ---- teardown and report -----------------------------------------------------------------

  private killConsole(proc: ConsoleProc): void {
    const c = proc.child;
    if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      try {
        c.kill('SIGKILL');
      } catch {
        // gone
      }
    }
  }

  private async teardown(): Promise<void> {
    this.request.signal?.removeEventListener('abort', this.onAbort);
    this.finished = true;
    for (const t of [this.deadlineTimer, this.silenceTimer, this.partialTimer]) if (t) clearTimeout(t);
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const t of this.stopTimers) clearTimeout(t); // clearTimeout also clears intervals
    const exits = this.consoles
      .filter((p) => !p.closed)
      .map((p) => new Promise<void>((r) => (p.child.exitCode !== null || p.child.signalCode !== null ? r() : p.child.once('exit', () => r()))));
    for (const p of this.consoles) this.killConsole(p);
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, CLOSE_WAIT_MS))]);
    await Promise.all([...this.inFlight]);
    if (this.createAttempted) await this.destroyDomain();
    if (this.request.rawConsolePath) {
      try {
        await writeFile(this.request.rawConsolePath, this.capture.raw(), { mode: 0o600 });
      } catch (e) {
        this.warnings.push(`Could not write the raw console to ${this.request.rawConsolePath}: ${errorMessage(e)}`);
      }
    }
    if (this.ownsWorkDir) {
      try {
        await rm(this.workDir, { recursive: true, force: true, maxRetries: 3 });
      } catch (e) {
        this.warnings.push(`Could not remove the work dir ${this.workDir}: ${errorMessage(e)}`);
      }
    }
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
    if (cause === 'exited' && this.domainEnded?.crashed) {
      const sig = this.analyzer.signature;
      return {
        outcome: 'failed',
        failureClass: sig?.failureClass ?? 'powered_off_without_marker',
        reason: `The Xen domain crashed (xl list state ${this.domainEnded.state}) at ${((atMs ?? 0) / 1000).toFixed(2)} s without a success marker (last stage: ${this.analyzer.stage}${sig ? `; earlier: ${sig.description}` : ''}).`,
      };
    }
    return classifyBootEnd({
      cause,
      stage: this.analyzer.stage,
      consoleBytes: this.capture.totalBytes,
      marker: this.analyzer.marker,
      signature: this.analyzer.signature,
      exit: this.domainEnded ? { code: 0, signal: null } : null,
      stderr: this.stderr,
      atMs,
      timeoutMs: this.request.timeoutMs,
      silenceTimeoutMs: this.silenceMs,
      ...(this.setupFailure ? { setupFailure: this.setupFailure } : {}),
    });
  }

  private report(): XenBootReport {
    const verdict = this.verdict();
    const exit: ExitRecord = !this.running
      ? { code: null, signal: null, offsetMs: null, by: 'not_started' }
      : this.domainEnded && !this.domainEnded.crashed
        ? { code: 0, signal: null, offsetMs: this.domainEnded.offsetMs, by: 'self' }
        : { code: null, signal: null, offsetMs: this.endAtMs, by: 'sigkill' }; // 'sigkill' here means `xl destroy`
    const sig = this.analyzer.signature;
    const domainEnd: XenBootDetails['domainEnd'] = !this.createAttempted
      ? 'never_created'
      : this.domainEnded && !this.domainEnded.crashed
        ? 'powered_off'
        : this.domainEnded?.crashed
          ? 'crashed'
          : 'destroyed';
    const secondaryType = this.consoleTypes[1];
    return {
      backend: BackendId.Xen,
      outcome: verdict.outcome,
      failureClass: verdict.failureClass,
      reason: verdict.reason,
      stage: this.analyzer.stage,
      stages: [...this.analyzer.stages],
      marker: this.analyzer.marker,
      failureSignature: sig ? { seq: sig.seq, offsetMs: sig.offsetMs, text: sig.text, pattern: sig.pattern } : null,
      durationMs: Math.round(performance.now() - this.startedAt),
      exit,
      command: this.command,
      firmware: this.firmware,
      // The shared ContainmentRecord describes QEMU's process containment; a Xen guest is
      // contained by the hypervisor instead. Stored as evidence JSON, so record the truth.
      containment: this.containment as unknown as ContainmentRecord,
      lineCount: this.capture.lineCount,
      consoleBytes: this.capture.totalBytes,
      consoleTruncated: this.capture.truncated,
      stderr: this.stderr,
      warnings: this.warnings,
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
