import { constants, type promises as fsp } from 'node:fs';
import { open } from 'node:fs/promises';
import type { ByteSource } from '../byte-source.js';
import { ImageRejectedError } from './container.errors.js';

/** Largest single read any layer may ask for (hostile sizes must never become allocations). */
export const DEFAULT_MAX_READ_BYTES = 64 * 1024 * 1024;

/** Options for {@link FileByteSource.open}. */
export interface FileByteSourceOptions {
  /** Largest single `read` length; larger requests are refused with `limits_exceeded`. */
  readonly maxReadBytes?: number;
  /** Total bytes this source may read over its life; past it, reads fail with `limits_exceeded`. */
  readonly maxTotalBytesRead?: number;
}

/**
 * A read-only, bounded view of one regular file. It opens exactly the path it is given, never
 * writes, never opens anything else, and counts every byte it reads.
 */
export class FileByteSource implements ByteSource {
  #bytesRead = 0;
  #closed = false;

  private constructor(
    private readonly handle: fsp.FileHandle,
    /** File size in bytes, from fstat at open time. */
    readonly size: number,
    private readonly maxReadBytes: number,
    private readonly maxTotalBytesRead: number,
  ) {}

  /**
   * Opens `path` read-only. O_NONBLOCK keeps a FIFO from hanging the open; anything that is not
   * a regular file is refused with `not_a_disk`.
   */
  static async open(path: string, opts: FileByteSourceOptions = {}): Promise<FileByteSource> {
    const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new ImageRejectedError('not_a_disk', 'the upload is not a regular file');
      return new FileByteSource(
        handle,
        st.size,
        opts.maxReadBytes ?? DEFAULT_MAX_READ_BYTES,
        opts.maxTotalBytesRead ?? Number.POSITIVE_INFINITY,
      );
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** Bytes read from the file so far. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /**
   * Reads up to `length` bytes at `offset`; short at end of file, empty past it.
   * @throws RangeError for a negative or non-integer offset/length (a caller bug).
   * @throws ImageRejectedError `limits_exceeded` when a read or the running total is over its cap.
   */
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.#closed) throw new Error('FileByteSource is closed');
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`bad read offset ${offset}`);
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`bad read length ${length}`);
    if (length > this.maxReadBytes) {
      throw new ImageRejectedError('limits_exceeded', `a single read of ${length} bytes is over the inspection limit`, { offset });
    }
    const n = Math.max(0, Math.min(length, this.size - offset));
    if (this.#bytesRead + n > this.maxTotalBytesRead) {
      throw new ImageRejectedError('limits_exceeded', 'inspection read more of the image than its budget allows', { offset });
    }
    const buf = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const { bytesRead } = await this.handle.read(buf, done, n - done, offset + done);
      if (bytesRead === 0) break; // the file shrank under us: return what exists
      done += bytesRead;
      this.#bytesRead += bytesRead;
    }
    return done === n ? buf : buf.subarray(0, done);
  }

  /** Closes the file descriptor; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.handle.close();
  }
}
