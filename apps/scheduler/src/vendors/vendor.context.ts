import { ImageRepository } from '@bootfarm/db';
import { Global, Injectable, Module, type OnModuleInit } from '@nestjs/common';

/**
 * Who the caller is. Until API tokens exist every request acts for the `default` vendor;
 * services already scope every query by this id, so adding authentication changes only this class.
 */
@Injectable()
export class VendorContext implements OnModuleInit {
  private id: string | null = null;

  constructor(private readonly images: ImageRepository) {}

  async onModuleInit(): Promise<void> {
    this.id = await this.images.ensureVendor('default');
  }

  /** The calling vendor's id. */
  get vendorId(): string {
    if (!this.id) throw new Error('VendorContext used before module init');
    return this.id;
  }
}

/** Caller identity. */
@Global()
@Module({ providers: [VendorContext], exports: [VendorContext] })
export class VendorModule {}
