// Paths the report specs use. Relative to this module, which sits at the same depth in src/ and dist/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/compliance/schema */
export const SCHEMA_DIR = fileURLToPath(new URL('../../../schema/', import.meta.url));

/** The repository root (where .artifacts lives by default). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

/** `${TEST_ARTIFACTS_DIR ?? <repo>/.artifacts}/compliance`, created. */
export function artifactsDir(): string {
  const dir = join(process.env.TEST_ARTIFACTS_DIR ?? join(REPO_ROOT, '.artifacts'), 'compliance');
  mkdirSync(dir, { recursive: true });
  return dir;
}
