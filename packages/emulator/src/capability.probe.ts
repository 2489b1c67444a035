/**
 * What this host can run: host arch, QEMU binaries and versions, firmware files (with hashes),
 * /dev/kvm, Xen's `xl`, and the containment tools. A worker probes once at start, advertises
 * the result (it is plain JSON) and serves only the queues {@link backendsAvailable} names.
 */
import { execFile } from 'node:child_process';
import { open, stat, access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import os from 'node:os';
import { FileHasher } from './file.hasher.js';
import {
  defaultFirmwareCatalog,
  defaultQemuSystemBinaries,
  firmwareFileList,
  firmwareKeys,
  type FirmwareCatalog,
  type FirmwareKey,
  type QemuSystemBinaries,
} from './firmware.catalog.js';
import { explainProfile } from './profile.validator.js';
import type { Arch, VmProfile } from './vm.profile.js';
import type { BackendId } from './boot.types.js';

/** Host CPU architecture, normalised (`uname -m` spellings); anything else is kept as reported. */
export type HostArch = 'x86_64' | 'aarch64' | 'arm' | (string & {});

/** An executable the farm runs. */
export interface ToolProbe {
  readonly path: string;
  /** The file exists and is executable by this process. */
  readonly present: boolean;
  /** First line of `--version` (null when absent, or when it printed nothing or failed). */
  readonly version: string | null;
  /** Why it is absent or its version could not be read. */
  readonly error: string | null;
}

/** One firmware file of the catalogue. */
export interface FirmwareFileProbe {
  readonly key: FirmwareKey;
  readonly role: 'code' | 'vars-template' | 'bios';
  readonly path: string;
  /** Exists, is a regular file and is readable by this process. */
  readonly present: boolean;
  readonly sizeBytes: number | null;
  readonly sha256: string | null;
  readonly error: string | null;
}

/** /dev/kvm. */
export interface KvmProbe {
  readonly path: string;
  readonly present: boolean;
  /** This process could open it read-write. */
  readonly usable: boolean;
  /** One human sentence. */
  readonly detail: string;
}

/** Xen's toolstack. */
export interface XenProbe {
  readonly xl: ToolProbe;
  /** `xl info` succeeded (we run in a Xen dom0 with the rights to create guests). */
  readonly usable: boolean;
  /** `xl info` as key/value pairs (xen_version, nr_cpus, total_memory, ...), when usable. */
  readonly info: Readonly<Record<string, string>> | null;
  readonly detail: string;
}

/** Everything a worker needs to know about its host; plain JSON. */
export interface HostCapabilities {
  readonly schema: 1;
  /** ISO timestamp of the probe. */
  readonly probedAt: string;
  readonly hostArch: HostArch;
  readonly cpuCount: number;
  readonly memoryMiB: number;
  readonly qemu: { readonly aarch64: ToolProbe; readonly arm: ToolProbe; readonly img: ToolProbe };
  readonly containment: { readonly setpriv: ToolProbe; readonly prlimit: ToolProbe };
  /** Every file of the firmware catalogue, in catalogue order. */
  readonly firmware: readonly FirmwareFileProbe[];
  readonly kvm: KvmProbe;
  readonly xen: XenProbe;
}

/** Options of {@link probeHostCapabilities}; every path is injectable. */
export interface CapabilityProbeOptions {
  readonly qemuSystem?: Partial<QemuSystemBinaries>;
  readonly qemuImg?: string;
  readonly setpriv?: string;
  readonly prlimit?: string;
  readonly xl?: string;
  readonly kvmDevice?: string;
  readonly firmware?: FirmwareCatalog;
  /** Shared hasher (firmware files are hashed once while unchanged). */
  readonly hasher?: FileHasher;
  /** Limit for each `--version` / `xl info` call (default 5000 ms). */
  readonly commandTimeoutMs?: number;
  /** `uname -m`-style arch; default: `uname -m`, falling back to `os.arch()`. */
  readonly hostArch?: string;
  /** Environment for the commands (default: a minimal PATH and LC_ALL=C). */
  readonly env?: Readonly<Record<string, string>>;
}

const DEFAULT_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LC_ALL: 'C',
});

