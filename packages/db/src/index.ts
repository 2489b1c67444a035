/**
 * @bootfarm/db — the only package that talks to PostgreSQL: the Prisma client factory, thin
 * typed repositories that return contract DTOs, and the offline migrator.
 */
export { createPrismaClient, isNotFound, isRetriableDbError, isUniqueViolation, PrismaClient } from './client.js';
export { ImageRepository } from './repositories/image.repository.js';
export { RunRepository, InvalidCursorError } from './repositories/run.repository.js';
export { BootRepository, type AttemptTicket, type CellOutcome, type CellWork } from './repositories/boot.repository.js';
export * from './migrate/index.js';
