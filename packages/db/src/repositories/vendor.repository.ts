import type { PrismaClient } from '../client.js';
import { isUniqueViolation } from '../client.js';

/** A vendor's public record. */
export interface VendorRecord {
  id: string;
  name: string;
  createdAt: Date;
}

/** A vendor with this name exists already. */
export class VendorExistsError extends Error {
  readonly code = 'VENDOR_EXISTS';
  override readonly name = 'VendorExistsError';
}

/** Vendors: the tenants. Every image, run and token belongs to one. */
export class VendorRepository {
  constructor(private readonly db: PrismaClient) {}

  async create(name: string): Promise<VendorRecord> {
    try {
      return await this.db.vendor.create({ data: { name }, select: { id: true, name: true, createdAt: true } });
    } catch (err) {
      if (isUniqueViolation(err)) throw new VendorExistsError(`vendor ${name} exists already`);
      throw err;
    }
  }

  /** The vendor with this name, created on first use (bootstrap). */
  async ensure(name: string): Promise<VendorRecord> {
    return this.db.vendor.upsert({ where: { name }, create: { name }, update: {}, select: { id: true, name: true, createdAt: true } });
  }

  /** Every vendor, by name (a farm has tens of vendors, not millions). */
  async list(): Promise<VendorRecord[]> {
    return this.db.vendor.findMany({ select: { id: true, name: true, createdAt: true }, orderBy: { name: 'asc' }, take: 10_000 });
  }

  async find(id: string): Promise<VendorRecord | null> {
    return this.db.vendor.findUnique({ where: { id }, select: { id: true, name: true, createdAt: true } });
  }
}
