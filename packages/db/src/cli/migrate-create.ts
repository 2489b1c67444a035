// `node packages/db/dist/cli/migrate-create.js NAME [--schema PATH] [--migrations-dir PATH]`:
// `prisma migrate dev --create-only` offline. Writes prisma/migrations/<timestamp>_<name>/ when
// prisma/schema.prisma differs from the migrations; applies nothing (run db:migrate for that).
// The shadow database is SHADOW_DATABASE_URL (wiped!) or, when unset, a temporary database
// created next to DATABASE_URL's and dropped afterwards.
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { createMigration, isMigrationError, withTemporaryDatabase, type CreateMigrationResult } from '../migrate/index.js';
import { elapsed, reportAndExit, requireEnv } from './common.js';

const COMMAND = 'db:migrate:create';
const USAGE = `usage: node packages/db/dist/cli/migrate-create.js NAME [--schema PATH] [--migrations-dir PATH]`;

const OPTIONS = { schema: { type: 'string' }, 'migrations-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
let args: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
try {
  args = parseArgs({ options: OPTIONS, allowPositionals: true });
} catch (err) {
  process.stderr.write(`${COMMAND}: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
if (args.values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (args.positionals.length !== 1) {
  process.stderr.write(`${COMMAND}: expected exactly one migration name\n${USAGE}\n`);
  process.exit(2);
}

const name = args.positionals[0]!;
const databaseUrl = requireEnv('DATABASE_URL', COMMAND, 'the development database');
const configuredShadow = process.env.SHADOW_DATABASE_URL?.trim() || undefined;
const start = performance.now();
try {
  const create = (shadowDatabaseUrl: string): Promise<CreateMigrationResult> =>
    createMigration({
      databaseUrl,
      shadowDatabaseUrl,
      name,
      ...(args.values.schema ? { schemaPath: args.values.schema } : {}),
      ...(args.values['migrations-dir'] ? { migrationsDir: args.values['migrations-dir'] } : {}),
    });
  const result = configuredShadow ? await create(configuredShadow) : await withTemporaryDatabase(databaseUrl, create);
  for (const warning of result.warnings) process.stderr.write(`${COMMAND}: warning: ${warning}\n`);
  if (result.directory === null) {
    console.log(`${COMMAND}: the schema matches the migrations, no migration created (${elapsed(start)})`);
  } else {
    console.log(`${COMMAND}: created ${relative(process.cwd(), result.directory) || result.directory}/migration.sql (${elapsed(start)})`);
    console.log(`${COMMAND}: review it, then apply it with npm run db:migrate`);
  }
} catch (err) {
  if (isMigrationError(err, 'SHADOW_DATABASE_UNAVAILABLE')) {
    process.stderr.write(`${COMMAND}: hint: set SHADOW_DATABASE_URL to an empty database that may be wiped\n`);
  }
  reportAndExit(COMMAND, err);
}
