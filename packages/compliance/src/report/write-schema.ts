// Regenerates schema/compliance-v1.schema.json from the zod schema. Run it only for a deliberate
// format change (the file is published; json-report.spec fails while the two differ):
//   npx tsc -b packages/compliance && node packages/compliance/dist/report/write-schema.js
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { complianceJsonSchemaText } from './json-report.js';

/** The committed schema file (same relative path from src/report and dist/report). */
export const SCHEMA_FILE = fileURLToPath(new URL('../../schema/compliance-v1.schema.json', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, complianceJsonSchemaText());
  console.log(`wrote ${SCHEMA_FILE}`);
}
