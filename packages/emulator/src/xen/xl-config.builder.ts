/**
 * Pure functions that turn a VM profile into the exact `xl` domain configuration of one boot
 * (xl.cfg(5), xl-disk-configuration(5)). No I/O here, so every line is unit-testable.
 *
 * Choices, per Xen 4.17 on arm64:
 * - `type = "pvh"`: the only guest type xl accepts on Arm (and its default there).
 * - `kernel = "<XEN_EFI.fd>"`: an Arm domU has no built-in firmware; UEFI comes from edk2's
 *   ArmVirtXen build loaded as the guest "kernel" (or U-Boot's xenguest build for `u-boot`).
 * - `acpi`: written explicitly, `1` only for `hwDescription: 'acpi'`. ArmVirtXen always
 *   installs the DT; with `acpi = 1` the guest sees DT *and* ACPI. Debian's Xen 4.17 arm64 is
 *   built without ACPI support, so `acpi = 1` is refused by the profile validator there.
 * - The disk is the per-boot qcow2 overlay, never the vendor image (that is only the overlay's
 *   backing file, with its format recorded by `qemu-img create -F`). The format is explicit
 *   and `target=` comes last, as xl-disk-configuration requires for arbitrary paths.
 * - No `vif`: no network. `on_poweroff`/`on_reboot`/`on_watchdog = "destroy"` (a boot that
 *   reboots has ended); `on_crash = "preserve"` so the launcher sees the crashed state in
 *   `xl list` before it destroys the domain itself (it always does).
 *
 * Values are never escaped into the file: a path or name with a quote, a backslash or any
 * control character (newline included) is rejected.
 */
import path from 'node:path';
import { BootRequestInvalidError } from '../emulator.errors.js';
import type { VmProfile } from '../vm.profile.js';

/** The Xen consoles a domU can have: the PV console (hvc0) and the emulated SBSA UART. */
export const XenConsoleType = { Pv: 'pv', Vuart: 'vuart' } as const;
/** The Xen consoles a domU can have. */
export type XenConsoleType = (typeof XenConsoleType)[keyof typeof XenConsoleType];

/** What {@link buildXlConfig} needs. */
export interface XlConfigInput {
  /** Domain name, unique on the host (see {@link isValidDomainName}). */
  readonly name: string;
  readonly profile: VmProfile;
  /** Guest firmware loaded as `kernel=`: ArmVirtXen `XEN_EFI.fd` (edk2) or U-Boot xenguest. */
  readonly firmwarePath: string;
  /** The per-boot qcow2 overlay (its backing file is the image). */
  readonly overlayPath: string;
  /** The vendor image: only used to check it is not what the guest gets. */
  readonly imagePath?: string;
  /** Add the emulated SBSA UART (`vuart = "sbsa_uart"`, Xen >= 4.10). */
  readonly vuart?: boolean;
  /** Guest device name of the disk (default `xvda`). */
  readonly vdev?: string;
}

/** Domain names the launcher generates and accepts: safe in xl.cfg, on a command line and in xenstore. */
export const domainNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** True when `name` may be used as a domain name. */
export function isValidDomainName(name: string): boolean {
  return domainNamePattern.test(name);
}

