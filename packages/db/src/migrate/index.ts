/**
 * The offline migrator: Prisma's schema engine (WebAssembly) driving `prisma/migrations` through
 * @prisma/adapter-pg. See ./migrator.ts.
 */
export {
  createMigration,
  DEFAULT_MIGRATIONS_DIR,
  DEFAULT_SCHEMA_PATH,
  migrateDeploy,
  migrationSlug,
  resolveMigration,
  schemaDrift,
  withTemporaryDatabase,
  type CreateMigrationOptions,
  type CreateMigrationResult,
  type MigrateDeployOptions,
  type MigrateDeployResult,
  type MigratorCommonOptions,
  type ResolveMigrationOptions,
  type SchemaDriftOptions,
} from './migrator.js';
export { isMigrationError, MigrationError, type MigrationErrorCode } from './errors.js';
