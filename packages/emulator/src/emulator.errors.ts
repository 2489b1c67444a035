/**
 * Errors the emulator core throws. A boot's *outcome* (passed, failed, timeout, canceled,
 * infrastructure_error) is never an exception: it is a `BootReport`. These errors mean the
 * caller asked for something this backend cannot do at all, so the boot never started.
 */

/** Stable codes of the emulator's errors. */
export const EmulatorErrorCode = {
  ProfileNotSupported: 'PROFILE_NOT_SUPPORTED',
  BootRequestInvalid: 'BOOT_REQUEST_INVALID',
} as const;
/** Stable codes of the emulator's errors. */
export type EmulatorErrorCode = (typeof EmulatorErrorCode)[keyof typeof EmulatorErrorCode];

/** Base class of every error the emulator throws. */
export abstract class EmulatorError extends Error {
  /** Stable, machine-readable code (never renamed). */
  abstract readonly code: EmulatorErrorCode;
}

/** The backend cannot run this VM profile (e.g. U-Boot or KVM asked of the QEMU TCG backend). */
export class ProfileNotSupportedError extends EmulatorError {
  readonly code = EmulatorErrorCode.ProfileNotSupported;
  override readonly name = 'ProfileNotSupportedError';
  /**
   * @param backend - id of the backend that refused
   * @param problems - every reason the profile was refused, one per entry
   */
  constructor(
    readonly backend: string,
    readonly problems: readonly string[],
  ) {
    super(`backend ${backend} cannot run this profile: ${problems.join('; ')}`);
  }
}

/** The boot request itself is malformed (relative paths, non-positive timeouts, unknown image format). */
export class BootRequestInvalidError extends EmulatorError {
  readonly code = EmulatorErrorCode.BootRequestInvalid;
  override readonly name = 'BootRequestInvalidError';
  /** @param problems - every problem found, one per entry */
  constructor(readonly problems: readonly string[]) {
    super(`invalid boot request: ${problems.join('; ')}`);
  }
}
