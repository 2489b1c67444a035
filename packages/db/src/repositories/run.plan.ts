import { backendFor, capabilityFor, profileKey, type VmProfile } from '@bootfarm/contracts';
import type { Prisma } from '../client.js';

/** A run to record: its images (in order) and the cells every one of them gets. */
export interface RunPlan {
  vendorId: string;
  imageIds: string[];
  trigger: 'vendor' | 'nightly' | 'recheck';
  nightlyDate?: string;
  /** The regression a `recheck` run re-tests. */
  regressionId?: string;
  /** The cells to boot, one per profile and image. */
  profiles: VmProfile[];
  /** Profiles the matrix asked for that cannot exist, kept as not_applicable cells with the reason. */
  notApplicable?: { profile: VmProfile; reason: string }[];
  timeoutMs: number;
}

/**
 * Records a run, its images and its cells (images × profiles) inside the caller's transaction:
 * three statements whatever the matrix size (multi-row inserts), so a 10,000-cell run is one
 * round trip per table. Returns the run id.
 */
export async function insertRunPlan(tx: Prisma.TransactionClient, plan: RunPlan): Promise<string> {
  const run = await tx.run.create({
    data: {
      vendorId: plan.vendorId,
      status: 'queued',
      trigger: plan.trigger,
      ...(plan.nightlyDate !== undefined && { nightlyDate: plan.nightlyDate, nightlyImageId: plan.imageIds[0] ?? null }),
      ...(plan.regressionId !== undefined && { regressionId: plan.regressionId }),
    },
    select: { id: true },
  });
  await tx.runImage.createMany({ data: plan.imageIds.map((imageId, position) => ({ runId: run.id, imageId, position })) });
  const cells = [
    ...plan.profiles.map((profile) => ({ profile, status: 'queued', reason: null as string | null })),
    ...(plan.notApplicable ?? []).map(({ profile, reason }) => ({ profile, status: 'not_applicable', reason })),
  ];
  await tx.cell.createMany({
    data: plan.imageIds.flatMap((imageId) =>
      cells.map(({ profile, status, reason }) => ({
        runId: run.id,
        imageId,
        key: profileKey(profile),
        backend: backendFor(profile),
        capability: capabilityFor(profile),
        profile: profile as unknown as Prisma.InputJsonValue,
        status,
        reason,
        timeoutMs: plan.timeoutMs,
      })),
    ),
  });
  return run.id;
}
