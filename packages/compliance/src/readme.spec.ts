import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { README_TABLE_END, README_TABLE_START, renderRequirementsTable, replaceRequirementsTable } from './readme-table.js';

// This spec runs from packages/compliance/dist.
const README = fileURLToPath(new URL('../README.md', import.meta.url));

describe('README requirement table', () => {
  it('is the table generated from the catalogue', async () => {
    const text = await readFile(README, 'utf8');
    const a = text.indexOf(README_TABLE_START);
    const b = text.indexOf(README_TABLE_END);
    assert.ok(a >= 0 && b > a, `README.md needs ${README_TABLE_START} and ${README_TABLE_END}`);
    const inReadme = text.slice(a + README_TABLE_START.length, b).trim();
    assert.equal(inReadme, renderRequirementsTable(),
      'packages/compliance/README.md is out of date; regenerate it with: npx tsc -b packages/compliance && node packages/compliance/scripts/update-readme.mjs');
  });

  it('has one row per requirement with every profile\'s level', () => {
    const rows = renderRequirementsTable().split('\n').slice(2);
    assert.equal(rows.length, 43);
    assert.match(rows.find((r) => r.startsWith('| FW-3 '))!, /\| must \| must \| must \(if DT\) \| probe \|/);
    assert.match(rows.find((r) => r.startsWith('| FW-4 '))!, /\| — \| must \| must \(if ACPI\) \|/);
    assert.match(rows.find((r) => r.startsWith('| HW-10 '))!, /not tested: needs Vbsa\.efi/);
  });

  it('replaces only the block between the markers', () => {
    const out = replaceRequirementsTable(`intro\n${README_TABLE_START}\nold\n${README_TABLE_END}\nend\n`);
    assert.ok(out.startsWith(`intro\n${README_TABLE_START}\n| Id |`));
    assert.ok(out.endsWith(`\n${README_TABLE_END}\nend\n`));
    assert.throws(() => replaceRequirementsTable('no markers'), /lacks/);
  });
});
