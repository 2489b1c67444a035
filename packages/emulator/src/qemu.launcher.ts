/**
 * The QEMU backends (TCG, and KVM on an arm64 host): boot one image on one `virt` profile
 * (AArch64 or 32-bit ARM, edk2 or U-Boot, ACPI or DT, GICv2/v3, virtio-pci/mmio), contained
 * (setpriv --pdeathsig, prlimit, seccomp sandbox, own process group, no network), through a
 * throwaway overlay and a fresh UEFI varstore (or a shared one the caller names), and reports
 * what happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, lstat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  BackendId,
  type BootBackend,
  type BootCommand,
  type BootReport,
  type BootRequest,
  type ContainmentRecord,
  type ExitRecord,
  type FailureClass,
  type FirmwareRecord,
  type RlimitRecord,
} from './boot.types.js';
import { consoleSuccessMarkers } from './boot-console.analyzer.js';
import type { BootEndCause } from './boot-outcome.classifier.js';
import {
  assembleBootReport,
  BootConsole,
  BootWorkDir,
  bootRequestProblems,
  checkBootImage,
  CLOSE_WAIT_MS,
  classifySession,
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
} from './boot-session.js';
import { BootRequestInvalidError, ProfileNotSupportedError } from './emulator.errors.js';
import { FileHasher } from './file.hasher.js';
import { SparseCopier } from './sparse.copier.js';
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
import { killProcessGroup } from './process-group.js';

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

// Public API since before the shared session module: the only environment QEMU and qemu-img get.
export { defaultChildEnv };

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

/** If QEMU has not exited this long after SIGKILL (stuck in the kernel), stop waiting for it. */
const KILL_WAIT_MS = 10_000;
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
  /** Vars copies write only the template's non-zero chunks (Debian's is all zeros). */
  private readonly varsCopier = new SparseCopier();

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
    return new QemuBootSession(this.config, this.hasher, this.varsCopier, request, startedAt).run();
  }
}

function validateRequest(r: BootRequest): void {
  const problems = bootRequestProblems(r, (workDir) => {
    const sock = workDirLayout(path.resolve(workDir)).qmpSocket;
    return Buffer.byteLength(sock) > MAX_SOCKET_PATH_BYTES ? [`workDir is too long for a UNIX socket path (${sock})`] : [];
  });
  if (r.varsStore !== undefined) {
    if (typeof r.varsStore !== 'string' || !path.isAbsolute(r.varsStore)) {
      problems.push('varsStore must be an absolute path');
    } else if (typeof r.workDir === 'string') {
      // The work dir is removed at the end of the boot: a store inside it would not be shared.
      const rel = path.relative(path.resolve(r.workDir), path.resolve(r.varsStore));
      if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) problems.push('varsStore must lie outside workDir (it is removed)');
    }
  }
  if (problems.length > 0) throw new BootRequestInvalidError(problems);
}

/** One boot's state, from preparation to cleanup. */
class QemuBootSession {
  private readonly workDir: BootWorkDir;
  private readonly layout: WorkDirLayout;
  private readonly argv: string[];
  private readonly launchArgv: string[];
  private readonly qemuImgLaunchArgv: string[];
  private readonly command: BootCommand;
  private readonly containment: ContainmentRecord;
  private readonly silenceMs: number;
  private readonly console: BootConsole;
  private readonly warnings: string[] = [];
  private readonly prepAbort = new AbortController();
  private readonly timers = new SessionTimers();

  private firmware: FirmwareRecord;
  private readonly firmwareFiles: FirmwareFiles;
  /** pflash unit 1: the per-boot copy, or the caller's shared store. */
  private readonly varsPath: string;
  private readonly sharedVars: boolean;
  private child: ChildProcess | null = null;
  private qemuStart = 0;
  private cause: BootEndCause | null = null;
  private endAtMs: number | null = null;
  private setupFailure: SetupFailure | null = null;
  private exitInfo: { code: number | null; signal: string | null; offsetMs: number } | null = null;
  private quitSent = false;
  private sigkillSent = false;
  private forceSettle: (() => void) | null = null;
  private stderr = '';

