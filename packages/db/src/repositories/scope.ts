/**
 * Whose rows a query may see: one vendor's (a vendor id), or every vendor's (admin callers, and
 * workers fetching image bytes). Every repository method that takes an id also takes a scope, so
 * another vendor's row is simply not found: the caller cannot tell it from a missing one.
 */
export type VendorScope = string | AllVendors;

export interface AllVendors {
  readonly allVendors: true;
}

/** The scope of admin callers and workers. */
export const ALL_VENDORS: AllVendors = Object.freeze({ allVendors: true as const });

/** The Prisma `where` fragment of a scope. */
export function vendorWhere(scope: VendorScope): { vendorId?: string } {
  return typeof scope === 'string' ? { vendorId: scope } : {};
}

/** Whether a row owned by `vendorId` is visible in `scope`. */
export function inScope(scope: VendorScope, vendorId: string): boolean {
  return typeof scope !== 'string' || scope === vendorId;
}
