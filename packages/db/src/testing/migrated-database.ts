/**
 * For specs: a fresh database on the test run's PostgreSQL (DATABASE_URL's server, or a private
 * one), migrated, with a Prisma client on it. Only specs import this (`@bootfarm/db/testing`).
 */
import { useLocalServices } from '@bootfarm/local-services';
import { createPrismaClient, type PrismaClient } from '../client.js';
import { migrateDeploy } from '../migrate/index.js';

export interface MigratedDatabase {
  readonly url: string;
  readonly db: PrismaClient;
  /** Disconnects and stops a private server started for it. */
  close(): Promise<void>;
}

export async function migratedDatabase(): Promise<MigratedDatabase> {
  const services = await useLocalServices();
  const url = await services.createDatabase();
  await migrateDeploy({ databaseUrl: url });
  const db = createPrismaClient({ databaseUrl: url });
  return {
    url,
    db,
    async close() {
      await db.$disconnect();
      await services.stop();
    },
  };
}
