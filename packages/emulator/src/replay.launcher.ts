/**
 * A backend that replays recorded console transcripts (`.tlog`, as in fixtures/console) through
 * the same capture → analyzer → classifier path as a real boot, without starting a guest. For
 * load tests and benchmarks of the farm's pipeline (queue, worker, database) where QEMU's CPU
 * cost would hide what is measured. Never a default: a worker uses it only when told to, and
 * every report says it was a replay (the command is `bootfarm-replay <transcript>`).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { BootBackend, BootReport, BootRequest, ContainmentRecord, ExitRecord } from './boot.types.js';
import { BackendId } from './boot.types.js';
import type { BootEndCause } from './boot-outcome.classifier.js';
import { assembleBootReport, BootConsole, classifySession, silenceLimitMs } from './boot-session.js';
import type { VmProfile } from './vm.profile.js';

/** One console line of a transcript and when (ms after the guest started) it was printed. */
export interface TranscriptLine {
  readonly atMs: number;
  readonly text: string;
}

/** Parses a `.tlog`: `[   1.013] text` lines, `^[` standing for ESC. */
export function parseTranscript(body: string): TranscriptLine[] {
  return body
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l, i) => {
      const m = /^\[\s*([\d.]+)\] ?(.*)$/.exec(l);
      if (!m) throw new Error(`transcript line ${i + 1} is not "[seconds] text": ${l.slice(0, 80)}`);
      return { atMs: Number(m[1]) * 1000, text: m[2]!.replaceAll('^[', '\x1b') };
    });
}

export interface ReplayLauncherOptions {
  /** The transcript a boot replays, chosen from its request (e.g. by image path). */
  readonly transcriptFor: (request: BootRequest) => string;
  /** Transcript time is multiplied by this: 1 replays in real time, 0 as fast as possible. */
  readonly timeScale?: number;
}

const replayContainment: ContainmentRecord = {
  parentDeathSignal: 'SIGKILL',
  ownProcessGroup: true,
  noNewPrivileges: true,
  runAs: null,
  rlimits: { addressSpaceBytes: 0, fileSizeBytes: 0, coreBytes: 0, cpuSeconds: 0, openFiles: 0 },
  sandbox: 'none: no guest process (replay)',
  network: 'none',
  qmp: 'unix-socket',
  environment: [],
};

/** Replays transcripts as boots; see the module comment. */
export class ReplayLauncher implements BootBackend {
  readonly id = BackendId.QemuTcg;
  private readonly cache = new Map<string, TranscriptLine[]>();

  constructor(private readonly options: ReplayLauncherOptions) {}

  unsupportedReasons(_profile: VmProfile): readonly string[] {
    return [];
  }

  async boot(request: BootRequest): Promise<BootReport> {
    const startedAt = performance.now();
    const transcript = this.options.transcriptFor(request);
    const lines = this.load(transcript);
    const scale = this.options.timeScale ?? 0;
    const warnings = [`replayed transcript ${transcript}: no guest ran`];
    let decided: BootEndCause | null = null;
    const guestConsole = new BootConsole({
      request,
      now: () => performance.now() - startedAt,
      maxRawConsoleBytes: undefined,
      maxLineBytes: undefined,
      partialLineFlushMs: 300,
      warnings,
      onDecision: (cause) => (decided ??= cause),
    });
    const silenceMs = silenceLimitMs(request);
    let cause: BootEndCause = 'exited';
    let lastAt = 0;
    for (const line of lines) {
      if (request.signal?.aborted) {
        cause = 'aborted';
        break;
      }
      if (line.atMs - lastAt > silenceMs) {
        cause = 'silence';
        break;
      }
      if (line.atMs > request.timeoutMs) {
        cause = 'timeout';
        break;
      }
      const wait = (line.atMs - lastAt) * scale;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      lastAt = line.atMs;
      guestConsole.noteOutput(line.atMs);
      guestConsole.write(Buffer.from(`${line.text}\n`));
      if (decided) {
        cause = decided;
        break;
      }
    }
    guestConsole.close();
    // The end of a transcript is the guest powering off by itself.
    const exit: ExitRecord = { code: cause === 'exited' ? 0 : null, signal: null, offsetMs: Math.round(lastAt), by: cause === 'exited' ? 'self' : 'sigkill' };
    const verdict = classifySession(guestConsole, request, {
      cause,
      exit: cause === 'exited' ? { code: 0, signal: null } : null,
      stderr: '',
      atMs: lastAt,
      setupFailure: null,
    });
    return assembleBootReport(guestConsole, {
      backend: this.id,
      verdict,
      analyzerExtras: true,
      startedAt,
      exit,
      command: { argv: ['bootfarm-replay', transcript], shell: `bootfarm-replay ${transcript}`, launchArgv: ['bootfarm-replay', transcript], overlayArgv: [], reproduce: `bootfarm-replay ${transcript}\n` },
      firmware: { codePath: 'none (replay)', codeSha256: null, varsTemplatePath: 'none (replay)', varsTemplateSha256: null },
      containment: replayContainment,
      stderr: '',
      warnings,
    });
  }

  private load(path: string): TranscriptLine[] {
    let lines = this.cache.get(path);
    if (!lines) {
      lines = parseTranscript(readFileSync(path, 'utf8'));
      this.cache.set(path, lines);
    }
    return lines;
  }
}
