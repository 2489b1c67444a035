import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPLIANCE_SCHEMA, RunCompliance } from '@bootfarm/contracts';
import { COMPLIANCE_SCHEMA_ID, complianceJsonSchema, complianceJsonSchemaText, renderJsonReport } from './json-report.js';
import { HOSTILE_LINE, sampleReport } from './test-support/sample-report.js';
import { SCHEMA_DIR, artifactsDir } from './test-support/paths.js';

/** Rebuilds every object with its keys reversed: same data, different key order. */
function reverseKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reverseKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)]));
  }
  return v;
}

describe('renderJsonReport', () => {
  it('round-trips through the zod schema', () => {
    const report = sampleReport();
    const text = renderJsonReport(report);
    const parsed = JSON.parse(text) as unknown;
    assert.deepEqual(RunCompliance.parse(parsed), parsed, 'nothing is lost or added when parsed back');
    assert.deepEqual(parsed, report);
    writeFileSync(join(artifactsDir(), 'compliance.json'), text);
  });

  it('writes keys in schema order, two-space indent, trailing newline, whatever the input order', () => {
    const report = sampleReport();
    const text = renderJsonReport(report);
    assert.equal(renderJsonReport(reverseKeys(report) as RunCompliance), text);
    assert.ok(text.startsWith(`{\n  "schema": "${COMPLIANCE_SCHEMA}",\n  "runId": `), text.slice(0, 80));
    assert.ok(text.endsWith('}\n'));
    assert.match(text, /\n {4}"vmspec-1\.0": \{\n {6}"verdict": /, 'profile records in enum order, objects in shape order');
    const keys = Object.keys((JSON.parse(text) as RunCompliance).summary['vmspec-2.0'].counts);
    assert.deepEqual(keys, ['pass', 'fail', 'warn', 'not_applicable', 'not_tested']);
  });

  it('keeps hostile console text exactly (JSON escapes it losslessly)', () => {
    const text = renderJsonReport(sampleReport());
    assert.ok(!/[\x00-\x1f]/.test(text.replace(/\n/g, '')), 'no raw control characters');
    const back = JSON.parse(text) as RunCompliance;
    const lines = back.cells.flatMap((c) => c.requirements.flatMap((r) => r.evidence.map((e) => e.line)));
    assert.ok(lines.includes(HOSTILE_LINE));
  });

  it('drops unknown keys and refuses an invalid report', () => {
    const extra = { ...sampleReport(), futureField: 1 } as RunCompliance;
    assert.ok(!renderJsonReport(extra).includes('futureField'));
    assert.throws(() => renderJsonReport({ ...sampleReport(), schema: 'bootfarm.compliance/v0' } as unknown as RunCompliance), /schema/);
    const noVerdict = sampleReport();
    delete (noVerdict.requirements[0]!.verdicts as Partial<RunCompliance['requirements'][0]['verdicts']>).bbr;
    assert.throws(() => renderJsonReport(noVerdict), /bbr/);
  });
});

describe('complianceJsonSchema', () => {
  it('names the format', () => {
    const s = complianceJsonSchema();
    assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(s.$id, COMPLIANCE_SCHEMA_ID);
    assert.ok(String(s.$id).endsWith(COMPLIANCE_SCHEMA));
    assert.equal(s.title, COMPLIANCE_SCHEMA);
    assert.deepEqual((s.properties as { schema: unknown }).schema, { type: 'string', const: COMPLIANCE_SCHEMA });
  });

  it('leaves objects open, so additive v1 fields do not break v1 consumers', () => {
    assert.ok(!complianceJsonSchemaText().includes('"additionalProperties": false'));
  });

  it('matches the committed schema file (the format is published: change it deliberately)', () => {
    const file = join(SCHEMA_DIR, 'compliance-v1.schema.json');
    const committed = readFileSync(file, 'utf8');
    assert.equal(
      committed,
      complianceJsonSchemaText(),
      `${file} differs from the schema generated from @bootfarm/contracts. If the format change is deliberate ` +
        '(additive within v1, see REPORTS.md), regenerate it: node packages/compliance/dist/report/write-schema.js',
    );
  });
});
