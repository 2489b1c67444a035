#!/usr/bin/env node
// Regenerates the requirement table in packages/compliance/README.md from the built catalogue.
// Usage (from the repo root): npx tsc -b packages/compliance && node packages/compliance/scripts/update-readme.mjs
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { replaceRequirementsTable } from '../dist/readme-table.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const before = await readFile(readme, 'utf8');
const after = replaceRequirementsTable(before);
if (after === before) {
  console.log('README.md requirement table is up to date');
} else {
  await writeFile(readme, after);
  console.log('README.md requirement table regenerated');
}
