/**
 * @bootfarm/db — the only package that talks to PostgreSQL: the Prisma client factory, thin
 * typed repositories that return contract DTOs, and the offline migrator.
 */
export { createPrismaClient, isNotFound, isRetriableDbError, isUniqueViolation, PrismaClient } from './client.js';
export { ImageRepository, StorageQuotaExceededError } from './repositories/image.repository.js';
export { ALL_VENDORS, inScope, vendorWhere, type AllVendors, type VendorScope } from './repositories/scope.js';
export { TokenRepository, TOKEN_PATTERN, hashTokenSecret, newTokenSecret, type Caller, type TokenInfo } from './repositories/token.repository.js';
export { VendorRepository, VendorExistsError, type VendorRecord } from './repositories/vendor.repository.js';
export { InvalidCursorError } from './repositories/cursor.js';
export { RunRepository, type RunListFilter, type ComplianceSources, type ImageComplianceSources, type RunFlowCells, type RunningCell } from './repositories/run.repository.js';
export type { RunPlan } from './repositories/run.plan.js';
export { NightlyRepository, type NightlyImage } from './repositories/nightly.repository.js';
export { BootRepository, type AttemptTicket, type CellOutcome, type CellWork } from './repositories/boot.repository.js';
export { WorkerRepository, type StoredHealth, type WorkerRegistration } from './repositories/worker.repository.js';
export * from './migrate/index.js';
export { OpsRepository, type BootCount, type CellProgress, type DurationHistogram, type WorkerCount } from './repositories/ops.repository.js';
export { CONSOLE_CHANNEL, ConsoleListener, ConsoleNotificationError, notifyCellChanged, notifyConsoleAppended, parseConsoleAppended, type ConsoleAppended, type ConsoleListenerOptions } from './console/console.channel.js';
export { CHUNK_LINES, ConsoleStore, chunkLines, type StoredLine } from './console/console.store.js';
export { WebhookRepository, type DeliveryWork } from './repositories/webhook.repository.js';
export { HistoryRepository, type RecordOptions, type RecordOutcome } from './repositories/history.repository.js';
export { SignatureRepository, type SignatureFilter } from './repositories/signature.repository.js';
export { SearchRepository, type CompareSideRecord, type SearchFilter } from './repositories/search.repository.js';
