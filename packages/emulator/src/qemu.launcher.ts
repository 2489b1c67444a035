/**
 * The QEMU backends (TCG, and KVM on an arm64 host): boot one image on one `virt` profile
 * (AArch64 or 32-bit ARM, edk2 or U-Boot, ACPI or DT, GICv2/v3, virtio-pci/mmio), contained
 * (setpriv --pdeathsig, prlimit, seccomp sandbox, own process group, no network), through a
 * throwaway overlay and a fresh UEFI varstore, and reports what happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, copyFile, mkdir, readdir, rm, stat, access, writeFile } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  BackendId,
  type BootBackend,
  type BootCommand,
  type BootReport,
  type BootRequest,
  type BootStage,
  type ConsoleLine,
  type ContainmentRecord,
  type ExitRecord,
  type FailureClass,
  type FirmwareRecord,
  type RlimitRecord,
} from './boot.types.js';
import { BootConsoleAnalyzer, consoleSuccessMarkers } from './boot-console.analyzer.js';
import { classifyBootEnd, type BootEndCause } from './boot-outcome.classifier.js';
import { ConsoleCapture } from './console.capture.js';
import { BootRequestInvalidError, ProfileNotSupportedError } from './emulator.errors.js';
import { FileHasher } from './file.hasher.js';
import { imageHeaderProblems } from './image-header.guard.js';
import {
  buildContainmentPrefix,
  buildOverlayCommand,
  buildQemuCommand,
  defaultRlimits,
  qemuSandboxArg,
  shellJoin,
  workDirLayout,
  type WorkDirLayout,
} from './qemu-command.builder.js';
import { QmpClient } from './qmp.client.js';
import type { VmProfile } from './vm.profile.js';
import {
  defaultFirmwareCatalog,
  defaultQemuSystemBinaries,
  firmwareCatalog,
  firmwareFor,
  type FirmwareCatalog,
  type FirmwareFiles,
  type FirmwareKey,
} from './firmware.catalog.js';
import type { HostCapabilities } from './capability.probe.js';
import { explainProfile } from './profile.validator.js';

/**
 * Markers that pass a boot when the request names none: the probe's verdict, Bootfarm's
 * guest agent being ready, and a getty login prompt — each only at the start of a line, so a
 * guest cannot pass by echoing a marker in the middle of other output.
 */
export const defaultSuccessMarkers: readonly RegExp[] = consoleSuccessMarkers;

/**
 * Default tool and AArch64 edk2 paths (Debian packages qemu-system-arm, qemu-utils,
 * qemu-efi-aarch64, util-linux). The other firmware is in {@link defaultFirmwareCatalog}.
 */
export const defaultQemuPaths = Object.freeze({
  qemuSystem: '/usr/bin/qemu-system-aarch64',
  qemuSystemArm: '/usr/bin/qemu-system-arm',
  qemuImg: '/usr/bin/qemu-img',
  setpriv: '/usr/bin/setpriv',
  prlimit: '/usr/bin/prlimit',
  firmwareCode: '/usr/share/AAVMF/AAVMF_CODE.fd',
  firmwareVarsTemplate: '/usr/share/AAVMF/AAVMF_VARS.fd',
});

/** The only environment QEMU and qemu-img get: never the worker's (it holds secrets). */
export const defaultChildEnv: Readonly<Record<string, string>> = Object.freeze({
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LC_ALL: 'C',
});

