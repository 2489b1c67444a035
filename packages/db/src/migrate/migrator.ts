/**
 * The offline migrator: `prisma migrate deploy`, `migrate dev --create-only`, `migrate diff` and
 * `migrate resolve`, run by Prisma's own schema engine (WebAssembly build) instead of the native
 * binary the Prisma 7 CLI would download. Same `prisma/migrations` folders, same SQL, same
 * `_prisma_migrations` rows: the native CLI and this module can take turns on one database.
 *
 * No environment is read here: URLs and paths are arguments (the CLIs in ../cli read the env).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { DiagnoseMigrationHistoryOutput } from '@prisma/schema-engine-wasm';
import {
  connectClient,
  engineMessage,
  NO_FILTER,
  quoteIdent,
  redactUrl,
  resetShadowDatabase,
  withSchemaEngine,
  type MigratorAdapterFactory,
} from './engine.js';
import { MigrationError } from './errors.js';
import { assertDeployable, migrationNames, readMigrationList, readSchemaFiles, writeMigration } from './files.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** `<repo>/prisma/schema.prisma`, found from this module's location (packages/db/dist/migrate). */
export const DEFAULT_SCHEMA_PATH = join(REPO_ROOT, 'prisma', 'schema.prisma');
/** `<repo>/prisma/migrations`, found from this module's location (packages/db/dist/migrate). */
export const DEFAULT_MIGRATIONS_DIR = join(REPO_ROOT, 'prisma', 'migrations');

/**
 * Key of the session advisory lock that serialises our deploys, in PostgreSQL's two-int key
 * space: it never collides with the engine's own `pg_advisory_lock(72707369)` (bigint space),
 * which the engine still takes inside, so a native `prisma migrate deploy` is excluded as well.
 */
const DEPLOY_LOCK_KEY = [72707369, 1] as const;

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_LOCK_TIMEOUT_MS = 300_000;

/** Options shared by every migrator operation. */
export interface MigratorCommonOptions {
  /** Directory of `<timestamp>_<name>/migration.sql` folders. Default {@link DEFAULT_MIGRATIONS_DIR}. */
  migrationsDir?: string;
  /** The Prisma schema file (or directory of `.prisma` files). Default {@link DEFAULT_SCHEMA_PATH}. */
  schemaPath?: string;
  /** How long to wait for a TCP connection + login. Default 10 s. */
  connectTimeoutMs?: number;
  /** Receives the engine's progress lines (e.g. ``INFO Applying `20260101_init` ``). */
  log?: (line: string) => void;
}

/** Options of {@link migrateDeploy}. */
export interface MigrateDeployOptions extends MigratorCommonOptions {
  /** The database to migrate. */
  databaseUrl: string;
  /** How long to wait for another deploy of the same database to finish. Default 5 min. */
  lockTimeoutMs?: number;
}

/** Outcome of {@link migrateDeploy}. */
export interface MigrateDeployResult {
  /** Migrations applied by this call, in order; empty when the database was up to date. */
  applied: string[];
}

/**
 * Applies every pending migration of `migrationsDir` to the database, with the semantics of
 * `prisma migrate deploy` (Prisma's engine writes the `_prisma_migrations` rows and checksums),
 * made stricter: it refuses to start when an applied migration was edited (`MIGRATION_MODIFIED`)
 * or an earlier one failed (`MIGRATION_FAILED`), and it never reports success without proof —
 * afterwards every migration directory must have a finished row (`MIGRATION_NOT_RECORDED`), and
 * an empty or missing migrations directory is an error (`MIGRATIONS_NOT_FOUND`).
 *
 * Concurrent deploys (several replicas starting at once) are serialised by a session advisory
 * lock: the first applies, the others wait, then find nothing to apply. A failing migration is
 * rolled back as a whole (PostgreSQL runs the script as one implicit transaction) and reported
 * as `MIGRATION_APPLY_FAILED` naming it; the database then records it as failed until
 * {@link resolveMigration} marks it rolled back.
 *
 * @throws {MigrationError} with a stable `code` on any failure.
 */
