/**
 * Turns how a boot ended into its outcome, failure class and one-sentence reason. Pure.
 *
 * QEMU's exit status is not a verdict (a panicking kernel with `-no-reboot` exits 0, a failed
 * boot never exits): only a positive marker passes. Only QEMU or host trouble is
 * `infrastructure_error`, the one outcome worth retrying on another worker.
 */
import { infrastructureFailureClasses, type BootOutcome, type BootStage, type FailureClass, type MatchedLine } from './boot.types.js';

/** What stopped the boot, first cause wins. */
export const BootEndCause = {
  Marker: 'marker',
  Signature: 'signature',
  Exited: 'exited',
  Silence: 'silence',
  Timeout: 'timeout',
  Aborted: 'aborted',
  SetupFailed: 'setup_failed',
} as const;
/** What stopped the boot. */
export type BootEndCause = (typeof BootEndCause)[keyof typeof BootEndCause];

/** A matched failure signature, as the classifier needs it. */
export interface SignatureHit extends MatchedLine {
  readonly failureClass: FailureClass;
  readonly definitive: boolean;
  readonly description: string;
}

/** Everything known when the boot ended. */
export interface BootEndFacts {
  readonly cause: BootEndCause;
  readonly stage: BootStage;
  readonly consoleBytes: number;
  readonly marker: MatchedLine | null;
  /** The first definitive signature, else the last hint. */
  readonly signature: SignatureHit | null;
  /** QEMU's exit, when it exited by itself (cause `exited`). */
  readonly exit: { readonly code: number | null; readonly signal: string | null } | null;
  /** QEMU's stderr (capped). */
  readonly stderr: string;
  /** Milliseconds since QEMU started when the boot ended (null if it never started). */
  readonly atMs: number | null;
  readonly timeoutMs: number;
  readonly silenceTimeoutMs: number;
  /** For `setup_failed`: which class (infrastructure, or `image_rejected`), and what went wrong. */
  readonly setupFailure?: { readonly failureClass: FailureClass; readonly message: string };
}

/** The verdict part of a report. */
export interface BootVerdict {
  readonly outcome: BootOutcome;
  readonly failureClass: FailureClass | null;
  readonly reason: string;
}

const seconds = (ms: number | null): string => (ms === null ? '?' : `${(ms / 1000).toFixed(2)} s`);

/** First line(s) of QEMU's stderr, trimmed and bounded, for a reason sentence. */
export function stderrSummary(stderr: string, maxChars = 300): string {
  const text = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join(' | ');
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

/** The outcome, failure class and reason of a boot. */
export function classifyBootEnd(f: BootEndFacts): BootVerdict {
  const at = `at ${seconds(f.atMs)}`;
  const stage = `last stage: ${f.stage}`;
  switch (f.cause) {
    case 'setup_failed': {
      const s = f.setupFailure ?? { failureClass: 'host_setup_failed' as const, message: 'unknown setup failure' };
      const outcome = infrastructureFailureClasses.includes(s.failureClass) ? 'infrastructure_error' : 'failed';
      return { outcome, failureClass: s.failureClass, reason: s.message };
    }
    case 'aborted':
      return { outcome: 'canceled', failureClass: null, reason: `The boot was canceled ${at} (${stage}).` };
    case 'marker': {
      const m = f.marker;
      return {
        outcome: 'passed',
        failureClass: null,
        reason: m
          ? `Success marker /${m.pattern}/ matched ${atOffset(m.offsetMs)}: "${clip(m.text)}".`
          : `A success marker matched ${at}.`,
      };
    }
    case 'signature': {
      const s = f.signature;
      if (!s) return { outcome: 'failed', failureClass: 'no_boot_device', reason: `A known failure was seen ${at}.` };
      return {
        outcome: 'failed',
        failureClass: s.failureClass,
        reason: `${s.description} (${atOffset(s.offsetMs)}: "${clip(s.text)}").`,
      };
    }
    case 'silence': {
      const limit = seconds(f.silenceTimeoutMs);
      if (f.consoleBytes === 0) {
        return { outcome: 'timeout', failureClass: 'no_console_output', reason: `The VM printed nothing on its console for ${limit} (${stage}).` };
      }
      return {
        outcome: 'timeout',
        failureClass: f.signature?.failureClass ?? 'silence',
        reason: `The console was silent for ${limit} without a success marker (${stage}${hint(f.signature)}).`,
      };
    }
    case 'timeout': {
      const limit = seconds(f.timeoutMs);
      if (f.consoleBytes === 0) {
        return { outcome: 'timeout', failureClass: 'no_console_output', reason: `The VM printed nothing on its console within the ${limit} time limit.` };
      }
      return {
        outcome: 'timeout',
        failureClass: f.signature?.failureClass ?? 'timeout',
        reason: `No success marker within the ${limit} time limit (${stage}${hint(f.signature)}).`,
      };
    }
    case 'exited':
      return classifyExit(f, at, stage);
  }
}

function classifyExit(f: BootEndFacts, at: string, stage: string): BootVerdict {
  const exit = f.exit ?? { code: null, signal: null };
  const err = stderrSummary(f.stderr);
  const errPart = err ? `: ${err}` : '';
  if (exit.signal !== null) {
    return {
      outcome: 'infrastructure_error',
      failureClass: 'qemu_crashed',
      reason: `QEMU was killed by ${exit.signal} ${at} (${stage})${errPart}.`,
    };
  }
  if (exit.code !== 0) {
    if (f.consoleBytes === 0) {
      return {
        outcome: 'infrastructure_error',
        failureClass: 'qemu_start_failed',
        reason: `QEMU failed to start (exit status ${exit.code ?? '?'}, no console output)${errPart}.`,
      };
    }
    return {
      outcome: 'infrastructure_error',
      failureClass: 'qemu_crashed',
      reason: `QEMU exited with status ${exit.code ?? '?'} ${at} (${stage})${errPart}.`,
    };
  }
  const what = f.consoleBytes === 0 ? 'without printing anything' : 'without printing a success marker';
  return {
    outcome: 'failed',
    failureClass: f.signature?.failureClass ?? 'powered_off_without_marker',
    reason: `The guest powered the VM off ${at} ${what} (${stage}${hint(f.signature)}).`,
  };
}

function atOffset(ms: number): string {
  return `at ${seconds(ms)}`;
}

function hint(s: SignatureHit | null): string {
  return s ? `; earlier: ${s.description}` : '';
}

function clip(text: string, max = 160): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
