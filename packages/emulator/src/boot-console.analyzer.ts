/**
 * The streaming console analysis a boot runs on every line: stage and phase timeline, success
 * markers, failure signatures, kernel reports (panic/oops/BUG/WARNING with their guilty frame),
 * guest facts, and the decision to stop. Pure (lines in, decisions out), so the exact logic the
 * launcher uses can be replayed against recorded transcripts.
 *
 * Memory is O(1) in the number of lines: one logical line of at most {@link maxLogicalLineChars},
 * a fixed set of facts and hints, at most {@link maxKernelReports} kernel reports, and evidence
 * texts clipped to {@link maxEvidenceChars}.
 *
 * Markers are plain regexes chosen by the caller. {@link consoleSuccessMarkers} are the anchored
 * defaults this module recommends: a marker counts only at the start of a (sanitized) line, so a
 * guest cannot pass a boot by echoing `VMSPEC-PROBE result=done` in the middle of other output.
 * ANSI sequences are removed before matching, so edk2's `ESC[2J ESC[01;01H` before a marker does
 * not hide it.
 */
import type { BootPhase, BootStage, ConsoleLine, EvidenceLine, FailureClass, MatchedLine, PhaseEvent, StageEvent } from './boot.types.js';
import { failureSeverity, failureSignatures, isStaleHint, matchFailureSignature, type FailureSignature } from './boot-failure.signatures.js';
import type { BootEndCause, SignatureHit } from './boot-outcome.classifier.js';
import { BootStageDetector, phaseRank } from './boot-stage.detector.js';
import { failureSignatureOf, frameOf, kernelReportTitle, normaliseConsoleText } from './failure-signature.normaliser.js';
import { GuestFactsExtractor, maxEvidenceChars, type GuestFacts } from './guest-facts.extractor.js';

/**
 * Longest logical line (in characters) the analyzer matches against. A guest line cut into
 * several records (at the length cap, or by a pause mid-line) is matched as a whole, so a
 * marker is not missed because TCG stalled in the middle of printing it. A longer line keeps
 * its head (so `^` still means the start of the guest's line); the rest is not analysed.
 */
export const maxLogicalLineChars = 4096;

/** Most kernel reports (panic/oops/BUG/WARNING) kept per boot. */
export const maxKernelReports = 16;

/** Lines after a report header searched for its guilty frame. */
const frameSearchLines = 48;

/**
 * Success markers anchored at the start of the line (recommended defaults): the probe's verdict,
 * Bootfarm's guest agent being ready, and a getty login prompt.
 */
export const consoleSuccessMarkers: readonly RegExp[] = Object.freeze([
  /^VMSPEC-PROBE result=done\s*$/,
  /^VMSPEC-GUEST-READY\b/,
  /^[\w.-]+ login: ?$/,
]);

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

/** A kernel (or firmware) crash report seen on the console. */
export interface KernelReport {
  readonly kind: 'panic' | 'oops' | 'warning' | 'firmware_exception';
  /** The header line. */
  readonly line: EvidenceLine;
  /** The guilty frame found after the header (`pc : foo+0x..`, first non-generic call-trace frame), if any. */
  readonly frame: string | null;
  /** Normalised title, e.g. `WARNING in pci_msi_setup_msi_irqs`, `oops: BUG: ... in foo`. */
  readonly signature: string;
}

/** How the console ended, for {@link BootConsoleAnalyzer.result}. */
export type ConsoleEndCause = Extract<BootEndCause, 'exited' | 'silence' | 'timeout' | 'aborted'>;

/** The console's own verdict: `ready` (a marker), a failure class, or `canceled`. */
export type ConsoleOutcome = 'ready' | 'canceled' | FailureClass;

/** Everything the analyzer concluded. */
export interface ConsoleAnalysis {
  readonly stage: BootStage;
  readonly phase: BootPhase;
  readonly stages: readonly StageEvent[];
  readonly phases: readonly PhaseEvent[];
  readonly outcome: ConsoleOutcome;
  /** null when ready or canceled. */
  readonly failureClass: FailureClass | null;
  /** syzbot-style signature; null when ready or canceled. */
  readonly normalisedSignature: string | null;
  /** The line that decided the outcome (marker, failure, or the last line before a hang). */
  readonly decidingLine: EvidenceLine | null;
  readonly marker: MatchedLine | null;
  readonly signature: SignatureHit | null;
  readonly kernelReports: readonly KernelReport[];
  readonly guestFacts: GuestFacts;
  readonly lineCount: number;
}

