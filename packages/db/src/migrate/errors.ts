/**
 * Stable, machine-readable failure codes of the migrator. Callers (the CLIs, the scheduler's
 * start-up, tests) switch on `code`; the message is for humans and may change.
 */
export type MigrationErrorCode =
  /** The migrations directory is missing or holds no migration: deploying would apply nothing. */
  | 'MIGRATIONS_NOT_FOUND'
  /** A migration directory has no readable `migration.sql` (Prisma P3015). */
  | 'MIGRATION_FILE_MISSING'
  /** `migration_lock.toml` names another provider than PostgreSQL (Prisma P3019). */
  | 'PROVIDER_MISMATCH'
  /** The database server cannot be reached, the database does not exist, or login failed. */
  | 'DATABASE_UNREACHABLE'
  /** Another deploy held the migration lock for longer than `lockTimeoutMs`. */
  | 'LOCK_TIMEOUT'
  /** An applied migration's `migration.sql` was edited afterwards (checksum mismatch). */
  | 'MIGRATION_MODIFIED'
  /** The database records a migration that failed earlier and was never resolved (Prisma P3009). */
  | 'MIGRATION_FAILED'
  /** A migration's SQL failed while being applied now; `migration` names it. */
  | 'MIGRATION_APPLY_FAILED'
  /** After deploying, a migration directory still has no finished row in `_prisma_migrations`. */
  | 'MIGRATION_NOT_RECORDED'
  /** The database has tables but no migration history (Prisma P3005): it needs a baseline. */
  | 'DATABASE_NOT_EMPTY'
  /** `schema.prisma` is missing or does not validate. */
  | 'SCHEMA_INVALID'
  /** The shadow database URL points at the main database (it would be wiped). */
  | 'SHADOW_DATABASE_IS_MAIN'
  /** A temporary shadow database could not be created (the server refuses CREATE DATABASE). */
  | 'SHADOW_DATABASE_UNAVAILABLE'
  /** A migration failed to apply on the shadow database while replaying the history. */
  | 'SHADOW_APPLY_FAILED'
  /** The migration name is empty once reduced to `[a-z0-9_]`, or too long. */
  | 'INVALID_MIGRATION_NAME'
  /** The migration directory the engine named already exists. */
  | 'MIGRATION_EXISTS'
  /** Any other error reported by Prisma's schema engine (see `engineCode`). */
  | 'ENGINE_ERROR';

/** Every failure of the migrator: `code` is stable, `migrations` names the migrations involved. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  /** Stable failure code. */
  readonly code: MigrationErrorCode;
  /** Names (directory names) of the migrations concerned, in order; empty when none. */
  readonly migrations: readonly string[];
  /** Prisma's own error code (`P3009`, `P3018`, ...) when the schema engine reported one. */
  readonly engineCode: string | undefined;

  constructor(
    code: MigrationErrorCode,
    message: string,
    opts: { migrations?: readonly string[]; engineCode?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.migrations = opts.migrations ?? [];
    this.engineCode = opts.engineCode;
  }

  /** The first migration concerned (the failing one for `MIGRATION_APPLY_FAILED`). */
  get migration(): string | undefined {
    return this.migrations[0];
  }
}

/** Narrows `err` to a {@link MigrationError}, optionally of one code. */
export function isMigrationError(err: unknown, code?: MigrationErrorCode): err is MigrationError {
  return err instanceof MigrationError && (code === undefined || err.code === code);
}
