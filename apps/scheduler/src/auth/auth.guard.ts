import type { Role } from '@bootfarm/contracts';
import { TokenRepository } from '@bootfarm/db';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ForbiddenError, UnauthorizedError } from '../common/errors.js';
import { setCaller } from './request-context.js';
import { PUBLIC_KEY, ROLES_KEY } from './roles.decorator.js';

/** Routes without @Roles: vendors and admins. Worker tokens reach only the routes that name them. */
const DEFAULT_ROLES: readonly Role[] = ['vendor', 'admin'];

const BEARER = /^Bearer +(\S+)$/i;

/**
 * Global guard: every route needs `Authorization: Bearer <token>` unless it is @Public().
 * Missing, malformed, unknown and revoked tokens all get the same 401 (nothing tells them apart);
 * a valid token whose role the route does not allow gets a 403.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_KEY, targets)) return true;
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const secret = BEARER.exec(header)?.[1];
    const caller = secret ? await this.tokens.authenticate(secret) : null;
    if (!caller) throw new UnauthorizedError();
    setCaller(caller);
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets) ?? DEFAULT_ROLES;
    if (!roles.includes(caller.role)) throw new ForbiddenError();
    return true;
  }
}