export async function migrateDeploy(opts: MigrateDeployOptions): Promise<MigrateDeployResult> {
  const migrationsDir = opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const list = await readMigrationList(migrationsDir);
  assertDeployable(list);
  const names = migrationNames(list);
  const datamodels = await deployDatamodels(opts.schemaPath);

  return withDeployLock(opts.databaseUrl, connectTimeoutMs, opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, async (session) => {
    const applied = await withSchemaEngine(
      { url: opts.databaseUrl, datamodels, connectTimeoutMs, ...(opts.log ? { log: opts.log } : {}) },
      async (engine, factory) => {
        const diagnosis = await engine.diagnoseMigrationHistory({ migrationsList: list, optInToShadowDatabase: false, filters: NO_FILTER });
        if (diagnosis.failedMigrationNames.length > 0) {
          const failed = diagnosis.failedMigrationNames;
          throw new MigrationError(
            'MIGRATION_FAILED',
            `the database records failed migration(s) ${failed.join(', ')}: no migration is applied until they are resolved ` +
              `(fix the cause, mark it rolled back — resolveMigration / migrate-resolve.js --rolled-back ${failed[0]} — and deploy again)`,
            { migrations: failed, engineCode: 'P3009' },
          );
        }
        if (diagnosis.editedMigrationNames.length > 0) {
          const edited = diagnosis.editedMigrationNames;
          throw new MigrationError(
            'MIGRATION_MODIFIED',
            `migration(s) ${edited.join(', ')} were modified after being applied (checksum mismatch with _prisma_migrations): ` +
              'restore the applied migration.sql and put the change in a new migration',
            { migrations: edited },
          );
        }
        try {
          return (await engine.applyMigrations({ migrationsList: list, filters: NO_FILTER })).appliedMigrationNames;
        } catch (err) {
          throw await describeApplyFailure(err, session, names, factory);
        }
      },
    );
    await verifyRecorded(session, names, opts.databaseUrl);
    return { applied };
  });
}

/** Options of {@link createMigration}. */
export interface CreateMigrationOptions extends MigratorCommonOptions {
  /** The development database: diagnosed (read only) for the warnings, never modified. */
  databaseUrl: string;
  /** A database the engine may wipe to replay the migrations (never the main one, never shared by concurrent calls). */
  shadowDatabaseUrl: string;
  /** Migration name; reduced to snake_case `[a-z0-9_]` like the Prisma CLI does. */
  name: string;
}

/** Outcome of {@link createMigration}. */
export interface CreateMigrationResult {
  /** Absolute path of the new `<timestamp>_<name>` directory, or null when the schema matches the migrations. */
  directory: string | null;
  /** What the developer should know about the development database (unapplied, failed or edited migrations). */
  warnings: string[];
}

/**
 * `prisma migrate dev --create-only`, as a pure function of the files: replays the migrations on
 * the shadow database, diffs the result against the Prisma schema and, when they differ, writes
 * `<migrationsDir>/<timestamp>_<name>/migration.sql` (Prisma's SQL, data-loss warnings included)
 * and `migration_lock.toml`. Unlike `migrate dev`, nothing is applied to the development
 * database (it is only diagnosed, for {@link CreateMigrationResult.warnings}), so a drifted
 * development database never blocks or changes the generated migration.
 *
 * @throws {MigrationError} e.g. `SHADOW_APPLY_FAILED` when a migration does not replay cleanly.
 */