/** The fields a report gains from the analyzer (see {@link BootConsoleAnalyzer.reportExtras}). */
export interface ConsoleReportExtras {
  readonly phases: readonly PhaseEvent[];
  readonly normalisedSignature: string | null;
  readonly decidingLine: EvidenceLine | null;
  readonly guestFacts: GuestFacts;
}

/** A regex safe to `.test()` repeatedly (no `g`/`y` state). */
export function statelessRegExp(re: RegExp): RegExp {
  return re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re;
}

const clip = (s: string): string => (s.length > maxEvidenceChars ? s.slice(0, maxEvidenceChars) : s);

interface HintRecord {
  readonly hit: SignatureHit;
  readonly sig: FailureSignature;
}

interface PendingReport {
  kind: KernelReport['kind'];
  line: EvidenceLine;
  title: string;
  frame: string | null;
  linesLeft: number;
}

const NON_BLANK = /\S/;
const LOADER_RANK = phaseRank('loader');
const REPORT_GUARD = /Kernel panic|Oops|BUG|Unable to handle kernel|WARNING: |Synchronous (?:Exception|Abort)/;
const EDK2_MODULE = /\[\s*\d+\]\s+([\w.-]+\.(?:dll|efi))\b/;

/** Analyzes one boot's console lines as they arrive. */
export class BootConsoleAnalyzer {
  private readonly detector = new BootStageDetector();
  private readonly facts = new GuestFactsExtractor();
  private readonly markers: readonly RegExp[];
  private readonly signatures: readonly FailureSignature[];
  private readonly stopOnSignature: boolean;
  private readonly events: StageEvent[] = [];
  private readonly phaseEvents: PhaseEvent[] = [];
  private readonly reports: PendingReport[] = [];
  private decided: ConsoleDecision | null = null;
  private decidedLine: EvidenceLine | null = null;
  private matchedMarker: MatchedLine | null = null;
  private hit: HintRecord | null = null;
  /** Per failure class, the hint that names it best (latest for firmware/loader, first for kernel). */
  private readonly hints = new Map<FailureClass, HintRecord>();
  private pending: PendingReport | null = null;
  private lastLine: EvidenceLine | null = null;
  private lines = 0;
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

  /** Furthest finer phase reached. */
  get phase(): BootPhase {
    return this.detector.phase;
  }

  /** Every stage reached, in order. */
  get stages(): readonly StageEvent[] {
    return this.events;
  }

  /** Every phase reached, in order, with the line that showed it. */
  get phases(): readonly PhaseEvent[] {
    return this.phaseEvents;
  }

  /** The line that matched a success marker. */
  get marker(): MatchedLine | null {
    return this.matchedMarker;
  }

  /** The first definitive failure signature seen, else the most serious live hint. */
  get signature(): SignatureHit | null {
    return this.hit?.hit ?? null;
  }

  /** The decision taken so far, if any. */
  get decision(): ConsoleDecision | null {
    return this.decided;
  }

  /** Guest facts so far. */
  get guestFacts(): GuestFacts {
    return this.facts.value;
  }

  /** Kernel/firmware crash reports so far (at most {@link maxKernelReports}). */
  get kernelReports(): readonly KernelReport[] {
    return this.reports.map(toReport);
  }

  /** Logical lines analysed so far. */
  get lineCount(): number {
    return this.lines;
  }

  /** The console produced its first bytes (before any complete line): the firmware is running. */
  noteOutput(nextSeq: number, offsetMs: number): void {
    const before = this.detector.phase;
    if (this.detector.noteOutput()) this.events.push({ stage: this.detector.stage, seq: nextSeq, offsetMs });
    if (this.detector.phase !== before) this.phaseEvents.push({ phase: this.detector.phase, seq: nextSeq, offsetMs, text: '' });
  }