/** Normalises `uname -m` / `os.arch()` spellings. */
export function normalizeHostArch(raw: string): HostArch {
  const a = raw.trim().toLowerCase();
  if (a === 'x64' || a === 'x86_64' || a === 'amd64') return 'x86_64';
  if (a === 'arm64' || a === 'aarch64' || a === 'aarch64_be') return 'aarch64';
  if (a === 'arm' || /^armv\d+\w*$/.test(a)) return 'arm';
  return a;
}

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly error: string | null;
}

function run(bin: string, args: readonly string[], timeoutMs: number, env: Readonly<Record<string, string>>): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      bin,
      [...args],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 256 * 1024, env: { ...env }, encoding: 'utf8' },
      (err, stdout) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
          const why = e.killed ? `timed out after ${timeoutMs} ms` : typeof e.code === 'number' ? `exit status ${e.code}` : e.message;
          resolve({ code: typeof e.code === 'number' ? e.code : null, stdout: String(stdout ?? ''), error: why });
        } else {
          resolve({ code: 0, stdout: String(stdout), error: null });
        }
      },
    );
  });
}

async function probeTool(bin: string, versionArgs: readonly string[] | null, timeoutMs: number, env: Readonly<Record<string, string>>): Promise<ToolProbe> {
  try {
    const st = await stat(bin);
    if (!st.isFile()) return { path: bin, present: false, version: null, error: 'not a regular file' };
    await access(bin, fsConstants.X_OK);
  } catch (e) {
    return { path: bin, present: false, version: null, error: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
  if (versionArgs === null) return { path: bin, present: true, version: null, error: null };
  const r = await run(bin, versionArgs, timeoutMs, env);
  const first = r.stdout.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? null;
  return { path: bin, present: true, version: r.error === null ? first : null, error: r.error === null ? null : `--version failed: ${r.error}` };
}

async function probeFirmware(catalog: FirmwareCatalog, hasher: FileHasher): Promise<FirmwareFileProbe[]> {
  const files = firmwareKeys.flatMap((key) => firmwareFileList(catalog[key]).map((f) => ({ key, ...f })));
  return Promise.all(
    files.map(async (f): Promise<FirmwareFileProbe> => {
      try {
        const st = await stat(f.path);
        const sha256 = await hasher.sha256(f.path);
        return { key: f.key, role: f.role, path: f.path, present: true, sizeBytes: st.size, sha256, error: null };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return { key: f.key, role: f.role, path: f.path, present: false, sizeBytes: null, sha256: null, error: code ?? (e as Error).message };
      }
    }),
  );
}

async function probeKvm(device: string): Promise<KvmProbe> {
  try {
    const st = await stat(device);
    if (!st.isCharacterDevice()) return { path: device, present: false, usable: false, detail: `${device} is not a character device` };
  } catch {
    return { path: device, present: false, usable: false, detail: `${device} does not exist (no KVM in this kernel, or not exposed to this container)` };
  }
  try {
    const fh = await open(device, fsConstants.O_RDWR); // Node opens every fd close-on-exec
    await fh.close();
    return { path: device, present: true, usable: true, detail: `${device} opens read-write` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return { path: device, present: true, usable: false, detail: `${device} is not usable by this user (${code})` };
  }
}

/** `key : value` lines of `xl info`. */
export function parseXlInfo(text: string): Record<string, string> {
  const info: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_]+)\s*:\s?(.*)$/.exec(line);
    if (m) info[m[1]!] = m[2]!.trim();
  }
  return { ...info };
}

async function probeXen(xlPath: string, timeoutMs: number, env: Readonly<Record<string, string>>): Promise<XenProbe> {
  const xl = await probeTool(xlPath, null, timeoutMs, env);
  if (!xl.present) return { xl, usable: false, info: null, detail: `xl is not installed (${xlPath})` };
  const r = await run(xlPath, ['info'], timeoutMs, env);
  if (r.error !== null) return { xl, usable: false, info: null, detail: `xl info failed (${r.error}): not a Xen dom0, or no rights to manage guests` };
  const info = parseXlInfo(r.stdout);
  const version = info['xen_version'] ? `Xen ${info['xen_version']}` : 'Xen';
  return { xl: { ...xl, version: info['xen_version'] ?? null }, usable: true, info, detail: `${version} dom0, xl info works` };
}

