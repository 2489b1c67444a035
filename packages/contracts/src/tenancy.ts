import { z } from 'zod';
import { Role } from './farm.js';

// Vendors (tenants) and their API tokens, as the admin routes and GET /api/me show them.

/** A vendor name: also shown in the dashboard and logs, so plain characters only. */
const VendorName = z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-"');

/** POST /api/vendors (admin). */
export const CreateVendorRequest = z.strictObject({ name: VendorName });
export type CreateVendorRequest = z.infer<typeof CreateVendorRequest>;

export const VendorDto = z.object({ id: z.uuid(), name: z.string(), createdAt: z.iso.datetime() });
export type VendorDto = z.infer<typeof VendorDto>;

/** POST /api/vendors/:id/tokens (admin). */
export const CreateTokenRequest = z.strictObject({
  name: z.string().min(1).max(100),
  role: Role.default('vendor'),
  /** The token answers 401 after this many days; without it, it lives until revoked. */
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});
export type CreateTokenRequest = z.input<typeof CreateTokenRequest>;

/** The answer to a token's creation: the only time its secret is shown. */
export const CreatedTokenDto = z.object({ id: z.uuid(), prefix: z.string(), token: z.string(), expiresAt: z.iso.datetime().nullable() });
export type CreatedTokenDto = z.infer<typeof CreatedTokenDto>;

/** GET /api/me: who the token stands for. */
export const MeDto = z.object({
  tokenId: z.uuid(),
  role: Role,
  vendor: z.object({ id: z.uuid(), name: z.string() }),
});
export type MeDto = z.infer<typeof MeDto>;