/** Options of {@link QemuLauncher}; every path is injectable, nothing is read from the environment. */
export interface QemuLauncherOptions {
  /**
   * Which backend this launcher is: `qemu-tcg` (default) runs `accel: 'tcg'` profiles,
   * `qemu-kvm` runs `accel: 'kvm'` profiles (`-M virt,accel=kvm -cpu host`) and needs `host`.
   */
  readonly backend?: 'qemu-tcg' | 'qemu-kvm';
  /**
   * The host's capabilities ({@link probeHostCapabilities}). When given, profiles the host
   * cannot run (missing QEMU or firmware, no usable /dev/kvm) are refused up front with the
   * validator's reasons; without it only the profile itself is checked.
   */
  readonly host?: HostCapabilities | null;
  /** qemu-system-aarch64 (aarch64 guests). */
  readonly qemuSystem?: string;
  /** qemu-system-arm (32-bit ARM guests). */
  readonly qemuSystemArm?: string;
  readonly qemuImg?: string;
  readonly setpriv?: string;
  readonly prlimit?: string;
  /** Replacements for entries of the firmware catalogue ({@link defaultFirmwareCatalog}). */
  readonly firmware?: Partial<Record<FirmwareKey, FirmwareFiles>>;
  /** AArch64 edk2 code (read-only pflash); shorthand for `firmware['aarch64/edk2'].code`. */
  readonly firmwareCode?: string;
  /** AArch64 edk2 vars template, copied fresh for every boot; shorthand for `firmware['aarch64/edk2'].varsTemplate`. */
  readonly firmwareVarsTemplate?: string;
  /**
   * Run QEMU and qemu-img as this uid/gid (no supplementary groups). Recommended in production
   * when the worker runs as root; the image and firmware must then be readable by that uid.
   */
  readonly runAs?: { readonly uid: number; readonly gid: number } | null;
  /** Overrides of the per-profile resource limits. */
  readonly rlimits?: Partial<RlimitRecord>;
  /** Raw console bytes kept per boot (default 8 MiB). */
  readonly maxRawConsoleBytes?: number;
  /** Longest console line record, raw bytes (default 4096). */
  readonly maxLineBytes?: number;
  /** A partial line (a prompt) is delivered after this much quiet (default 300 ms). */
  readonly partialLineFlushMs?: number;
  /** After QMP `quit`, how long before SIGKILL (default 1500 ms). */
  readonly quitGraceMs?: number;
  /** Environment for QEMU and qemu-img (default {@link defaultChildEnv}). */
  readonly env?: Readonly<Record<string, string>>;
}

interface LauncherConfig {
  readonly backend: 'qemu-tcg' | 'qemu-kvm';
  readonly host: HostCapabilities | null;
  readonly qemuSystem: { readonly aarch64: string; readonly arm: string };
  readonly qemuImg: string;
  readonly setpriv: string;
  readonly prlimit: string;
  readonly firmware: FirmwareCatalog;
  readonly runAs: { readonly uid: number; readonly gid: number } | null;
  readonly rlimits: Partial<RlimitRecord>;
  readonly maxRawConsoleBytes: number | undefined;
  readonly maxLineBytes: number | undefined;
  readonly partialLineFlushMs: number;
  readonly quitGraceMs: number;
  readonly env: Readonly<Record<string, string>>;
}

const DEFAULT_SILENCE_MS = 30_000;
const DEFAULT_MARKER_GRACE_MS = 3000;
const CLOSE_WAIT_MS = 2000;
const STDERR_CAP = 16 * 1024;
const QEMU_IMG_TIMEOUT_MS = 30_000;
/** If QEMU has not exited this long after SIGKILL (stuck in the kernel), stop waiting for it. */
const KILL_WAIT_MS = 10_000;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** sun_path is 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Boots images under QEMU (`qemu-system-aarch64` / `qemu-system-arm -M virt`) with edk2 or
 * U-Boot, under TCG or (backend `qemu-kvm`) KVM.
 */
export class QemuLauncher implements BootBackend {
  /** This backend's id: `qemu-tcg` (default) or `qemu-kvm`. */
  readonly id: 'qemu-tcg' | 'qemu-kvm';
  private readonly config: LauncherConfig;
  private readonly hasher = new FileHasher();