async function hostArchOf(opts: CapabilityProbeOptions, timeoutMs: number, env: Readonly<Record<string, string>>): Promise<HostArch> {
  if (opts.hostArch) return normalizeHostArch(opts.hostArch);
  const r = await run('uname', ['-m'], timeoutMs, env);
  return normalizeHostArch(r.error === null && r.stdout.trim() ? r.stdout : os.arch());
}

/** Probes the host. Never rejects for a missing tool or file: absence is a capability fact. */
export async function probeHostCapabilities(opts: CapabilityProbeOptions = {}): Promise<HostCapabilities> {
  const timeoutMs = opts.commandTimeoutMs ?? 5000;
  const env = opts.env ?? DEFAULT_ENV;
  const bins = { ...defaultQemuSystemBinaries, ...opts.qemuSystem };
  const hasher = opts.hasher ?? new FileHasher();
  const [hostArch, aarch64, arm, img, setpriv, prlimit, firmware, kvm, xen] = await Promise.all([
    hostArchOf(opts, timeoutMs, env),
    probeTool(bins.aarch64, ['--version'], timeoutMs, env),
    probeTool(bins.arm, ['--version'], timeoutMs, env),
    probeTool(opts.qemuImg ?? '/usr/bin/qemu-img', ['--version'], timeoutMs, env),
    probeTool(opts.setpriv ?? '/usr/bin/setpriv', ['--version'], timeoutMs, env),
    probeTool(opts.prlimit ?? '/usr/bin/prlimit', ['--version'], timeoutMs, env),
    probeFirmware(opts.firmware ?? defaultFirmwareCatalog, hasher),
    probeKvm(opts.kvmDevice ?? '/dev/kvm'),
    probeXen(opts.xl ?? '/usr/sbin/xl', timeoutMs, env),
  ]);
  return {
    schema: 1,
    probedAt: new Date().toISOString(),
    hostArch,
    cpuCount: os.availableParallelism?.() ?? os.cpus().length,
    memoryMiB: Math.floor(os.totalmem() / (1024 * 1024)),
    qemu: { aarch64, arm, img },
    containment: { setpriv, prlimit },
    firmware,
    kvm,
    xen,
  };
}

/** A queue a worker can serve: `<backend>:<guest arch>`. */
export type BackendCapability = `${BackendId}:${Arch}`;

/** The queues this farm routes to, in a stable order. */
export const backendCapabilities: readonly BackendCapability[] = Object.freeze([
  'qemu-tcg:aarch64',
  'qemu-tcg:arm',
  'qemu-kvm:aarch64',
  'qemu-kvm:arm',
  'xen:aarch64',
]);

/** Which queues a host can serve, and why not the others. */
export interface BackendAvailability {
  readonly available: readonly BackendCapability[];
  readonly unavailable: ReadonlyArray<{ readonly capability: BackendCapability; readonly reasons: readonly string[] }>;
}

/**
 * The representative profile a queue is judged by: the spec's reference cell for that backend
 * and arch (edk2 + dt for 32-bit ARM, which has no ACPI; dt + xen-pv for Xen).
 */
export function representativeProfile(capability: BackendCapability): VmProfile {
  const [backend, arch] = capability.split(':') as [BackendId, Arch];
  const accel = backend === 'qemu-kvm' ? 'kvm' : backend === 'xen' ? 'xen' : 'tcg';
  return {
    arch,
    firmware: 'edk2',
    hwDescription: arch === 'arm' || backend === 'xen' ? 'dt' : 'acpi',
    gic: 'v3',
    disk: backend === 'xen' ? 'xen-pv' : 'virtio-pci',
    cpus: 1,
    memoryMiB: 512,
    accel,
  };
}

/**
 * Which backend queues this host can serve. A queue is available when its representative
 * profile ({@link representativeProfile}) is runnable here; the reasons of the others are the
 * validator's sentences (e.g. "host is x86_64: no KVM for aarch64 guests").
 */
export function backendsAvailable(caps: HostCapabilities): BackendAvailability {
  const available: BackendCapability[] = [];
  const unavailable: Array<{ capability: BackendCapability; reasons: string[] }> = [];
  for (const capability of backendCapabilities) {
    const verdict = explainProfile(representativeProfile(capability), caps);
    if (verdict.runnable) available.push(capability);
    else unavailable.push({ capability, reasons: verdict.problems.filter((p) => p.severity === 'error').map((p) => p.message) });
  }
  return { available, unavailable };
}
