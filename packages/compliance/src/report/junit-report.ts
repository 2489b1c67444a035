// The JUnit report: compliance verdicts as test results, so CI systems (Jenkins, GitLab, GitHub
// test reporters) show them without knowing the compliance format. Validated against
// schema/junit.xsd in the spec.
import { COMPLIANCE_SCHEMA, ComplianceProfile as ProfileSchema, RunCompliance } from '@bootfarm/contracts';
import type { ComplianceProfile, ProfileSummary, RequirementResult } from '@bootfarm/contracts';
import { LEVEL_LABEL, PROFILES, cleanText, escapeXml, escapeXmlText, evidenceLine, oneLine } from './text.js';

export interface JUnitReportOptions {
  /** Whose verdicts become pass/fail (one profile per file: JUnit has one outcome per test). */
  profile?: ComplianceProfile;
}

/** Suite name (and classname suffix) of the run-level verdicts; cell keys never look like this. */
export const RUN_SUITE_NAME = 'run';

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

/**
 * JUnit XML: one `<testsuite>` for the run-level verdicts, then one per cell (name = cell key);
 * one `<testcase>` per requirement in each. fail → `<failure type="level">`; warn → passed with
 * the warning in `<system-out>` (JUnit has no warn); not_applicable / not_tested → `<skipped>`.
 * The report is validated first; throws a ZodError when it is invalid.
 */
export function renderJUnitReport(report: RunCompliance, opts: JUnitReportOptions = {}): string {
  const r = RunCompliance.parse(report);
  const profile = ProfileSchema.parse(opts.profile ?? 'vmspec-2.0');
  // JUnit timestamps carry no zone (junit-10 forbids one): these are UTC, as `bootfarm.generatedAt` says.
  const timestamp = new Date(r.generatedAt).toISOString().slice(0, 19);
  const common: Array<[string, string]> = [
    ['bootfarm.schema', COMPLIANCE_SCHEMA],
    ['bootfarm.profile', profile],
    ['bootfarm.catalogueVersion', r.catalogueVersion],
    ['bootfarm.runId', r.runId],
    ['bootfarm.generatedAt', r.generatedAt],
    ['image.id', r.image.id],
    ['image.name', r.image.name],
    ['image.sha256', r.image.sha256],
    ['image.format', r.image.format],
  ];

  const suites = [
    suite({
      id: 0,
      name: RUN_SUITE_NAME,
      classname: `bootfarm.${profile}.${RUN_SUITE_NAME}`,
      profile,
      timestamp,
      properties: [...common, ...summaryProperties(r.summary[profile])],
      summary: r.summary[profile],
      requirements: r.requirements,
    }),
    ...r.cells.map((cell, i) =>
      suite({
        id: i + 1,
        // junit.xsd wants a non-empty name; a key of only control characters would clean to nothing.
        name: cleanText(cell.cellKey).trim() ? cell.cellKey : `cell ${i + 1}`,
        classname: `bootfarm.${profile}.${cell.cellKey}`,
        profile,
        timestamp,
        properties: [
          ...common,
          ['cell.id', cell.cellId],
          ['cell.key', cell.cellKey],
          ...summaryProperties(cell.summary[profile]),
        ],
        summary: cell.summary[profile],
        requirements: cell.requirements,
      }),
    ),
  ];

  const total = suites.reduce<Counts>(
    (t, s) => ({
      tests: t.tests + s.counts.tests,
      failures: t.failures + s.counts.failures,
      errors: t.errors + s.counts.errors,
      skipped: t.skipped + s.counts.skipped,
    }),
    { tests: 0, failures: 0, errors: 0, skipped: 0 },
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${attrs({
      name: `bootfarm compliance ${r.image.name} ${profile}`,
      ...countAttrs(total),
      time: '0',
      timestamp,
    })}>`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n');
}

function summaryProperties(s: ProfileSummary): Array<[string, string]> {
  return [
    ['bootfarm.verdict', s.verdict],
    ['bootfarm.failing', s.failing.join(' ')],
  ];
}

interface SuiteInput {
  id: number;
  name: string;
  classname: string;
  profile: ComplianceProfile;
  timestamp: string;
  properties: Array<[string, string]>;
  summary: ProfileSummary;
  requirements: RequirementResult[];
}

function suite(s: SuiteInput): { xml: string; counts: Counts } {
  // Counts come from the testcases written, not from the summary, so they cannot disagree.
  const counts: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const cases = s.requirements.map((req) => {
    const v = req.verdicts[s.profile];
    counts.tests++;
    if (v.status === 'fail') counts.failures++;
    if (v.status === 'not_applicable' || v.status === 'not_tested') counts.skipped++;
    return testcase(req, s.classname, s.profile);
  });
  const failing = s.summary.failing.length ? ` (${s.summary.failing.join(', ')})` : '';
  const xml = [
    `  <testsuite ${attrs({
      name: s.name,
      ...countAttrs(counts),
      time: '0',
      timestamp: s.timestamp,
      id: String(s.id),
      package: `bootfarm.${s.profile}`,
    })}>`,
    '    <properties>',
    ...s.properties.map(([name, value]) => `      <property ${attrs({ name, value })}/>`),
    '    </properties>',
    ...cases,
    `    <system-out>${escapeXmlText(`${s.profile}: ${s.summary.verdict}${failing}`)}</system-out>`,
    '  </testsuite>',
  ].join('\n');
  return { xml, counts };
}

function testcase(req: RequirementResult, classname: string, profile: ComplianceProfile): string {
  const v = req.verdicts[profile];
  const open = `    <testcase ${attrs({ name: `${req.id} ${req.title}`, classname, time: '0' })}`;
  const headline = `${v.status.toUpperCase()} [${LEVEL_LABEL[v.level]}] ${profile}: ${oneLine(v.reason)}`;
  const body = [headline, allProfiles(req), ...evidenceBlock(req)].join('\n');
  switch (v.status) {
    case 'fail':
      return `${open}>\n      <failure ${attrs({ message: v.reason, type: v.level })}>${escapeXmlText(body)}</failure>\n    </testcase>`;
    case 'not_applicable':
    case 'not_tested':
      // The status leads the message: CI shows both kinds as "skipped" and readers need to tell them apart.
      return `${open}>\n      <skipped ${attrs({ message: `${v.status === 'not_tested' ? 'not tested' : 'not applicable'}: ${v.reason}` })}/>\n    </testcase>`;
    case 'warn':
    case 'pass':
      return `${open}>\n      <system-out>${escapeXmlText(body)}</system-out>\n    </testcase>`;
  }
}

/** Every profile's verdict on one line, since a JUnit file shows only one profile's outcome. */
function allProfiles(req: RequirementResult): string {
  return `profiles: ${PROFILES.map((p) => `${p}=${req.verdicts[p].status} (${LEVEL_LABEL[req.verdicts[p].level]})`).join(', ')}`;
}

function evidenceBlock(req: RequirementResult): string[] {
  if (req.evidence.length === 0) return ['evidence: none recorded'];
  return ['evidence:', ...req.evidence.map((e) => `  ${evidenceLine(e)}`)];
}

function countAttrs(c: Counts): Record<string, string> {
  return { tests: String(c.tests), failures: String(c.failures), errors: String(c.errors), skipped: String(c.skipped) };
}

function attrs(a: Record<string, string>): string {
  return Object.entries(a)
    .map(([k, v]) => `${k}="${escapeXml(v)}"`)
    .join(' ');
}
