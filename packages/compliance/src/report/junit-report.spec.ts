import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { COMPLIANCE_SCHEMA } from '@bootfarm/contracts';
import type { ComplianceProfile, RequirementResult, RunCompliance } from '@bootfarm/contracts';
import { renderJUnitReport } from './junit-report.js';
import { HOSTILE_CELL_ID, HOSTILE_LINE_SHOWN, HOSTILE_REASON, sampleReport } from './test-support/sample-report.js';
import { SCHEMA_DIR, artifactsDir } from './test-support/paths.js';

const PROFILES: ComplianceProfile[] = ['vmspec-1.0', 'vmspec-2.0', 'bbr'];

let xsd = '';
before(() => {
  xsd = readFileSync(join(SCHEMA_DIR, 'junit.xsd'), 'utf8');
});

async function assertValid(xml: string, label: string): Promise<void> {
  const result = await validateXML({ xml: [{ fileName: `${label}.xml`, contents: xml }], schema: [{ fileName: 'junit.xsd', contents: xsd }] });
  assert.deepEqual(
    result.errors.map((e) => e.rawMessage),
    [],
    `${label} is not valid against junit.xsd:\n${result.rawOutput}`,
  );
  assert.equal(result.valid, true);
}

// The output is XSD-valid, so attribute values and text hold no raw '<' or '"': these small
// regex readers are exact on it.
function unescape(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#(\d+));/g, (_, name: string, code?: string) =>
    code ? String.fromCodePoint(Number(code)) : ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' } as Record<string, string>)[name]!,
  );
}