  /**
   * Feeds one line. Returns a decision the first time one is reached (a marker, or a
   * definitive failure signature when stopping on those), else null. After a decision the
   * stage, phase, guest facts and kernel reports keep being tracked.
   */
  feed(line: ConsoleLine): ConsoleDecision | null {
    const continued = this.carry !== '';
    if (continued && this.carry.length >= maxLogicalLineChars) {
      // The guest line already overflowed: its head was analysed, the rest is not looked at.
      if (line.end === 'newline' || line.end === 'eof') this.carry = '';
      return null;
    }
    const joined = continued ? this.carry + line.text : line.text;
    const text = joined.length > maxLogicalLineChars ? joined.slice(0, maxLogicalLineChars) : joined;
    this.carry = line.end === 'idle' || line.end === 'length_cap' ? text : '';
    if (!continued) this.lines++;

    const at = { seq: line.seq, offsetMs: line.offsetMs };
    const evidence = (): EvidenceLine => ({ seq: line.seq, offsetMs: line.offsetMs, text: clip(text) });
    if (NON_BLANK.test(text)) this.lastLine = { seq: line.seq, offsetMs: line.offsetMs, text }; // clipped when read

    const phaseBefore = this.detector.phase;
    if (this.detector.feed(text)) this.events.push({ stage: this.detector.stage, ...at });
    if (this.detector.phase !== phaseBefore) this.onPhase(evidence());

    if (phaseRank(this.detector.phase) >= LOADER_RANK) this.facts.feed(line.seq, line.offsetMs, text);
    this.trackReports(text, evidence);

    if (this.decided) return null;
    const marker = this.markers.find((m) => m.test(text));
    if (marker) {
      this.matchedMarker = { ...at, text, pattern: marker.source };
      this.decidedLine = evidence();
      if (this.detector.reachPhase('ready')) this.phaseEvents.push({ phase: 'ready', ...evidence() });
      return (this.decided = 'marker');
    }
    const sig = matchFailureSignature(text, this.signatures, this.detector.phase);
    if (!sig) return null;
    const hit: SignatureHit = {
      ...at,
      text,
      pattern: sig.id,
      failureClass: sig.failureClass,
      definitive: sig.definitive,
      description: sig.description,
    };
    this.noteHint({ hit, sig });
    if (sig.definitive && this.stopOnSignature) {
      this.decidedLine = evidence();
      return (this.decided = 'signature');
    }
    return null;
  }

  /**
   * The console's verdict. `end` says how the console ended when nothing decided: `exited`
   * (the VM powered off or the transcript ended), `silence`, `timeout` or `aborted`.
   */
  result(end: ConsoleEndCause = 'exited'): ConsoleAnalysis {
    const outcome = this.outcomeFor(end);
    const failureClass = outcome === 'ready' || outcome === 'canceled' ? null : outcome;
    return {
      stage: this.stage,
      phase: this.phase,
      stages: [...this.events],
      phases: [...this.phaseEvents],
      outcome,
      failureClass,
      normalisedSignature: this.normalisedSignature(failureClass),
      decidingLine: this.decidingLine(failureClass),
      marker: this.matchedMarker,
      signature: this.signature,
      kernelReports: this.kernelReports,
      guestFacts: this.guestFacts,
      lineCount: this.lines,
    };
  }

  /**
   * What a `BootReport` gains from the console, given the verdict's failure class (which may
   * come from outside the console, e.g. an infrastructure error).
   */
  reportExtras(failureClass: FailureClass | null): ConsoleReportExtras {
    return {
      phases: [...this.phaseEvents],
      normalisedSignature: this.normalisedSignature(failureClass),
      decidingLine: this.decidingLine(failureClass),
      guestFacts: this.guestFacts,
    };
  }

  /** The syzbot-style signature for a failure class (null for none). */
  normalisedSignature(failureClass: FailureClass | null): string | null {
    if (failureClass === null) return null;
    const hint = this.hints.get(failureClass);
    const firstOops = this.reports.find((r) => r.kind === 'oops') ?? null;
    switch (failureClass) {
      case 'kernel_panic': {
        const panic = this.hit?.hit.failureClass === 'kernel_panic' ? this.hit.hit : (hint?.hit ?? null);
        const cause = firstOops && (!panic || firstOops.line.seq <= panic.seq) ? toReport(firstOops).signature.replace(/^oops: /, '') : null;
        return failureSignatureOf({ failureClass, line: panic?.text ?? null, cause });
      }
      case 'kernel_oops':
        return failureSignatureOf({ failureClass, line: firstOops?.line.text ?? hint?.hit.text ?? null, frame: firstOops?.frame ?? null });
      case 'firmware_exception': {
        const report = this.reports.find((r) => r.kind === 'firmware_exception');
        return failureSignatureOf({ failureClass, line: report?.line.text ?? hint?.hit.text ?? null, frame: report?.frame ?? null });
      }
      case 'no_boot_device':
      case 'loader_error': {
        // The latest live hint of the class says why (e.g. `... "UEFI Misc Device": Not Found`);
        // else the deciding line; a bare prompt (`=>`) is named by its signature id.
        const line = hint?.hit.text ?? (this.hit?.hit.failureClass === failureClass ? this.hit.hit.text : null);
        if (line !== null && normaliseConsoleText(line).length <= 3) {
          return failureSignatureOf({ failureClass, line: (hint ?? this.hit)!.sig.description });
        }
        return failureSignatureOf({ failureClass, line });
      }
      default:
        return failureSignatureOf({ failureClass, line: this.lastLine?.text ?? null, stage: this.stage });
    }
  }

