/**
 * The platform probe of one VM profile: the VMSPEC probe booted twice on that exact profile,
 * sharing one UEFI variable store (so boot 2 shows whether boot 1's variable persisted: FW-7),
 * recorded as a {@link PlatformProbeDto} for the compliance verdicts.
 */
import { PlatformProbeDto, type ProbeBootDto, type ProbeLineDto, type VmProfile } from '@bootfarm/contracts';
import type { BootReport, BootRequest } from '@bootfarm/emulator';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ensureProbeImage } from './index.js';
import { PROBE_PREFIX } from './protocol.js';

/** Anything that boots like the emulator's `QemuLauncher`. */
export interface ProbeBootLauncher {
  boot(request: BootRequest): Promise<BootReport>;
}

/** Options of {@link probePlatform}. */
export interface ProbePlatformOptions {
  readonly launcher: ProbeBootLauncher;
  readonly profile: VmProfile;
  /**
   * Absolute path of a directory for this probe (the shared vars store and both boots' work
   * dirs). Created here (it must not exist, or be empty) and removed at the end.
   */
  readonly workDir: string;
  /** Limit for each boot (default {@link DEFAULT_PROBE_BOOT_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
  /** Aborting cancels the boot in progress; no further boot starts. */
  readonly signal?: AbortSignal;
  /** Where the probe image is built and cached (default: `ensureProbeImage`'s). */
  readonly cacheDir?: string;
}

/** Boots per platform probe: the second one reuses the first one's variable store. */
export const PLATFORM_PROBE_BOOTS = 2;
/** Default limit for one probe boot (they take 3–5 s under TCG, 2 s of it the probe's stall). */
export const DEFAULT_PROBE_BOOT_TIMEOUT_MS = 60_000;
/** Probe lines kept per boot (the probe prints ~90). */
export const MAX_PROBE_LINES = 2000;
/** The probe's verdict line ends the boot. */
export const PROBE_SUCCESS_MARKER = /VMSPEC-PROBE result=done/;
/** The probe powers the VM off right after its verdict: QMP `quit` only if it did not. */
const MARKER_GRACE_MS = 1000;

/**
 * Boots the probe image of `profile.arch` twice on `profile` and records each boot: outcome,
 * reason, QEMU command line, host UTC start/end, exit, and its `VMSPEC-PROBE` lines. With edk2
 * both boots share one variable store (`varsShared: true`); U-Boot has none (`false`).
 *
 * Rejects when the request is unusable (relative `workDir`, a profile the launcher refuses) or
 * the probe image cannot be built; a boot that fails is recorded, not thrown.
 */
export async function probePlatform(opts: ProbePlatformOptions): Promise<PlatformProbeDto> {
  const { launcher, profile, signal } = opts;
  if (typeof opts.workDir !== 'string' || !path.isAbsolute(opts.workDir)) throw new TypeError('workDir must be an absolute path');
  const workDir = path.resolve(opts.workDir);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_BOOT_TIMEOUT_MS;
  const image = await ensureProbeImage({ arch: profile.arch, ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}) });
  await createEmptyDir(workDir);
  try {
    const varsShared = profile.firmware === 'edk2';
    const varsStore = path.join(workDir, 'vars.fd');
    const boots: ProbeBootDto[] = [];
    for (let n = 1; n <= PLATFORM_PROBE_BOOTS && !signal?.aborted; n++) {
      const lines: ProbeLineDto[] = [];
      let hostStartedAt = new Date();
      const report = await launcher.boot({
        image: { path: image.imagePath, format: 'raw' },
        profile,
        workDir: path.join(workDir, `boot-${n}`),
        timeoutMs,
        successMarkers: [PROBE_SUCCESS_MARKER],
        markerGraceMs: MARKER_GRACE_MS,
        ...(varsShared ? { varsStore } : {}),
        ...(signal ? { signal } : {}),
        onStart: () => {
          hostStartedAt = new Date();
        },
        onLine: (line) => {
          if (lines.length < MAX_PROBE_LINES && line.text.includes(PROBE_PREFIX)) {
            lines.push({ seq: line.seq, offsetMs: line.offsetMs, text: line.text });
          }
        },
      });
      const hostFinishedAt = new Date();
      boots.push({
        boot: n,
        outcome: report.outcome,
        reason: report.reason,
        commandLine: report.command.shell,
        hostStartedAt: hostStartedAt.toISOString(),
        hostFinishedAt: hostFinishedAt.toISOString(),
        exit: report.exit.by === 'not_started' ? null : { code: report.exit.code, signal: report.exit.signal },
        lines,
      });
    }
    // The contract's own schema: a shape error here is this function's bug, not the guest's.
    return PlatformProbeDto.parse({ profile: stripProfile(profile), varsShared, boots });
  } finally {
    await fs.rm(workDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** The contract's VmProfile fields only (the emulator's profile may carry more, e.g. `network`). */
function stripProfile(p: VmProfile): VmProfile {
  return { arch: p.arch, firmware: p.firmware, hwDescription: p.hwDescription, gic: p.gic, disk: p.disk, cpus: p.cpus, memoryMiB: p.memoryMiB, accel: p.accel };
}

/** Creates `dir` (0700, parents as needed); an existing empty directory is taken over. */
async function createEmptyDir(dir: string): Promise<void> {
  await fs.mkdir(path.dirname(dir), { recursive: true });
  try {
    await fs.mkdir(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const st = await fs.lstat(dir);
    if (!st.isDirectory() || (await fs.readdir(dir)).length > 0) throw new Error(`workDir ${dir} already exists and is not an empty directory`);
  }
}
