import type { Role } from '@bootfarm/contracts';
import { createHash, randomBytes } from 'node:crypto';
import type { PrismaClient } from '../client.js';
import { vendorWhere, type VendorScope } from './scope.js';

/** `bft_` then 32 random bytes in base64url (43 characters). */
export const TOKEN_PATTERN = /^bft_[A-Za-z0-9_-]{43}$/;

/** Characters of the secret kept in clear, to recognise a token in lists and logs. */
const PREFIX_LENGTH = 12;

/** lastUsedAt is refreshed at most this often, so authentication is not a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** A fresh API token secret. */
export function newTokenSecret(): string {
  return `bft_${randomBytes(32).toString('base64url')}`;
}

/**
 * What is stored of a secret. A plain sha256 is enough (no salt, no slow hash): the secret has
 * 256 random bits, so there is nothing to brute-force, and the lookup can use a unique index.
 */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The authenticated caller a token stands for. */
export interface Caller {
  tokenId: string;
  role: Role;
  vendorId: string;
  vendorName: string;
}

/** A token as listed (never its secret). */
export interface TokenInfo {
  id: string;
  vendorId: string;
  role: Role;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  expiresAt: Date | null;
}

/** API tokens, stored hashed: the secret exists only in the answer that created it. */
export class TokenRepository {
  constructor(private readonly db: PrismaClient) {}

  /** Creates a token (expiring at `expiresAt` when given); the returned secret is not stored and cannot be shown again. */
  async create(input: { vendorId: string; role: Role; name: string; expiresAt?: Date | null }): Promise<{ id: string; prefix: string; token: string; expiresAt: Date | null }> {
    const token = newTokenSecret();
    const prefix = token.slice(0, PREFIX_LENGTH);
    const row = await this.db.apiToken.create({
      data: { vendorId: input.vendorId, role: input.role, name: input.name, tokenHash: hashTokenSecret(token), prefix, expiresAt: input.expiresAt ?? null },
      select: { id: true, expiresAt: true },
    });
    return { id: row.id, prefix, token, expiresAt: row.expiresAt };
  }

  /**
   * Registers a secret chosen by the operator (the bootstrap tokens). Idempotent; a secret that
   * was revoked stays revoked (the operator must configure a new one).
   */
  async ensureSecret(input: { vendorId: string; role: Role; name: string; secret: string }): Promise<{ id: string; revoked: boolean }> {
    if (!TOKEN_PATTERN.test(input.secret)) throw new TypeError('an API token is bft_ followed by 43 base64url characters');
    const tokenHash = hashTokenSecret(input.secret);
    const row = await this.db.apiToken.upsert({
      where: { tokenHash },
      create: { vendorId: input.vendorId, role: input.role, name: input.name, tokenHash, prefix: input.secret.slice(0, PREFIX_LENGTH) },
      update: {},
      select: { id: true, revokedAt: true },
    });
    return { id: row.id, revoked: row.revokedAt !== null };
  }

  /** The caller behind a secret, or null when it is malformed, unknown, revoked or expired (the caller is told none of these apart). */
  async authenticate(secret: string): Promise<Caller | null> {
    if (!TOKEN_PATTERN.test(secret)) return null;
    const row = await this.db.apiToken.findUnique({
      where: { tokenHash: hashTokenSecret(secret) },
      select: { id: true, role: true, vendorId: true, revokedAt: true, expiresAt: true, lastUsedAt: true, vendor: { select: { name: true } } },
    });
    const now = Date.now();
    if (!row || row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt.getTime() <= now)) return null;
    if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } }).catch(() => {});
    }
    return { tokenId: row.id, role: row.role as Role, vendorId: row.vendorId, vendorName: row.vendor.name };
  }

  /** Revokes a token in scope; false when there is none (or it is another vendor's). Revoking twice is a no-op. */
  async revoke(scope: VendorScope, tokenId: string): Promise<boolean> {
    const found = await this.db.apiToken.findFirst({ where: { id: tokenId, ...vendorWhere(scope) }, select: { id: true, revokedAt: true } });
    if (!found) return false;
    if (!found.revokedAt) await this.db.apiToken.updateMany({ where: { id: found.id, revokedAt: null }, data: { revokedAt: new Date() } });
    return true;
  }

  /** Tokens in scope, newest first, without secrets. */
  async list(scope: VendorScope): Promise<TokenInfo[]> {
    const rows = await this.db.apiToken.findMany({ where: vendorWhere(scope), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 1000 });
    return rows.map((r) => ({ id: r.id, vendorId: r.vendorId, role: r.role as Role, name: r.name, prefix: r.prefix, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt, revokedAt: r.revokedAt, expiresAt: r.expiresAt }));
  }
}
