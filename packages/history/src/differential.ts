import type { Backend, Outcome, VmProfile } from '@bootfarm/contracts';
import { verdictOf } from './verdicts.js';

/** One cell of one image in one run, as the differential reads it. */
export interface DifferentialCell {
  cellId: string;
  key: string;
  backend: Backend;
  profile: VmProfile;
  /** The host of the worker that produced the result (null when unknown). */
  workerHost: string | null;
  outcome: Outcome;
  failureClass: string | null;
  signature: string | null;
}

export type DifferentialVerdict = 'passes_everywhere' | 'fails_everywhere' | 'axis' | 'worker_host' | 'infrastructure' | 'mixed' | 'no_results';

export interface DifferentialGroup {
  outcome: Outcome;
  failureClass: string | null;
  signature: string | null;
  cells: { cellId: string; key: string; backend: Backend; workerHost: string | null }[];
}

export interface Differential {
  verdict: DifferentialVerdict;
  statement: string;
  axis: string | null;
  value: string | null;
  groups: DifferentialGroup[];
}

type Axis = 'backend' | 'hwDescription' | 'firmware' | 'gic' | 'disk' | 'arch' | 'accel' | 'cpus' | 'memoryMiB' | 'network';
/** Axes in the order an explanation prefers them (the hypervisor first: it is the farm's question). */
const AXES: readonly Axis[] = ['backend', 'hwDescription', 'firmware', 'gic', 'disk', 'arch', 'cpus', 'memoryMiB', 'network', 'accel'];

function valueOf(c: DifferentialCell, axis: Axis): string {
  if (axis === 'backend') return c.backend;
  const v = c.profile[axis as keyof VmProfile];
  return v === undefined ? 'none' : String(v);
}

const BACKEND_NAMES: Record<string, string> = { xen: 'Xen', 'qemu-tcg': 'QEMU TCG', 'qemu-kvm': 'QEMU KVM' };

/** The condition in words, for "fails only …" / "fails on every platform …". */
function phrase(axis: Axis, value: string): string {
  switch (axis) {
    case 'backend':
      return `on ${BACKEND_NAMES[value] ?? value}`;
    case 'hwDescription':
      return value === 'acpi' ? 'with ACPI' : 'with a device tree (no ACPI)';
    case 'firmware':
      return `with ${value === 'u-boot' ? 'U-Boot' : 'edk2'} firmware`;
    case 'gic':
      return `with GIC${value}`;
    case 'disk':
      return `with ${value} disks`;
    case 'arch':
      return value === 'arm' ? 'on 32-bit Arm (AArch32)' : `on ${value}`;
    case 'cpus':
      return `with ${value} vCPU${value === '1' ? '' : 's'}`;
    case 'memoryMiB':
      return `with ${value} MiB of memory`;
    case 'network':
      return value === 'none' ? 'without a network device' : `with a ${value} network device`;
    case 'accel':
      return `with ${value} acceleration`;
  }
}

function groupsOf(cells: readonly DifferentialCell[]): DifferentialGroup[] {
  const groups = new Map<string, DifferentialGroup>();
  for (const c of cells) {
    const id = JSON.stringify([c.outcome, c.failureClass, c.signature]);
    const g = groups.get(id) ?? { outcome: c.outcome, failureClass: c.failureClass, signature: c.signature, cells: [] };
    g.cells.push({ cellId: c.cellId, key: c.key, backend: c.backend, workerHost: c.workerHost });
    groups.set(id, g);
  }
  // Failures first, biggest group first: the reader's question is what broke.
  const rank = (g: DifferentialGroup) => (g.outcome === 'passed' ? 1 : 0);
  return [...groups.values()].sort((a, b) => rank(a) - rank(b) || b.cells.length - a.cells.length);
}

/** True when `pred` holds for exactly the failing cells among those with a verdict. */
function separates(fails: readonly DifferentialCell[], passes: readonly DifferentialCell[], pred: (c: DifferentialCell) => boolean): boolean {
  return fails.every(pred) && !passes.some(pred);
}

/**
 * Reads one image's cells in one run and says in plain words where it fails: everywhere (an image
 * bug), only where one axis has one value ("fails only on Xen", "fails on every platform with
 * ACPI"), where two values meet, only on one worker host (infrastructure), or no simple rule.
 * Infrastructure errors and cancels are set aside: they say nothing about the image.
 */
export function differential(cells: readonly DifferentialCell[]): Differential {
  const groups = groupsOf(cells);
  const fails = cells.filter((c) => verdictOf(c.outcome) === 'fail');
  const passes = cells.filter((c) => verdictOf(c.outcome) === 'pass');
  const infra = cells.filter((c) => c.outcome === 'infrastructure_error');
  const none = { axis: null, value: null, groups };
  if (fails.length === 0 && passes.length === 0) {
    return infra.length > 0
      ? { verdict: 'infrastructure', statement: `no verdict: ${infra.length} cell(s) ended in infrastructure errors (the farm's fault, not the image's)`, ...none }
      : { verdict: 'no_results', statement: 'no cell has a result yet', ...none };
  }
  const infraNote = infra.length > 0 ? `; ${infra.length} cell(s) set aside (infrastructure errors)` : '';
  if (fails.length === 0) return { verdict: 'passes_everywhere', statement: `passes on every platform (${passes.length})${infraNote}`, ...none };
  if (passes.length === 0) {
    const sigs = new Set(fails.map((c) => c.signature));
    const same = sigs.size === 1 && fails[0]!.signature ? `, always "${fails[0]!.signature}"` : '';
    return { verdict: 'fails_everywhere', statement: `fails everywhere (image bug): ${fails.length} of ${fails.length} platforms${same}${infraNote}`, ...none };
  }
  const tail = `: ${fails.length} failing, ${passes.length} passing${infraNote}`;
  for (const axis of AXES) {
    const value = valueOf(fails[0]!, axis);
    if (separates(fails, passes, (c) => valueOf(c, axis) === value)) {
      const statement = axis === 'backend' ? `fails only ${phrase(axis, value)}` : `fails on every platform ${phrase(axis, value)}`;
      return { verdict: 'axis', statement: statement + tail, axis, value, groups };
    }
  }
  for (let i = 0; i < AXES.length; i++) {
    for (let j = i + 1; j < AXES.length; j++) {
      const [a, b] = [AXES[i]!, AXES[j]!];
      const [va, vb] = [valueOf(fails[0]!, a), valueOf(fails[0]!, b)];
      if (separates(fails, passes, (c) => valueOf(c, a) === va && valueOf(c, b) === vb)) {
        return { verdict: 'axis', statement: `fails only ${phrase(a, va)} and ${phrase(b, vb)}${tail}`, axis: `${a}+${b}`, value: `${va}+${vb}`, groups };
      }
    }
  }
  const host = fails[0]!.workerHost;
  if (host !== null && separates(fails, passes, (c) => c.workerHost === host)) {
    return { verdict: 'worker_host', statement: `fails on one worker host only (${host}): likely infrastructure${tail}`, axis: 'workerHost', value: host, groups };
  }
  return { verdict: 'mixed', statement: `fails on ${fails.length} of ${fails.length + passes.length} platforms; no single axis explains it${infraNote}`, ...none };
}
