// `node packages/db/dist/cli/migrate-resolve.js --rolled-back NAME | --applied NAME`:
// `prisma migrate resolve` offline, to recover after db:migrate reported MIGRATION_FAILED (fix the
// migration, mark it rolled back, deploy again) or to baseline a database (mark applied).
import { parseArgs } from 'node:util';
import { resolveMigration } from '../migrate/index.js';
import { reportAndExit, requireEnv } from './common.js';

const COMMAND = 'db:migrate:resolve';
const USAGE = 'usage: node packages/db/dist/cli/migrate-resolve.js (--rolled-back NAME | --applied NAME)';
const OPTIONS = { 'rolled-back': { type: 'string' }, applied: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
try {
  values = parseArgs({ options: OPTIONS }).values;
} catch (err) {
  process.stderr.write(`${COMMAND}: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const rolledBack = values['rolled-back'];
const applied = values.applied;
if ((rolledBack === undefined) === (applied === undefined)) {
  process.stderr.write(`${COMMAND}: give exactly one of --rolled-back NAME, --applied NAME\n${USAGE}\n`);
  process.exit(2);
}

const databaseUrl = requireEnv('DATABASE_URL', COMMAND, 'the database whose migration history to fix');
const migration = (rolledBack ?? applied)!;
const as = rolledBack !== undefined ? 'rolled-back' : 'applied';
try {
  await resolveMigration({ databaseUrl, migration, as });
  console.log(`${COMMAND}: ${migration} marked ${as}`);
} catch (err) {
  reportAndExit(COMMAND, err);
}