  private decidingLine(failureClass: FailureClass | null): EvidenceLine | null {
    if (failureClass === null) return this.decided === 'marker' ? this.decidedLine : null;
    if (this.decidedLine && this.decided === 'signature') return this.decidedLine;
    const h = this.hints.get(failureClass) ?? (this.hit?.hit.failureClass === failureClass ? this.hit : null);
    if (h) return { seq: h.hit.seq, offsetMs: h.hit.offsetMs, text: clip(h.hit.text) };
    return this.lastLine && { ...this.lastLine, text: clip(this.lastLine.text) };
  }

  private outcomeFor(end: ConsoleEndCause): ConsoleOutcome {
    if (this.decided === 'marker') return 'ready';
    if (this.hit?.sig.definitive) return this.hit.hit.failureClass;
    if (end === 'aborted') return 'canceled';
    if (this.lines === 0 && this.events.length === 0) return 'no_console_output';
    if (this.hit) return this.hit.hit.failureClass;
    return end === 'silence' ? 'silence' : end === 'timeout' ? 'timeout' : 'powered_off_without_marker';
  }

  private noteHint(rec: HintRecord): void {
    const cls = rec.sig.failureClass;
    const sev = failureSeverity(cls);
    const latestWins = sev <= failureSeverity('loader_error');
    if (!rec.sig.definitive && (latestWins || !this.hints.has(cls))) this.hints.set(cls, rec);
    const cur = this.hit;
    if (cur?.sig.definitive) return;
    if (rec.sig.definitive || !cur) {
      this.hit = rec;
      return;
    }
    const curSev = failureSeverity(cur.sig.failureClass);
    if (sev > curSev || (sev === curSev && latestWins)) this.hit = rec;
  }

  private onPhase(evidence: EvidenceLine): void {
    const phase = this.detector.phase;
    this.phaseEvents.push({ phase, ...evidence });
    let dropped = false;
    for (const [cls, rec] of this.hints) {
      if (isStaleHint(rec.sig, phase)) {
        this.hints.delete(cls);
        if (this.hit === rec) dropped = true;
      }
    }
    if (dropped) {
      this.hit = null;
      for (const rec of this.hints.values()) {
        if (!this.hit || failureSeverity(rec.sig.failureClass) > failureSeverity(this.hit.sig.failureClass)) this.hit = rec;
      }
    }
  }

  private trackReports(text: string, evidence: () => EvidenceLine): void {
    const p = this.pending;
    if (p) {
      if (p.frame === null) {
        const frame = p.kind === 'firmware_exception' ? (EDK2_MODULE.exec(text)?.[1] ?? null) : frameOf(text);
        if (frame) p.frame = frame;
      }
      if (--p.linesLeft <= 0 || p.frame !== null) this.pending = null;
    }
    if (!REPORT_GUARD.test(text)) return;
    let kind: KernelReport['kind'] | null = null;
    let title: string | null = null;
    if (/^\s*Synchronous Exception at 0x|^"Synchronous Abort" handler/.test(text) && phaseRank(this.phase) < phaseRank('kernel')) {
      kind = 'firmware_exception';
      title = text.trim();
    } else if (phaseRank(this.phase) >= phaseRank('kernel') && !text.startsWith('VMSPEC-GUEST')) {
      title = kernelReportTitle(text);
      if (title !== null) kind = title.startsWith('kernel panic') ? 'panic' : title.startsWith('WARNING') ? 'warning' : 'oops';
    }
    if (kind === null || title === null) return;
    // `Unable to handle kernel ...` is followed by `Internal error: Oops: ...`: one report.
    if (kind === 'oops' && p && p.kind === 'oops' && this.pending === p) return;
    if (this.reports.length >= maxKernelReports) return;
    const report: PendingReport = { kind, line: evidence(), title, frame: null, linesLeft: frameSearchLines };
    this.reports.push(report);
    if (kind === 'oops' || kind === 'firmware_exception') this.pending = report;
  }
}

function toReport(p: PendingReport): KernelReport {
  let signature: string;
  switch (p.kind) {
    case 'panic':
      signature = failureSignatureOf({ failureClass: 'kernel_panic', line: p.line.text }) ?? p.title;
      break;
    case 'warning':
      signature = failureSignatureOf({ failureClass: 'kernel_oops', line: p.line.text })!.replace(/^oops: /, '');
      break;
    case 'oops':
      signature = failureSignatureOf({ failureClass: 'kernel_oops', line: p.line.text, frame: p.frame })!;
      break;
    case 'firmware_exception':
      signature = failureSignatureOf({ failureClass: 'firmware_exception', line: p.line.text, frame: p.frame })!;
      break;
  }
  return { kind: p.kind, line: p.line, frame: p.frame, signature };
}
