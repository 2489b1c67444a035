import { Capability } from '@bootfarm/contracts';
import { backendsAvailable, type HostCapabilities } from '@bootfarm/emulator';

/** The backends this worker has a launcher for (Xen guests need the Xen launcher, not wired into the worker yet). */
export const LAUNCHABLE_BACKENDS = ['qemu-tcg', 'qemu-kvm'] as const;

/** Which queues a worker consumes, and why it cannot serve some of them. */
export interface ServedCapabilities {
  /** Queues consumed (after the health boot says good). */
  serve: Capability[];
  /** Requested or probed capabilities this host cannot run, with the reasons; the health boot fails on them. */
  unrunnable: { capability: Capability; reasons: string[] }[];
}

/**
 * What to serve: every capability the host probe finds runnable (and the worker can launch), or,
 * when `requested` is given, exactly those; a requested one the host cannot run is kept in
 * `unrunnable` so that the health boot fails visibly instead of the worker silently serving less.
 */
export function resolveServedCapabilities(host: HostCapabilities, requested: readonly Capability[] | undefined): ServedCapabilities {
  const availability = backendsAvailable(host);
  const reasonsOf = (c: Capability): string[] => {
    if (!LAUNCHABLE_BACKENDS.some((b) => c.startsWith(`${b}:`))) return [`this worker has no launcher for ${c}`];
    if (availability.available.includes(c)) return [];
    return [...(availability.unavailable.find((u) => u.capability === c)?.reasons ?? [`${c} is not runnable on this host`])];
  };
  const candidates = requested ? [...new Set(requested)] : Capability.options.filter((c) => reasonsOf(c).length === 0);
  const unrunnable = candidates.flatMap((capability) => {
    const reasons = reasonsOf(capability);
    return reasons.length > 0 ? [{ capability, reasons }] : [];
  });
  return { serve: candidates.filter((c) => !unrunnable.some((u) => u.capability === c)), unrunnable };
}
