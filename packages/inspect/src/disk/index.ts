/** Disk-level inspection: protective MBR, GPT, FAT ESP, PE/COFF boot files and the IMG-* findings. */
export { DiskInspectionError, isDiskInspectionError, type DiskErrorCode } from './disk.errors.js';
export { crc32, formatGuid, escapeText } from './bytes.util.js';
export { parseMbr, type MbrFacts, type MbrEntry, type MbrIssue, type MbrKind } from './mbr.parser.js';
export {
  readGpt, ESP_TYPE_GUID, MAX_GPT_ENTRIES, MAX_GPT_ARRAY_BYTES, PARTITION_TYPE_NAMES,
  type GptFacts, type GptHeaderCheck, type GptHeaderFields, type GptPartition, type GptProblem, type GptProblemCode, type GptRejectedEntry,
} from './gpt.parser.js';
export { FatVolume, parseBpb, parseDirectory, FAT_LIMITS, type FatBpb, type FatDirEntry, type FatTree, type FatTreeEntry, type FatTreeIssue, type FatType } from './fat.reader.js';
export { parsePe, MAX_PE_SECTIONS, PE_MACHINES, PE_SUBSYSTEMS, type PeFacts, type PeSection } from './pe.parser.js';
export {
  inspectDisk, scanConfig, REMOVABLE_PATHS, EXPECTED_PE,
  type BootArch, type BootFileFacts, type DiskInspection, type DiskInspectOptions, type EspFacts, type EspTreeLine, type ErrorFact, type LoaderConfigFacts, type LoaderConfigHit,
} from './img.findings.js';
