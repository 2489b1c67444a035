import { ImageRepository, StorageQuotaExceededError } from '@bootfarm/db';
import type { ImageDto, UploadImageQuery } from '@bootfarm/contracts';
import { Inject, Injectable } from '@nestjs/common';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import type { Readable } from 'node:stream';
import { NotFoundError } from '../common/errors.js';
import { VendorContext } from '../vendors/vendor.context.js';
import { ImageInspector } from './image.inspector.js';
import { ImageStore } from './image.store.js';

/** Image intake: bytes into quarantine, inspection out of process, then the store and a record. */
@Injectable()
export class ImagesService {
  constructor(
    private readonly store: ImageStore,
    private readonly inspector: ImageInspector,
    private readonly images: ImageRepository,
    private readonly vendor: VendorContext,
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
  ) {}

  /** Refuses (413 quota_exceeded) an upload of `bytes` that cannot fit in the caller's storage quota. */
  async assertRoomFor(bytes: number): Promise<void> {
    const quota = this.config.VENDOR_STORAGE_QUOTA_BYTES;
    const used = await this.images.storedBytes(this.vendor.vendorId);
    if (used + bytes > quota) throw new StorageQuotaExceededError(used, quota, bytes);
  }

  /**
   * Stores an upload and records it with its findings. The same bytes uploaded again by the same
   * vendor return the first record (the digest is the identity) without inspecting them again.
   */
  async upload(body: Readable, query: UploadImageQuery): Promise<{ image: ImageDto; created: boolean }> {
    const vendorId = this.vendor.vendorId;
    const upload = await this.store.receive(body);
    try {
      // Known bytes declared with the same format need no second inspection; declared with
      // another format they go through inspection, which refuses the mismatch.
      const known = await this.images.findByDigest(vendorId, upload.sha256);
      if (known && known.format === query.format) {
        await this.store.discard(upload);
        return { image: known, created: false };
      }
      // Checked before inspection and before the bytes enter the store; record() checks again
      // under a per-vendor lock, so concurrent uploads cannot together pass the quota.
      await this.assertRoomFor(upload.sizeBytes);
      const inspection = await this.inspector.inspect(upload.path, query.format);
      await this.store.commit(upload);
      return await this.images.record(
        { vendorId, name: query.name, format: query.format, sha256: upload.sha256, sizeBytes: upload.sizeBytes, inspection },
        { quotaBytes: this.config.VENDOR_STORAGE_QUOTA_BYTES },
      );
    } catch (err) {
      await this.store.discard(upload);
      throw err;
    }
  }

  /** One of the caller's images (any vendor's for an admin). */
  async get(imageId: string): Promise<ImageDto> {
    const image = await this.images.find(this.vendor.scope, imageId);
    if (!image) throw new NotFoundError(`image ${imageId} not found`);
    return image;
  }

  /** The bytes of an image in the caller's scope: workers (which verify the digest) and admins any, a vendor its own. */
  async content(imageId: string): Promise<{ image: ImageDto; stream: Readable }> {
    const image = await this.images.find(this.vendor.scope, imageId);
    const blob = image && (await this.store.open(image.sha256));
    if (!image || !blob) throw new NotFoundError(`image ${imageId} not found`);
    return { image, stream: blob.stream };
  }
}
