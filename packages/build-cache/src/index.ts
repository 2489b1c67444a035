/**
 * @bootfarm/build-cache — content-addressed, concurrency-safe cache entries for build outputs
 * (see README.md). Node built-ins only.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';

const MANIFEST_NAME = 'manifest.json';

/** How one kind of cache entry is built and read back. */
export interface CacheEntrySpec<T> {
  /** Builds into `tmpDir`; returns the manifest to store and the output files (relative names) to make read-only. */
  build(tmpDir: string): Promise<{ manifest: unknown; files: readonly string[] }>;
  /** Checks a stored manifest against the entry and turns it into the result; throws `corrupt` when anything is off. */
  read(entryDir: string, manifest: unknown): Promise<T>;
  /** The caller's typed error for a damaged entry. */
  corrupt(entryDir: string, cause?: unknown): Error;
}

/**
 * Returns the entry `<cacheDir>/<key>`, building it first when it does not exist.
 * @throws whatever `spec.build` throws, or `spec.corrupt(...)` for a damaged entry
 */
export async function ensureCacheEntry<T>(cacheDir: string, key: string, spec: CacheEntrySpec<T>): Promise<T> {
  const entryDir = path.join(cacheDir, key);
  const cached = await readEntry(entryDir, spec);
  if (cached !== undefined) return cached;

  await fs.mkdir(cacheDir, { recursive: true });
  const tmpDir = await fs.mkdtemp(path.join(cacheDir, `.tmp-${key.slice(0, 12)}-`));
  try {
    const { manifest, files } = await spec.build(tmpDir);
    await fs.writeFile(path.join(tmpDir, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const name of [...files, MANIFEST_NAME]) await fs.chmod(path.join(tmpDir, name), 0o444);
    // mkdtemp creates 0700; the entry is shared with other users of the cache (e.g. workers).
    await fs.chmod(tmpDir, 0o755);
    try {
      await fs.rename(tmpDir, entryDir);
    } catch (err) {
      // Another process renamed its build into place first: use that one.
      if (!isErrnoException(err) || (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST')) throw err;
    }
  } finally {
    await fs.rm(tmpDir, { recursive: true, force: true });
  }
  const entry = await readEntry(entryDir, spec);
  if (entry === undefined) throw spec.corrupt(entryDir);
  return entry;
}

/** Reads a complete entry, or undefined when there is none. */
async function readEntry<T>(entryDir: string, spec: CacheEntrySpec<T>): Promise<T | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(entryDir, MANIFEST_NAME), 'utf8');
  } catch (err) {
    if (isErrnoException(err) && err.code === 'ENOENT') {
      // Entries appear by rename, so a directory without a manifest is damage, not a build in progress.
      if (await fileExists(entryDir)) throw spec.corrupt(entryDir, err);
      return undefined;
    }
    throw err;
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (err) {
    throw spec.corrupt(entryDir, err);
  }
  return spec.read(entryDir, manifest);
}

/**
 * Feeds files into `hash` with their names relative to `baseDir` and their lengths, so that
 * renaming a file or moving bytes between files changes the digest.
 */
export async function hashFiles(hash: Hash, files: readonly string[], baseDir: string): Promise<Hash> {
  for (const file of files) {
    const content = await fs.readFile(file);
    hash.update(`${path.relative(baseDir, file)}\0${content.length}\0`);
    hash.update(content);
  }
  return hash;
}

/** Every regular file below `dir`, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out.sort();
}

/** Lowercase hex SHA-256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** True when `p` exists (any type). */
export async function fileExists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Narrows to a Node system error with a `code`. */
export function isErrnoException(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && 'code' in err;
}

/** A build script failed; `stderr` holds (the tail of) its diagnostics. Subclassed per cache. */
export class BuildFailedError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A cache entry exists but is incomplete or unreadable; deleting `dir` makes the next call rebuild. Subclassed per cache. */
export class CacheEntryCorruptError extends Error {
  constructor(
    readonly dir: string,
    what: string,
    options?: ErrorOptions,
  ) {
    super(`${what} cache entry ${dir} is incomplete or corrupt; delete it to rebuild`, options);
  }
}
