import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ComplianceProfile, RequirementLevel } from '@bootfarm/contracts';
import { CATALOGUE, CATALOGUE_VERSION, PROFILES, REQUIREMENT_IDS, requirement } from './catalogue.js';
import { CELL_EVALUATORS, evaluateCell } from './verdicts.js';
import { RUN_COMBINERS } from './evaluators/run.js';
import { cellOf, prof } from './testing.fixtures.js';

/** The 43 ids of the reference checklist (§4). */
const EXPECTED = [
  ...Array.from({ length: 10 }, (_, i) => `IMG-${i + 1}`),
  ...Array.from({ length: 11 }, (_, i) => `FW-${i + 1}`),
  ...Array.from({ length: 10 }, (_, i) => `HW-${i + 1}`),
  ...Array.from({ length: 12 }, (_, i) => `OS-${i + 1}`),
];

describe('catalogue', () => {
  it('has all 43 requirements, in order, without duplicates', () => {
    assert.equal(EXPECTED.length, 43);
    assert.deepEqual([...REQUIREMENT_IDS], EXPECTED);
    assert.deepEqual(CATALOGUE.map((r) => r.id), EXPECTED);
    assert.equal(new Set(CATALOGUE.map((r) => r.id)).size, 43);
    assert.ok(CATALOGUE_VERSION.length > 0);
  });

  it('gives every requirement a group, text, sources, scope and a level under each profile', () => {
    for (const r of CATALOGUE) {
      assert.equal(r.group, r.id.split('-')[0], r.id);
      assert.ok(r.title && r.text && r.evaluation, r.id);
      assert.ok(r.source.length > 0, `${r.id} cites a source`);
      assert.ok(['image', 'platform', 'guest', 'run'].includes(r.scope), r.id);
      assert.deepEqual(Object.keys(r.levels).sort(), [...ComplianceProfile.options].sort(), r.id);
      for (const p of PROFILES) RequirementLevel.parse(r.levels[p]);
      for (const p of PROFILES) if (r.levels[p] === 'absent') assert.ok(r.absentWhy?.[p], `${r.id} says why ${p} lacks it`);
    }
  });

  it('says what would test every requirement it does not (fully) test', () => {
    for (const r of CATALOGUE) {
      if (r.coverage !== 'full') assert.ok(r.notTestedReason && r.notTestedReason.length > 20, `${r.id} has a notTestedReason`);
      if (r.coverage === 'none') assert.equal(r.evaluatedFrom.length, 0, r.id);
      else assert.ok(r.evaluatedFrom.length > 0, r.id);
    }
    assert.equal(requirement('HW-10').coverage, 'none');
    assert.equal(requirement('OS-11').coverage, 'none');
  });

  it('follows the §2 deltas for the levels the profiles disagree on', () => {
    const l = (id: (typeof REQUIREMENT_IDS)[number]) => PROFILES.map((p) => requirement(id).levels[p]);
    assert.deepEqual(l('FW-3'), ['must', 'must', 'must']);
    assert.equal(requirement('FW-3').levelConditions?.bbr, 'if DT');
    assert.deepEqual(l('FW-4'), ['absent', 'must', 'must']);
    assert.equal(requirement('FW-4').levelConditions?.bbr, 'if ACPI');
    assert.deepEqual(l('FW-5'), ['must', 'must', 'must']);
    assert.deepEqual(l('HW-3'), ['should', 'must', 'must']);
    assert.deepEqual(l('FW-10'), ['absent', 'absent', 'should']);
    assert.deepEqual(l('HW-10'), ['absent', 'absent', 'should']);
    assert.deepEqual(l('HW-7'), ['absent', 'must', 'must']);
    assert.deepEqual(l('OS-9'), ['absent', 'must', 'must']);
    assert.deepEqual(l('FW-9'), ['informative', 'must', 'must']);
    assert.deepEqual(l('HW-6'), ['should', 'must', 'must']);
    assert.deepEqual(l('FW-7'), ['strongly_recommended', 'strongly_recommended', 'strongly_recommended']);
    assert.deepEqual(l('HW-8'), ['strongly_recommended', 'strongly_recommended', 'strongly_recommended']);
    assert.deepEqual(l('HW-2'), ['should', 'informative', 'informative']);
    assert.deepEqual(l('IMG-2'), ['informative', 'informative', 'informative']);
    for (const id of ['FW-3', 'FW-4', 'FW-5', 'HW-3', 'HW-4', 'OS-2', 'OS-6', 'FW-6'] as const) assert.ok(requirement(id).profileNote, `${id} explains the disagreement`);
  });

  it('marks the cross-cell requirements as run scope and has a run combiner for exactly those', () => {
    const run = CATALOGUE.filter((r) => r.scope === 'run').map((r) => r.id).sort();
    assert.deepEqual(run, ['HW-2', 'HW-4', 'HW-5', 'HW-9', 'IMG-10', 'OS-2', 'OS-3', 'OS-5', 'OS-6'].sort());
    assert.deepEqual(Object.keys(RUN_COMBINERS).sort(), run);
    assert.deepEqual(Object.keys(CELL_EVALUATORS), EXPECTED);
  });

  it('throws on an unknown id', () => {
    assert.throws(() => requirement('FW-99' as never), /unknown requirement/);
  });

  it('gives every not_tested and not_applicable verdict a reason, even with nothing known', () => {
    const empty = evaluateCell(cellOf(prof(), { inspection: null, boot: null, guest: null, platform: null }));
    assert.equal(empty.requirements.length, 43);
    for (const r of empty.requirements) {
      for (const p of PROFILES) {
        const v = r.verdicts[p];
        assert.ok(['not_tested', 'not_applicable'].includes(v.status), `${r.id} ${p}: ${v.status} with nothing known`);
        assert.ok(v.reason.length > 10, `${r.id} ${p} has a reason`);
      }
    }
  });
});
