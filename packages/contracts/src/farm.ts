import { z } from 'zod';
import { backendFor, type Backend, type VmProfile } from './profile.js';

// The farm's moving parts: capability queues, workers and their health, callers and their roles.
// WARNING: queue names and stored values are persisted: add new ones, never rename.

/** A queue capability: `<backend>:<guest arch>`. A worker serves the ones its host can run. */
export const Capability = z.enum(['qemu-tcg:aarch64', 'qemu-tcg:arm', 'qemu-kvm:aarch64', 'qemu-kvm:arm', 'xen:aarch64']);
export type Capability = z.infer<typeof Capability>;

/**
 * The capability a cell's profile needs. A profile no backend can run (AArch32 under Xen) names
 * a capability that is not in {@link Capability}: such cells are not applicable and never queued.
 */
export function capabilityFor(p: VmProfile): `${Backend}:${VmProfile['arch']}` {
  return `${backendFor(p)}:${p.arch}`;
}

/** The BullMQ queue of a capability (BullMQ forbids `:` in queue names). */
export function bootQueueName(capability: Capability): string {
  return `boot.${capability.replace(':', '.')}`;
}

/**
 * A worker's health, as in LAVA: `good` takes vendor work; an infrastructure failure makes it
 * `unknown` until it boots the known-good probe image (`good` again, or `bad` and out of
 * rotation); `maintenance` is set by an operator and takes nothing.
 */
export const WorkerHealth = z.enum(['good', 'unknown', 'bad', 'maintenance']);
export type WorkerHealth = z.infer<typeof WorkerHealth>;

/** A worker's liveness: `offline` when it said so or its heartbeat is older than the limit. */
export const WorkerState = z.enum(['online', 'draining', 'offline']);
export type WorkerState = z.infer<typeof WorkerState>;

/** What an API token may do: an admin sees every vendor; a worker fetches images. */
export const Role = z.enum(['admin', 'vendor', 'worker']);
export type Role = z.infer<typeof Role>;

/** GET /api/workers. */
export const WorkerDto = z.object({
  id: z.string(),
  host: z.string(),
  capabilities: z.array(Capability),
  concurrency: z.number().int(),
  health: WorkerHealth,
  healthReason: z.string().nullable(),
  healthChangedAt: z.iso.datetime(),
  state: WorkerState,
  startedAt: z.iso.datetime(),
  lastHeartbeatAt: z.iso.datetime(),
});
export type WorkerDto = z.infer<typeof WorkerDto>;
