import type { Role } from '@bootfarm/contracts';
import { ALL_VENDORS, type Caller, type VendorScope } from '@bootfarm/db';
import { Global, Injectable, Module } from '@nestjs/common';
import { currentCaller } from '../auth/request-context.js';

/**
 * Who the caller is, for services: the authenticated caller of the current request (set by the
 * auth guard, carried by AsyncLocalStorage), so services stay singletons and keep calling
 * `vendor.vendorId` (the owner of what they create) and `vendor.scope` (what they may read).
 */
@Injectable()
export class VendorContext {
  get caller(): Caller {
    const caller = currentCaller();
    if (!caller) throw new Error('VendorContext used outside an authenticated request');
    return caller;
  }

  /** The calling vendor's id: the owner of everything the request creates. */
  get vendorId(): string {
    return this.caller.vendorId;
  }

  get role(): Role {
    return this.caller.role;
  }

  /**
   * What the caller may read: its own vendor's rows, or every vendor's for admins and for workers
   * (which the guard lets reach image content only).
   */
  get scope(): VendorScope {
    const { role, vendorId } = this.caller;
    return role === 'admin' || role === 'worker' ? ALL_VENDORS : vendorId;
  }
}

/** Caller identity. */
@Global()
@Module({ providers: [VendorContext], exports: [VendorContext] })
export class VendorModule {}
