/**
 * Aggregation: every requirement for a cell ({@link evaluateCell}), then the run's verdicts over
 * all cells ({@link evaluateRun}), and the per-profile summaries. Pure and deterministic: the
 * caller passes `generatedAt`.
 */
import {
  COMPLIANCE_SCHEMA, type CellCompliance, type ComplianceProfile, type ProfileSummary, type RequirementResult, type RunCompliance, type VerdictStatus,
} from '@bootfarm/contracts';
import { CATALOGUE_VERSION, PROFILES, REQUIREMENT_IDS, type RequirementId } from './catalogue.js';
import { buildContext, type CellContext } from './context.js';
import * as G from './evaluators/guest.js';
import * as I from './evaluators/image.js';
import * as P from './evaluators/platform.js';
import { RUN_COMBINERS, worstCell } from './evaluators/run.js';
import type { CellInput } from './inputs.js';

/** One evaluator per requirement, for a cell. */
export const CELL_EVALUATORS: Readonly<Record<RequirementId, (ctx: CellContext) => RequirementResult>> = {
  'IMG-1': I.evalImg1, 'IMG-2': I.evalImg2, 'IMG-3': I.evalImg3, 'IMG-4': I.evalImg4, 'IMG-5': I.evalImg5,
  'IMG-6': I.evalImg6, 'IMG-7': I.evalImg7, 'IMG-8': I.evalImg8, 'IMG-9': I.evalImg9, 'IMG-10': I.evalImg10,
  'FW-1': P.evalFw1, 'FW-2': P.evalFw2, 'FW-3': P.evalFw3, 'FW-4': P.evalFw4, 'FW-5': P.evalFw5, 'FW-6': P.evalFw6,
  'FW-7': P.evalFw7, 'FW-8': P.evalFw8, 'FW-9': P.evalFw9, 'FW-10': P.evalFw10, 'FW-11': P.evalFw11,
  'HW-1': P.evalHw1, 'HW-2': P.evalHw2, 'HW-3': P.evalHw3, 'HW-4': P.evalHw4, 'HW-5': P.evalHw5,
  'HW-6': P.evalHw6, 'HW-7': P.evalHw7, 'HW-8': P.evalHw8, 'HW-9': P.evalHw9, 'HW-10': P.evalHw10,
  'OS-1': G.evalOs1, 'OS-2': G.evalOs2, 'OS-3': G.evalOs3, 'OS-4': G.evalOs4, 'OS-5': G.evalOs5, 'OS-6': G.evalOs6,
  'OS-7': G.evalOs7, 'OS-8': G.evalOs8, 'OS-9': G.evalOs9, 'OS-10': G.evalOs10, 'OS-11': G.evalOs11, 'OS-12': G.evalOs12,
};

/** Every requirement judged from one cell's image findings, platform probe, boot and guest console. */
export function evaluateCell(input: CellInput): CellCompliance {
  const ctx = buildContext(input);
  const requirements = REQUIREMENT_IDS.map((id) => CELL_EVALUATORS[id](ctx));
  return { cellId: input.cellId, cellKey: input.cellKey, profile: input.profile, summary: summarise(requirements), requirements };
}

/** The run's report: cross-cell requirements from all cells, the others from their worst cell. */
export function evaluateRun(args: {
  readonly runId: string;
  readonly image: { readonly id: string; readonly name: string; readonly sha256: string; readonly format: string };
  readonly generatedAt: string;
  readonly cells: readonly CellCompliance[];
}): RunCompliance {
  const requirements = REQUIREMENT_IDS.map((id) => (RUN_COMBINERS[id] ?? ((cs: readonly CellCompliance[]) => worstCell(id, cs)))(args.cells));
  return {
    schema: COMPLIANCE_SCHEMA,
    runId: args.runId,
    image: { id: args.image.id, name: args.image.name, sha256: args.image.sha256, format: args.image.format },
    generatedAt: args.generatedAt,
    catalogueVersion: CATALOGUE_VERSION,
    summary: summarise(requirements),
    requirements,
    cells: [...args.cells],
  };
}

const STATUSES: readonly VerdictStatus[] = ['pass', 'fail', 'warn', 'not_applicable', 'not_tested'];

/** Per profile: fail if a must failed, warn if anything warned, pass otherwise; the ids that decided it. */
export function summarise(requirements: readonly RequirementResult[]): Record<ComplianceProfile, ProfileSummary> {
  const out = {} as Record<ComplianceProfile, ProfileSummary>;
  for (const p of PROFILES) {
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<VerdictStatus, number>;
    for (const r of requirements) counts[r.verdicts[p].status]++;
    const fails = requirements.filter((r) => r.verdicts[p].status === 'fail').map((r) => r.id);
    const warns = requirements.filter((r) => r.verdicts[p].status === 'warn').map((r) => r.id);
    out[p] = fails.length ? { verdict: 'fail', counts, failing: fails } : warns.length ? { verdict: 'warn', counts, failing: warns } : { verdict: 'pass', counts, failing: [] };
  }
  return out;
}
