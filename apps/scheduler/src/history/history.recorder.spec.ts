// Medium test: real PostgreSQL. What the recorder does after a settle — re-runs enqueued, a
// confirmed regression told once per settle, a night's summary sent only once the night (its
// re-runs included) is complete. The queue and the webhook dispatcher are recording stand-ins:
// their own specs (queue.spec, webhooks.spec) test delivery.
import 'reflect-metadata';
import { defaultProfile, type NightlySummaryDto, type Outcome, type RegressionDto, type VmProfile } from '@bootfarm/contracts';
import { BootRepository, HistoryRepository, ImageRepository, NightlyRepository, type PrismaClient } from '@bootfarm/db';
import { migratedDatabase } from '@bootfarm/db/testing';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SchedulerConfig } from '../config.js';
import type { RunEnqueuer } from '../queue/run.enqueuer.js';
import type { WebhookDispatcher } from '../webhooks/webhook.dispatcher.js';
import { HistoryRecorder } from './history.recorder.js';

const acpi: VmProfile = { ...defaultProfile, hwDescription: 'acpi' };
const dt: VmProfile = { ...defaultProfile, hwDescription: 'dt' };

describe('HistoryRecorder', () => {
  let close: (() => Promise<void>) | undefined;
  let db: PrismaClient;
  let boots: BootRepository;
  let nightly: NightlyRepository;
  let recorder: HistoryRecorder;
  let vendorId: string;
  let imageId: string;
  const enqueued: string[] = [];
  const regressions: RegressionDto[] = [];
  const summaries: NightlySummaryDto[] = [];

  before(async () => {
    ({ db, close } = await migratedDatabase());
    boots = new BootRepository(db);
    nightly = new NightlyRepository(db);
    const images = new ImageRepository(db);
    vendorId = await images.ensureVendor('acme');
    imageId = (await images.record({ vendorId, name: 'nightly', format: 'raw', sha256: 'a'.repeat(64), sizeBytes: 1 })).image.id;
    const enqueuer = { enqueue: async (runId: string) => (enqueued.push(runId), 1) } as unknown as RunEnqueuer;
    const webhooks = {
      regressionConfirmed: async (_vendor: string, r: RegressionDto) => void regressions.push(r),
      nightlySummary: async (_vendor: string, s: NightlySummaryDto) => void summaries.push(s),
    } as unknown as WebhookDispatcher;
    recorder = new HistoryRecorder({ HISTORY_RECHECKS: 1 } as SchedulerConfig, new HistoryRepository(db), nightly, enqueuer, webhooks, db);
  });
  after(() => close?.());

  /** Ends every queued cell of a run with `outcome(key)` through the worker's fenced path. */
  async function finish(runId: string, outcome: (key: string) => Outcome): Promise<void> {
    for (const cell of await db.cell.findMany({ where: { runId, status: 'queued' } })) {
      const ticket = (await boots.startAttempt(cell.id, 'worker-a'))!;
      const o = outcome(cell.key);
      await boots.finishAttempt(ticket, {
        outcome: o, failureClass: o === 'passed' ? null : 'kernel_panic', reason: o, stage: 'os', durationMs: 1000,
        command: {}, commandLine: 'qemu-system-aarch64', firmware: {}, facts: {},
        evidence: { stages: [{ stage: 'os', seq: 0, offsetMs: 10 }], normalisedSignature: o === 'passed' ? null : 'kernel panic: Attempted to kill init!' },
        compliance: null,
      });
    }
  }

  const night = async (date: string, outcome: (key: string) => Outcome) => {
    const { runId } = (await nightly.createRun({ vendorId, imageId, nightlyDate: date, profiles: [acpi, dt], notApplicable: [], timeoutMs: 60_000 }))!;
    await finish(runId, outcome);
    await recorder.recordRun(runId);
    return runId;
  };

  test('a complete night is summarised once its re-runs end; a confirmed regression is told', async () => {
    await night('2026-10-01', () => 'passed');
    assert.deepEqual(summaries.map((s) => [s.date, s.complete]), [['2026-10-01', true]], 'a night with nothing to re-run is complete at once');
    const second = await night('2026-10-02', (key) => (key.includes('/acpi/') ? 'failed' : 'passed'));
    assert.equal(enqueued.length, 1, 'the new failure is re-run');
    assert.equal(summaries.length, 1, 'no summary while the re-run is pending');
    await finish(enqueued[0]!, () => 'failed');
    await recorder.recordRun(enqueued[0]!);
    assert.deepEqual(regressions.map((r) => [r.state, r.openedRunId]), [['confirmed', second]]);
    const last = summaries.at(-1)!;
    assert.equal(last.date, '2026-10-02');
    assert.equal(last.complete, true);
    assert.deepEqual(last.vendors[0]!.regressed.map((g) => g.state), ['confirmed']);
    // A repeated settle raises the same events again (the dispatcher's event keys make them one delivery each).
    await recorder.recordRun(enqueued[0]!);
    assert.deepEqual(regressions.map((r) => r.id), [regressions[0]!.id, regressions[0]!.id]);
  });
});