export async function createMigration(opts: CreateMigrationOptions): Promise<CreateMigrationResult> {
  const name = migrationSlug(opts.name);
  assertSeparateShadow(opts.databaseUrl, opts.shadowDatabaseUrl);
  const migrationsDir = opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const files = await readSchemaFiles(opts.schemaPath ?? DEFAULT_SCHEMA_PATH);
  const list = await readMigrationList(migrationsDir);
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const log = opts.log ? { log: opts.log } : {};

  const warnings = await withSchemaEngine({ url: opts.databaseUrl, connectTimeoutMs, ...log }, async (engine) =>
    developmentWarnings(await engine.diagnoseMigrationHistory({ migrationsList: list, optInToShadowDatabase: false, filters: NO_FILTER })),
  );

  // The Wasm engine's createMigration cannot open a shadow database itself: it reuses the schema
  // that devDiagnostic computed for the migrations the *main* database has applied. So the
  // shadow database plays both parts: the main one, brought to the head of the history, and the
  // shadow one that devDiagnostic resets and replays the history on.
  await resetShadowDatabase(opts.shadowDatabaseUrl, connectTimeoutMs);
  return withSchemaEngine(
    {
      url: opts.shadowDatabaseUrl,
      shadowUrl: opts.shadowDatabaseUrl,
      datamodels: files.map((f) => [f.path, f.content] as const),
      connectTimeoutMs,
      ...log,
    },
    async (engine) => {
      if (list.migrationDirectories.length > 0) {
        await engine.applyMigrations({ migrationsList: list, filters: NO_FILTER }).catch((err: unknown) => {
          throw shadowReplayFailure(err);
        });
      }
      await engine.devDiagnostic({ migrationsList: list, filters: NO_FILTER });
      const out = await engine.createMigration({ draft: false, migrationName: name, migrationsList: list, schema: { files }, filters: NO_FILTER });
      if (out.migrationScript === null) return { directory: null, warnings };
      const directory = await writeMigration({
        baseDir: migrationsDir,
        directoryName: out.generatedMigrationName,
        extension: out.extension,
        script: out.migrationScript,
        connectorType: out.connectorType,
      });
      return { directory, warnings };
    },
  );
}

/** Options of {@link schemaDrift}. */
export interface SchemaDriftOptions extends MigratorCommonOptions {
  /** An empty database the engine may wipe to replay the migrations. */
  shadowDatabaseUrl: string;
}

/**
 * `prisma migrate diff --from-migrations --to-schema --script`: the SQL that would bring a
 * database built from the migrations up to the Prisma schema, or null when they agree. A
 * non-null answer means someone changed `schema.prisma` without creating a migration.
 *
 * @throws {MigrationError} e.g. `SCHEMA_INVALID`, `SHADOW_APPLY_FAILED`.
 */
