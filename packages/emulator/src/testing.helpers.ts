/**
 * Helpers for this package's specs only (not exported from the package index): locating the
 * real console samples, scratch directories, and finding processes by their command line.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from packages/emulator/dist). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Real serial-console captures (fixtures/console): test data for the console analysis. */
export const samplesDir = path.resolve(repoRoot, 'fixtures/console');

/** Names (without extension) of every sample that has a raw `.log`. */
export async function sampleNames(): Promise<string[]> {
  if (!existsSync(samplesDir)) throw new Error(`console samples not found at ${samplesDir}`);
  return (await readdir(samplesDir))
    .filter((f) => f.endsWith('.log'))
    .map((f) => f.slice(0, -'.log'.length))
    .sort();
}

/** Raw bytes of a sample. */
export function readSampleRaw(name: string): Promise<Buffer> {
  return readFile(path.join(samplesDir, `${name}.log`));
}

/** Lines of a sample's `.tlog` as [seconds, text] with `^[` turned back into ESC. */
export async function readSampleTimed(name: string): Promise<Array<{ seconds: number; text: string }>> {
  const body = await readFile(path.join(samplesDir, `${name}.tlog`), 'utf8');
  return body
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const m = /^\[\s*([\d.]+)\] ?(.*)$/.exec(l);
      if (!m) throw new Error(`bad tlog line in ${name}: ${l}`);
      return { seconds: Number(m[1]), text: m[2]!.replaceAll('^[', '\x1b') };
    });
}

/** A fresh scratch directory; remove it with `rm(dir, { recursive: true, force: true })`. */
export function scratchDir(prefix = 'bootfarm-emulator-spec-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Removes a scratch directory. */
export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/**
 * Pids of live processes whose command line contains `needle` (e.g. a boot's work dir).
 * Zombies have an empty command line, so a dead-but-unreaped QEMU does not count.
 */
export async function pidsWithCmdline(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`)).toString('utf8');
      if (cmdline.includes(needle)) pids.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return pids;
}

/** Polls until `check` returns true or `timeoutMs` passes; returns the last result. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** The `Name:\tvalue` fields of /proc/<pid>/status, or null if the process is gone. */
export async function procStatus(pid: number): Promise<Record<string, string> | null> {
  try {
    const body = await readFile(`/proc/${pid}/status`, 'utf8');
    return Object.fromEntries(body.split('\n').filter(Boolean).map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i), l.slice(i + 1).trim()];
    }));
  } catch {
    return null;
  }
}

/** /proc/<pid>/limits as text, or null if the process is gone. */
export async function procLimits(pid: number): Promise<string | null> {
  try {
    return await readFile(`/proc/${pid}/limits`, 'utf8');
  } catch {
    return null;
  }
}
