/**
 * Test-only helpers for the container specs: temp dirs, qemu-img/sgdisk fixtures built at test
 * time (no committed binaries), and a seeded PRNG. Not exported from the package.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ByteSource } from '../byte-source.js';

/** Runs a tool with C locale; returns stdout. Throws with stderr on failure. */
export function run(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A fresh temp dir and its remover. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `bootfarm-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic pseudo-random bytes (compressible-ish: mixes runs and noise). */
export function pattern(length: number, seed: number): Uint8Array {
  const r = prng(seed);
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = i % 4096 < 2048 ? (r() * 256) | 0 : (i >> 8) & 0xff;
  return b;
}

/** Writes `data` at `offset` in an existing file without truncating it. */
export function writeAt(path: string, offset: number, data: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, data, 0, data.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** Where known patterns go in the small GPT fixture (some straddle cluster boundaries). */
export const PATTERN_OFFSETS = [1 << 20, (2 << 20) - 700, (3 << 20) + 12345, (6 << 20) - 4096] as const;

/**
 * A raw GPT disk of `size` bytes (sparse), one ESP-typed partition, known patterns written at
 * `offsets` (each 96 KiB long).
 */
export function makeRawGptDisk(path: string, size: string, offsets: readonly number[] = PATTERN_OFFSETS): void {
  run('truncate', ['-s', size, path]);
  run('sgdisk', ['-o', '-n', '1:2048:+4M', '-t', '1:ef00', path]);
  offsets.forEach((o, i) => writeAt(path, o, pattern(96 * 1024, i + 1)));
}

/** SHA-256 of `length` guest bytes read from `src` in chunks of `chunk`. */
export async function sha256Of(src: ByteSource, offset: number, length: number, chunk: number): Promise<string> {
  const h = createHash('sha256');
  for (let p = offset; p < offset + length; p += chunk) h.update(await src.read(p, Math.min(chunk, offset + length - p)));
  return h.digest('hex');
}
