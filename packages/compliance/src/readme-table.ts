/** The README's requirement table, generated from the catalogue (a spec keeps the README in sync). */
import type { RequirementLevel } from '@bootfarm/contracts';
import { CATALOGUE, PROFILES, type RequirementDef } from './catalogue.js';

export const README_TABLE_START = '<!-- requirements:start -->';
export const README_TABLE_END = '<!-- requirements:end -->';

const LEVEL_TEXT: Readonly<Record<RequirementLevel, string>> = {
  must: 'must', should: 'should', strongly_recommended: 'strongly recommended', informative: 'informative', absent: '—',
};

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, ' ');

function levelText(r: RequirementDef, p: (typeof PROFILES)[number]): string {
  const c = r.levelConditions?.[p];
  return LEVEL_TEXT[r.levels[p]] + (c ? ` (${c})` : '');
}

function fromText(r: RequirementDef): string {
  if (r.coverage === 'none') return `not tested: ${r.notTestedReason}`;
  const from = r.evaluatedFrom.join(' + ');
  return r.coverage === 'partial' ? `${from}; partly not tested: ${r.notTestedReason}` : from;
}

/** A Markdown table of all requirements: id, title, level per profile, what decides it. */
export function renderRequirementsTable(): string {
  const head = `| Id | Requirement | ${PROFILES.join(' | ')} | Evaluated from |`;
  const sep = `|---|---|${PROFILES.map(() => '---').join('|')}|---|`;
  const rows = CATALOGUE.map((r) => `| ${r.id} | ${cell(r.title)} | ${PROFILES.map((p) => cell(levelText(r, p))).join(' | ')} | ${cell(fromText(r))} |`);
  return [head, sep, ...rows].join('\n');
}

/** Replaces the text between the markers with the generated table (the markers stay). */
export function replaceRequirementsTable(readme: string): string {
  const a = readme.indexOf(README_TABLE_START);
  const b = readme.indexOf(README_TABLE_END);
  if (a < 0 || b < a) throw new Error(`README lacks ${README_TABLE_START} … ${README_TABLE_END}`);
  return `${readme.slice(0, a + README_TABLE_START.length)}\n${renderRequirementsTable()}\n${readme.slice(b)}`;
}
