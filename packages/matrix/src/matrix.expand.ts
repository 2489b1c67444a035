/**
 * Expands a {@link MatrixSpec} into its cells: pure and deterministic (sorted by profile key),
 * with each cell judged by the emulator's `explainProfile`.
 */
import { backendFor, defaultProfile, profileKey, type Backend, type VmProfile } from '@bootfarm/contracts';
import { explainProfile, type HostCapabilities } from '@bootfarm/emulator';
import { MatrixTooLargeError } from './matrix.errors.js';
import { matrixPresets } from './matrix.presets.js';
import { MATRIX_AXES, MatrixSpec, type MatrixAxis, type MatrixSpecInput, type PartialProfile } from './matrix.schema.js';

/** Default cap on a matrix's cells (and on the axes' product, checked before building anything). */
export const MATRIX_MAX_CELLS = 10_000;

/** A cell the backend can run (as far as checked). */
export interface ApplicableCell {
  /** `profileKey(profile)`: unique within an expansion. */
  readonly key: string;
  readonly profile: VmProfile;
  readonly backend: Backend;
  readonly applicable: true;
}

/** A cell the validator rules out; it stays in the matrix so reports can say why. */
export interface NotApplicableCell {
  readonly key: string;
  readonly profile: VmProfile;
  readonly backend: Backend;
  readonly applicable: false;
  /** The validator's error findings, as sentences joined by `; `. */
  readonly reason: string;
}

/** One cell of an expanded matrix. */
export type ExpandedCell = ApplicableCell | NotApplicableCell;

/** Options of {@link expandMatrix}. */
export interface ExpandMatrixOptions {
  /**
   * Judge the cells for this host. `null` or absent: only host-independent problems (GICv2 CPU
   * limit, U-Boot without ACPI, AArch32 limits, backend/disk mismatches, …) make a cell not
   * applicable.
   */
  readonly host?: HostCapabilities | null;
  /** Cap on the number of cells (default {@link MATRIX_MAX_CELLS}). */
  readonly maxCells?: number;
}

type Axes = { [K in MatrixAxis]: readonly VmProfile[K][] };

/** The distinct values of every axis the spec resolves to (spec axis, else preset axis, else the default profile's value). */
export function resolveAxes(spec: MatrixSpec): Axes {
  const preset = spec.preset ? matrixPresets[spec.preset] : undefined;
  const pick = <K extends MatrixAxis>(k: K): readonly VmProfile[K][] => {
    const values = (spec.axes?.[k] ?? preset?.axes[k] ?? [defaultProfile[k]]) as readonly VmProfile[K][];
    return [...new Set(values)];
  };
  return {
    arch: pick('arch'),
    firmware: pick('firmware'),
    hwDescription: pick('hwDescription'),
    gic: pick('gic'),
    disk: pick('disk'),
    cpus: pick('cpus'),
    memoryMiB: pick('memoryMiB'),
    accel: pick('accel'),
  };
}

/** An include entry completed from the default profile (fields set to `undefined` count as absent). */
export function completeProfile(entry: PartialProfile): VmProfile {
  const p: Record<string, unknown> = { ...defaultProfile };
  for (const k of MATRIX_AXES) if (entry[k] !== undefined) p[k] = entry[k];
  return p as VmProfile;
}

/** Does `profile` match every field `entry` names? */
export function matchesEntry(profile: VmProfile, entry: PartialProfile): boolean {
  for (const k of MATRIX_AXES) if (entry[k] !== undefined && entry[k] !== profile[k]) return false;
  return true;
}

/**
 * Exclude entries grouped by the set of fields they name, so a cell is tested against each
 * distinct field set once (a Set lookup) rather than against every entry.
 */
function excluder(entries: readonly PartialProfile[]): (p: VmProfile) => boolean {
  const groups = new Map<string, { fields: MatrixAxis[]; values: Set<string> }>();
  for (const e of entries) {
    const fields = MATRIX_AXES.filter((k) => e[k] !== undefined);
    if (fields.length === 0) continue; // rejected by the schema; never "exclude everything"
    const id = fields.join(',');
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { fields, values: new Set() }));
    g.values.add(fields.map((k) => String(e[k])).join('\u0000'));
  }
  const list = [...groups.values()];
  if (list.length === 0) return () => false;
  return (p) => list.some((g) => g.values.has(g.fields.map((k) => String(p[k])).join('\u0000')));
}

/**
 * Expands `spec` into its cells, sorted by key, without duplicates.
 *
 * @throws ZodError when the spec is invalid (unknown keys, values outside a profile field's schema).
 * @throws MatrixTooLargeError when the axes' product, or the final cell count, exceeds the cap;
 *   the product's size is checked before any cell is built.
 */
export function expandMatrix(input: MatrixSpecInput, opts: ExpandMatrixOptions = {}): ExpandedCell[] {
  const spec = MatrixSpec.parse(input);
  const limit = opts.maxCells ?? MATRIX_MAX_CELLS;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`maxCells must be a positive integer (got ${String(limit)})`);
  const host = opts.host ?? null;
  const preset = spec.preset ? matrixPresets[spec.preset] : undefined;

  const axes = resolveAxes(spec);
  const sizes = Object.fromEntries(MATRIX_AXES.map((k) => [k, axes[k].length]));
  const product = MATRIX_AXES.reduce((n, k) => n * axes[k].length, 1);
  if (product > limit) throw new MatrixTooLargeError(product, limit, 'product', sizes);
  const include = [...(preset?.include ?? []), ...(spec.include ?? [])];
  if (include.length > limit) throw new MatrixTooLargeError(include.length, limit, 'cells');
  const excluded = excluder([...(preset?.exclude ?? []), ...(spec.exclude ?? [])]);

  const cells = new Map<string, VmProfile>();
  for (const arch of axes.arch)
    for (const firmware of axes.firmware)
      for (const hwDescription of axes.hwDescription)
        for (const gic of axes.gic)
          for (const disk of axes.disk)
            for (const cpus of axes.cpus)
              for (const memoryMiB of axes.memoryMiB)
                for (const accel of axes.accel) {
                  const p: VmProfile = { arch, firmware, hwDescription, gic, disk, cpus, memoryMiB, accel };
                  if (!excluded(p)) cells.set(profileKey(p), p);
                }
  for (const entry of include) {
    const p = completeProfile(entry);
    const key = profileKey(p);
    if (!cells.has(key)) cells.set(key, p);
  }
  if (cells.size > limit) throw new MatrixTooLargeError(cells.size, limit, 'cells');

  const keys = [...cells.keys()].sort(); // default sort: UTF-16 code-unit order, locale-independent
  return keys.map((key): ExpandedCell => {
    const profile = cells.get(key)!;
    const backend = backendFor(profile);
    const errors = explainProfile(profile, host).problems.filter((x) => x.severity === 'error');
    return errors.length === 0
      ? { key, profile, backend, applicable: true }
      : { key, profile, backend, applicable: false, reason: errors.map((x) => x.message).join('; ') };
  });
}