  constructor(options: QemuLauncherOptions = {}) {
    const aa64Edk2 = defaultFirmwareCatalog['aarch64/edk2'] as Extract<FirmwareFiles, { kind: 'pflash' }>;
    const edk2Override = options.firmware?.['aarch64/edk2'];
    const baseAa64 = edk2Override?.kind === 'pflash' ? edk2Override : aa64Edk2;
    const firmware = firmwareCatalog({
      ...options.firmware,
      ...(options.firmwareCode !== undefined || options.firmwareVarsTemplate !== undefined
        ? {
            'aarch64/edk2': {
              kind: 'pflash',
              code: options.firmwareCode ?? baseAa64.code,
              varsTemplate: options.firmwareVarsTemplate ?? baseAa64.varsTemplate,
            },
          }
        : {}),
    });
    this.id = options.backend ?? BackendId.QemuTcg;
    this.config = {
      backend: this.id,
      host: options.host ?? null,
      qemuSystem: {
        aarch64: options.qemuSystem ?? defaultQemuSystemBinaries.aarch64,
        arm: options.qemuSystemArm ?? defaultQemuSystemBinaries.arm,
      },
      qemuImg: options.qemuImg ?? defaultQemuPaths.qemuImg,
      setpriv: options.setpriv ?? defaultQemuPaths.setpriv,
      prlimit: options.prlimit ?? defaultQemuPaths.prlimit,
      firmware,
      runAs: options.runAs ?? null,
      rlimits: options.rlimits ?? {},
      maxRawConsoleBytes: options.maxRawConsoleBytes,
      maxLineBytes: options.maxLineBytes,
      partialLineFlushMs: options.partialLineFlushMs ?? 300,
      quitGraceMs: options.quitGraceMs ?? 1500,
      env: options.env ?? defaultChildEnv,
    };
  }

  /**
   * Why this backend cannot run `profile` on this host (empty when it can): the blocking
   * sentences of {@link explainProfile} (informational ones are left out).
   */
  unsupportedReasons(profile: VmProfile): readonly string[] {
    const verdict = explainProfile(profile, this.config.host, { backend: this.id });
    const reasons = verdict.problems.filter((p) => p.severity === 'error').map((p) => p.message);
    if (this.id === BackendId.QemuKvm && this.config.host === null) {
      reasons.push('the qemu-kvm backend needs the host capabilities (options.host, from probeHostCapabilities) to know /dev/kvm is usable');
    }
    return reasons;
  }

  /** The full verdict (blocking reasons and information) for `profile` on this backend and host. */
  explain(profile: VmProfile): ReturnType<typeof explainProfile> {
    return explainProfile(profile, this.config.host, { backend: this.id });
  }

  /**
   * Runs one boot. Always settles: every outcome, including QEMU failing to start, is a
   * report; every path kills QEMU and removes `workDir`. Rejects only when the request is
   * unusable ({@link BootRequestInvalidError}, {@link ProfileNotSupportedError}).
   *
   * QEMU is spawned from the calling thread and receives SIGKILL when that thread exits: call
   * this from the worker's main thread (or a thread that lives as long as the boot).
   */
  async boot(request: BootRequest): Promise<BootReport> {
    const startedAt = performance.now();
    const unsupported = this.unsupportedReasons(request.profile);
    if (unsupported.length > 0) throw new ProfileNotSupportedError(this.id, unsupported);
    validateRequest(request);
    return new QemuBootSession(this.config, this.hasher, request, startedAt).run();
  }
}

