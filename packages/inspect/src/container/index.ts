/**
 * Container layer of @bootfarm/inspect: hostile image file in, guest-visible disk out.
 * `openImage` is the entry point; the rest is exported for the disk layer and for tests.
 */
export { ImageRejectedError, isImageRejected, RejectionCode, type RejectionEvidence } from './container.errors.js';
export { FileByteSource, DEFAULT_MAX_READ_BYTES, type FileByteSourceOptions } from './file.source.js';
export {
  checkDetectedFormat,
  detectFormat,
  detectFromBytes,
  DETECT_HEAD_BYTES,
  type AllowedFormat,
  type DetectedFormat,
  type DiskSignature,
  type FormatDetection,
  type FormatMatch,
} from './format.detector.js';
export {
  parseQcow2Header,
  qcow2FeatureNames,
  Qcow2ByteSource,
  QCOW2_MAX_CLUSTER_BITS,
  QCOW2_MAX_GUEST_READ,
  QCOW2_MAX_HEADER_AREA,
  QCOW2_MAX_L1_BYTES,
  QCOW2_MAX_REFTABLE_BYTES,
  QCOW2_MAX_SNAPSHOTS,
  QCOW2_MIN_CLUSTER_BITS,
  type Qcow2ClusterStats,
  type Qcow2Extension,
  type Qcow2Header,
} from './qcow2.reader.js';
export { assertValidPolicy, checkVirtualSize, type ContainerPolicy } from './virtual-size.policy.js';
export {
  openImage,
  type ContainerEvidence,
  type ContainerFacts,
  type OpenedImage,
  type OpenImageOptions,
  type Qcow2Facts,
} from './image.opener.js';
