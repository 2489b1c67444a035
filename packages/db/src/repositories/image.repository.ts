import type { ImageDto, ImageFormat, InspectionDto } from '@bootfarm/contracts';
import type { PrismaClient } from '../client.js';
import { toImageDto } from '../mappers.js';
import { vendorWhere, type VendorScope } from './scope.js';

/** Recording the image would take the vendor over its storage quota. */
export class StorageQuotaExceededError extends Error {
  readonly code = 'quota_exceeded';
  override readonly name = 'StorageQuotaExceededError';
  constructor(readonly usedBytes: number, readonly quotaBytes: number, readonly requestedBytes: number) {
    super(`the upload of ${requestedBytes} bytes would exceed the vendor's storage quota (${usedBytes} of ${quotaBytes} bytes used)`);
  }
}

/** Vendors and their images. */
export class ImageRepository {
  constructor(private readonly db: PrismaClient) {}

  /** The vendor with this name, created on first use. */
  async ensureVendor(name: string): Promise<string> {
    const vendor = await this.db.vendor.upsert({ where: { name }, create: { name }, update: {}, select: { id: true } });
    return vendor.id;
  }

  /**
   * Records an image whose bytes are already in the store. Uploading the same bytes twice
   * returns the first record (`created: false`): the digest is the image's identity.
   * With `quotaBytes`, a new image that would take the vendor's stored bytes over it is refused
   * (StorageQuotaExceededError); concurrent uploads of one vendor are serialised by an advisory
   * lock, so they cannot together slip past the quota.
   */
  async record(
    input: { vendorId: string; name: string; format: ImageFormat; sha256: string; sizeBytes: number; inspection?: InspectionDto },
    opts: { quotaBytes?: number } = {},
  ): Promise<{ image: ImageDto; created: boolean }> {
    const existing = await this.db.image.findUnique({ where: { vendorId_sha256: { vendorId: input.vendorId, sha256: input.sha256 } } });
    if (existing) return { image: toImageDto(existing), created: false };
    const data = { ...input, sizeBytes: BigInt(input.sizeBytes), inspection: input.inspection as object | undefined };
    const where = { vendorId_sha256: { vendorId: input.vendorId, sha256: input.sha256 } };
    if (opts.quotaBytes === undefined) {
      return { image: toImageDto(await this.db.image.upsert({ where, create: data, update: {} })), created: true };
    }
    const quotaBytes = opts.quotaBytes;
    return this.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`image-quota:${input.vendorId}`}, 0))`;
      const again = await tx.image.findUnique({ where });
      if (again) return { image: toImageDto(again), created: false };
      const used = await tx.image.aggregate({ where: { vendorId: input.vendorId }, _sum: { sizeBytes: true } });
      const usedBytes = Number(used._sum.sizeBytes ?? 0n);
      if (usedBytes + input.sizeBytes > quotaBytes) throw new StorageQuotaExceededError(usedBytes, quotaBytes, input.sizeBytes);
      return { image: toImageDto(await tx.image.create({ data })), created: true };
    });
  }

  /** Bytes of all images this vendor has stored (what its quota counts). */
  async storedBytes(vendorId: string): Promise<number> {
    const used = await this.db.image.aggregate({ where: { vendorId }, _sum: { sizeBytes: true } });
    return Number(used._sum.sizeBytes ?? 0n);
  }

  /** This vendor's image with these bytes, or null. */
  async findByDigest(vendorId: string, sha256: string): Promise<ImageDto | null> {
    const row = await this.db.image.findUnique({ where: { vendorId_sha256: { vendorId, sha256 } } });
    return row ? toImageDto(row) : null;
  }

  /** An image in scope, or null (another vendor's image is "not found" too). */
  async find(scope: VendorScope, imageId: string): Promise<ImageDto | null> {
    const row = await this.db.image.findFirst({ where: { id: imageId, ...vendorWhere(scope) } });
    return row ? toImageDto(row) : null;
  }

  /** Which of these ids are images of the vendor (a run may only hold the vendor's own images). */
  async ownedIds(vendorId: string, imageIds: string[]): Promise<Set<string>> {
    const rows = await this.db.image.findMany({ where: { id: { in: imageIds }, vendorId }, select: { id: true } });
    return new Set(rows.map((r) => r.id));
  }

  /** An image by id, for workers fetching bytes by digest. */
  async findById(imageId: string): Promise<ImageDto | null> {
    const row = await this.db.image.findUnique({ where: { id: imageId } });
    return row ? toImageDto(row) : null;
  }
}
