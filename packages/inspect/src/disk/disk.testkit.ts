/* Test helpers for the disk specs: in-test ByteSources and the fixture-image cache. Not exported by index.ts. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, openSync, readFileSync, readSync, fstatSync, closeSync, mkdirSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ByteSource } from '../byte-source.js';

/** A read-only ByteSource over a file (sync reads; fine for tests). */
export class FileSource implements ByteSource {
  readonly size: number;
  bytesRead = 0;
  reads = 0;
  private readonly fd: number;
  constructor(path: string) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const n = Math.max(0, Math.min(length, this.size - offset));
    const b = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, b, got, n - got, offset + got);
      if (r <= 0) break;
      got += r;
    }
    this.bytesRead += got;
    this.reads++;
    return b.subarray(0, got);
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** A ByteSource that overlays byte patches on another source (for mutation fuzzing without copying images). */
export class PatchedSource implements ByteSource {
  constructor(
    private readonly inner: ByteSource,
    private readonly patches: ReadonlyMap<number, number>,
  ) {}
  get size(): number {
    return this.inner.size;
  }
  get bytesRead(): number {
    return this.inner.bytesRead;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const b = new Uint8Array(await this.inner.read(offset, length));
    for (const [o, v] of this.patches) if (o >= offset && o < offset + b.length) b[o - offset] = v;
    return b;
  }
}

/** A ByteSource over bytes in memory. */
export class MemorySource implements ByteSource {
  bytesRead = 0;
  constructor(readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const b = this.bytes.slice(offset, Math.min(this.bytes.length, offset + length));
    this.bytesRead += b.length;
    return b;
  }
}

const scriptsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts');

/**
 * Builds (once per script version) the images of a fixture script into a cache dir under the OS temp dir
 * and returns that dir. `BOOTFARM_DISK_FIXTURES` overrides the location.
 */
export function fixtureDir(script: 'build-fixture-images.sh' | 'build-hostile-disk.sh'): string {
  const path = join(scriptsDir, script);
  const hash = createHash('sha256').update(readFileSync(path)).update(script === 'build-hostile-disk.sh' ? readFileSync(join(scriptsDir, 'build-fixture-images.sh')) : '').digest('hex').slice(0, 12);
  const dir = join(process.env['BOOTFARM_DISK_FIXTURES'] ?? join(tmpdir(), 'bootfarm-disk-fixtures'), `${script.replace(/\.sh$/, '')}-${hash}`);
  if (!existsSync(join(dir, '.done'))) {
    // Spec files run in parallel processes: build privately, then rename into place (first one wins).
    const tmp = `${dir}.tmp-${process.pid}`;
    mkdirSync(tmp, { recursive: true });
    execFileSync('bash', [path, tmp], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
    writeFileSync(join(tmp, '.done'), new Date().toISOString());
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return dir;
}
