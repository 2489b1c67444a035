// The offline migrator against a real PostgreSQL (DATABASE_URL's server, else a private one).
// Build: npx tsc -b packages/db. Run: node --test packages/db/dist/migrate/migrator.spec.js
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { useLocalServices, type LocalServices } from '@bootfarm/local-services';
import pg from 'pg';
import {
  createMigration,
  DEFAULT_MIGRATIONS_DIR,
  DEFAULT_SCHEMA_PATH,
  migrateDeploy,
  migrationSlug,
  MigrationError,
  resolveMigration,
  schemaDrift,
} from './index.js';

const TABLES = ['api_token', 'attempt', 'cell', 'cell_track', 'console_chunk', 'console_line', 'failure_signature', 'image', 'nightly_stage_stat', 'nightly_stat', 'regression', 'result', 'run', 'run_image', 'signature_alias', 'signature_stat', 'vendor', 'webhook', 'webhook_delivery', 'worker'];
const committed = readdirSync(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort((a, b) => a.localeCompare(b));
const cli = (name: string) => fileURLToPath(new URL(`../cli/${name}.js`, import.meta.url));

let services: LocalServices;
const scratch = mkdtempSync(join(tmpdir(), 'bootfarm-migrator-'));

before(async () => {
  services = await useLocalServices();
});

after(async () => {
  await services?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function query<R extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function tables(url: string): Promise<string[]> {
  const rows = await query<{ table_name: string }>(
    url,
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  return rows.map((r) => r.table_name);
}

async function migrationRows(url: string) {
  return query<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null; checksum: string }>(
    url,
    'SELECT migration_name, finished_at, rolled_back_at, checksum FROM _prisma_migrations ORDER BY started_at, migration_name',
  );
}

/** A private copy of the committed migrations, to break or extend. */
function copyMigrations(label: string): string {
  const dir = join(mkdtempSync(join(scratch, `${label}-`)), 'migrations');
  cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

function addMigration(dir: string, name: string, sql: string): void {
  mkdirSync(join(dir, name));
  writeFileSync(join(dir, name, 'migration.sql'), sql);
}

/** The committed schema with one more column on Vendor. */
function schemaWithVendorNotes(): string {
  const path = join(mkdtempSync(join(scratch, 'schema-')), 'schema.prisma');
  const schema = readFileSync(DEFAULT_SCHEMA_PATH, 'utf8');
  const changed = schema.replace(/(model Vendor \{\n)/, '$1  notes     String?\n');
  assert.notEqual(changed, schema, 'the Vendor model was not found in schema.prisma');
  writeFileSync(path, changed);
  return path;
}

function run(script: string, args: string[], env: Record<string, string | undefined>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const childEnv = { ...process.env, ...env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
    execFile(process.execPath, [script, ...args], { env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function rejectsWith(promise: Promise<unknown>, code: MigrationError['code']): Promise<MigrationError> {
  let caught: unknown;
  await promise.then(
    () => assert.fail(`expected a MigrationError ${code}, got success`),
    (err: unknown) => (caught = err),
  );
  assert.ok(caught instanceof MigrationError, `expected a MigrationError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

describe('migrateDeploy', () => {
  test('the committed migrations exist', () => {
    assert.ok(committed.length > 0, `no migration in ${DEFAULT_MIGRATIONS_DIR}`);
    assert.match(readFileSync(join(DEFAULT_MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8'), /provider = "postgresql"/);
  });

  test('creates every table on an empty database, records each migration, then is a no-op', async () => {
    const url = await services.createDatabase('migrator_deploy');
    const first = await migrateDeploy({ databaseUrl: url });
    assert.deepEqual(first.applied, committed);
    assert.deepEqual(await tables(url), [...TABLES, '_prisma_migrations'].sort());
    const rows = await migrationRows(url);
    assert.deepEqual(rows.map((r) => r.migration_name), committed);
    for (const row of rows) {
      assert.ok(row.finished_at, `${row.migration_name} is not finished`);
      assert.equal(row.rolled_back_at, null);
      assert.match(row.checksum, /^[0-9a-f]{64}$/);
    }

    const second = await migrateDeploy({ databaseUrl: url });
    assert.deepEqual(second.applied, []);
    assert.equal((await migrationRows(url)).length, committed.length);
  });

  test('two processes deploying at once both succeed and apply the schema once', async () => {
    const url = await services.createDatabase('migrator_race');
    const [a, b] = await Promise.all([run(cli('migrate'), [], { DATABASE_URL: url }), run(cli('migrate'), [], { DATABASE_URL: url })]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const appliedLines = `${a.stdout}\n${b.stdout}`.split('\n').filter((l) => l.includes(': applied '));
    assert.deepEqual(appliedLines.map((l) => l.split(': applied ')[1]).sort(), committed, `${a.stdout}\n${b.stdout}`);
    const rows = await migrationRows(url);
    assert.deepEqual(rows.map((r) => r.migration_name), committed);
  });

  test('concurrent deploys inside one process share the engine safely', async () => {
    const url = await services.createDatabase('migrator_race_inproc');
    const results = await Promise.all([1, 2, 3].map(() => migrateDeploy({ databaseUrl: url })));
    assert.deepEqual(results.flatMap((r) => r.applied).sort(), committed);
    assert.equal((await migrationRows(url)).length, committed.length);
  });

  test('waits for the deploy lock, and gives up with LOCK_TIMEOUT', async () => {
    const url = await services.createDatabase('migrator_lock');
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(72707369, 1)');
      await rejectsWith(migrateDeploy({ databaseUrl: url, lockTimeoutMs: 300 }), 'LOCK_TIMEOUT');
      const waiting = migrateDeploy({ databaseUrl: url });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(await tables(url), [], 'deploy ran while another held the lock');
      await holder.query('SELECT pg_advisory_unlock(72707369, 1)');
      assert.deepEqual((await waiting).applied, committed);
    } finally {
      await holder.end();
    }
  });

  test('refuses a migration edited after it was applied (checksum mismatch), applying nothing', async () => {
    const dir = copyMigrations('edited');
    const url = await services.createDatabase('migrator_edited');
    await migrateDeploy({ databaseUrl: url, migrationsDir: dir });
    const edited = committed[0]!;
    appendFileSync(join(dir, edited, 'migration.sql'), '\nCREATE INDEX "vendor_created_at_idx" ON "vendor"("created_at");\n');
    addMigration(dir, '99990101000000_later', 'CREATE TABLE "later" ("id" INTEGER PRIMARY KEY);\n');

    const err = await rejectsWith(migrateDeploy({ databaseUrl: url, migrationsDir: dir }), 'MIGRATION_MODIFIED');
    assert.deepEqual(err.migrations, [edited]);
    assert.ok(!(await tables(url)).includes('later'), 'a pending migration was applied despite the edited one');
  });

  test('a failing migration is rolled back whole and reported by name; deploy then refuses until resolved', async () => {
    const dir = copyMigrations('broken');
    const url = await services.createDatabase('migrator_broken');
    const broken = '99991231235959_broken';
    addMigration(dir, broken, 'CREATE TABLE "half_done" ("id" INTEGER);\nSELECT * FROM "no_such_table";\n');

    const err = await rejectsWith(migrateDeploy({ databaseUrl: url, migrationsDir: dir }), 'MIGRATION_APPLY_FAILED');
    assert.equal(err.migration, broken);
    assert.match(err.message, /no_such_table/);
    assert.ok(!(await tables(url)).includes('half_done'), 'the failed migration left a table behind');
    const rows = await migrationRows(url);
    assert.deepEqual(rows.filter((r) => r.finished_at).map((r) => r.migration_name), committed);
    assert.deepEqual(rows.filter((r) => !r.finished_at).map((r) => r.migration_name), [broken]);

    const again = await rejectsWith(migrateDeploy({ databaseUrl: url, migrationsDir: dir }), 'MIGRATION_FAILED');
    assert.deepEqual(again.migrations, [broken]);

    writeFileSync(join(dir, broken, 'migration.sql'), 'CREATE TABLE "half_done" ("id" INTEGER);\n');
    await resolveMigration({ databaseUrl: url, migrationsDir: dir, migration: broken, as: 'rolled-back' });
    assert.deepEqual((await migrateDeploy({ databaseUrl: url, migrationsDir: dir })).applied, [broken]);
    assert.ok((await tables(url)).includes('half_done'));
  });

  test('runs a migration script whole: dollar-quoted bodies with semicolons survive', async () => {
    const dir = copyMigrations('plpgsql');
    const url = await services.createDatabase('migrator_plpgsql');
    addMigration(
      dir,
      '99990101000000_function',
      `CREATE FUNCTION "vendor_count"() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE n integer;
BEGIN
  SELECT count(*) INTO n FROM "vendor";
  RETURN n;
END;
$$;
INSERT INTO "vendor" ("id", "name") VALUES ('00000000-0000-0000-0000-000000000001', 'a;b');
`,
    );
    await migrateDeploy({ databaseUrl: url, migrationsDir: dir });
    assert.deepEqual(await query(url, 'SELECT "vendor_count"() AS n, (SELECT name FROM vendor) AS name'), [{ n: 1, name: 'a;b' }]);
  });

  test('never succeeds by applying nothing: a missing or empty migrations directory is an error', async () => {
    const url = await services.createDatabase('migrator_empty');
    await rejectsWith(migrateDeploy({ databaseUrl: url, migrationsDir: join(scratch, 'does-not-exist') }), 'MIGRATIONS_NOT_FOUND');
    const empty = mkdtempSync(join(scratch, 'empty-'));
    await rejectsWith(migrateDeploy({ databaseUrl: url, migrationsDir: empty }), 'MIGRATIONS_NOT_FOUND');
    mkdirSync(join(empty, '20200101000000_no_script'));
    const err = await rejectsWith(migrateDeploy({ databaseUrl: url, migrationsDir: empty }), 'MIGRATION_FILE_MISSING');
    assert.deepEqual(err.migrations, ['20200101000000_no_script']);
    assert.deepEqual(await tables(url), []);
  });

  test('a database with tables but no migration history needs a baseline (DATABASE_NOT_EMPTY)', async () => {
    const url = await services.createDatabase('migrator_baseline');
    await query(url, 'CREATE TABLE "legacy" ("id" INTEGER)');
    const err = await rejectsWith(migrateDeploy({ databaseUrl: url }), 'DATABASE_NOT_EMPTY');
    assert.equal(err.engineCode, 'P3005');
  });

  test('an unreachable database is DATABASE_UNREACHABLE', async () => {
    await rejectsWith(migrateDeploy({ databaseUrl: 'postgresql://postgres@127.0.0.1:1/none', connectTimeoutMs: 2_000 }), 'DATABASE_UNREACHABLE');
  });
});

describe('schemaDrift', () => {
  let shadow: string;
  before(async () => {
    shadow = await services.createDatabase('migrator_shadow');
  });

  test('is null for the committed schema and migrations (schema.prisma changed without a migration otherwise)', async () => {
    const drift = await schemaDrift({ shadowDatabaseUrl: shadow });
    assert.equal(drift, null, `prisma/schema.prisma differs from prisma/migrations; create a migration:\n${drift}`);
  });

  test('returns the missing SQL for a changed schema, reusing (resetting) the same shadow database', async () => {
    const drift = await schemaDrift({ shadowDatabaseUrl: shadow, schemaPath: schemaWithVendorNotes() });
    assert.ok(drift);
    assert.match(drift, /ALTER TABLE "vendor" ADD COLUMN\s+"notes" TEXT/);
  });
});

describe('createMigration', () => {
  test('writes nothing when the schema matches the migrations', async () => {
    const dir = copyMigrations('create-none');
    const [url, shadow] = await Promise.all([services.createDatabase('migrator_dev'), services.createDatabase('migrator_dev_shadow')]);
    await migrateDeploy({ databaseUrl: url, migrationsDir: dir });
    const result = await createMigration({ databaseUrl: url, shadowDatabaseUrl: shadow, name: 'nothing', migrationsDir: dir });
    assert.deepEqual(result, { directory: null, warnings: [] });
    assert.deepEqual(readdirSync(dir).sort(), [...committed, 'migration_lock.toml'].sort());
  });

  test('writes <timestamp>_<name>/migration.sql for a changed schema (dev database untouched), which then deploys and closes the drift', async () => {
    const dir = copyMigrations('create');
    const schemaPath = schemaWithVendorNotes();
    const [url, shadow] = await Promise.all([services.createDatabase('migrator_dev'), services.createDatabase('migrator_dev_shadow')]);
    const result = await createMigration({ databaseUrl: url, shadowDatabaseUrl: shadow, name: 'Add vendor notes', migrationsDir: dir, schemaPath });
    assert.ok(result.directory);
    // The development database is only diagnosed: it is told about, not given, the pending migrations.
    assert.deepEqual(result.warnings, [`the development database has not applied ${committed.join(', ')} (npm run db:migrate)`]);
    assert.deepEqual(await tables(url), []);
    assert.match(basename(result.directory), /^\d{14}_add_vendor_notes$/);
    assert.match(readFileSync(join(result.directory, 'migration.sql'), 'utf8'), /ALTER TABLE "vendor" ADD COLUMN\s+"notes" TEXT/);
    assert.match(readFileSync(join(dir, 'migration_lock.toml'), 'utf8'), /provider = "postgresql"/);

    assert.equal(await schemaDrift({ shadowDatabaseUrl: shadow, migrationsDir: dir, schemaPath }), null);
    const { applied } = await migrateDeploy({ databaseUrl: url, migrationsDir: dir, schemaPath });
    assert.deepEqual(applied, [...committed, basename(result.directory)]);
  });

  test('refuses a shadow database that is the main database', async () => {
    const url = await services.createDatabase('migrator_same');
    await rejectsWith(createMigration({ databaseUrl: url, shadowDatabaseUrl: url, name: 'x' }), 'SHADOW_DATABASE_IS_MAIN');
  });

  test('names migrations like the Prisma CLI', () => {
    assert.equal(migrationSlug('Add run.trigger'), 'add_run_trigger');
    assert.equal(migrationSlug('addRunTrigger'), 'add_run_trigger');
    assert.equal(migrationSlug('  init  '), 'init');
    assert.throws(() => migrationSlug('!!!'), (err: unknown) => err instanceof MigrationError && err.code === 'INVALID_MIGRATION_NAME');
  });
});

describe('CLIs', () => {
  test('db:migrate applies to DATABASE_URL and prints what it applied', async () => {
    const url = await services.createDatabase('migrator_cli');
    const first = await run(cli('migrate'), [], { DATABASE_URL: url });
    assert.equal(first.code, 0, first.stderr);
    for (const name of committed) assert.match(first.stdout, new RegExp(`applied ${name}`));
    const second = await run(cli('migrate'), [], { DATABASE_URL: url });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /up to date/);
  });

  test('db:migrate fails clearly on an unreachable database or a missing DATABASE_URL', async () => {
    const down = await run(cli('migrate'), [], { DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/bootfarm' });
    assert.notEqual(down.code, 0);
    assert.match(down.stderr, /DATABASE_UNREACHABLE/);
    assert.match(down.stderr, /127\.0\.0\.1:1/);
    const unset = await run(cli('migrate'), [], { DATABASE_URL: undefined });
    assert.equal(unset.code, 2);
    assert.match(unset.stderr, /DATABASE_URL is not set/);
  });

  test('migrate-create uses a temporary shadow database when SHADOW_DATABASE_URL is unset, and drops it', async () => {
    const dir = copyMigrations('cli-create');
    const schemaPath = schemaWithVendorNotes();
    const url = await services.createDatabase('migrator_cli_dev');
    const dbName = new URL(url).pathname.slice(1);
    const result = await run(cli('migrate-create'), ['vendor notes', '--schema', schemaPath, '--migrations-dir', dir], {
      DATABASE_URL: url,
      SHADOW_DATABASE_URL: undefined,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /created .*_vendor_notes\/migration\.sql/);
    const created = readdirSync(dir).filter((n) => n.endsWith('_vendor_notes'));
    assert.equal(created.length, 1);
    assert.ok(existsSync(join(dir, created[0]!, 'migration.sql')));
    const leftovers = await query<{ datname: string }>(url, 'SELECT datname FROM pg_database WHERE datname LIKE $1', [`${dbName.slice(0, 40)}_shadow_%`]);
    assert.deepEqual(leftovers, []);

    const usage = await run(cli('migrate-create'), [], { DATABASE_URL: url });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage:/);
  });
});
