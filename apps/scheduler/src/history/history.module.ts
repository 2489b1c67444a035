import { PrismaClient, SearchRepository, SignatureRepository } from '@bootfarm/db';
import { Module } from '@nestjs/common';
import { HistoryController } from './history.controller.js';
import { SignaturesController } from './signatures.controller.js';

/** History's API. Recording happens when runs settle (HistoryRecorder, in the queue module). */
@Module({
  controllers: [SignaturesController, HistoryController],
  providers: [
    { provide: SignatureRepository, inject: [PrismaClient], useFactory: (db: PrismaClient) => new SignatureRepository(db) },
    { provide: SearchRepository, inject: [PrismaClient], useFactory: (db: PrismaClient) => new SearchRepository(db) },
  ],
})
export class HistoryModule {}
