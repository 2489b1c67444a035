// `npm run db:migrate`: applies the pending migrations of prisma/migrations to DATABASE_URL with
// Prisma's schema engine (offline; see ../migrate/migrator.ts). Exits non-zero on any failure.
import { migrateDeploy } from '../migrate/index.js';
import { elapsed, reportAndExit, requireEnv } from './common.js';

const COMMAND = 'db:migrate';
const databaseUrl = requireEnv('DATABASE_URL', COMMAND, 'the database to migrate');
const start = performance.now();
try {
  const { applied } = await migrateDeploy({ databaseUrl });
  if (applied.length === 0) {
    console.log(`${COMMAND}: no pending migration, the database is up to date (${elapsed(start)})`);
  } else {
    for (const name of applied) console.log(`${COMMAND}: applied ${name}`);
    console.log(`${COMMAND}: ${applied.length} migration(s) applied (${elapsed(start)})`);
  }
} catch (err) {
  reportAndExit(COMMAND, err);
}
