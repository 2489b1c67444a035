// Generates the Prisma client offline.
// The Prisma 7 CLI insists on a native schema-engine binary it cannot download here, although
// `generate` never runs it. Point it at a stub that exits 1, so that any command which *would*
// run the engine (migrate, db push) fails loudly instead of succeeding silently.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stub = join(root, '.cache', 'prisma', 'schema-engine-unavailable');
mkdirSync(dirname(stub), { recursive: true });
writeFileSync(stub, '#!/bin/sh\necho "schema-engine is not available offline: use npm run db:migrate" >&2\nexit 1\n');
chmodSync(stub, 0o755);

const result = spawnSync('npx', ['prisma', 'generate'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: stub, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
});
process.exit(result.status ?? 1);
