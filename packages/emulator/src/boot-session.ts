/**
 * The backend-independent parts of one boot session, shared by the QEMU and the Xen launcher:
 * request checks, the work dir, the image check, the overlay verdict, the console (capture →
 * analyzer → `onLine`), the run timers, the session frame (abort, deadline, cleanup) and the
 * report. Each launcher composes these and keeps only what is its own (starting, watching and
 * stopping the guest). Internal: not exported from the package index.
 */
import { access, chmod, chown, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type {
  BackendId,
  BootCommand,
  BootImage,
  BootReport,
  BootRequest,
  ConsoleLine,
  ContainmentRecord,
  ExitRecord,
  FailureClass,
  FirmwareRecord,
} from './boot.types.js';
import { BootConsoleAnalyzer, consoleSuccessMarkers } from './boot-console.analyzer.js';
import { classifyBootEnd, type BootEndCause, type BootEndFacts, type BootVerdict } from './boot-outcome.classifier.js';
import { ConsoleCapture, type ConsoleCaptureOptions } from './console.capture.js';
import { imageHeaderProblems } from './image-header.guard.js';

/** No console output for this long ends a boot, unless the request says otherwise. */
export const DEFAULT_SILENCE_MS = 30_000;
/** After a success marker, how long the guest gets to power off by itself, unless the request says otherwise. */
export const DEFAULT_MARKER_GRACE_MS = 3000;
/** How long to wait for a console to drain (or a process to exit) before deciding without it. */
export const CLOSE_WAIT_MS = 2000;
/** Characters of the backend's stderr kept for the report. */
export const STDERR_CAP = 16 * 1024;
/** Limit for `qemu-img create` of the overlay. */
export const QEMU_IMG_TIMEOUT_MS = 30_000;
/** setTimeout's largest delay. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The only environment QEMU, qemu-img and xl get: never the worker's (it holds secrets). */
export const defaultChildEnv: Readonly<Record<string, string>> = Object.freeze({
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LC_ALL: 'C',
});

/** Why preparing or starting a boot failed. */
export interface SetupFailure {
  readonly failureClass: FailureClass;
  readonly message: string;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function isInside(file: string, dir: string): boolean {
  const rel = path.relative(path.resolve(dir), path.resolve(file));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The silence limit of a request. */
export function silenceLimitMs(request: BootRequest): number {
  return request.silenceTimeoutMs ?? DEFAULT_SILENCE_MS;
}

// ---- request checks ----------------------------------------------------------------------------

/**
 * What is wrong with a request, whatever the backend. `workDirProblems` adds the backend's own
 * checks of an absolute, non-root `workDir` (they come before the image-inside-workDir check).
 */
export function bootRequestProblems(r: BootRequest, workDirProblems: (workDir: string) => readonly string[]): string[] {
  const problems: string[] = [];
  if (!r.image || typeof r.image.path !== 'string' || !path.isAbsolute(r.image.path)) problems.push('image.path must be an absolute path');
  if (r.image && r.image.format !== 'raw' && r.image.format !== 'qcow2') problems.push(`image.format must be raw or qcow2, not ${String(r.image.format)}`);
  if (typeof r.workDir !== 'string' || !path.isAbsolute(r.workDir)) {
    problems.push('workDir must be an absolute path');
  } else {
    if (path.resolve(r.workDir) === path.parse(r.workDir).root) problems.push('workDir must not be the root directory');
    problems.push(...workDirProblems(r.workDir));
    if (r.image && typeof r.image.path === 'string' && isInside(r.image.path, r.workDir)) problems.push('the image must not lie inside workDir');
  }
  const ms = (v: number, min: number): boolean => Number.isFinite(v) && v >= min && v <= MAX_TIMER_MS;
  if (!ms(r.timeoutMs, 1)) problems.push(`timeoutMs must be between 1 and ${MAX_TIMER_MS}`);
  if (r.silenceTimeoutMs !== undefined && !ms(r.silenceTimeoutMs, 1)) problems.push(`silenceTimeoutMs must be between 1 and ${MAX_TIMER_MS}`);
  if (r.markerGraceMs !== undefined && !ms(r.markerGraceMs, 0)) problems.push(`markerGraceMs must be between 0 and ${MAX_TIMER_MS}`);
  if (r.successMarkers !== undefined && !(Array.isArray(r.successMarkers) && r.successMarkers.every((m) => m instanceof RegExp))) problems.push('successMarkers must be an array of RegExp');
  if (r.rawConsolePath !== undefined) {
    if (!path.isAbsolute(r.rawConsolePath)) problems.push('rawConsolePath must be an absolute path');
    else if (typeof r.workDir === 'string' && isInside(r.rawConsolePath, r.workDir)) problems.push('rawConsolePath must lie outside workDir (it is removed)');
  }
  return problems;
}

// ---- preparation -------------------------------------------------------------------------------

/** The per-boot directory: created 0700 (or taken over when empty), removed at the end if created. */
export class BootWorkDir {
  /** Set once the directory is this boot's: only then is it removed. */
  owned = false;

  constructor(
    readonly path: string,
    private readonly warnings: string[],
  ) {}

  /** Creates the directory (and its parents), owned by `runAs` when given. */
  async create(runAs: { readonly uid: number; readonly gid: number } | null = null): Promise<SetupFailure | null> {
    try {
      await mkdir(path.dirname(this.path), { recursive: true });
      try {
        await mkdir(this.path, { mode: 0o700 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const st = await stat(this.path);
        if (!st.isDirectory() || (await readdir(this.path)).length > 0) {
          return { failureClass: 'host_setup_failed', message: `The work dir ${this.path} already exists and is not an empty directory.` };
        }
        await chmod(this.path, 0o700);
      }
      this.owned = true;
      if (runAs) await chown(this.path, runAs.uid, runAs.gid);
      return null;
    } catch (e) {
      return { failureClass: 'host_setup_failed', message: `Could not create the work dir ${this.path}: ${errorMessage(e)}.` };
    }
  }

  /** Removes the directory if this boot created it; a failure is a warning. */
  async remove(): Promise<void> {
    if (!this.owned) return;
    try {
      await rm(this.path, { recursive: true, force: true, maxRetries: 3 });
    } catch (e) {
      this.warnings.push(`Could not remove the work dir ${this.path}: ${errorMessage(e)}`);
    }
  }
}

/** The image must be a readable regular file whose header passes the guard. */
export async function checkBootImage(image: BootImage): Promise<SetupFailure | null> {
  const p = path.resolve(image.path);
  try {
    const st = await stat(p);
    if (!st.isFile()) throw new Error('not a regular file');
    await access(p, fsConstants.R_OK);
  } catch (e) {
    return { failureClass: 'host_setup_failed', message: `The image ${p} cannot be read: ${errorMessage(e)}.` };
  }
  try {
    const problems = await imageHeaderProblems(p, image.format);
    if (problems.length > 0) return { failureClass: 'image_rejected', message: `The image was refused before boot: ${problems.join('; ')}.` };
  } catch (e) {
    return { failureClass: 'host_setup_failed', message: `The image header of ${p} cannot be read: ${errorMessage(e)}.` };
  }
  return null;
}

/** How `qemu-img create` of the overlay ended, however it was run. */
export interface OverlayRun {
  /** Set when qemu-img could not be executed at all. */
  readonly error: Error | null;
  readonly code: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  /** Its output (stderr and stdout). */
  readonly output: string;
}

/** The setup failure of an overlay creation that did not succeed (null when it did). */
export function overlayFailure(r: OverlayRun): SetupFailure | null {
  if (r.error) return { failureClass: 'host_setup_failed', message: `Could not run qemu-img to create the overlay: ${r.error.message}.` };
  if (r.code === 0) return null;
  const why = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`;
  return { failureClass: 'host_setup_failed', message: `qemu-img could not create the overlay (${why}): ${r.output.trim().slice(0, 500)}` };
}

// ---- the console -------------------------------------------------------------------------------

/** Options of {@link BootConsole}. */
export interface BootConsoleOptions {
  /** Markers, `stopOnFailureSignature` and `onLine` come from the request. */
  readonly request: BootRequest;
  /** Milliseconds since the guest was started (monotonic). */
  readonly now: () => number;
  readonly maxRawConsoleBytes: number | undefined;
  readonly maxLineBytes: number | undefined;
  /** A partial line (a prompt) is delivered after this much quiet. */
  readonly partialLineFlushMs: number;
  /** Where `onLine` exceptions and a failed raw console write are reported. */
  readonly warnings: string[];
  /** The analyzer decided the boot (marker or definitive failure signature). */
  readonly onDecision: (cause: BootEndCause) => void;
}

/**
 * The guest's (primary) console: bytes are captured into lines, each line goes to the analyzer
 * (which may decide the boot) and then, as stored, to the request's `onLine`.
 */
export class BootConsole {
  readonly capture: ConsoleCapture;
  readonly analyzer: BootConsoleAnalyzer;
  private sawOutput = false;
  private partialTimer: NodeJS.Timeout | null = null;
  private onLineFailures = 0;

  constructor(private readonly options: BootConsoleOptions) {
    const { request } = options;
    this.analyzer = new BootConsoleAnalyzer({
      markers: request.successMarkers ?? consoleSuccessMarkers,
      stopOnFailureSignature: request.stopOnFailureSignature ?? true,
    });
    this.capture = new ConsoleCapture(captureOptions(options));
  }

  /** Marks when output began (the first call only). */
  noteOutput(offsetMs: number): void {
    if (this.sawOutput) return;
    this.sawOutput = true;
    this.analyzer.noteOutput(this.capture.lineCount, offsetMs);
  }

  /** Takes a chunk of console bytes; a trailing partial line is delivered after a quiet spell. */
  write(chunk: Buffer): void {
    for (const line of this.capture.write(chunk)) this.onLine(line);
    this.schedulePartialFlush();
  }

  /** The console ended: delivers the partial line, if any. */
  close(): void {
    this.stopPartialFlush();
    for (const line of this.capture.flush('eof')) this.onLine(line);
  }

  stopPartialFlush(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
  }

  /** Writes the raw console to `file` (mode 0600) when given; a failure is a warning. */
  async saveRaw(file: string | undefined): Promise<void> {
    if (!file) return;
    try {
      await writeFile(file, this.capture.raw(), { mode: 0o600 });
    } catch (e) {
      this.options.warnings.push(`Could not write the raw console to ${file}: ${errorMessage(e)}`);
    }
  }

  private schedulePartialFlush(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = null;
    if (!this.capture.hasPartialLine) return;
    this.partialTimer = setTimeout(() => {
      this.partialTimer = null;
      for (const line of this.capture.flush('idle')) this.onLine(line);
    }, this.options.partialLineFlushMs);
  }

  private onLine(line: ConsoleLine): void {
    const decision = this.analyzer.feed(line);
    if (decision) this.options.onDecision(decision);
    const stored = this.capture.forStorage(line);
    const onLine = this.options.request.onLine;
    if (onLine && stored) {
      try {
        onLine(stored);
      } catch (e) {
        if (this.onLineFailures++ === 0) this.options.warnings.push(`onLine threw (first of possibly several): ${errorMessage(e)}`);
      }
    }
  }
}

/** {@link ConsoleCapture} options for a console of this boot (a secondary console uses the same). */
export function captureOptions(o: Pick<BootConsoleOptions, 'now' | 'maxRawConsoleBytes' | 'maxLineBytes'>): ConsoleCaptureOptions {
  return {
    now: o.now,
    ...(o.maxRawConsoleBytes === undefined ? {} : { maxRawBytes: o.maxRawConsoleBytes }),
    ...(o.maxLineBytes === undefined ? {} : { maxLineBytes: o.maxLineBytes }),
  };
}

// ---- timers and the session frame --------------------------------------------------------------

/** A session's timers: the boot's deadline, the silence limit, and the stop-path timers. */
export class SessionTimers {
  private deadline: NodeJS.Timeout | null = null;
  private silence: NodeJS.Timeout | null = null;
  private readonly others: NodeJS.Timeout[] = [];

  startDeadline(ms: number, onDeadline: () => void): void {
    this.deadline = setTimeout(() => {
      this.deadline = null;
      onDeadline();
    }, ms);
  }

  /** (Re)starts the silence limit. */
  resetSilence(ms: number, onSilence: () => void): void {
    if (this.silence) clearTimeout(this.silence);
    this.silence = setTimeout(onSilence, ms);
  }

  /** Stops the deadline and the silence limit (the boot is decided, or the guest is gone). */
  clearRun(): void {
    if (this.silence) clearTimeout(this.silence);
    if (this.deadline) clearTimeout(this.deadline);
    this.silence = null;
    this.deadline = null;
  }

  /** A one-shot timer, cleared by {@link clearAll}. */
  after(ms: number, fn: () => void): void {
    this.others.push(setTimeout(fn, ms));
  }

  /** An interval, cleared by {@link clearAll}. */
  every(ms: number, fn: () => void): void {
    this.others.push(setInterval(fn, ms));
  }

  clearAll(): void {
    this.clearRun();
    for (const t of this.others) clearTimeout(t); // clearTimeout also clears intervals
  }
}

/** What {@link runBootFrame} needs from a session. */
export interface BootFrame {
  readonly request: BootRequest;
  /** `performance.now()` when `boot()` was called: the deadline counts from there. */
  readonly startedAt: number;
  readonly timers: SessionTimers;
  /** The request's signal fired (registered for the duration of the frame). */
  readonly onAbort: () => void;
  readonly onDeadline: () => void;
  /** Called instead of everything else when the request was aborted before the boot began. */
  readonly abortedBeforeStart: () => void;
  /** Prepares and runs the boot. */
  readonly body: () => Promise<void>;
  /** `body` threw (a bug, not an outcome): becomes a setup failure. */
  readonly onUnexpectedError: (message: string) => void;
  /** Always runs after `body`, once the abort listener is removed. */
  readonly cleanup: () => Promise<void>;
}

/**
 * Runs a session inside its frame: an already-aborted request does nothing; otherwise the
 * abort listener and the deadline are armed, the body runs, and cleanup always follows.
 */
export async function runBootFrame(f: BootFrame): Promise<void> {
  const signal = f.request.signal;
  if (signal?.aborted) {
    f.abortedBeforeStart();
    return;
  }
  signal?.addEventListener('abort', f.onAbort, { once: true });
  const remaining = f.request.timeoutMs - (performance.now() - f.startedAt);
  f.timers.startDeadline(Math.max(0, remaining), f.onDeadline);
  try {
    await f.body();
  } catch (e) {
    f.onUnexpectedError(`Unexpected error while running the boot: ${errorMessage(e)}`);
  } finally {
    signal?.removeEventListener('abort', f.onAbort);
    await f.cleanup();
  }
}

// ---- verdict and report ------------------------------------------------------------------------

/** What the backend knows about the end of the boot; the console and the request supply the rest. */
export interface SessionEndFacts {
  readonly cause: BootEndCause;
  readonly exit: BootEndFacts['exit'];
  readonly stderr: string;
  readonly atMs: number | null;
  readonly setupFailure: SetupFailure | null;
}

/** {@link classifyBootEnd} with the console's and the request's facts filled in. */
export function classifySession(guestConsole: BootConsole, request: BootRequest, f: SessionEndFacts): BootVerdict {
  return classifyBootEnd({
    cause: f.cause,
    stage: guestConsole.analyzer.stage,
    consoleBytes: guestConsole.capture.totalBytes,
    marker: guestConsole.analyzer.marker,
    signature: guestConsole.analyzer.signature,
    exit: f.exit,
    stderr: f.stderr,
    atMs: f.atMs,
    timeoutMs: request.timeoutMs,
    silenceTimeoutMs: silenceLimitMs(request),
    ...(f.setupFailure ? { setupFailure: f.setupFailure } : {}),
  });
}

/** The backend's part of a report. */
export interface ReportParts {
  readonly backend: BackendId;
  readonly verdict: BootVerdict;
  /** Include the analyzer's phases, normalised signature, deciding line and guest facts. */
  readonly analyzerExtras: boolean;
  readonly startedAt: number;
  readonly exit: ExitRecord;
  readonly command: BootCommand;
  readonly firmware: FirmwareRecord;
  readonly containment: ContainmentRecord;
  readonly stderr: string;
  readonly warnings: readonly string[];
}

/** The report of a boot: the verdict, what the console showed, and the backend's records. */
export function assembleBootReport(guestConsole: BootConsole, p: ReportParts): BootReport {
  const { analyzer, capture } = guestConsole;
  const sig = analyzer.signature;
  return {
    backend: p.backend,
    outcome: p.verdict.outcome,
    failureClass: p.verdict.failureClass,
    reason: p.verdict.reason,
    stage: analyzer.stage,
    stages: [...analyzer.stages],
    ...(p.analyzerExtras ? analyzer.reportExtras(p.verdict.failureClass) : {}),
    marker: analyzer.marker,
    failureSignature: sig ? { seq: sig.seq, offsetMs: sig.offsetMs, text: sig.text, pattern: sig.pattern } : null,
    durationMs: Math.round(performance.now() - p.startedAt),
    exit: p.exit,
    command: p.command,
    firmware: p.firmware,
    containment: p.containment,
    lineCount: capture.lineCount,
    consoleBytes: capture.totalBytes,
    consoleTruncated: capture.truncated,
    stderr: p.stderr,
    warnings: p.warnings,
  };
}
