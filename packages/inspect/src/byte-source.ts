/**
 * Random access to untrusted bytes: a file, or the guest-visible disk behind a container format.
 * Every layer of the inspector reads through this, so reads are counted and can be bounded.
 */
export interface ByteSource {
  /** Size in bytes (for a container: the virtual disk size). */
  readonly size: number;
  /**
   * Reads `length` bytes at `offset`. Reading past `size` returns only the bytes that exist
   * (a short result, never an exception); holes and unallocated clusters read as zeros.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Bytes actually read from the underlying file so far (for budgets and benchmarks). */
  readonly bytesRead: number;
}
