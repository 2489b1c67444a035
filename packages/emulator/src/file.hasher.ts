/**
 * sha256 of files, cached by identity (device, inode, size, mtime): firmware files are 64 MiB
 * each and hashed once per launcher, not once per boot, unless they change.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** Hashes files, remembering results while a file's identity is unchanged. */
export class FileHasher {
  private readonly cache = new Map<string, { key: string; sha256: Promise<string> }>();

  /** Hex sha256 of the file at `path`. Rejects if it cannot be read or is not a regular file. */
  async sha256(path: string): Promise<string> {
    const st = await stat(path);
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    const hit = this.cache.get(path);
    if (hit && hit.key === key) return hit.sha256;
    const sha256 = sha256File(path);
    this.cache.set(path, { key, sha256 });
    sha256.catch(() => this.cache.delete(path));
    return sha256;
  }
}

/** Hex sha256 of a file, streamed. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}
