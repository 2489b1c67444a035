import { evaluateCell, type CellInput } from '@bootfarm/compliance';
import type { CellCompliance, InspectionDto, PlatformProbeDto, VmProfile } from '@bootfarm/contracts';
import type { BootBackend, BootReport, ConsoleLine } from '@bootfarm/emulator';
import { PROBE_PREFIX, probePlatform } from '@bootfarm/probe';

/** Probe lines kept from the image's own console (a vendor image may print the probe's prefix). */
const MAX_PROBE_LINES = 2_000;

/** One cell to run. */
export interface CellRequest {
  /** Names the cell in verdict evidence. */
  readonly cellId: string;
  /** `profileKey(profile)`. */
  readonly cellKey: string;
  readonly profile: VmProfile;
  /** The image, already checked at intake (its inspection decides the IMG verdicts). */
  readonly image: { readonly path: string; readonly format: 'raw' | 'qcow2'; readonly inspection: InspectionDto | null };
  /** Absolute scratch directories of the image's boot and of the platform probe (created and removed by them). */
  readonly bootWorkDir: string;
  readonly probeWorkDir: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Each console line of the image's boot, as it arrives. */
  readonly onLine?: (line: ConsoleLine) => void;
  /**
   * Called when the image's boot has ended, before the platform probe starts; awaited. Throwing
   * stops the run there (e.g. a worker giving an infrastructure error back to its queue).
   */
  readonly onBootEnd?: (report: BootReport) => void | Promise<void>;
}

/** What running a cell produced. */
export interface CellRun {
  readonly report: BootReport;
  /** The image console's probe-prefixed lines (the probe image's own facts when it is the image). */
  readonly probeLines: readonly string[];
  /** The platform probe, or null with the reason it could not run (the cell's result never waits on it). */
  readonly platform: PlatformProbeDto | null;
  readonly platformError: string | null;
  /** The cell's verdicts; null with the reason when an evaluator failed (never costs the boot's result). */
  readonly compliance: CellCompliance | null;
  readonly complianceError: string | null;
}

export interface CellRunnerDeps {
  readonly launcher: BootBackend;
  /** Boots the probe on a platform; default {@link probePlatform} with `launcher`. */
  readonly probePlatform?: (profile: VmProfile, workDir: string, signal?: AbortSignal) => Promise<PlatformProbeDto>;
}

/**
 * Runs one cell. A canceled boot ends the run there, without a platform probe. Guest outcomes
 * (failed, timeout) and infrastructure errors are results; whether to retry the latter is the
 * caller's decision, taken in `onBootEnd`. A launcher that refuses the request rejects.
 */
export async function runCell(deps: CellRunnerDeps, request: CellRequest): Promise<CellRun> {
  const probeLines: string[] = [];
  const report = await deps.launcher.boot({
    image: { path: request.image.path, format: request.image.format },
    profile: request.profile,
    workDir: request.bootWorkDir,
    timeoutMs: request.timeoutMs,
    silenceTimeoutMs: Math.min(request.timeoutMs, 60_000),
    ...(request.signal && { signal: request.signal }),
    onLine: (line) => {
      request.onLine?.(line);
      if (line.text.includes(PROBE_PREFIX) && probeLines.length < MAX_PROBE_LINES) probeLines.push(line.text);
    },
  });
  await request.onBootEnd?.(report);
  if (report.outcome === 'canceled') {
    return { report, probeLines, platform: null, platformError: 'not probed: the boot was canceled', compliance: null, complianceError: null };
  }
  const { platform, platformError } = await probeCellPlatform(deps, request);
  const input: CellInput = {
    cellId: request.cellId,
    cellKey: request.cellKey,
    profile: request.profile,
    image: { inspection: request.image.inspection },
    boot: {
      outcome: report.outcome,
      reason: report.reason,
      stage: report.stage,
      failureClass: report.failureClass,
      marker: report.marker ?? null,
      decidingLine: report.decidingLine ?? null,
    },
    guest: (report.guestFacts ?? null) as CellInput['guest'],
    platform,
  };
  try {
    return { report, probeLines, platform, platformError, compliance: evaluateCell(input), complianceError: null };
  } catch (err) {
    return { report, probeLines, platform, platformError, compliance: null, complianceError: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
}

async function probeCellPlatform(deps: CellRunnerDeps, request: CellRequest): Promise<{ platform: PlatformProbeDto | null; platformError: string | null }> {
  const run =
    deps.probePlatform ??
    ((profile: VmProfile, dir: string, signal?: AbortSignal) => probePlatform({ launcher: deps.launcher, profile, workDir: dir, ...(signal && { signal }) }));
  try {
    return { platform: await run(request.profile, request.probeWorkDir, request.signal), platformError: null };
  } catch (err) {
    return { platform: null, platformError: err instanceof Error ? err.message : String(err) };
  }
}
