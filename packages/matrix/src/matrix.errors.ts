/** Typed errors of the matrix expansion. */

/**
 * The matrix would have more cells than allowed. Thrown before any cell is built: the size of
 * the axes' product is computed first (`stage: 'product'`); `stage: 'cells'` means the product
 * fitted but the product after `exclude` plus the `include` entries does not.
 */
export class MatrixTooLargeError extends Error {
  override readonly name = 'MatrixTooLargeError';
  constructor(
    /** The number of cells found (at `stage: 'product'`, the size of the axes' product). */
    readonly cells: number,
    /** The limit in force. */
    readonly limit: number,
    readonly stage: 'product' | 'cells',
    /** Distinct values per axis (at `stage: 'product'`). */
    readonly axisSizes: Readonly<Record<string, number>> = {},
  ) {
    const dims = Object.entries(axisSizes).filter(([, n]) => n > 1).map(([a, n]) => `${a} ${n}`).join(' × ');
    super(
      stage === 'product'
        ? `the matrix's axes multiply to ${cells} cells (${dims || 'one value each'}), more than the limit of ${limit}`
        : `the matrix has ${cells} cells after exclude and include, more than the limit of ${limit}`,
    );
  }
}
