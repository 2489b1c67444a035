import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { chmod, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** The image could not be fetched or did not match its digest: an infrastructure problem. */
export class ImageFetchError extends Error {
  readonly code = 'IMAGE_FETCH_FAILED';
  override readonly name = 'ImageFetchError';
}

/**
 * Images by digest, fetched from the scheduler on first use. No shared filesystem is assumed;
 * a download is verified against the digest before it is used, and cached files are read-only.
 */
export class ImageCache {
  constructor(
    private readonly dir: string,
    private readonly schedulerUrl: string,
    /** Sent as `Authorization: Bearer`; the scheduler answers 401 without it. */
    private readonly token?: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** Path of the verified image file. */
  async get(image: { id: string; sha256: string }): Promise<string> {
    const path = join(this.dir, image.sha256);
    if (existsSync(path)) return path;
    const part = join(this.dir, `${image.sha256}.${randomUUID()}.part`);
    try {
      const headers: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
      const res = await fetch(new URL(`/api/images/${image.id}/content`, this.schedulerUrl), { headers });
      if (!res.ok || !res.body) throw new ImageFetchError(`the scheduler answered ${res.status} for image ${image.id}`);
      const hash = createHash('sha256');
      const tap = new Transform({ transform: (chunk: Buffer, _e, done) => (hash.update(chunk), done(null, chunk)) });
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), tap, createWriteStream(part, { mode: 0o600 }));
      const digest = hash.digest('hex');
      if (digest !== image.sha256) throw new ImageFetchError(`image ${image.id} arrived with sha256 ${digest}, expected ${image.sha256}`);
      await chmod(part, 0o444);
      await rename(part, path);
      return path;
    } catch (err) {
      await unlink(part).catch(() => {});
      throw err instanceof ImageFetchError ? err : new ImageFetchError(`fetching image ${image.id}: ${(err as Error).message}`);
    }
  }
}
