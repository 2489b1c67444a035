/**
 * The VMSPEC probe: a tiny UEFI application (AArch64 or 32-bit ARM) that prints what the
 * firmware hands an OS loader as `VMSPEC-PROBE key=value` console lines and
 * then powers the VM off.
 *
 * This module builds and caches the probe's disk image ({@link ensureProbeImage})
 * and parses the probe's console output ({@link parseProbeLines}).
 * It uses Node built-ins only and reads no environment variables.
 *
 * @packageDocumentation
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { BuildFailedError, CacheEntryCorruptError, ensureCacheEntry, fileExists, hashFiles, sha256File } from '@bootfarm/build-cache';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Prefix of every line the probe prints (followed by one space, then `key=value`). */
export const PROBE_PREFIX = 'VMSPEC-PROBE';

/** Guest architectures the probe is built for. */
export type ProbeArch = 'aarch64' | 'arm';

/** Every architecture the probe is built for (one build produces all of them). */
export const PROBE_ARCHES: readonly ProbeArch[] = Object.freeze(['aarch64', 'arm']);

/** A built probe disk image, as returned by {@link ensureProbeImage}. */
export interface ProbeImage {
  /** Architecture of the UEFI application on the image. */
  arch: ProbeArch;
  /** Absolute path of the raw GPT disk image (read-only, never boot it directly: use an overlay). */
  imagePath: string;
  /**
   * Absolute path of the UEFI application: PE32+ AArch64 (the ESP's `\EFI\BOOT\BOOTAA64.EFI`) or
   * PE32 ARM Thumb-2, COFF Machine 0x01C2 (`\EFI\BOOT\BOOTARM.EFI`).
   */
  efiPath: string;
  /** Lowercase hex SHA-256 of the disk image. */
  sha256: string;
  /** Container format of {@link ProbeImage.imagePath}. */
  format: 'raw';
}

/** Options for {@link ensureProbeImage}. */
export interface EnsureProbeImageOptions {
  /**
   * Directory holding one `<key>/` subdirectory per build, where key is the
   * SHA-256 of the probe's C sources and build script.
   * Default: `<repo root>/.cache/probe`.
   */
  cacheDir?: string;
  /** Which probe to return (default `aarch64`). Both are built, and cached, together. */
  arch?: ProbeArch;
}

/** Thrown when the build script fails; `stderr` holds its diagnostics. */
export class ProbeBuildError extends BuildFailedError {
  /** Stable error code. */
  readonly code = 'PROBE_BUILD_FAILED';
  override readonly name = 'ProbeBuildError';
}

/** Thrown when a cache entry exists but is incomplete or unreadable. */
export class ProbeCacheCorruptError extends CacheEntryCorruptError {
  /** Stable error code. */
  readonly code = 'PROBE_CACHE_CORRUPT';
  override readonly name = 'ProbeCacheCorruptError';

  /** @param dir - the broken cache entry; deleting it makes the next call rebuild */
  constructor(dir: string, options?: ErrorOptions) {
    super(dir, 'probe', options);
  }
}

// This file runs as packages/probe/dist/index.js: the package is one level up.
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO_ROOT = path.resolve(PACKAGE_DIR, '..', '..');
const C_SOURCE_DIR = path.join(PACKAGE_DIR, 'src', 'c');
const BUILD_SCRIPT = path.join(PACKAGE_DIR, 'scripts', 'build-probe.sh');

/** Output file names per architecture (the build script's contract). */
const OUTPUTS: Readonly<Record<ProbeArch, { image: string; efi: string }>> = Object.freeze({
  aarch64: { image: 'probe-aa64.img', efi: 'probe-aa64.efi' },
  arm: { image: 'probe-arm.img', efi: 'probe-arm.efi' },
});
const BUILD_TIMEOUT_MS = 120_000;

interface ManifestEntry {
  imageSha256: string;
  efiSha256: string;
}

/** `imageSha256`/`efiSha256` describe aarch64 (the format before 32-bit ARM existed); `arches` every architecture. */
interface Manifest extends ManifestEntry {
  arches: Record<ProbeArch, ManifestEntry>;
}

/**
 * Returns the probe disk image, building it first if this version of the
 * sources has not been built into `cacheDir` yet.
 *
 * Concurrency-safe: a build runs in a private temporary directory that is
 * renamed into place in one step, so other callers see either no entry or a
 * complete one. When two processes build at once, the first rename wins and the
 * other discards its own (identical: the build is reproducible) result.
 * Outputs are made read-only (0444).
 *
 * @param opts - optional cache location
 * @returns paths and hash of the cached image
 * @throws {@link ProbeBuildError} when the build script fails
 * @throws {@link ProbeCacheCorruptError} when an existing cache entry is damaged
 */
