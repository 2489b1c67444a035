import { PrismaClient, WebhookRepository } from '@bootfarm/db';
import { Global, Module } from '@nestjs/common';
import { WebhookDispatcher } from './webhook.dispatcher.js';
import { WebhooksController } from './webhooks.controller.js';

/** Vendors' webhooks: the API, the delivery log and the dispatcher the settler raises events through. */
@Global()
@Module({
  controllers: [WebhooksController],
  providers: [{ provide: WebhookRepository, inject: [PrismaClient], useFactory: (db: PrismaClient) => new WebhookRepository(db) }, WebhookDispatcher],
  exports: [WebhookDispatcher],
})
export class WebhooksModule {}
