/**
 * The declarative matrix format: a preset and/or axes, with include/exclude entries, validated
 * against the field schemas of `@bootfarm/contracts`' `VmProfile`. Strict: unknown keys are
 * errors, so a typo (`"gics"`, `"memory"`) never silently widens or narrows a matrix.
 */
import { z } from 'zod';
import { VmProfile } from './profile.js';

/** The fields of a profile, in `profileKey` order: the matrix's axes. */
export const MATRIX_AXES = ['arch', 'firmware', 'hwDescription', 'gic', 'disk', 'cpus', 'memoryMiB', 'accel'] as const satisfies readonly (keyof VmProfile)[];
/** One axis of the matrix: a field of {@link VmProfile}. */
export type MatrixAxis = (typeof MATRIX_AXES)[number];

/** Names of the built-in presets (see `matrixPresets`). */
export const PresetName = z.enum(['quick', 'vm-spec-platforms', 'vm-spec-full', 'xen']);
/** Names of the built-in presets. */
export type PresetName = z.infer<typeof PresetName>;

const f = VmProfile.shape;
/** The values of one axis: at least one, each valid for its profile field (duplicates collapse). */
const axis = <T extends z.ZodType>(field: T) => z.array(field).min(1).optional();

/** Values per axis; an axis left out takes the preset's values, else the default profile's one value. */
export const MatrixAxes = z.strictObject({
  arch: axis(f.arch),
  firmware: axis(f.firmware),
  hwDescription: axis(f.hwDescription),
  gic: axis(f.gic),
  disk: axis(f.disk),
  cpus: axis(f.cpus),
  memoryMiB: axis(f.memoryMiB),
  accel: axis(f.accel),
});
/** Values per axis. */
export type MatrixAxes = z.infer<typeof MatrixAxes>;

/** Some fields of a profile, each valid for its field: an include or exclude entry. */
export const PartialProfile = VmProfile.partial().strict();
/** Some fields of a profile. */
export type PartialProfile = z.infer<typeof PartialProfile>;

const names = (e: PartialProfile): boolean => Object.values(e).some((v) => v !== undefined);

/**
 * A test matrix, like a GitHub Actions `strategy.matrix`: the cartesian product of the axes,
 * minus every combination that matches all fields of an `exclude` entry, plus every `include`
 * entry completed from the default profile.
 */
export const MatrixSpec = z.strictObject({
  /** Start from a named preset; `axes`, `include` and `exclude` then refine it. */
  preset: PresetName.optional(),
  axes: MatrixAxes.optional(),
  /** Extra cells, each completed from the default profile; never removed by `exclude`. */
  include: z.array(PartialProfile).optional(),
  /** Combinations of the product to drop: a cell is dropped if it matches every field of one entry. */
  exclude: z.array(PartialProfile.refine(names, { message: 'an exclude entry must name at least one field (an empty one would drop every cell)' })).optional(),
});
/** A test matrix (validated). */
export type MatrixSpec = z.infer<typeof MatrixSpec>;
/** A test matrix as written (before validation). */
export type MatrixSpecInput = z.input<typeof MatrixSpec>;
