/**
 * Copies of the UEFI vars template, one per boot. The template is 64 MiB and, as Debian ships it,
 * all zeros (edk2 formats the store on first boot); copying it byte by byte cost a boot tens of
 * milliseconds before QEMU could start. A template's non-zero chunks are read once per file
 * identity (device, inode, size, mtime) and each copy writes only those, leaving holes for the
 * rest: the same bytes, read back, for a fraction of the work.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';

const CHUNK = 64 * 1024;
/** Templates with more non-zero data than this are copied with one plain read per copy. */
const MAX_CACHED_BYTES = 8 * 1024 * 1024;
const ZERO = Buffer.alloc(CHUNK);

interface Template {
  readonly key: string;
  readonly size: number;
  /** Non-zero chunks and their offsets; null when there are too many to keep. */
  readonly chunks: ReadonlyArray<{ readonly offset: number; readonly data: Buffer }> | null;
}

/** Copies files sparsely, remembering each template's layout while its identity is unchanged. */
export class SparseCopier {
  private readonly templates = new Map<string, Promise<Template>>();

  /**
   * Writes a copy of `source` at `dest` (mode 0600). With `exclusive`, fails with EEXIST when
   * `dest` exists (two boots racing to create a shared store never overwrite each other's).
   */
  async copy(source: string, dest: string, opts: { exclusive?: boolean } = {}): Promise<void> {
    const template = await this.template(source);
    const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_NOFOLLOW | (opts.exclusive ? fsConstants.O_EXCL : fsConstants.O_TRUNC);
    const out = await open(dest, flags, 0o600);
    try {
      if (template.chunks) {
        for (const c of template.chunks) await out.write(c.data, 0, c.data.length, c.offset);
      } else {
        await out.writeFile(await readFile(source));
      }
      await out.truncate(template.size);
    } finally {
      await out.close();
    }
  }

  private async template(path: string): Promise<Template> {
    const st = await stat(path);
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    const known = this.templates.get(path);
    if (known && (await known.catch(() => null))?.key === key) return known;
    const scanned = scan(path, key, st.size);
    this.templates.set(path, scanned);
    scanned.catch(() => this.templates.delete(path));
    return scanned;
  }
}

async function scan(path: string, key: string, size: number): Promise<Template> {
  const file = await open(path, 'r');
  try {
    const chunks: { offset: number; data: Buffer }[] = [];
    let kept = 0;
    const buf = Buffer.alloc(CHUNK);
    for (let offset = 0; offset < size; offset += CHUNK) {
      const { bytesRead } = await file.read(buf, 0, CHUNK, offset);
      const view = buf.subarray(0, bytesRead);
      if (view.equals(ZERO.subarray(0, bytesRead))) continue;
      kept += bytesRead;
      if (kept > MAX_CACHED_BYTES) return { key, size, chunks: null };
      chunks.push({ offset, data: Buffer.from(view) });
    }
    return { key, size, chunks };
  } finally {
    await file.close();
  }
}
