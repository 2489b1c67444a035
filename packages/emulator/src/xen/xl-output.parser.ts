/** Parser for `xl list <name>` output. Pure. (`xl info` is parsed by capability.probe's `parseXlInfo`.) */

/** One row of `xl list`. */
export interface XlListEntry {
  readonly name: string;
  readonly domid: number;
  readonly memoryMiB: number;
  readonly vcpus: number;
  /** The six state flags, e.g. `-b----`: r(unning) b(locked) p(aused) s(hutdown) c(rashed) d(ying). */
  readonly state: string;
}

/** The row of domain `name` in `xl list` output, or null. */
export function parseXlList(stdout: string, name: string): XlListEntry | null {
  for (const line of stdout.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5 || cols[0] !== name) continue;
    const domid = Number(cols[1]);
    if (!Number.isInteger(domid)) continue;
    return { name, domid, memoryMiB: Number(cols[2]), vcpus: Number(cols[3]), state: cols[4]! };
  }
  return null;
}

/** True when the state flags say the domain has crashed (`on_crash = "preserve"` keeps it). */
export function isCrashedState(state: string): boolean {
  return state.includes('c');
}

