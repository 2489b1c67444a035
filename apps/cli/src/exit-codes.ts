/** Exit codes a CI can act on. */
export const ExitCode = {
  /** Every cell booted and the chosen profile's required verdicts pass. */
  Ok: 0,
  /** A compliance failure (a must failed) or a boot failure (the image did not boot somewhere). */
  Failed: 1,
  /** An infrastructure problem, a usage error, an unreachable server, or no result at all. */
  NoResult: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that ends the command with a message saying what to do, and its exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.NoResult,
  ) {
    super(message);
  }
}
