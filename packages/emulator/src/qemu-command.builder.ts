/**
 * Pure functions that turn a VM profile and a work-dir layout into the exact QEMU, qemu-img
 * and containment command lines. No I/O here, so every argument is unit-testable.
 */
import path from 'node:path';
import type { BootImage, BootRequest, RlimitRecord } from './boot.types.js';
import type { FirmwareFiles } from './firmware.catalog.js';
import type { VmProfile } from './vm.profile.js';

/** QEMU's seccomp sandbox: deny obsolete syscalls, set*uid, fork/exec and affinity/scheduler calls. */
export const qemuSandboxArg = 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny';

/** The CPU model for AArch64 TCG: cortex-a72 boots ~3x faster than `max` (no pointer-auth emulation). */
export const tcgCpuModel = 'cortex-a72';

/** The CPU model for 32-bit ARM TCG guests (ARMv7-A with LPAE and the virtualization extensions). */
export const tcgArmCpuModel = 'cortex-a15';

/** The QEMU CPU model for a profile: the host's CPU under KVM, a fixed model under TCG. */
export function cpuModelFor(profile: Pick<VmProfile, 'arch' | 'accel'>): string {
  if (profile.accel === 'kvm') return 'host';
  return profile.arch === 'arm' ? tcgArmCpuModel : tcgCpuModel;
}

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
  /** qemu-system-aarch64 (aarch64 guests) or qemu-system-arm (arm guests). */
  readonly qemuSystem: string;
  /**
   * The firmware: edk2's read-only code as pflash unit 0 (the vars go to `varsCopy`, pflash
   * unit 1), or U-Boot as `-bios` (no vars store).
   */
  readonly firmware: FirmwareFiles;
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

/** The id of the user-mode network backend when a profile asks for one. */
const NETDEV_ID = 'net0';

/**
 * The QEMU argv (binary first) for a `virt` machine (AArch64 or 32-bit ARM) under TCG or KVM
 * with edk2 or U-Boot: no default devices, no NIC unless the profile asks for restricted user
 * networking, no display, no reboot, seccomp sandbox, edk2's code read-only with a per-boot
 * vars copy (or U-Boot as `-bios`), the image only through its qcow2 overlay, serial on stdout
 * and QMP only on a UNIX socket. Every drive carries an explicit `format=`.
 */
export function buildQemuCommand(request: Pick<BootRequest, 'profile'>, paths: QemuPaths): string[] {
  const p: VmProfile = request.profile;
  const machine = ['virt', p.accel === 'kvm' ? 'accel=kvm' : 'accel=tcg'];
  if (p.hwDescription === 'dt') machine.push('acpi=off');
  machine.push(`gic-version=${p.gic === 'v2' ? 2 : 3}`);
  const mmio = p.disk === 'virtio-mmio';
  const diskDevice = mmio ? 'virtio-blk-device' : 'virtio-blk-pci';
  const fw = paths.firmware;
  const firmwareArgs =
    fw.kind === 'pflash'
      ? [
          '-boot', 'menu=on,splash-time=0',
          '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${qemuOptionValue(fw.code)}`,
          '-drive', `if=pflash,format=raw,unit=1,file=${qemuOptionValue(paths.varsCopy)}`,
        ]
      : ['-bios', fw.bios];
  // restrict=on: the guest reaches nothing outside the VM (no host, no internet); no forwards.
  // romfile= (empty): no iPXE option ROM, which a minimal install does not have.
  const networkArgs =
    p.network === 'user-restricted'
      ? ['-netdev', `user,id=${NETDEV_ID},restrict=on`, '-device', mmio ? `virtio-net-device,netdev=${NETDEV_ID}` : `virtio-net-pci,netdev=${NETDEV_ID},romfile=`]
      : ['-nic', 'none'];
  return [
    paths.qemuSystem,
    '-M', machine.join(','),
    '-cpu', cpuModelFor(p),
    '-smp', String(p.cpus),
    '-m', `${p.memoryMiB}M`,
    '-nodefaults',
    '-no-user-config',
    ...networkArgs,
    '-display', 'none',
    '-no-reboot',
    '-sandbox', qemuSandboxArg,
    ...firmwareArgs,
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
