/** Killing a child that leads its own process group (spawned with `detached: true`). */
import type { ChildProcess } from 'node:child_process';

/**
 * SIGKILLs `child`'s whole process group, falling back to the child alone; only while the
 * child is unreaped (so its pid, and with it the group id, cannot have been reused).
 */
export function killProcessGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
