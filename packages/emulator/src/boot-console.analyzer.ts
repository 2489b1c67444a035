/**
 * The streaming console analysis a boot runs on every line: stage timeline, success markers,
 * failure signatures, and the decision to stop. Pure (lines in, decisions out), so the exact
 * logic the launcher uses can be replayed against recorded transcripts.
 */
import type { BootStage, ConsoleLine, MatchedLine, StageEvent } from './boot.types.js';
import { failureSignatures, matchFailureSignature, type FailureSignature } from './boot-failure.signatures.js';
import type { SignatureHit } from './boot-outcome.classifier.js';
import { BootStageDetector } from './boot-stage.detector.js';

/**
 * Longest logical line (in characters) the analyzer matches against. A guest line cut into
 * several records (at the length cap, or by a pause mid-line) is matched as a whole, so a
 * marker is not missed because TCG stalled in the middle of printing it.
 */
export const maxLogicalLineChars = 4096;

/** What a line made the analyzer decide: stop because the boot passed, or because it failed. */
export type ConsoleDecision = 'marker' | 'signature';

/** Options of {@link BootConsoleAnalyzer}. */
export interface BootConsoleAnalyzerOptions {
  /** Success markers; the first line matching one passes the boot. */
  readonly markers: readonly RegExp[];
  /** Decide `signature` on a definitive failure signature (default true). */
  readonly stopOnFailureSignature?: boolean;
  /** Signatures to look for (default {@link failureSignatures}). */
  readonly signatures?: readonly FailureSignature[];
}

/** A regex safe to `.test()` repeatedly (no `g`/`y` state). */
export function statelessRegExp(re: RegExp): RegExp {
  return re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re;
}

/** Analyzes one boot's console lines as they arrive. */
export class BootConsoleAnalyzer {
  private readonly detector = new BootStageDetector();
  private readonly markers: readonly RegExp[];
  private readonly signatures: readonly FailureSignature[];
  private readonly stopOnSignature: boolean;
  private readonly events: StageEvent[] = [];
  private decided: ConsoleDecision | null = null;
  private matchedMarker: MatchedLine | null = null;
  private hit: SignatureHit | null = null;
  /** Text of earlier records of the current guest line (cut by the length cap or a pause). */
  private carry = '';

  constructor(options: BootConsoleAnalyzerOptions) {
    this.markers = options.markers.map(statelessRegExp);
    this.signatures = options.signatures ?? failureSignatures;
    this.stopOnSignature = options.stopOnFailureSignature ?? true;
  }

  /** Furthest stage reached. */
  get stage(): BootStage {
    return this.detector.stage;
  }

  /** Every stage reached, in order. */
  get stages(): readonly StageEvent[] {
    return this.events;
  }

  /** The line that matched a success marker. */
  get marker(): MatchedLine | null {
    return this.matchedMarker;
  }

  /** The first definitive failure signature seen, else the latest hint. */
  get signature(): SignatureHit | null {
    return this.hit;
  }

  /** The decision taken so far, if any. */
  get decision(): ConsoleDecision | null {
    return this.decided;
  }

  /** The console produced its first bytes (before any complete line): the firmware is running. */
  noteOutput(nextSeq: number, offsetMs: number): void {
    if (this.detector.noteOutput()) this.events.push({ stage: this.detector.stage, seq: nextSeq, offsetMs });
  }

  /**
   * Feeds one line. Returns a decision the first time one is reached (a marker, or a
   * definitive failure signature when stopping on those), else null. After a decision only
   * the stage keeps being tracked.
   */
  feed(line: ConsoleLine): ConsoleDecision | null {
    const text = this.carry === '' ? line.text : (this.carry + line.text).slice(-maxLogicalLineChars);
    this.carry = line.end === 'idle' || line.end === 'length_cap' ? text : '';
    if (this.detector.feed(text)) this.events.push({ stage: this.detector.stage, seq: line.seq, offsetMs: line.offsetMs });
    if (this.decided) return null;
    const marker = this.markers.find((m) => m.test(text));
    if (marker) {
      this.matchedMarker = { seq: line.seq, offsetMs: line.offsetMs, text, pattern: marker.source };
      return (this.decided = 'marker');
    }
    const sig = matchFailureSignature(text, this.signatures);
    if (!sig) return null;
    if (!this.hit?.definitive) {
      this.hit = {
        seq: line.seq,
        offsetMs: line.offsetMs,
        text,
        pattern: sig.id,
        failureClass: sig.failureClass,
        definitive: sig.definitive,
        description: sig.description,
      };
    }
    if (sig.definitive && this.stopOnSignature) return (this.decided = 'signature');
    return null;
  }
}
