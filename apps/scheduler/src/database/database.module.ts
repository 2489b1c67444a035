import { BootRepository, createPrismaClient, HistoryRepository, ImageRepository, NightlyRepository, PrismaClient, RunRepository } from '@bootfarm/db';
import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';

/** Closes the Prisma pool when Nest shuts down. */
class PrismaLifecycle implements OnApplicationShutdown {
  constructor(@Inject(PrismaClient) private readonly prisma: PrismaClient) {}
  async onApplicationShutdown(): Promise<void> {
    await this.prisma.$disconnect();
  }
}

/** PostgreSQL access: the Prisma client and the repositories built on it. */
@Global()
@Module({
  providers: [
    {
      provide: PrismaClient,
      inject: [SCHEDULER_CONFIG],
      useFactory: (config: SchedulerConfig) => createPrismaClient({ databaseUrl: config.DATABASE_URL }),
    },
    { provide: ImageRepository, inject: [PrismaClient], useFactory: (db: PrismaClient) => new ImageRepository(db) },
    { provide: RunRepository, inject: [PrismaClient], useFactory: (db: PrismaClient) => new RunRepository(db) },
    { provide: BootRepository, inject: [PrismaClient], useFactory: (db: PrismaClient) => new BootRepository(db) },
    { provide: HistoryRepository, inject: [PrismaClient], useFactory: (db: PrismaClient) => new HistoryRepository(db) },
    { provide: NightlyRepository, inject: [PrismaClient], useFactory: (db: PrismaClient) => new NightlyRepository(db) },
    PrismaLifecycle,
  ],
  exports: [PrismaClient, ImageRepository, RunRepository, BootRepository, HistoryRepository, NightlyRepository],
})
export class DatabaseModule {}
