import type { BootStage } from '@bootfarm/contracts';
import { normaliseConsoleText } from '@bootfarm/emulator';
import { diffArrays } from 'diff';

/** A console line as stored. */
export interface ComparedLine {
  seq: number;
  offsetMs: number;
  text: string;
}

/** Where a boot entered a stage (result evidence `stages`). */
export interface StageMark {
  stage: BootStage;
  seq: number;
  offsetMs: number;
}

/** One side of a comparison: its lines and its stage marks. */
export interface ConsoleSide {
  lines: readonly ComparedLine[];
  stages: readonly StageMark[];
}

export interface StageComparison {
  stage: BootStage;
  a: { lines: number; durationMs: number } | null;
  b: { lines: number; durationMs: number } | null;
  same: boolean;
}

export interface Divergence {
  stage: BootStage;
  /** The first differing line on each side (null: that side has nothing there). */
  aSeq: number | null;
  bSeq: number | null;
  a: (ComparedLine & { stage: BootStage })[];
  b: (ComparedLine & { stage: BootStage })[];
}

export interface ConsoleComparison {
  stages: StageComparison[];
  divergence: Divergence | null;
}

const STAGE_ORDER: readonly BootStage[] = ['none', 'firmware', 'boot_manager', 'bootloader', 'os'];
/** Lines shown before and after the divergence on each side. */
const CONTEXT_BEFORE = 3;
const CONTEXT_AFTER = 5;
/** Bound on the diff's work per stage; past it the stage is compared line by line instead. */
const MAX_EDIT_LENGTH = 2000;

interface Segment {
  lines: ComparedLine[];
  /** Normalised texts; blank and punctuation-only lines (spinners, progress) dropped: they carry nothing. */
  norm: string[];
  /** Index into `lines` of each `norm` entry. */
  at: number[];
  durationMs: number;
}

function segments(side: ConsoleSide): Map<BootStage, Segment> {
  const marks = [...side.stages].sort((x, y) => x.seq - y.seq);
  const out = new Map<BootStage, Segment>();
  let m = -1;
  for (const line of side.lines) {
    while (m + 1 < marks.length && marks[m + 1]!.seq <= line.seq) m++;
    const stage = m >= 0 ? marks[m]!.stage : 'none';
    let seg = out.get(stage);
    if (!seg) out.set(stage, (seg = { lines: [], norm: [], at: [], durationMs: 0 }));
    seg.lines.push(line);
    const n = normaliseConsoleText(line.text);
    if (/[A-Za-z0-9]/.test(n)) {
      seg.norm.push(n);
      seg.at.push(seg.lines.length - 1);
    }
  }
  for (const seg of out.values()) seg.durationMs = Math.max(0, seg.lines.at(-1)!.offsetMs - seg.lines[0]!.offsetMs);
  return out;
}

/** Index (into norm) of the first difference on each side, or null when the segments agree. */
function firstDifference(a: readonly string[], b: readonly string[]): { ai: number; bi: number } | null {
  const parts = diffArrays(a as string[], b as string[], { maxEditLength: MAX_EDIT_LENGTH });
  if (parts === undefined) {
    // Too different for a bounded diff: the first position where they stop agreeing in lockstep.
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return i === a.length && i === b.length ? null : { ai: i, bi: i };
  }
  let ai = 0;
  let bi = 0;
  for (const p of parts) {
    if (!p.added && !p.removed) {
      ai += p.count ?? p.value.length;
      bi += p.count ?? p.value.length;
      continue;
    }
    return { ai, bi };
  }
  return null;
}

function context(seg: Segment | undefined, normIndex: number, stage: BootStage): { seq: number | null; lines: (ComparedLine & { stage: BootStage })[] } {
  if (!seg || seg.lines.length === 0) return { seq: null, lines: [] };
  const inRange = normIndex < seg.at.length;
  // Past the end of one side: show its last lines, and say it has no line there.
  const at = inRange ? seg.at[normIndex]! : seg.lines.length;
  const lines = seg.lines.slice(Math.max(0, at - CONTEXT_BEFORE), at + CONTEXT_AFTER).map((l) => ({ ...l, stage }));
  return { seq: inRange ? seg.lines[at]!.seq : null, lines };
}

/**
 * Compares two consoles stage by stage (firmware → boot manager → loader → OS): within each stage
 * the lines are normalised (addresses, numbers, timestamps) and diffed (Myers, via jsdiff); the
 * first stage that differs gives the divergence, with the lines around it on both sides.
 */
export function compareConsoles(a: ConsoleSide, b: ConsoleSide): ConsoleComparison {
  const [sa, sb] = [segments(a), segments(b)];
  const stages: StageComparison[] = [];
  let divergence: Divergence | null = null;
  for (const stage of STAGE_ORDER) {
    const [x, y] = [sa.get(stage), sb.get(stage)];
    if (!x && !y) continue;
    const diff = firstDifference(x?.norm ?? [], y?.norm ?? []);
    stages.push({
      stage,
      a: x ? { lines: x.lines.length, durationMs: x.durationMs } : null,
      b: y ? { lines: y.lines.length, durationMs: y.durationMs } : null,
      same: diff === null,
    });
    if (diff && !divergence) {
      const [ca, cb] = [context(x, diff.ai, stage), context(y, diff.bi, stage)];
      divergence = { stage, aSeq: ca.seq, bSeq: cb.seq, a: ca.lines, b: cb.lines };
    }
  }
  return { stages, divergence };
}
