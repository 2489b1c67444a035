import type { Role } from '@bootfarm/contracts';
import { SetMetadata } from '@nestjs/common';

/** Metadata key read by the auth guard. */
export const ROLES_KEY = 'bootfarm:roles';

/** Restricts a route (or a controller) to callers holding one of `roles`; without it, any authenticated vendor or admin. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** Marks a route reachable without a token (health, metrics, API docs). */
export const PUBLIC_KEY = 'bootfarm:public';
export const Public = () => SetMetadata(PUBLIC_KEY, true);
