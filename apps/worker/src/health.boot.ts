import type { Capability } from '@bootfarm/contracts';
import { representativeProfile, type BootBackend } from '@bootfarm/emulator';
import { ensureProbeImage, PROBE_SUCCESS_MARKER } from '@bootfarm/probe';
import type { ServedCapabilities } from './served.capabilities.js';

/** The verdict of a health boot, with the sentence recorded as the health reason. */
export interface HealthBootResult {
  passed: boolean;
  reason: string;
}

/** What a health boot needs; injected so tests can choose the parts. */
export interface HealthBootDeps {
  served: ServedCapabilities;
  launcherFor: (capability: Capability) => BootBackend;
  /** A fresh per-boot directory. */
  scratchDir: () => string;
  timeoutMs: number;
  /** Where the probe image is built and cached (default: the probe package's). */
  probeCacheDir?: string;
}

/**
 * The LAVA health check: boots the known-good VMSPEC probe image on the representative profile of
 * every capability the worker serves, through the same launcher vendor cells use. It passes only
 * if each boot reaches the probe's verdict; a capability the host cannot run fails it with the
 * validator's reasons. Never throws: a failure is a verdict.
 */
export async function runHealthBoot(deps: HealthBootDeps, signal?: AbortSignal): Promise<HealthBootResult> {
  const { serve, unrunnable } = deps.served;
  if (unrunnable.length > 0) {
    return { passed: false, reason: `cannot serve ${unrunnable.map((u) => `${u.capability} (${u.reasons.join('; ')})`).join(', ')}` };
  }
  if (serve.length === 0) return { passed: false, reason: 'this host can run no capability the farm routes' };
  const started = Date.now();
  for (const capability of serve) {
    try {
      const profile = representativeProfile(capability);
      const image = await ensureProbeImage({ arch: profile.arch, ...(deps.probeCacheDir !== undefined && { cacheDir: deps.probeCacheDir }) });
      const report = await deps.launcherFor(capability).boot({
        image: { path: image.imagePath, format: 'raw' },
        profile,
        workDir: deps.scratchDir(),
        timeoutMs: deps.timeoutMs,
        successMarkers: [PROBE_SUCCESS_MARKER],
        markerGraceMs: 1_000,
        ...(signal && { signal }),
      });
      if (report.outcome !== 'passed') return { passed: false, reason: `health boot on ${capability}: ${report.outcome}: ${report.reason}` };
    } catch (err) {
      return { passed: false, reason: `health boot on ${capability} could not run: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  return { passed: true, reason: `health boot passed on ${serve.join(', ')} in ${Date.now() - started} ms` };
}