const vdevPattern = /^xvd[a-z]{1,2}$/;
// Quotes, backslash, C0 controls (newline, NUL, ...) and DEL: never put these into xl.cfg.
// eslint-disable-next-line no-control-regex
const unsafeChars = /["'\\\u0000-\u001f\u007f]/;

/** Why `p` cannot be written into an xl config as a path (empty when it can). */
export function xlPathProblems(what: string, p: string): string[] {
  if (typeof p !== 'string' || p.length === 0) return [`${what} must be a non-empty string`];
  const problems: string[] = [];
  if (!path.isAbsolute(p)) problems.push(`${what} must be an absolute path`);
  if (unsafeChars.test(p)) problems.push(`${what} must not contain quotes, backslashes or control characters (newlines)`);
  if (p.trim() !== p) problems.push(`${what} must not start or end with whitespace`);
  if (Buffer.byteLength(p) > 1024) problems.push(`${what} is longer than 1024 bytes`);
  return problems;
}

/** The disk spec of the boot disk, format explicit, `target=` last (it takes the rest of the spec). */
export function buildDiskSpec(profile: VmProfile, overlayPath: string, vdev = 'xvda'): string {
  const parts = ['format=qcow2', `vdev=${vdev}`, 'access=rw'];
  if (profile.disk === 'virtio-mmio') {
    // Xen >= 4.17: a virtio-mmio disk served by a standalone backend in dom0.
    parts.push('specification=virtio', 'backendtype=standalone');
  } else {
    // qcow2 needs QEMU's qdisk backend in dom0 (`phy` only takes raw).
    parts.push('backendtype=qdisk');
  }
  parts.push(`target=${overlayPath}`);
  return parts.join(', ');
}

/** Ordered `key = value` pairs of the configuration (values already in xl syntax). */
export function buildXlConfigEntries(input: XlConfigInput): Array<readonly [string, string]> {
  const problems: string[] = [];
  const p = input.profile;
  if (typeof input.name !== 'string' || !isValidDomainName(input.name)) problems.push(`domain name ${JSON.stringify(input.name)} must match ${domainNamePattern}`);
  problems.push(...xlPathProblems('firmwarePath', input.firmwarePath));
  problems.push(...xlPathProblems('overlayPath', input.overlayPath));
  if (input.imagePath !== undefined && typeof input.overlayPath === 'string' && path.resolve(input.imagePath) === path.resolve(input.overlayPath)) {
    problems.push('overlayPath must not be the image itself: the image is only ever a backing file');
  }
  const vdev = input.vdev ?? 'xvda';
  if (!vdevPattern.test(vdev)) problems.push(`vdev ${JSON.stringify(vdev)} must look like xvda`);
  if (!Number.isInteger(p.memoryMiB) || p.memoryMiB < 32) problems.push(`memoryMiB ${p.memoryMiB} must be an integer >= 32`);
  if (!Number.isInteger(p.cpus) || p.cpus < 1) problems.push(`cpus ${p.cpus} must be a positive integer`);
  if (p.gic !== 'v2' && p.gic !== 'v3') problems.push(`gic ${String(p.gic)} must be v2 or v3`);
  if (problems.length > 0) throw new BootRequestInvalidError(problems);
  const q = (s: string): string => `"${s}"`;
  const entries: Array<readonly [string, string]> = [
    ['name', q(input.name)],
    ['type', q('pvh')],
    ['kernel', q(input.firmwarePath)],
    ['memory', String(p.memoryMiB)],
    ['maxmem', String(p.memoryMiB)],
    ['vcpus', String(p.cpus)],
    ['gic_version', q(p.gic)],
    ['acpi', p.hwDescription === 'acpi' ? '1' : '0'],
  ];
  if (input.vuart) entries.push(['vuart', q('sbsa_uart')]);
  entries.push(
    ['disk', `[ ${q(buildDiskSpec(p, input.overlayPath, vdev))} ]`],
    ['vif', '[ ]'],
    ['on_poweroff', q('destroy')],
    ['on_reboot', q('destroy')],
    ['on_watchdog', q('destroy')],
    ['on_crash', q('preserve')],
  );
  return entries;
}

/**
 * The xl domain configuration text for one boot. Throws {@link BootRequestInvalidError} for
 * values that cannot be written safely (relative paths, quotes, newlines, bad names).
 */
export function buildXlConfig(input: XlConfigInput): string {
  const lines = buildXlConfigEntries(input).map(([k, v]) => `${k} = ${v}`);
  return [`# Bootfarm boot of domain ${input.name}: generated, one file per boot`, ...lines, ''].join('\n');
}
