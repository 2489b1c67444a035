// The matrix format is part of the API (runs are created with one), so its schema lives in
// @bootfarm/contracts; this package expands it.
export { MATRIX_AXES, MatrixAxes, PartialProfile, MatrixSpec, PresetName, type MatrixAxis, type MatrixSpecInput } from '@bootfarm/contracts';
