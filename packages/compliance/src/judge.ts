/**
 * Turning an observation into per-profile verdicts. An evaluator says what it saw (met, unmet,
 * met partly, does not apply, could not tell); the profile's level decides the status.
 */
import type { ComplianceProfile, ProfileVerdict, RequirementResult, VerdictEvidence, VerdictStatus } from '@bootfarm/contracts';
import { requirement, type RequirementDef, type RequirementId } from './catalogue.js';
import type { EvidenceLine, GuestFact } from './inputs.js';
import type { ProbeRecord } from './probe-records.js';

/** What an evaluator concluded, before the level is applied. */
export type Judgement =
  | { readonly kind: 'met'; readonly reason: string }
  | { readonly kind: 'unmet'; readonly reason: string }
  /** Met only partly: always `warn`. */
  | { readonly kind: 'partial'; readonly reason: string }
  | { readonly kind: 'na'; readonly reason: string }
  | { readonly kind: 'nt'; readonly reason: string };

export const met = (reason: string): Judgement => ({ kind: 'met', reason });
export const unmet = (reason: string): Judgement => ({ kind: 'unmet', reason });
export const partial = (reason: string): Judgement => ({ kind: 'partial', reason });
export const na = (reason: string): Judgement => ({ kind: 'na', reason });
export const nt = (reason: string): Judgement => ({ kind: 'nt', reason });

export type PerProfile<T> = Readonly<Record<ComplianceProfile, T>>;

/** The same judgement under every profile. */
export function same<T>(j: T): PerProfile<T> {
  return { 'vmspec-1.0': j, 'vmspec-2.0': j, bbr: j };
}

/** Builds a per-profile record from a function of the profile. */
export function perProfile<T>(f: (p: ComplianceProfile) => T): PerProfile<T> {
  return { 'vmspec-1.0': f('vmspec-1.0'), 'vmspec-2.0': f('vmspec-2.0'), bbr: f('bbr') };
}

/** The status a judgement gets under a level (level `absent` handled by the caller). */
export function statusOf(j: Judgement, level: string): VerdictStatus {
  switch (j.kind) {
    case 'met':
      return 'pass';
    case 'unmet':
      return level === 'must' ? 'fail' : 'warn';
    case 'partial':
      return 'warn';
    case 'na':
      return 'not_applicable';
    case 'nt':
      return 'not_tested';
  }
}

/** Applies each profile's level to the judgements. */
export function verdictsFor(def: RequirementDef, judgements: PerProfile<Judgement>): Record<ComplianceProfile, ProfileVerdict> {
  return perProfile((p): ProfileVerdict => {
    const level = def.levels[p];
    const j = judgements[p];
    if (level === 'absent') {
      const why = def.absentWhy?.[p] ?? `not part of ${p}`;
      // Keep what was seen: a vendor reading the 1.0 column still learns the ACPI facts.
      const seen = j.kind === 'met' || j.kind === 'unmet' || j.kind === 'partial' ? `; observed: ${j.reason}` : '';
      return { level, status: 'not_applicable', reason: `${why}${seen}` };
    }
    return { level, status: statusOf(j, level), reason: j.reason };
  });
}

/** A requirement result from judgements (one for all profiles, or one per profile). */
export function result(id: RequirementId, judgements: Judgement | PerProfile<Judgement>, evidence: readonly VerdictEvidence[]): RequirementResult {
  const def = requirement(id);
  const per = 'kind' in judgements ? same(judgements as Judgement) : (judgements as PerProfile<Judgement>);
  return { id: def.id, group: def.group, title: def.title, verdicts: verdictsFor(def, per), evidence: dedupe(evidence) };
}

function dedupe(evidence: readonly VerdictEvidence[]): VerdictEvidence[] {
  const seen = new Set<string>();
  const out: VerdictEvidence[] = [];
  for (const e of evidence) {
    const k = JSON.stringify(e);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  return out;
}

// ---- evidence builders ------------------------------------------------------------------------

/** Evidence from a probe fact. */
export function probeEv(rec: ProbeRecord, what: string, probeBoot: number, expected?: string): VerdictEvidence {
  return {
    source: 'probe', what, value: rec.value, seq: rec.seq, offsetMs: rec.offsetMs, line: rec.text, probeBoot,
    ...(expected !== undefined ? { expected } : {}),
  };
}

/** Evidence from a guest console fact. */
export function consoleEv(fact: GuestFact<unknown>, what: string, value?: string, expected?: string): VerdictEvidence {
  return {
    source: 'console', what, seq: fact.evidence.seq, offsetMs: fact.evidence.offsetMs, line: fact.evidence.text,
    ...(value !== undefined ? { value } : {}),
    ...(expected !== undefined ? { expected } : {}),
  };
}

/** Evidence about the image's boot in the cell (outcome, deciding line). */
export function bootEv(what: string, value: string, line?: EvidenceLine | null): VerdictEvidence {
  return { source: 'boot', what, value, ...(line ? { seq: line.seq, offsetMs: line.offsetMs, line: line.text } : {}) };
}

/** Sort order of statuses when picking the worst cell: a tested verdict beats an untested one. */
export const STATUS_RANK: Readonly<Record<VerdictStatus, number>> = { fail: 4, warn: 3, pass: 2, not_tested: 1, not_applicable: 0 };

