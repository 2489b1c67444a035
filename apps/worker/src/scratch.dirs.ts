import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Field 22 of /proc/<pid>/stat (start time in clock ticks): tells a live process from a later one reusing its pid. */
function startTicksOf(pid: number): number | null {
  try {
    // The command name (field 2) may contain spaces: count the fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

// `w<pid>-<start ticks>-<n>[-suffix]`, base 36 and short: the QMP socket lives three levels below
// and a UNIX socket path has 107 bytes.
const OWNED = /^w([0-9a-z]+)-([0-9a-z]+)-/;
const LEGACY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(-probe)?$/;

/**
 * The worker's per-boot scratch directories in WORKER_WORK_DIR, named after their owner process
 * so that a worker starting later can tell the leftovers of a SIGKILLed or crashed worker
 * (overlays, variable stores, sockets nobody removed) from the live boots of its neighbours.
 * WORKER_WORK_DIR must be local to the host: pids mean nothing across hosts.
 */
export class ScratchDirs {
  private readonly prefix: string;
  private seq = 0;

  constructor(
    readonly workDir: string,
    pid = process.pid,
  ) {
    mkdirSync(workDir, { recursive: true, mode: 0o700 });
    this.prefix = `w${pid.toString(36)}-${(startTicksOf(pid) ?? 0).toString(36)}`;
  }

  /** A fresh path for one boot (not created: the launcher creates and removes it). */
  next(suffix?: string): string {
    return join(this.workDir, `${this.prefix}-${(this.seq++).toString(36)}${suffix ? `-${suffix}` : ''}`);
  }

  /** Removes the directories of workers that are gone (and of older workers' UUID-named boots); returns their names. */
  removeStale(): string[] {
    const removed: string[] = [];
    for (const name of readdirSync(this.workDir)) {
      const owned = OWNED.exec(name);
      const dead = owned ? startTicksOf(parseInt(owned[1]!, 36)) !== parseInt(owned[2]!, 36) : LEGACY.test(name);
      if (!dead) continue;
      rmSync(join(this.workDir, name), { recursive: true, force: true, maxRetries: 3 });
      removed.push(name);
    }
    return removed;
  }
}