export async function ensureProbeImage(opts: EnsureProbeImageOptions = {}): Promise<ProbeImage> {
  const arch = opts.arch ?? 'aarch64';
  if (!PROBE_ARCHES.includes(arch)) throw new TypeError(`unknown probe arch ${String(arch)} (expected ${PROBE_ARCHES.join(' or ')})`);
  const cacheDir = path.resolve(opts.cacheDir ?? path.join(REPO_ROOT, '.cache', 'probe'));
  const key = await sourceKey();
  const manifest = await ensureCacheEntry<Manifest>(cacheDir, key, {
    async build(tmpDir) {
      await runBuild(tmpDir);
      const arches = {} as Record<ProbeArch, ManifestEntry>;
      for (const a of PROBE_ARCHES) {
        arches[a] = {
          imageSha256: await sha256File(path.join(tmpDir, OUTPUTS[a].image)),
          efiSha256: await sha256File(path.join(tmpDir, OUTPUTS[a].efi)),
        };
      }
      const files = PROBE_ARCHES.flatMap((a) => [OUTPUTS[a].image, OUTPUTS[a].efi]);
      return { manifest: { ...arches.aarch64, arches } satisfies Manifest, files };
    },
    async read(entryDir, stored) {
      const m = stored as Partial<Manifest>;
      for (const a of PROBE_ARCHES) {
        const sha = m.arches?.[a]?.imageSha256;
        if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) throw new ProbeCacheCorruptError(entryDir);
        for (const file of [OUTPUTS[a].image, OUTPUTS[a].efi]) {
          if (!(await fileExists(path.join(entryDir, file)))) throw new ProbeCacheCorruptError(entryDir);
        }
      }
      return m as Manifest;
    },
    corrupt: (entryDir, cause) => new ProbeCacheCorruptError(entryDir, cause === undefined ? undefined : { cause }),
  });
  const entryDir = path.join(cacheDir, key);
  return {
    arch,
    imagePath: path.join(entryDir, OUTPUTS[arch].image),
    efiPath: path.join(entryDir, OUTPUTS[arch].efi),
    sha256: manifest.arches[arch].imageSha256,
    format: 'raw',
  };
}

/** SHA-256 over the C sources and the build script, file names included. */
async function sourceKey(): Promise<string> {
  const names = (await fs.readdir(C_SOURCE_DIR)).filter((n) => /\.[ch]$/.test(n)).sort();
  const files = [...names.map((n) => path.join(C_SOURCE_DIR, n)), BUILD_SCRIPT];
  return (await hashFiles(createHash('sha256'), files, PACKAGE_DIR)).digest('hex');
}

function runBuild(outDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [BUILD_SCRIPT, outDir],
      { timeout: BUILD_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 },
      (err, _stdout, stderr) => {
        if (err) {
          reject(new ProbeBuildError(`probe build failed: ${err.message.split('\n')[0]}`, stderr, { cause: err }));
        } else {
          resolve();
        }
      },
    );
  });
}




/** Facts extracted from the probe's console output by {@link parseProbeLines}. */
export interface ProbeFacts {
  /** `banner`, e.g. `vmspec-probe/1 arch=aarch64`. */
  banner?: string;
  /** Architecture named in the banner, e.g. `aarch64`. */
  arch?: string;
  /** `uefi.revision` as printed, e.g. `2.70` (see also `uefiRevisionRaw`). */
  uefiRevision?: string;
  /** `uefi.revision_raw`: EFI_SYSTEM_TABLE.Hdr.Revision in hex, e.g. `0x0000000000020046`. */
  uefiRevisionRaw?: string;
  /** `fw.vendor`: FirmwareVendor in ASCII (non-printable characters shown as `?`). */
  firmwareVendor?: string;
  /** `fw.revision`: FirmwareRevision in hex. */
  firmwareRevision?: string;
  /** `cpu.current_el`: exception level the application ran at (AArch64 only). */
  currentEl?: number;
  /** `cpu.cpsr_mode`: CPSR.M of a 32-bit ARM probe, e.g. 0x13 (SVC, PL1) or 0x1a (HYP, PL2). */
  cpsrMode?: number;
  /** `timer.cntfrq_hz`: generic timer frequency. */
  timerFrequencyHz?: number;
  /** `cfgtable.count`: EFI_SYSTEM_TABLE.NumberOfTableEntries. */
  configTableCount?: number;
  /** Every `cfgtable.guid`, in order, lowercase. */
  configTableGuids: string[];
  /** `fdt`: a DEVICE_TREE configuration table was installed. */
  fdtPresent?: boolean;
  /** `acpi20`: an ACPI 2.0+ RSDP configuration table was installed. */
  acpi20Present?: boolean;
  /** `acpi10`: an ACPI 1.0 RSDP configuration table was installed. */
  acpi10Present?: boolean;
  /** `smbios3`: an SMBIOS 3.x entry point was installed. */
  smbios3Present?: boolean;
  /** `smbios`: an SMBIOS 2.x entry point was installed. */
  smbiosPresent?: boolean;
  /** `fdt.magic`: true for `ok`, false for `bad`. */
  fdtMagicOk?: boolean;
  /** `fdt.totalsize` in bytes. */
  fdtTotalSize?: number;
  /** `fdt.version`. */
  fdtVersion?: number;
  /** `fdt.root.compatible`: first string of the root node's compatible, e.g. `linux,dummy-virt`. */
  fdtRootCompatible?: string;
  /** `fdt.error`: why the probe could not read the root compatible. */
  fdtError?: string;
  /** `acpi.rsdp.revision`: 2 or more for ACPI 2.0+. */
  acpiRsdpRevision?: number;
  /** `rt.gettime`: status of GetTime, e.g. `EFI_SUCCESS`, `EFI_UNSUPPORTED` or a hex code. */
  getTime?: string;
  /** `rt.gettime.time`: `YYYY-MM-DDTHH:MM:SS` as the RTC reported it (no zone). */
  getTimeValue?: string;
  /** True once `result=done` was seen: the probe ran to the end. */
  done: boolean;
  /** True when the probe reported `result=reset-failed` (ResetSystem returned). */
  resetFailed: boolean;
  /** Every key with all its values in order of appearance. */
  raw: Record<string, string[]>;
}