function attrsOf(tag: string): Record<string, string> {
  return Object.fromEntries([...tag.matchAll(/([\w.-]+)="([^"]*)"/g)].map((m) => [m[1]!, unescape(m[2]!)]));
}

interface ParsedCase {
  attrs: Record<string, string>;
  outcome: 'failure' | 'skipped' | 'passed';
  outcomeAttrs: Record<string, string>;
  text: string;
}

interface ParsedSuite {
  attrs: Record<string, string>;
  properties: Record<string, string>;
  cases: ParsedCase[];
}

function parse(xml: string): { root: Record<string, string>; suites: ParsedSuite[] } {
  const root = attrsOf(/<testsuites ([^>]*)>/.exec(xml)![1]!);
  const suites = [...xml.matchAll(/<testsuite ([^>]*)>([\s\S]*?)<\/testsuite>/g)].map((m) => {
    const body = m[2]!;
    const properties = Object.fromEntries(
      [...body.matchAll(/<property ([^>]*)\/>/g)].map((p) => {
        const a = attrsOf(p[1]!);
        return [a.name!, a.value!];
      }),
    );
    const cases = [...body.matchAll(/<testcase ([^>]*)>([\s\S]*?)<\/testcase>/g)].map((c): ParsedCase => {
      const inner = c[2]!;
      const failure = /<failure ([^>]*)>([\s\S]*?)<\/failure>/.exec(inner);
      const skipped = /<skipped ([^>]*)\/>/.exec(inner);
      const out = /<system-out>([\s\S]*?)<\/system-out>/.exec(inner);
      return {
        attrs: attrsOf(c[1]!),
        outcome: failure ? 'failure' : skipped ? 'skipped' : 'passed',
        outcomeAttrs: attrsOf((failure ?? skipped)?.[1] ?? ''),
        text: unescape(failure?.[2] ?? out?.[1] ?? ''),
      };
    });
    return { attrs: attrsOf(m[1]!), properties, cases };
  });
  return { root, suites };
}

/** Expected counts straight from the fixture data, independent of the renderer. */
function expectedCounts(reqs: RequirementResult[], p: ComplianceProfile) {
  const st = reqs.map((r) => r.verdicts[p].status);
  return {
    tests: String(st.length),
    failures: String(st.filter((s) => s === 'fail').length),
    errors: '0',
    skipped: String(st.filter((s) => s === 'not_applicable' || s === 'not_tested').length),
  };
}

describe('renderJUnitReport', () => {
  for (const profile of PROFILES) {
    it(`validates against junit.xsd with correct counts (${profile})`, async () => {
      const report = sampleReport();
      const xml = renderJUnitReport(report, { profile });
      writeFileSync(join(artifactsDir(), `junit-${profile}.xml`), xml);
      await assertValid(xml, `junit-${profile}`);

      const { root, suites } = parse(xml);
      assert.equal(suites.length, report.cells.length + 1, 'one suite per cell plus the run-level suite');
      const groups: Array<[string, RequirementResult[]]> = [['run', report.requirements], ...report.cells.map((c): [string, RequirementResult[]] => [c.cellKey, c.requirements])];
      let total = { tests: 0, failures: 0, errors: 0, skipped: 0 };
      suites.forEach((s, i) => {
        const [name, reqs] = groups[i]!;
        assert.equal(s.attrs.name, name);
        const want = expectedCounts(reqs, profile);
        assert.deepEqual(
          { tests: s.attrs.tests, failures: s.attrs.failures, errors: s.attrs.errors, skipped: s.attrs.skipped },
          want,
          `counts of suite ${name}`,
        );
        assert.equal(String(s.cases.length), want.tests);
        assert.equal(String(s.cases.filter((c) => c.outcome === 'failure').length), want.failures);
        assert.equal(String(s.cases.filter((c) => c.outcome === 'skipped').length), want.skipped);
        assert.equal(s.attrs.timestamp, '2026-11-25T06:49:35');
        assert.equal(s.properties['image.sha256'], report.image.sha256);
        assert.equal(s.properties['bootfarm.profile'], profile);
        assert.equal(s.properties['bootfarm.schema'], COMPLIANCE_SCHEMA);
        // Exactly one testcase per requirement, named and classed as CI groups them.
        assert.deepEqual(
          s.cases.map((c) => c.attrs.name),
          reqs.map((r) => `${r.id} ${r.title}`),
        );
        for (const c of s.cases) assert.equal(c.attrs.classname, `bootfarm.${profile}.${name}`);
        total = {
          tests: total.tests + Number(want.tests),
          failures: total.failures + Number(want.failures),
          errors: 0,
          skipped: total.skipped + Number(want.skipped),
        };
      });
      assert.deepEqual(
        { tests: root.tests, failures: root.failures, errors: root.errors, skipped: root.skipped },
        { tests: String(total.tests), failures: String(total.failures), errors: '0', skipped: String(total.skipped) },
      );
      assert.equal(root.timestamp, '2026-11-25T06:49:35');
    });
  }

  it('defaults to vmspec-2.0', () => {
    const report = sampleReport();
    assert.equal(renderJUnitReport(report), renderJUnitReport(report, { profile: 'vmspec-2.0' }));
  });

  it('maps statuses: fail → failure (type = level), warn/pass → passed with system-out, n/a and not tested → skipped', () => {
    const report = sampleReport();
    const { suites } = parse(renderJUnitReport(report, { profile: 'bbr' }));
    const uboot = suites.find((s) => s.properties['cell.id'] === HOSTILE_CELL_ID)!;
    const byId = (id: string) => uboot.cases.find((c) => c.attrs.name!.startsWith(`${id} `))!;

    const fw6 = byId('FW-6'); // bbr: warn
    assert.equal(fw6.outcome, 'passed');
    assert.match(fw6.text, /^WARN \[should\] bbr: RTC is optional in EBBR/);
    assert.match(fw6.text, /probe: probe report \| boot 1 seq 19 @2612ms: VMSPEC-PROBE rt-properties mask=0x00003fff/);

    const os4 = byId('OS-4'); // fail
    assert.equal(os4.outcome, 'failure');
    assert.deepEqual(os4.outcomeAttrs, { message: HOSTILE_REASON, type: 'must' });
    assert.match(os4.text, /profiles: vmspec-1\.0=fail \(must\), vmspec-2\.0=fail \(must\), bbr=fail \(must\)/);

    const fw10 = byId('FW-10'); // not tested
    assert.equal(fw10.outcome, 'skipped');
    assert.equal(fw10.outcomeAttrs.message, 'not tested: probe line for SMBIOS missing from boot 1 (output capped)');
    const hw2 = byId('HW-2'); // not applicable
    assert.equal(hw2.outcome, 'skipped');
    assert.equal(hw2.outcomeAttrs.message, 'not applicable: not in BBR');

    const img1 = byId('IMG-1'); // pass, image evidence
    assert.equal(img1.outcome, 'passed');
    assert.match(img1.text, /image: protective MBR partition type \| value=0xEE \| expected=0xEE \| offset 450 \(0x1c2\) \| bytes ee/);

    const run = suites[0]!;
    const hw4 = run.cases.find((c) => c.attrs.name!.startsWith('HW-4 '))!;
    assert.match(hw4.text, /run: cell verdict \| cell aarch64\/edk2\/dt\/gicv2\/virtio-mmio\/1cpu\/1024M\/tcg \| value=/);
  });

  it('escapes hostile console text: valid XML, nothing injected, text intact', async () => {
    const xml = renderJUnitReport(sampleReport(), { profile: 'vmspec-2.0' });
    await assertValid(xml, 'hostile');
    assert.ok(!/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]/.test(xml), 'no illegal or control characters');
    assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(xml), 'no lone surrogates');
    assert.ok(!xml.includes('<script') && !xml.includes('<x-injected') && !xml.includes('<img'), 'no markup from the guest');
    assert.ok(!xml.includes(']]>'));
    const { suites } = parse(xml);
    const failures = suites.flatMap((s) => s.cases).filter((c) => c.outcome === 'failure').length;
    assert.equal(xml.split('</failure>').length - 1, failures, 'the guest cannot close a <failure>');
    const os4 = suites.find((s) => s.properties['cell.id'] === HOSTILE_CELL_ID)!.cases.find((c) => c.attrs.name!.startsWith('OS-4 '))!;
    assert.ok(
      os4.text.includes(`console: hwclock service output | seq 930 @12044ms: ${HOSTILE_LINE_SHOWN}\n`),
      `hostile line reads back as text:\n${os4.text}`,
    );
  });

  it('escapes every free-text field, attributes included', async () => {
    const evil = '"/><x a=\'1\'>&amp;\x00\x1b[2J</testcase>]]>\n\ttab\rcr';
    const report = sampleReport();
    report.image.name = `img ${evil}`;
    report.runId = `run ${evil}`;
    report.catalogueVersion = `cat ${evil}`;
    for (const c of report.cells) {
      c.cellKey = `${c.cellKey}${evil}`;
      c.cellId = `${c.cellId}${evil}`;
    }
    for (const r of [...report.requirements, ...report.cells.flatMap((c) => c.requirements)]) {
      r.title = `${r.title} ${evil}`;
      for (const p of PROFILES) r.verdicts[p].reason = `${r.verdicts[p].reason} ${evil}`;
      for (const e of r.evidence) {
        e.what = `${e.what} ${evil}`;
        if (e.value !== undefined) e.value = `${e.value} ${evil}`;
        if (e.line !== undefined) e.line = `${e.line} ${evil}`;
      }
    }
    const xml = renderJUnitReport(report);
    await assertValid(xml, 'evil-everywhere');
    assert.ok(!xml.includes('<x ') && !xml.includes('</testcase>]]>'));
    const { suites } = parse(xml);
    assert.equal(suites.length, report.cells.length + 1);
    const failure = suites[1]!.cases.find((c) => c.outcome === 'failure')!;
    // Line breaks and tabs survive in attributes as character references.
    assert.ok(failure.outcomeAttrs.message!.endsWith(' "/><x a=\'1\'>&amp;</testcase>]]>\n\ttab\rcr'), failure.outcomeAttrs.message);
  });

  it('the schema rejects what CI readers would misread (the validator really validates)', async () => {
    const xml = renderJUnitReport(sampleReport());
    const broken = [
      xml.replace(/<testsuite name="run" tests="\d+"/, '<testsuite name="run"'),
      xml.replace('type="must"', ''),
      xml.replace('<system-out>', '<system-out><b>bold</b>'),
      xml.replace(/(<failure [^>]*>)/, '<skipped/>$1'),
    ];
    for (const [i, doc] of broken.entries()) {
      assert.notEqual(doc, xml);
      const result = await validateXML({ xml: [{ fileName: `broken-${i}.xml`, contents: doc }], schema: [{ fileName: 'junit.xsd', contents: xsd }] });
      assert.equal(result.valid, false, `broken-${i} should be rejected`);
    }
  });
});
