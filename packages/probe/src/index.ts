/**
 * The VMSPEC probe: a tiny UEFI application (AArch64 or 32-bit ARM) that prints what the
 * firmware hands an OS loader as `VMSPEC-PROBE key=value` console lines and
 * then powers the VM off.
 *
 * This module builds and caches the probe's disk image ({@link ensureProbeImage}), parses the
 * probe's console output ({@link parseProbeLines}; the pure protocol reader is `./protocol`,
 * also exported as `@bootfarm/probe/protocol`) and boots the probe on a VM profile
 * ({@link probePlatform}). It reads no environment variables.
 *
 * @packageDocumentation
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { BuildFailedError, CacheEntryCorruptError, ensureCacheEntry, fileExists, hashFiles, sha256File } from '@bootfarm/build-cache';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { probeFactsFromRecords, readProbeRecords, type ProbeFacts } from './protocol.js';

export * from './protocol.js';
export * from './platform-probe.js';

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

/**
 * Extracts the probe's facts from console lines (strings): every `VMSPEC-PROBE key=value` segment
 * ({@link splitProbeFacts}), typed by {@link probeFactsFromRecords}. For single-valued fields the
 * last occurrence wins; `raw` keeps all. Never throws on strings (non-strings are skipped).
 *
 * @param lines - console lines (a `[   0.616] ` timestamp prefix or any other junk before the marker is fine)
 * @returns the typed facts plus every key/value in `raw`
 */
export function parseProbeLines(lines: readonly string[]): ProbeFacts {
  const consoleLines = Array.isArray(lines) ? lines.map((text: unknown, seq) => ({ seq, offsetMs: 0, text: text as string })) : [];
  return probeFactsFromRecords(readProbeRecords(consoleLines));
}