// Bounds for hostile input: the probe itself never prints more than 256 characters a line.
const MAX_KEY_LENGTH = 128;
const MAX_VALUE_LENGTH = 4096;
const KEY_PATTERN = /^[A-Za-z0-9_.-]+$/;

/**
 * Extracts the probe's facts from console lines.
 *
 * A fact is `VMSPEC-PROBE key=value` anywhere in a line: firmware output such
 * as ANSI escape sequences may precede the prefix, and two facts that ended up
 * on one line (a lost line break) are both read. Trailing CR/LF and spaces are
 * dropped. Segments without `=`, with an invalid key, or outside any prefix are
 * ignored. For single-valued fields the last occurrence wins; `raw` keeps all.
 * Never throws on strings.
 *
 * @param lines - console lines (a `[   0.616] ` timestamp prefix or any other junk before the marker is fine)
 * @returns the typed facts plus every key/value in `raw`
 */
export function parseProbeLines(lines: readonly string[]): ProbeFacts {
  const marker = `${PROBE_PREFIX} `;
  const all = new Map<string, string[]>();

  for (const line of lines) {
    if (typeof line !== 'string' || !line.includes(marker)) continue;
    const segments = line.split(marker);
    for (const segment of segments.slice(1)) {
      const eq = segment.indexOf('=');
      if (eq <= 0 || eq > MAX_KEY_LENGTH) continue;
      const key = segment.slice(0, eq);
      if (!KEY_PATTERN.test(key)) continue;
      const value = segment.slice(eq + 1, eq + 1 + MAX_VALUE_LENGTH).trimEnd();
      const values = all.get(key);
      if (values) values.push(value);
      else all.set(key, [value]);
    }
  }

  const last = (key: string): string | undefined => all.get(key)?.at(-1);
  const banner = last('banner');
  const results = all.get('result') ?? [];

  return {
    banner,
    arch: banner ? /(?:^|\s)arch=(\S+)/.exec(banner)?.[1] : undefined,
    uefiRevision: last('uefi.revision'),
    uefiRevisionRaw: last('uefi.revision_raw'),
    firmwareVendor: last('fw.vendor'),
    firmwareRevision: last('fw.revision'),
    currentEl: toInt(last('cpu.current_el')),
    cpsrMode: toHex32(last('cpu.cpsr_mode')),
    timerFrequencyHz: toInt(last('timer.cntfrq_hz')),
    configTableCount: toInt(last('cfgtable.count')),
    configTableGuids: (all.get('cfgtable.guid') ?? []).map((g) => g.toLowerCase()),
    fdtPresent: toPresence(last('fdt')),
    acpi20Present: toPresence(last('acpi20')),
    acpi10Present: toPresence(last('acpi10')),
    smbios3Present: toPresence(last('smbios3')),
    smbiosPresent: toPresence(last('smbios')),
    fdtMagicOk: toFlag(last('fdt.magic'), 'ok', 'bad'),
    fdtTotalSize: toInt(last('fdt.totalsize')),
    fdtVersion: toInt(last('fdt.version')),
    fdtRootCompatible: last('fdt.root.compatible'),
    fdtError: last('fdt.error'),
    acpiRsdpRevision: toInt(last('acpi.rsdp.revision')),
    getTime: last('rt.gettime'),
    getTimeValue: last('rt.gettime.time'),
    done: results.includes('done'),
    resetFailed: results.includes('reset-failed'),
    // fromEntries defines own properties, so a `__proto__` key cannot reach the prototype.
    raw: Object.fromEntries(all),
  };
}

function toInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

function toPresence(value: string | undefined): boolean | undefined {
  return toFlag(value, 'present', 'absent');
}

function toFlag(value: string | undefined, yes: string, no: string): boolean | undefined {
  if (value === yes) return true;
  if (value === no) return false;
  return undefined;
}

/** `0x` followed by 1..16 hex digits whose value fits 32 bits, else undefined. */
function toHex32(value: string | undefined): number | undefined {
  if (value === undefined || !/^0x[0-9a-fA-F]{1,16}$/.test(value)) return undefined;
  const n = Number.parseInt(value.slice(2), 16);
  return n <= 0xffffffff ? n : undefined;
}
