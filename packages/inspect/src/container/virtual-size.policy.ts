import { ImageRejectedError, type RejectionEvidence } from './container.errors.js';

/** Limits the operator sets for accepted images. */
export interface ContainerPolicy {
  /** Largest guest-visible disk size accepted, in bytes (a positive safe integer). */
  readonly maxVirtualBytes: number;
}

/** Throws a TypeError when the policy itself is unusable (a configuration bug, not the image). */
export function assertValidPolicy(policy: ContainerPolicy): void {
  if (!Number.isSafeInteger(policy.maxVirtualBytes) || policy.maxVirtualBytes <= 0) {
    throw new TypeError(`policy.maxVirtualBytes must be a positive safe integer, got ${policy.maxVirtualBytes}`);
  }
}

const GiB = 1024 ** 3;
const TiB = 1024 * GiB;
const human = (n: bigint | number): string => {
  const v = Number(n);
  if (v >= 1024 * 1024 * TiB) return `${v.toExponential(2)} bytes`;
  if (v >= TiB) return `${+(v / TiB).toFixed(1)} TiB`;
  return v >= GiB ? `${+(v / GiB).toFixed(1)} GiB` : `${v} bytes`;
};

/**
 * Refuses a virtual size over the policy (`virtual_size_over_policy`). Takes a bigint because a
 * qcow2 header can claim up to 2^64 − 1 bytes. Returns the size as a safe number.
 */
export function checkVirtualSize(size: bigint | number, policy: ContainerPolicy, evidence?: RejectionEvidence): number {
  const big = BigInt(size);
  if (big > BigInt(policy.maxVirtualBytes)) {
    throw new ImageRejectedError(
      'virtual_size_over_policy',
      `virtual disk size ${human(big)} (${big} bytes) is over the limit of ${human(policy.maxVirtualBytes)}`,
      { ...evidence, value: big.toString() },
    );
  }
  return Number(big);
}