  constructor(
    private readonly config: LauncherConfig,
    private readonly hasher: FileHasher,
    private readonly varsCopier: SparseCopier,
    private readonly request: BootRequest,
    private readonly startedAt: number,
  ) {
    this.workDir = new BootWorkDir(path.resolve(request.workDir), this.warnings);
    this.layout = workDirLayout(this.workDir.path);
    const image = { path: path.resolve(request.image.path), format: request.image.format };
    const arch = request.profile.arch;
    // unsupportedReasons() has vetted arch and firmware: the catalogue has this entry.
    this.firmwareFiles = firmwareFor(config.firmware, arch, request.profile.firmware)!;
    // U-Boot (-bios) has no vars store: a requested shared store is ignored.
    this.sharedVars = this.firmwareFiles.kind === 'pflash' && request.varsStore !== undefined;
    this.varsPath = this.sharedVars ? path.resolve(request.varsStore!) : this.layout.varsCopy;
    this.argv = buildQemuCommand(request, {
      ...this.layout,
      varsCopy: this.varsPath,
      qemuSystem: config.qemuSystem[arch],
      firmware: this.firmwareFiles,
    });
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
        shellJoin(['mkdir', '-p', '-m', '700', this.workDir.path]),
        ...(this.firmwareFiles.kind !== 'pflash'
          ? []
          : this.sharedVars
            ? // The shared store is only created when missing; otherwise the boot reuses what is in it.
              [`${shellJoin(['test', '-e', this.varsPath])} || ${shellJoin(['install', '-m', '600', this.firmwareFiles.varsTemplate, this.varsPath])}`]
            : [shellJoin(['cp', this.firmwareFiles.varsTemplate, this.layout.varsCopy])]),
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
      ...(this.sharedVars ? { varsStorePath: this.varsPath } : {}),
    };
    this.silenceMs = silenceLimitMs(request);
    this.console = new BootConsole({
      request,
      now: () => performance.now() - this.qemuStart,
      maxRawConsoleBytes: config.maxRawConsoleBytes,
      maxLineBytes: config.maxLineBytes,
      partialLineFlushMs: config.partialLineFlushMs,
      warnings: this.warnings,
      onDecision: (cause) => this.end(cause),
    });
  }

  async run(): Promise<BootReport> {
    await runBootFrame({
      request: this.request,
      startedAt: this.startedAt,
      timers: this.timers,
      onAbort: () => this.abort(),
      onDeadline: () => this.onDeadline(),
      abortedBeforeStart: () => (this.cause = 'aborted'),
      body: async () => {
        await this.prepare();
        if (this.cause === null) await this.runQemu();
      },
      onUnexpectedError: (message) => this.failSetup('host_setup_failed', message),
      cleanup: () => this.cleanup(),
    });
    return this.report();
  }

  // ---- preparation -------------------------------------------------------------------------

  private failSetup(failureClass: FailureClass, message: string): void {
    if (this.cause !== null) return;
    this.setupFailure = { failureClass, message };
    this.cause = 'setup_failed';
  }

  /** Records the failure of a shared preparation step (none: null). */
  private failWith(failure: SetupFailure | null): void {
    if (failure) this.failSetup(failure.failureClass, failure.message);
  }

  /** True when preparation must stop (aborted, timed out, or a step failed). */
  private get stopped(): boolean {
    return this.cause !== null;
  }

  private async prepare(): Promise<void> {
    this.failWith(await this.workDir.create(this.config.runAs));
    if (this.stopped) return;
    await this.checkFirmware();
    if (this.stopped) return;
    this.failWith(await checkBootImage(this.request.image));
    if (this.stopped) return;
    if (this.firmwareFiles.kind === 'pflash') {
      if (this.sharedVars) {
        await this.prepareSharedVars(this.firmwareFiles.varsTemplate);
        if (this.stopped) return;
      } else {
        try {
          await this.varsCopier.copy(this.firmwareFiles.varsTemplate, this.layout.varsCopy);
          await chmod(this.layout.varsCopy, 0o600);
          if (this.config.runAs) await chown(this.layout.varsCopy, this.config.runAs.uid, this.config.runAs.gid);
        } catch (e) {
          this.failSetup('host_setup_failed', `Could not copy the UEFI vars template into the work dir: ${errorMessage(e)}.`);
          return;
        }
      }
    }
    if (this.stopped) return;
    await this.createOverlay();
  }

  /** Reuses the shared vars store as it is, or creates it from the template when missing. */
  private async prepareSharedVars(template: string): Promise<void> {
    const store = this.varsPath;
    let created = false;
    try {
      // COPYFILE_EXCL: two boots racing to create the store never overwrite each other's.
      await this.varsCopier.copy(template, store, { exclusive: true });
      created = true;
      await chmod(store, 0o600);
      if (this.config.runAs) await chown(store, this.config.runAs.uid, this.config.runAs.gid);
    } catch (e) {
      if (created || (e as NodeJS.ErrnoException).code !== 'EEXIST') {
        this.failSetup('host_setup_failed', `Could not create the UEFI vars store ${store} from the template: ${errorMessage(e)}.`);
        return;
      }
      try {
        // lstat: QEMU opens it read-write, so a symlink or device here is refused, not followed.
        const st = await lstat(store);
        if (!st.isFile()) throw new Error('not a regular file');
      } catch (e2) {
        this.failSetup('host_setup_failed', `The UEFI vars store ${store} cannot be used: ${errorMessage(e2)}.`);
        return;
      }
    }
    this.firmware = { ...this.firmware, varsStorePath: store, varsStoreCreated: created };
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
      ...this.firmware,
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

  private async createOverlay(): Promise<void> {
    const [bin, ...args] = this.qemuImgLaunchArgv as [string, ...string[]];
    const result = await new Promise<{ code: number | null; signal: string | null; out: string; error?: Error }>((resolve) => {
      let out = '';
      const child = spawn(bin, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...this.config.env },
        cwd: this.workDir.path,
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
    // Node's `timeout` shows as a plain SIGKILL: a time-out is not told apart here.
    this.failWith(overlayFailure({ error: result.error ?? null, code: result.code, signal: result.signal, timedOut: false, output: result.out }));
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
        cwd: this.workDir.path,
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
        this.timers.clearRun();
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
    this.console.noteOutput(this.offsetNow() ?? 0);
    if (this.exitInfo === null) this.resetSilenceTimer();
    this.console.write(chunk);
  }

  private onConsoleClosed(): void {
    this.console.close();
    if (this.cause === null) this.end('exited');
  }

  // ---- stopping ----------------------------------------------------------------------------

  private end(cause: BootEndCause): void {
    if (this.cause !== null) return;
    this.cause = cause;
    this.endAtMs = this.offsetNow();
    this.timers.clearRun();
    switch (cause) {
      case 'marker':
        // Let the guest power off by itself (the probe does within milliseconds), then ask QEMU.
        this.timers.after(this.request.markerGraceMs ?? DEFAULT_MARKER_GRACE_MS, () => void this.quitViaQmp());
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
    if (this.child === null) {
      this.failSetup('host_setup_failed', `Preparing the boot took longer than its ${this.request.timeoutMs} ms time limit.`);
      this.prepAbort.abort();
      return;
    }
    this.end('timeout');
  }

  private resetSilenceTimer(): void {
    if (this.cause !== null) return;
    this.timers.resetSilence(this.silenceMs, () => this.end('silence'));
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
    this.timers.after(this.config.quitGraceMs, () => this.killGroup());
  }

  /** SIGKILLs QEMU's whole process group, only while its leader is unreaped (so the pgid cannot be reused). */
  private killGroup(): void {
    if (!this.qemuAlive) return;
    if (!this.sigkillSent) {
      this.timers.after(KILL_WAIT_MS, () => {
        this.warnings.push(`QEMU (pid ${this.child?.pid}) had not exited ${KILL_WAIT_MS} ms after SIGKILL`);
        this.forceSettle?.();
      });
    }
    this.sigkillSent = true;
    killProcessGroup(this.child!);
  }

  // ---- cleanup and report ------------------------------------------------------------------

  private async cleanup(): Promise<void> {
    this.timers.clearAll();
    this.console.stopPartialFlush();
    if (this.qemuAlive) {
      // Should not happen (every path waits for the exit), but never leave QEMU behind.
      this.warnings.push('QEMU was still running at cleanup; killed');
      const exited = new Promise<void>((r) => this.child!.once('exit', () => r()));
      this.killGroup();
      await Promise.race([exited, new Promise((r) => setTimeout(r, CLOSE_WAIT_MS))]);
    }
    await this.console.saveRaw(this.request.rawConsolePath);
    await this.workDir.remove();
  }

  private report(): BootReport {
    const verdict = classifySession(this.console, this.request, {
      cause: this.cause ?? 'exited',
      exit: this.exitInfo,
      stderr: this.stderr,
      atMs: this.endAtMs ?? this.exitInfo?.offsetMs ?? this.offsetNow(),
      setupFailure: this.setupFailure,
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
    return assembleBootReport(this.console, {
      backend: this.config.backend,
      verdict,
      analyzerExtras: true,
      startedAt: this.startedAt,
      exit,
      command: this.command,
      firmware: this.firmware,
      containment: this.containment,
      stderr: this.stderr,
      warnings: this.warnings,
    });
  }
}
