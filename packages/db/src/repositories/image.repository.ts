import type { ImageDto, ImageFormat, InspectionDto } from '@bootfarm/contracts';
import type { PrismaClient } from '../client.js';
import { toImageDto } from '../mappers.js';

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
   */
  async record(input: { vendorId: string; name: string; format: ImageFormat; sha256: string; sizeBytes: number; inspection?: InspectionDto }): Promise<{ image: ImageDto; created: boolean }> {
    const existing = await this.db.image.findUnique({ where: { vendorId_sha256: { vendorId: input.vendorId, sha256: input.sha256 } } });
    if (existing) return { image: toImageDto(existing), created: false };
    const row = await this.db.image.upsert({
      where: { vendorId_sha256: { vendorId: input.vendorId, sha256: input.sha256 } },
      create: { ...input, sizeBytes: BigInt(input.sizeBytes), inspection: input.inspection as object | undefined },
      update: {},
    });
    return { image: toImageDto(row), created: true };
  }

  /** This vendor's image with these bytes, or null. */
  async findByDigest(vendorId: string, sha256: string): Promise<ImageDto | null> {
    const row = await this.db.image.findUnique({ where: { vendorId_sha256: { vendorId, sha256 } } });
    return row ? toImageDto(row) : null;
  }

  /** An image of this vendor, or null (another vendor's image is "not found" too). */
  async find(vendorId: string, imageId: string): Promise<ImageDto | null> {
    const row = await this.db.image.findFirst({ where: { id: imageId, vendorId } });
    return row ? toImageDto(row) : null;
  }

  /** An image by id, for workers fetching bytes by digest. */
  async findById(imageId: string): Promise<ImageDto | null> {
    const row = await this.db.image.findUnique({ where: { id: imageId } });
    return row ? toImageDto(row) : null;
  }
}
