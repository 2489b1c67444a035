import type { ByteSource } from './byte-source.js';
import { ImageRejectedError, openImage, type OpenedImage } from './container/index.js';
import { inspectDisk, type DiskInspection } from './disk/index.js';
import type { Finding } from './finding.js';

/** Everything static inspection learns about an image file. */
export interface InspectionReport {
  /** The container format, as detected (equal to the declared one, or the image was rejected). */
  readonly format: 'raw' | 'qcow2';
  readonly fileSize: number;
  /** Size of the disk the guest sees. */
  readonly virtualSize: number;
  /** Architectures declared by the removable-media boot files found in the ESP. */
  readonly architectures: readonly string[];
  /** IMG-* findings, each with its evidence. */
  readonly findings: readonly Finding[];
  readonly container: OpenedImage['facts'];
  readonly disk: Omit<DiskInspection, 'findings'>;
  /** Bytes read from the file: inspection reads metadata only, never the whole disk. */
  readonly bytesRead: number;
}

/** Limits applied to an upload's container. */
export interface InspectionPolicy {
  readonly maxVirtualBytes: number;
}

/**
 * Inspects an image file read-only: container (format, safety, guest view), then partitions,
 * the ESP's filesystem and its boot files, into typed facts and IMG-* findings.
 * Throws ImageRejectedError when the container itself is unacceptable.
 */
export async function inspectImage(path: string, opts: { declaredFormat: 'raw' | 'qcow2'; policy: InspectionPolicy }): Promise<InspectionReport> {
  const opened = await openImage(path, { declaredFormat: opts.declaredFormat, policy: opts.policy });
  try {
    // A corrupt container can also show while the guest view is read (an L2 entry past the end of
    // the file): that rejects the image, it is not a finding about the disk inside.
    const guest = new RejectionTrap(opened.disk);
    const { findings, ...disk } = await inspectDisk(guest);
    if (guest.rejection) throw guest.rejection;
    const container: Finding = {
      id: 'IMG-2',
      check: 'container-format',
      level: 'info',
      message: `${opened.format} container, ${opened.virtualSize} byte virtual disk; every other check reads the disk as the guest sees it`,
      evidence: [{ what: 'container format', value: opened.format }, { what: 'virtual size', value: String(opened.virtualSize) }],
    };
    return {
      format: opened.format,
      fileSize: opened.fileSize,
      virtualSize: opened.virtualSize,
      architectures: disk.architectures,
      findings: [container, ...findings],
      container: opened.facts,
      disk,
      bytesRead: opened.disk.bytesRead,
    };
  } finally {
    await opened.close();
  }
}

/** Passes reads through, remembering the first container rejection a read raised. */
class RejectionTrap implements ByteSource {
  rejection: ImageRejectedError | null = null;

  constructor(private readonly inner: ByteSource) {}

  get size(): number {
    return this.inner.size;
  }

  get bytesRead(): number {
    return this.inner.bytesRead;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    try {
      return await this.inner.read(offset, length);
    } catch (err) {
      if (err instanceof ImageRejectedError) this.rejection ??= err;
      throw err;
    }
  }
}