function validateRequest(r: BootRequest): void {
  const problems: string[] = [];
  if (!r.image || typeof r.image.path !== 'string' || !path.isAbsolute(r.image.path)) problems.push('image.path must be an absolute path');
  if (r.image && r.image.format !== 'raw' && r.image.format !== 'qcow2') problems.push(`image.format must be raw or qcow2, not ${String(r.image.format)}`);
  if (typeof r.workDir !== 'string' || !path.isAbsolute(r.workDir)) {
    problems.push('workDir must be an absolute path');
  } else {
    if (path.resolve(r.workDir) === path.parse(r.workDir).root) problems.push('workDir must not be the root directory');
    const sock = workDirLayout(path.resolve(r.workDir)).qmpSocket;
    if (Buffer.byteLength(sock) > MAX_SOCKET_PATH_BYTES) problems.push(`workDir is too long for a UNIX socket path (${sock})`);
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
  if (problems.length > 0) throw new BootRequestInvalidError(problems);
}

function isInside(file: string, dir: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(file));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** One boot's state, from preparation to cleanup. */
class QemuBootSession {
  private readonly workDir: string;
  private readonly layout: WorkDirLayout;
  private readonly argv: string[];
  private readonly launchArgv: string[];
  private readonly qemuImgLaunchArgv: string[];
  private readonly command: BootCommand;
  private readonly containment: ContainmentRecord;
  private readonly silenceMs: number;
  private readonly capture: ConsoleCapture;
  private readonly analyzer: BootConsoleAnalyzer;
  private readonly warnings: string[] = [];
  private readonly prepAbort = new AbortController();

  private firmware: FirmwareRecord;
  private readonly firmwareFiles: FirmwareFiles;
  private ownsWorkDir = false;
  private child: ChildProcess | null = null;
  private qemuStart = 0;
  private cause: BootEndCause | null = null;
  private endAtMs: number | null = null;
  private setupFailure: { failureClass: FailureClass; message: string } | null = null;
  private exitInfo: { code: number | null; signal: string | null; offsetMs: number } | null = null;
  private quitSent = false;
  private sigkillSent = false;
  private forceSettle: (() => void) | null = null;
  private stderr = '';
  private sawOutput = false;
  private onLineFailures = 0;

  private deadlineTimer: NodeJS.Timeout | null = null;
  private silenceTimer: NodeJS.Timeout | null = null;
  private partialTimer: NodeJS.Timeout | null = null;
  private stopTimers: NodeJS.Timeout[] = [];
  private readonly onAbort = (): void => this.abort();

  constructor(
    private readonly config: LauncherConfig,
    private readonly hasher: FileHasher,
    private readonly request: BootRequest,
    private readonly startedAt: number,
  ) {
    this.workDir = path.resolve(request.workDir);
    this.layout = workDirLayout(this.workDir);
    const image = { path: path.resolve(request.image.path), format: request.image.format };
    const arch = request.profile.arch;
    // unsupportedReasons() has vetted arch and firmware: the catalogue has this entry.
    this.firmwareFiles = firmwareFor(config.firmware, arch, request.profile.firmware)!;
    this.argv = buildQemuCommand(request, { ...this.layout, qemuSystem: config.qemuSystem[arch], firmware: this.firmwareFiles });
    const rlimits: RlimitRecord = { ...defaultRlimits(request.profile, request.timeoutMs), ...config.rlimits };
    this.launchArgv = [
      ...buildContainmentPrefix({ setpriv: config.setpriv, prlimit: config.prlimit, rlimits, runAs: config.runAs }),
      ...this.argv,
    ];
    const overlayArgv = buildOverlayCommand(image, this.layout.overlay, config.qemuImg);
    const imgLimits: RlimitRecord = { addressSpaceBytes: 1024 ** 3, fileSizeBytes: 64 * 1024 ** 2, coreBytes: 0, cpuSeconds: 30, openFiles: 256 };
    this.qemuImgLaunchArgv = [
      ...buildContainmentPrefix({ setpriv: config.setpriv, prlimit: config.prlimit, rlimits: imgLimits, runAs: config.runAs }),
      ...overlayArgv,
    ];
    this.command = {
      argv: this.argv,
      shell: shellJoin(this.argv),
      launchArgv: this.launchArgv,
      overlayArgv,
      reproduce: [
        shellJoin(['mkdir', '-p', '-m', '700', this.workDir]),
        ...(this.firmwareFiles.kind === 'pflash' ? [shellJoin(['cp', this.firmwareFiles.varsTemplate, this.layout.varsCopy])] : []),
        shellJoin(overlayArgv),
        shellJoin(this.argv),
      ].join('\n'),
    };
    this.containment = {
      parentDeathSignal: 'SIGKILL',
      ownProcessGroup: true,
      noNewPrivileges: true,
      runAs: config.runAs,
      rlimits,
      sandbox: qemuSandboxArg,
      network: request.profile.network ?? 'none',
      qmp: 'unix-socket',
      environment: Object.keys(config.env),
    };
    // U-Boot (-bios) has no vars store: its file is recorded as the code and varsTemplatePath is ''.
    this.firmware = {
      codePath: this.firmwareFiles.kind === 'pflash' ? this.firmwareFiles.code : this.firmwareFiles.bios,
      codeSha256: null,
      varsTemplatePath: this.firmwareFiles.kind === 'pflash' ? this.firmwareFiles.varsTemplate : '',
      varsTemplateSha256: null,
    };
    this.analyzer = new BootConsoleAnalyzer({
      markers: request.successMarkers ?? defaultSuccessMarkers,
      stopOnFailureSignature: request.stopOnFailureSignature ?? true,
    });
    this.silenceMs = request.silenceTimeoutMs ?? DEFAULT_SILENCE_MS;
    this.capture = new ConsoleCapture({
      now: () => performance.now() - this.qemuStart,
      ...(config.maxRawConsoleBytes === undefined ? {} : { maxRawBytes: config.maxRawConsoleBytes }),
      ...(config.maxLineBytes === undefined ? {} : { maxLineBytes: config.maxLineBytes }),
    });
  }

  async run(): Promise<BootReport> {
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
      if (this.cause === null) await this.runQemu();
    } catch (e) {
      this.failSetup('host_setup_failed', `Unexpected error while running the boot: ${errorMessage(e)}`);
    } finally {
      await this.cleanup();
    }
    return this.report();
  }

  // ---- preparation -------------------------------------------------------------------------

  private failSetup(failureClass: FailureClass, message: string): void {
    if (this.cause !== null) return;
    this.setupFailure = { failureClass, message };
    this.cause = 'setup_failed';
  }

  /** True when preparation must stop (aborted, timed out, or a step failed). */
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
    if (this.firmwareFiles.kind === 'pflash') {
      try {
        await copyFile(this.firmwareFiles.varsTemplate, this.layout.varsCopy);
        await chmod(this.layout.varsCopy, 0o600);
        if (this.config.runAs) await chown(this.layout.varsCopy, this.config.runAs.uid, this.config.runAs.gid);
      } catch (e) {
        this.failSetup('host_setup_failed', `Could not copy the UEFI vars template into the work dir: ${errorMessage(e)}.`);
        return;
      }
    }
    if (this.stopped) return;
    await this.createOverlay();
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
      if (this.config.runAs) await chown(this.workDir, this.config.runAs.uid, this.config.runAs.gid);
    } catch (e) {
      this.failSetup('host_setup_failed', `Could not create the work dir ${this.workDir}: ${errorMessage(e)}.`);
    }
  }

  private async checkFirmware(): Promise<void> {
    const fw = this.firmwareFiles;
    if (fw.kind === 'bios') {
      const [bios] = await Promise.allSettled([this.hasher.sha256(fw.bios)]);
      this.firmware = { ...this.firmware, codeSha256: bios.status === 'fulfilled' ? bios.value : null };
      if (bios.status === 'rejected') this.failSetup('qemu_start_failed', `The firmware (-bios) file cannot be read (${errorMessage(bios.reason)}).`);
      return;
    }
    const [code, vars] = await Promise.allSettled([this.hasher.sha256(fw.code), this.hasher.sha256(fw.varsTemplate)]);
    this.firmware = {
      codePath: fw.code,
      codeSha256: code.status === 'fulfilled' ? code.value : null,
      varsTemplatePath: fw.varsTemplate,
      varsTemplateSha256: vars.status === 'fulfilled' ? vars.value : null,
    };
    if (code.status === 'rejected') {
      this.failSetup('qemu_start_failed', `The firmware code file cannot be read (${errorMessage(code.reason)}).`);
    } else if (vars.status === 'rejected') {
      this.failSetup('qemu_start_failed', `The firmware vars template cannot be read (${errorMessage(vars.reason)}).`);
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
    const [bin, ...args] = this.qemuImgLaunchArgv as [string, ...string[]];
    const result = await new Promise<{ code: number | null; signal: string | null; out: string; error?: Error }>((resolve) => {
      let out = '';
      const child = spawn(bin, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...this.config.env },
        cwd: this.workDir,
        detached: true,
        timeout: QEMU_IMG_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        signal: this.prepAbort.signal,
      });
      const take = (d: Buffer): void => {
        if (out.length < STDERR_CAP) out += d.toString('utf8');
      };
      child.stdout?.on('data', take);
      child.stderr?.on('data', take);
      child.on('error', (error) => {
        if (error.name === 'AbortError') return; // 'close' follows
        resolve({ code: null, signal: null, out, error });
      });
      child.on('close', (code, signal) => resolve({ code, signal, out }));
    });
    if (this.stopped) return;
    if (result.error) {
      this.failSetup('host_setup_failed', `Could not run qemu-img to create the overlay: ${result.error.message}.`);
    } else if (result.code !== 0) {
      const why = result.signal ? `killed by ${result.signal}` : `exit status ${result.code}`;
      this.failSetup('host_setup_failed', `qemu-img could not create the overlay (${why}): ${result.out.trim().slice(0, 500)}`);
    }
  }

  // ---- running QEMU ------------------------------------------------------------------------

  private runQemu(): Promise<void> {
    return new Promise<void>((resolve) => {
      let settled = false;
      let closeTimer: NodeJS.Timeout | null = null;
      const settle = (): void => {
        if (settled) return;
        settled = true;
        if (closeTimer) clearTimeout(closeTimer);
        resolve();
      };
      this.forceSettle = settle;
      const [bin, ...args] = this.launchArgv as [string, ...string[]];
      this.qemuStart = performance.now();
      const child = spawn(bin, args, {
        detached: true, // own process group (setsid): every stop path kills the group
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...this.config.env },
        cwd: this.workDir,
      });
      this.child = child;
      child.on('error', (e) => {
        if (child.pid === undefined) {
          this.failSetup('qemu_start_failed', `Could not execute ${bin}: ${e.message}.`);
          settle();
        }
      });
      if (child.pid === undefined) return; // 'error' follows
      this.resetSilenceTimer();
      child.stdout!.on('data', (chunk: Buffer) => this.onConsole(chunk));
      child.stderr!.on('data', (chunk: Buffer) => {
        if (this.stderr.length < STDERR_CAP) this.stderr += chunk.toString('utf8').slice(0, STDERR_CAP - this.stderr.length);
      });
      child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal, offsetMs: this.offsetNow() ?? 0 };
        this.clearRunTimers();
        // Output may still be in the pipe: decide only once it is drained ('close').
        closeTimer = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          this.onConsoleClosed();
          settle();
        }, CLOSE_WAIT_MS);
      });
      child.on('close', () => {
        if (child.pid === undefined) return;
        this.onConsoleClosed();
        settle();
      });
      try {
        this.request.onStart?.({ pid: child.pid, command: this.command });
      } catch (e) {
        this.warnings.push(`onStart threw: ${errorMessage(e)}`);
      }
    });
  }

  private offsetNow(): number | null {
    return this.child ? Math.floor(performance.now() - this.qemuStart) : null;
  }

  private onConsole(chunk: Buffer): void {
    if (!this.sawOutput) {
      this.sawOutput = true;
      this.analyzer.noteOutput(this.capture.lineCount, this.offsetNow() ?? 0);
    }
    if (this.exitInfo === null) this.resetSilenceTimer();
    for (const line of this.capture.write(chunk)) this.onLine(line);
    this.schedulePartialFlush();
  }

  private onConsoleClosed(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    for (const line of this.capture.flush('eof')) this.onLine(line);
    if (this.cause === null) this.end('exited');
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

  // ---- stopping ----------------------------------------------------------------------------

  private end(cause: BootEndCause): void {
    if (this.cause !== null) return;
    this.cause = cause;
    this.endAtMs = this.offsetNow();
    this.clearRunTimers();
    switch (cause) {
      case 'marker':
        // Let the guest power off by itself (the probe does within milliseconds), then ask QEMU.
        this.stopTimers.push(setTimeout(() => void this.quitViaQmp(), this.request.markerGraceMs ?? DEFAULT_MARKER_GRACE_MS));
        break;
      case 'exited':
        break;
      default:
        this.killGroup();
    }
  }

  private abort(): void {
    if (this.child === null) {
      // Still preparing: stop qemu-img, skip the boot.
      if (this.cause === null) this.cause = 'aborted';
      this.prepAbort.abort();
      return;
    }
    if (this.cause === null) this.end('aborted');
    else this.killGroup(); // e.g. during the post-marker grace: the verdict stands, stop now
  }

  private onDeadline(): void {
    this.deadlineTimer = null;
    if (this.child === null) {
      this.failSetup('host_setup_failed', `Preparing the boot took longer than its ${this.request.timeoutMs} ms time limit.`);
      this.prepAbort.abort();
      return;
    }
    this.end('timeout');
  }

  private resetSilenceTimer(): void {
    if (this.cause !== null) return;
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => this.end('silence'), this.silenceMs);
  }

  private clearRunTimers(): void {
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.silenceTimer = null;
    this.deadlineTimer = null;
  }

  private get qemuAlive(): boolean {
    const c = this.child;
    return c !== null && c.pid !== undefined && c.exitCode === null && c.signalCode === null;
  }

  private async quitViaQmp(): Promise<void> {
    if (!this.qemuAlive) return;
    try {
      const qmp = await QmpClient.connect(this.layout.qmpSocket, 1000);
      try {
        this.quitSent = true;
        await qmp.execute('quit', undefined, 1000).catch(() => undefined); // QEMU may close before replying
      } finally {
        qmp.close();
      }
    } catch (e) {
      this.warnings.push(`QMP quit failed (${errorMessage(e)}); killing QEMU`);
      this.killGroup();
      return;
    }
    this.stopTimers.push(setTimeout(() => this.killGroup(), this.config.quitGraceMs));
  }

  /** SIGKILLs QEMU's whole process group, only while its leader is unreaped (so the pgid cannot be reused). */
  private killGroup(): void {
    if (!this.qemuAlive) return;
    if (!this.sigkillSent) {
      this.stopTimers.push(
        setTimeout(() => {
          this.warnings.push(`QEMU (pid ${this.child?.pid}) had not exited ${KILL_WAIT_MS} ms after SIGKILL`);
          this.forceSettle?.();
        }, KILL_WAIT_MS),
      );
    }
    this.sigkillSent = true;
    try {
      process.kill(-this.child!.pid!, 'SIGKILL');
    } catch {
      try {
        this.child!.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  // ---- cleanup and report ------------------------------------------------------------------

  private async cleanup(): Promise<void> {
    this.request.signal?.removeEventListener('abort', this.onAbort);
    this.clearRunTimers();
    if (this.partialTimer) clearTimeout(this.partialTimer);
    for (const t of this.stopTimers) clearTimeout(t);
    if (this.qemuAlive) {
      // Should not happen (every path waits for the exit), but never leave QEMU behind.
      this.warnings.push('QEMU was still running at cleanup; killed');
      const exited = new Promise<void>((r) => this.child!.once('exit', () => r()));
      this.killGroup();
      await Promise.race([exited, new Promise((r) => setTimeout(r, CLOSE_WAIT_MS))]);
    }
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

  private report(): BootReport {
    const cause: BootEndCause = this.cause ?? 'exited';
    const atMs = this.endAtMs ?? this.exitInfo?.offsetMs ?? this.offsetNow();
    const verdict = classifyBootEnd({
      cause,
      stage: this.analyzer.stage,
      consoleBytes: this.capture.totalBytes,
      marker: this.analyzer.marker,
      signature: this.analyzer.signature,
      exit: this.exitInfo,
      stderr: this.stderr,
      atMs,
      timeoutMs: this.request.timeoutMs,
      silenceTimeoutMs: this.silenceMs,
      ...(this.setupFailure ? { setupFailure: this.setupFailure } : {}),
    });
    const exit: ExitRecord = this.exitInfo
      ? {
          code: this.exitInfo.code,
          signal: this.exitInfo.signal,
          offsetMs: this.exitInfo.offsetMs,
          by: this.sigkillSent ? 'sigkill' : this.quitSent ? 'qmp_quit' : 'self',
        }
      : this.child?.pid !== undefined && this.child !== null
        ? { code: null, signal: null, offsetMs: null, by: this.sigkillSent ? 'sigkill' : 'self' }
        : { code: null, signal: null, offsetMs: null, by: 'not_started' };
    const stage: BootStage = this.analyzer.stage;
    const sig = this.analyzer.signature;
    return {
      backend: this.config.backend,
      outcome: verdict.outcome,
      failureClass: verdict.failureClass,
      reason: verdict.reason,
      stage,
      stages: [...this.analyzer.stages],
      ...this.analyzer.reportExtras(verdict.failureClass),
      marker: this.analyzer.marker,
      failureSignature: sig ? { seq: sig.seq, offsetMs: sig.offsetMs, text: sig.text, pattern: sig.pattern } : null,
      durationMs: Math.round(performance.now() - this.startedAt),
      exit,
      command: this.command,
      firmware: this.firmware,
      containment: this.containment,
      lineCount: this.capture.lineCount,
      consoleBytes: this.capture.totalBytes,
      consoleTruncated: this.capture.truncated,
      stderr: this.stderr,
      warnings: this.warnings,
    };
  }
}
