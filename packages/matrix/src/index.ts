/**
 * @bootfarm/matrix: declarative test matrices. A {@link MatrixSpec} (preset, axes, include,
 * exclude) expands into sorted, unique cells, each judged by the emulator's profile validator.
 * Pure: no I/O.
 */
export * from './matrix.schema.js';
export * from './matrix.errors.js';
export * from './matrix.presets.js';
export * from './matrix.expand.js';
