// Shared text handling for the report renderers. Evidence comes from guest consoles, which the
// guest controls: everything is cleaned and escaped here, in one place, for XML and HTML alike.
import type {
  ComplianceProfile,
  RequirementLevel,
  RequirementResult,
  VerdictEvidence,
  VerdictStatus,
} from '@bootfarm/contracts';

/** Profiles in report order (the enum's order: oldest reading first). */
export const PROFILES: readonly ComplianceProfile[] = ['vmspec-1.0', 'vmspec-2.0', 'bbr'];

/** Statuses in report order. */
export const STATUSES: readonly VerdictStatus[] = ['pass', 'warn', 'fail', 'not_applicable', 'not_tested'];

export const PROFILE_LABEL: Record<ComplianceProfile, string> = {
  'vmspec-1.0': 'VM spec 1.0',
  'vmspec-2.0': 'VM spec 2.0',
  bbr: 'BBR',
};

export const STATUS_LABEL: Record<VerdictStatus, string> = {
  pass: 'pass',
  warn: 'warn',
  fail: 'fail',
  not_applicable: 'not applicable',
  not_tested: 'not tested',
};

export const LEVEL_LABEL: Record<RequirementLevel, string> = {
  must: 'must',
  should: 'should',
  strongly_recommended: 'strongly recommended',
  informative: 'informative',
  absent: 'not in profile',
};

// Terminal control sequences are not text: drop them whole rather than leave "[31m" behind.
// Both patterns are linear (no nested quantifiers) so hostile input cannot make them backtrack.
const CSI = /\x1b\[[0-?]*[ -/]*[@-~]?/g;
const OSC = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g;
// Not allowed in XML 1.0 (C0 except tab/LF/CR, lone surrogates, U+FFFE/U+FFFF), plus C1 controls
// and bidi overrides/isolates, which would let guest text reorder what a reader sees.
const UNSAFE = /[^\t\n\r\u0020-\u007e\u00a0-\u2029\u202f-\u2065\u206a-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/** Text safe to embed in XML 1.0 or HTML once escaped: control sequences and illegal characters removed. */
export function cleanText(s: string): string {
  return s.replace(OSC, '').replace(CSI, '').replace(UNSAFE, '');
}

/** Single-line form: line breaks inside one evidence field shown as a visible mark. */
export function oneLine(s: string): string {
  return cleanText(s).replace(/\r\n|\r|\n/g, '⏎');
}

/** Escape for XML text and attribute values; tab/LF/CR as references so attributes keep them. */
export function escapeXml(s: string): string {
  return cleanText(s).replace(/[&<>"'\t\n\r]/g, (c) => XML_ENTITIES[c]!);
}

/** Escape for XML text content (line breaks kept literally, which is what text nodes want). */
export function escapeXmlText(s: string): string {
  return cleanText(s).replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!);
}

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** Escape for HTML text and (quoted) attribute values. */
export function escapeHtml(s: string): string {
  return cleanText(s).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `450 (0x1c2)`: byte offsets read both ways, since hex editors show hex. */
export function formatOffset(offset: number): string {
  return Number.isSafeInteger(offset) && offset >= 0 ? `${offset} (0x${offset.toString(16)})` : String(offset);
}

/** Where a console or probe line sits: `boot 1 seq 412 @5230ms`. */
export function lineLocation(e: VerdictEvidence): string {
  const parts: string[] = [];
  if (e.probeBoot !== undefined) parts.push(`boot ${e.probeBoot}`);
  if (e.seq !== undefined) parts.push(`seq ${e.seq}`);
  if (e.offsetMs !== undefined) parts.push(`@${e.offsetMs}ms`);
  return parts.join(' ');
}

/**
 * One evidence item as one line of plain (uncleaned) text:
 * `source: what | cell K | value=V | expected=E | offset N (0xN) | bytes B | boot B seq S @Tms: line`.
 */
export function evidenceLine(e: VerdictEvidence): string {
  const parts = [`${e.source}: ${oneLine(e.what)}`];
  if (e.cellKey !== undefined) parts.push(`cell ${oneLine(e.cellKey)}`);
  if (e.value !== undefined) parts.push(`value=${oneLine(e.value)}`);
  if (e.expected !== undefined) parts.push(`expected=${oneLine(e.expected)}`);
  if (e.offset !== undefined) parts.push(`offset ${formatOffset(e.offset)}`);
  if (e.bytes !== undefined) parts.push(`bytes ${oneLine(e.bytes)}`);
  const where = lineLocation(e);
  if (where || e.line !== undefined) {
    parts.push(`${where || 'line'}${e.line !== undefined ? `: ${oneLine(e.line)}` : ''}`);
  }
  return parts.join(' | ');
}

const GROUP_ORDER = { IMG: 0, FW: 1, HW: 2, OS: 3 } as const;

/** Catalogue order: IMG, FW, HW, OS, then by number (IMG-2 before IMG-10). */
export function compareRequirementIds(a: string, b: string): number {
  const [ga, na] = splitId(a);
  const [gb, nb] = splitId(b);
  return ga - gb || na - nb || (a < b ? -1 : a > b ? 1 : 0);
}

function splitId(id: string): [number, number] {
  const m = /^(IMG|FW|HW|OS)-(\d+)$/.exec(id);
  if (!m) return [9, 0];
  return [GROUP_ORDER[m[1] as keyof typeof GROUP_ORDER], Number(m[2])];
}

/** Requirements in catalogue order, for reports that list every id once. */
export function sortRequirements<T extends Pick<RequirementResult, 'id'>>(reqs: readonly T[]): T[] {
  return [...reqs].sort((x, y) => compareRequirementIds(x.id, y.id));
}
