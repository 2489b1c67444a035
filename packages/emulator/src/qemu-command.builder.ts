/**
 * Pure functions that turn a VM profile and a work-dir layout into the exact QEMU, qemu-img
 * and containment command lines. No I/O here, so every argument is unit-testable.
 */
import path from 'node:path';
import type { BootImage, BootRequest, RlimitRecord } from './boot.types.js';
import type { VmProfile } from './vm.profile.js';

/** QEMU's seccomp sandbox: deny obsolete syscalls, set*uid, fork/exec and affinity/scheduler calls. */
export const qemuSandboxArg = 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny';

/** The CPU model for AArch64 TCG: cortex-a72 boots ~3x faster than `max` (no pointer-auth emulation). */
export const tcgCpuModel = 'cortex-a72';

/** Files a boot creates inside its work dir. */
export interface WorkDirLayout {
  /** qcow2 overlay whose backing file is the image. */
  readonly overlay: string;
  /** Fresh copy of the UEFI vars template (pflash unit 1). */
  readonly varsCopy: string;
  /** QMP UNIX socket. */
  readonly qmpSocket: string;
}

/** Paths `buildQemuCommand` needs. */
export interface QemuPaths extends WorkDirLayout {
  /** qemu-system-aarch64 binary. */
  readonly qemuSystem: string;
  /** Read-only firmware code (pflash unit 0). */
  readonly firmwareCode: string;
}

/** The standard names of a boot's files inside `workDir`. */
export function workDirLayout(workDir: string): WorkDirLayout {
  return {
    overlay: path.join(workDir, 'overlay.qcow2'),
    varsCopy: path.join(workDir, 'vars.fd'),
    qmpSocket: path.join(workDir, 'qmp.sock'),
  };
}

/** Escapes a value for QEMU's `key=value,...` option syntax (a comma is written `,,`). */
export function qemuOptionValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/**
 * The QEMU argv (binary first) for an AArch64 `virt` machine under TCG with edk2:
 * no default devices, no NIC, no display, no reboot, seccomp sandbox, the firmware code
 * read-only, a per-boot vars copy, the image only through its qcow2 overlay, serial on
 * stdout and QMP only on a UNIX socket. Every drive carries an explicit `format=`.
 */
export function buildQemuCommand(request: Pick<BootRequest, 'profile'>, paths: QemuPaths): string[] {
  const p: VmProfile = request.profile;
  const machine = ['virt', 'accel=tcg'];
  if (p.hwDescription === 'dt') machine.push('acpi=off');
  machine.push(`gic-version=${p.gic === 'v2' ? 2 : 3}`);
  const diskDevice = p.disk === 'virtio-mmio' ? 'virtio-blk-device' : 'virtio-blk-pci';
  return [
    paths.qemuSystem,
    '-M', machine.join(','),
    '-cpu', tcgCpuModel,
    '-smp', String(p.cpus),
    '-m', `${p.memoryMiB}M`,
    '-nodefaults',
    '-no-user-config',
    '-nic', 'none',
    '-display', 'none',
    '-no-reboot',
    '-sandbox', qemuSandboxArg,
    '-boot', 'menu=on,splash-time=0',
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${qemuOptionValue(paths.firmwareCode)}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${qemuOptionValue(paths.varsCopy)}`,
    '-drive', `if=none,id=disk0,format=qcow2,file=${qemuOptionValue(paths.overlay)}`,
    '-device', `${diskDevice},drive=disk0`,
    '-chardev', 'stdio,id=serial0,signal=off',
    '-serial', 'chardev:serial0',
    '-chardev', `socket,id=qmp0,path=${qemuOptionValue(paths.qmpSocket)},server=on,wait=off`,
    '-mon', 'chardev=qmp0,mode=control',
  ];
}

/**
 * The `qemu-img create` argv for a boot's overlay: qcow2, backed by the image with its format
 * given explicitly (`-F`), so nothing ever probes the vendor file and nothing ever writes it.
 */
export function buildOverlayCommand(image: BootImage, overlayPath: string, qemuImg: string): string[] {
  return [qemuImg, 'create', '-f', 'qcow2', '-b', image.path, '-F', image.format, overlayPath];
}

/** Containment applied around QEMU. */
export interface ContainmentOptions {
  readonly setpriv: string;
  readonly prlimit: string;
  readonly rlimits: RlimitRecord;
  /** Drop to this uid/gid (and no supplementary groups) before exec; null keeps the worker's. */
  readonly runAs: { readonly uid: number; readonly gid: number } | null;
}

/**
 * The wrapper argv placed before QEMU's: `setpriv --pdeathsig SIGKILL` (QEMU 7.2 has no
 * `-run-with exit-with-parent`) then `prlimit` with the resource limits. Both exec, so QEMU
 * keeps the wrapper's pid.
 */
export function buildContainmentPrefix(options: ContainmentOptions): string[] {
  const r = options.rlimits;
  const setpriv = [options.setpriv, '--pdeathsig', 'SIGKILL', '--no-new-privs'];
  if (options.runAs) {
    setpriv.push('--reuid', String(options.runAs.uid), '--regid', String(options.runAs.gid), '--clear-groups');
  }
  return [
    ...setpriv,
    '--',
    options.prlimit,
    `--as=${r.addressSpaceBytes}`,
    `--fsize=${r.fileSizeBytes}`,
    `--core=${r.coreBytes}`,
    `--cpu=${r.cpuSeconds}`,
    `--nofile=${r.openFiles}`,
    '--',
  ];
}

const MiB = 1024 * 1024;

/**
 * Default rlimits for a profile. Address space: QEMU 7.2 TCG maps ~2.1 GB for a 512 MiB guest
 * (1 GiB translation cache, RAM, two 64 MiB pflash banks, per-thread arenas), so the cap is
 * guest RAM + 2 GiB + 256 MiB per vCPU. CPU seconds are a backstop only: the launcher's timers
 * end the boot long before.
 */
export function defaultRlimits(profile: VmProfile, timeoutMs: number): RlimitRecord {
  return {
    addressSpaceBytes: (profile.memoryMiB + 2048 + 256 * profile.cpus) * MiB,
    fileSizeBytes: 4096 * MiB,
    coreBytes: 0,
    cpuSeconds: Math.ceil(timeoutMs / 1000) * (profile.cpus + 1) + 30,
    openFiles: 1024,
  };
}

const SHELL_SAFE = /^[A-Za-z0-9_\-+=/.,:@%]+$/;

/** Quotes one argument for a POSIX shell. */
export function shellQuote(arg: string): string {
  if (arg !== '' && SHELL_SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Joins an argv into one POSIX-shell command line. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
