import { PrismaPg } from '@prisma/adapter-pg';
import { Prisma, PrismaClient } from './generated/prisma/client.js';

export { Prisma, PrismaClient };

/** Opens a Prisma client on PostgreSQL through the pg driver adapter (no native engine needed). */
export function createPrismaClient(opts: { databaseUrl: string; maxConnections?: number }): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: opts.databaseUrl,
    max: opts.maxConnections ?? 10,
    // A hung database must not hang a worker forever (statement and pool timeouts trip instead).
    connectionTimeoutMillis: 10_000,
    statement_timeout: 30_000,
    // JIT compiles a plan only when it looks expensive, and costs seconds where it is wrong: history's
    // joins over a million cells spent 3 s compiling a query that runs in 30 ms. The farm's queries are short.
    options: '-c jit=off',
  });
  return new PrismaClient({ adapter });
}

/** Prisma error codes that mean "try again" (pool timeout, transaction conflicts). */
export function isRetriableDbError(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && ['P2024', 'P2028', 'P2034'].includes(err.code);
}

/** True for "record not found" (P2025). */
export function isNotFound(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025';
}

/** True for a unique-constraint violation (P2002). */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}
