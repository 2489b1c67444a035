import { ImageRepository } from '@bootfarm/db';
import type { ImageDto, UploadImageQuery } from '@bootfarm/contracts';
import { Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { NotFoundError } from '../common/errors.js';
import { VendorContext } from '../vendors/vendor.context.js';
import { ImageStore } from './image.store.js';

/** Image intake: bytes into the store, then a record owned by the calling vendor. */
@Injectable()
export class ImagesService {
  constructor(
    private readonly store: ImageStore,
    private readonly images: ImageRepository,
    private readonly vendor: VendorContext,
  ) {}

  /** Stores an upload and records it; the same bytes uploaded again return the first record. */
  async upload(body: Readable, query: UploadImageQuery): Promise<{ image: ImageDto; created: boolean }> {
    const stored = await this.store.put(body, query.format);
    return this.images.record({ vendorId: this.vendor.vendorId, name: query.name, ...stored });
  }

  /** One of the caller's images. */
  async get(imageId: string): Promise<ImageDto> {
    const image = await this.images.find(this.vendor.vendorId, imageId);
    if (!image) throw new NotFoundError(`image ${imageId} not found`);
    return image;
  }

  /** The bytes of an image, for workers (which verify the digest). */
  async content(imageId: string): Promise<{ image: ImageDto; stream: Readable }> {
    const image = await this.images.findById(imageId);
    const blob = image && (await this.store.open(image.sha256));
    if (!image || !blob) throw new NotFoundError(`image ${imageId} not found`);
    return { image, stream: blob.stream };
  }
}
