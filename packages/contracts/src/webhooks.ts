import { z } from 'zod';
import { RunStatus, RunTrigger } from './enums.js';
import { RunImageDto } from './api.js';

// Webhooks: a vendor's HTTP endpoints told about its runs, signed so they can trust the body.

/** What a webhook can be told about. `regression` when re-runs confirm a new failure, `nightly.summary` once a night is complete. */
export const WebhookEvent = z.enum(['run.finished', 'regression', 'nightly.summary']);
export type WebhookEvent = z.infer<typeof WebhookEvent>;

/** Body of POST /api/webhooks. */
export const CreateWebhookRequest = z.strictObject({
  /** Where events are POSTed: http or https, no credentials in the URL. */
  url: z.url({ protocol: /^https?$/ }).max(2000),
  events: z.array(WebhookEvent).min(1).refine((e) => new Set(e).size === e.length, 'events must be distinct'),
});
export type CreateWebhookRequest = z.input<typeof CreateWebhookRequest>;

export const WebhookDto = z.object({
  id: z.uuid(),
  url: z.string(),
  events: z.array(WebhookEvent),
  createdAt: z.iso.datetime(),
});
export type WebhookDto = z.infer<typeof WebhookDto>;

/** The answer to POST /api/webhooks: the signing secret is shown this once. */
export const CreatedWebhookDto = WebhookDto.extend({ secret: z.string() });
export type CreatedWebhookDto = z.infer<typeof CreatedWebhookDto>;

export const WebhookDeliveryStatus = z.enum(['pending', 'delivered', 'failed']);

/** One event's delivery to one webhook, with what its last attempt got. */
export const WebhookDeliveryDto = z.object({
  id: z.uuid(),
  event: WebhookEvent,
  /** What the event is about (`run.finished:<run id>`): a webhook gets each key once. */
  eventKey: z.string(),
  status: WebhookDeliveryStatus,
  attempts: z.number().int().nonnegative(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.iso.datetime(),
  lastAttemptAt: z.iso.datetime().nullable(),
  deliveredAt: z.iso.datetime().nullable(),
});
export type WebhookDeliveryDto = z.infer<typeof WebhookDeliveryDto>;

/** Body of a `run.finished` event: the run's outcome and each image's verdicts. */
export const RunFinishedEvent = z.object({
  event: z.literal('run.finished'),
  run: z.object({
    id: z.uuid(),
    status: RunStatus,
    trigger: RunTrigger,
    createdAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
    images: z.array(RunImageDto),
    /** Cells per status (passed, failed, error, not_applicable, ...). */
    cells: z.record(z.string(), z.number().int()),
  }),
});
export type RunFinishedEvent = z.infer<typeof RunFinishedEvent>;

/** Headers of every delivery. The signature is `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export const WEBHOOK_HEADERS = { event: 'bootfarm-event', delivery: 'bootfarm-delivery', signature: 'bootfarm-signature' } as const;