export async function schemaDrift(opts: SchemaDriftOptions): Promise<string | null> {
  const files = await readSchemaFiles(opts.schemaPath ?? DEFAULT_SCHEMA_PATH);
  const list = await readMigrationList(opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return withSchemaEngine(
    { url: opts.shadowDatabaseUrl, shadowUrl: opts.shadowDatabaseUrl, connectTimeoutMs, ...(opts.log ? { log: opts.log } : {}) },
    async (engine) => {
      const { exitCode, stdout } = await engine.diff({
        from: { tag: 'migrations', ...list },
        to: { tag: 'schemaDatamodel', files },
        script: true,
        exitCode: true,
        filters: NO_FILTER,
      });
      // With exitCode requested the engine answers 2 when the diff is not empty, 0 when it is.
      return exitCode === 2 ? (stdout ?? '').trim() : null;
    },
  );
}

/** Options of {@link resolveMigration}. */
export interface ResolveMigrationOptions extends MigratorCommonOptions {
  databaseUrl: string;
  /** Directory name of the migration to resolve. */
  migration: string;
  /**
   * `rolled-back`: a failed migration is marked rolled back (deploy will apply it again);
   * `applied`: the migration is recorded as applied without running it (e.g. after applying it
   * by hand, or to baseline an existing database).
   */
  as: 'rolled-back' | 'applied';
  lockTimeoutMs?: number;
}

/**
 * `prisma migrate resolve --rolled-back | --applied`, for recovering from
 * `MIGRATION_FAILED` / `DATABASE_NOT_EMPTY`.
 *
 * @throws {MigrationError} `ENGINE_ERROR` when the engine refuses (e.g. not a failed migration).
 */
export async function resolveMigration(opts: ResolveMigrationOptions): Promise<void> {
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const list = await readMigrationList(opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  await withDeployLock(opts.databaseUrl, connectTimeoutMs, opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, () =>
    withSchemaEngine({ url: opts.databaseUrl, connectTimeoutMs, ...(opts.log ? { log: opts.log } : {}) }, async (engine) => {
      if (opts.as === 'rolled-back') await engine.markMigrationRolledBack({ migrationName: opts.migration });
      else await engine.markMigrationApplied({ migrationName: opts.migration, migrationsList: list });
    }),
  );
}

/**
 * Creates an empty database `<db>_shadow_<random>` on the server of `databaseUrl` (which needs
 * the CREATEDB privilege), passes its URL to `fn`, and drops it afterwards whatever happens.
 * For {@link createMigration} / {@link schemaDrift} when no shadow database is configured.
 *
 * @throws {MigrationError} `DATABASE_UNREACHABLE` (no connection) or `SHADOW_DATABASE_UNAVAILABLE`
 *   (e.g. no CREATEDB privilege).
 */
export async function withTemporaryDatabase<T>(
  databaseUrl: string,
  fn: (url: string) => Promise<T>,
  opts: { connectTimeoutMs?: number } = {},
): Promise<T> {
  const base = new URL(databaseUrl);
  const baseName = decodeURIComponent(base.pathname.replace(/^\//, '')) || 'postgres';
  const name = `${baseName.slice(0, 40)}_shadow_${randomBytes(6).toString('hex')}`;
  const admin = await connectClient(databaseUrl, opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  try {
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (err) {
      throw new MigrationError(
        'SHADOW_DATABASE_UNAVAILABLE',
        `cannot create the temporary database ${name} on ${redactUrl(databaseUrl)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    try {
      const url = new URL(databaseUrl);
      url.pathname = `/${encodeURIComponent(name)}`;
      return await fn(url.toString());
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(() => admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`));
    }
  } finally {
    await admin.end().catch(() => {});
  }
}

/**
 * Reduces a free-form name to the `[a-z0-9_]` form the Prisma CLI gives migration directories
 * (`Add run.trigger` → `add_run_trigger`, `addRunTrigger` → `add_run_trigger`).
 *
 * @throws {MigrationError} `INVALID_MIGRATION_NAME` when nothing usable is left or it is too long.
 */
export function migrationSlug(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (slug.length === 0 || slug.length > 200) {
    throw new MigrationError('INVALID_MIGRATION_NAME', `migration name ${JSON.stringify(name)} must contain letters or digits and be at most 200 characters`);
  }
  return slug;
}

// ---------------------------------------------------------------------------------------------

async function deployDatamodels(schemaPath: string | undefined): Promise<Array<readonly [string, string]> | undefined> {
  // The schema only tells the engine about multi-schema namespaces; deploying needs the
  // migrations alone, so a missing *default* schema is fine (an explicit one must exist).
  if (schemaPath === undefined && !existsSync(DEFAULT_SCHEMA_PATH)) return undefined;
  const files = await readSchemaFiles(schemaPath ?? DEFAULT_SCHEMA_PATH);
  return files.map((f) => [f.path, f.content] as const);
}

async function withDeployLock<T>(databaseUrl: string, connectTimeoutMs: number, lockTimeoutMs: number, fn: (session: pg.Client) => Promise<T>): Promise<T> {
  const session = await connectClient(databaseUrl, connectTimeoutMs);
  try {
    try {
      await session.query(`SELECT set_config('lock_timeout', $1, false)`, [`${Math.max(1, Math.round(lockTimeoutMs))}ms`]);
      await session.query('SELECT pg_advisory_lock($1, $2)', [...DEPLOY_LOCK_KEY]);
      await session.query(`SELECT set_config('lock_timeout', '0', false)`);
    } catch (err) {
      if ((err as { code?: string }).code === '55P03') {
        throw new MigrationError('LOCK_TIMEOUT', `another deploy held the migration lock of ${redactUrl(databaseUrl)} for more than ${lockTimeoutMs} ms`, { cause: err });
      }
      throw new MigrationError('DATABASE_UNREACHABLE', `cannot take the migration lock on ${redactUrl(databaseUrl)}: ${(err as Error).message}`, { cause: err });
    }
    return await fn(session);
  } finally {
    // Closing the session releases the lock too; unlocking first makes it immediate.
    await session.query('SELECT pg_advisory_unlock($1, $2)', [...DEPLOY_LOCK_KEY]).catch(() => {});
    await session.end().catch(() => {});
  }
}

/** A migration's SQL failed: name it, with the database's error, instead of the engine's trace. */
async function describeApplyFailure(err: unknown, session: pg.Client, names: string[], factory: MigratorAdapterFactory): Promise<unknown> {
  const unfinished = await session
    .query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NULL AND rolled_back_at IS NULL ORDER BY started_at')
    .then((r) => r.rows.map((row) => row.migration_name))
    .catch(() => [] as string[]);
  const fromTrace = /migration_name="([^"]+)"/.exec(err instanceof Error ? err.message : '')?.[1];
  const migration = unfinished.find((n) => names.includes(n)) ?? fromTrace;
  if (!migration) return err; // not a migration script failure: mapped generically by the caller
  const dbError = factory.takeScriptError();
  const reason = dbError ?? engineMessage(err).replace(/^external connector error\n/, '');
  return new MigrationError(
    'MIGRATION_APPLY_FAILED',
    `migration ${migration} failed to apply and was rolled back: ${reason}\n` +
      `The database records it as failed: fix ${migration}/migration.sql, mark it rolled back ` +
      `(resolveMigration / migrate-resolve.js --rolled-back ${migration}) and deploy again.`,
    { migrations: [migration], engineCode: 'P3018', cause: err },
  );
}

/** The proof of a deploy: every migration directory has a finished, not rolled-back row. */
async function verifyRecorded(session: pg.Client, names: string[], databaseUrl: string): Promise<void> {
  const recorded = await session
    .query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL')
    .then((r) => new Set(r.rows.map((row) => row.migration_name)))
    .catch((err: { code?: string }) => {
      if (err.code === '42P01') return new Set<string>(); // no _prisma_migrations table at all
      throw new MigrationError('DATABASE_UNREACHABLE', `cannot read _prisma_migrations of ${redactUrl(databaseUrl)}: ${String(err)}`, { cause: err });
    });
  const missing = names.filter((n) => !recorded.has(n));
  if (missing.length > 0) {
    throw new MigrationError(
      'MIGRATION_NOT_RECORDED',
      `deploy returned but ${missing.join(', ')} has no finished row in _prisma_migrations of ${redactUrl(databaseUrl)}`,
      { migrations: missing },
    );
  }
}

function developmentWarnings(diagnosis: DiagnoseMigrationHistoryOutput): string[] {
  const warnings: string[] = [];
  const history = diagnosis.history;
  if (history?.diagnostic === 'databaseIsBehind' || history?.diagnostic === 'historiesDiverge') {
    warnings.push(`the development database has not applied ${history.unappliedMigrationNames.join(', ')} (npm run db:migrate)`);
  }
  if (history?.diagnostic === 'migrationsDirectoryIsBehind' || history?.diagnostic === 'historiesDiverge') {
    warnings.push(`the development database has applied migrations that are not in the directory: ${history.unpersistedMigrationNames.join(', ')}`);
  }
  if (diagnosis.failedMigrationNames.length > 0) {
    warnings.push(`the development database records failed migrations: ${diagnosis.failedMigrationNames.join(', ')}`);
  }
  if (diagnosis.editedMigrationNames.length > 0) {
    warnings.push(`migrations edited after being applied to the development database: ${diagnosis.editedMigrationNames.join(', ')}`);
  }
  return warnings;
}

function shadowReplayFailure(err: unknown): unknown {
  const migration = /migration_name="([^"]+)"/.exec(err instanceof Error ? err.message : '')?.[1];
  if (!migration || err instanceof MigrationError) return err;
  return new MigrationError(
    'SHADOW_APPLY_FAILED',
    `migration ${migration} does not apply cleanly to an empty database (the shadow database): ${engineMessage(err).replace(/^external connector error\n/, '')}`,
    { migrations: [migration], engineCode: 'P3006', cause: err },
  );
}

function assertSeparateShadow(databaseUrl: string, shadowUrl: string): void {
  const key = (raw: string) => {
    const u = new URL(raw);
    return `${u.hostname}:${u.port || '5432'}/${decodeURIComponent(u.pathname.replace(/^\//, ''))}`;
  };
  if (key(databaseUrl) === key(shadowUrl)) {
    throw new MigrationError('SHADOW_DATABASE_IS_MAIN', `the shadow database ${redactUrl(shadowUrl)} is the main database: it would be wiped`);
  }
}
