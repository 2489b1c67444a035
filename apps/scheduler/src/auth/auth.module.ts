import { PrismaClient, TokenRepository, VendorRepository } from '@bootfarm/db';
import { Global, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TokensController } from '../vendors/tokens.controller.js';
import { VendorsController } from '../vendors/vendors.controller.js';
import { AuthGuard } from './auth.guard.js';
import { RateLimitGuard, RateLimiter } from './rate-limit.js';
import { requestContextMiddleware } from './request-context.js';
import { TokenBootstrap } from './token.bootstrap.js';

/**
 * Authentication, authorization and rate limits for every route. Guards run in this order:
 * the token (401/403), then the caller's rate budget (429).
 */
@Global()
@Module({
  controllers: [VendorsController, TokensController],
  providers: [
    { provide: TokenRepository, inject: [PrismaClient], useFactory: (db: PrismaClient) => new TokenRepository(db) },
    { provide: VendorRepository, inject: [PrismaClient], useFactory: (db: PrismaClient) => new VendorRepository(db) },
    RateLimiter,
    TokenBootstrap,
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_GUARD, useClass: RateLimitGuard },
  ],
  exports: [TokenRepository, VendorRepository, RateLimiter],
})
export class AuthModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(requestContextMiddleware).forRoutes('*');
  }
}
