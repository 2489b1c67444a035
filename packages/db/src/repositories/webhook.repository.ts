import type { WebhookDeliveryDto, WebhookDto } from '@bootfarm/contracts';
import type { Prisma, PrismaClient } from '../client.js';
import { toDeliveryDto, toWebhookDto } from '../mappers.js';
import { vendorWhere, type VendorScope } from './scope.js';

/** What sending one delivery needs. */
export interface DeliveryWork {
  id: string;
  event: string;
  status: string;
  payload: unknown;
  url: string;
  secret: string;
}

/** Vendors' webhooks and the delivery log. */
export class WebhookRepository {
  constructor(private readonly db: PrismaClient) {}

  async create(input: { vendorId: string; url: string; events: string[]; secret: string }): Promise<WebhookDto> {
    return toWebhookDto(await this.db.webhook.create({ data: input }));
  }

  async list(scope: VendorScope): Promise<WebhookDto[]> {
    const rows = await this.db.webhook.findMany({ where: vendorWhere(scope), orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    return rows.map(toWebhookDto);
  }

  /** False when there is no such webhook in scope (another vendor's is not found too). */
  async delete(scope: VendorScope, id: string): Promise<boolean> {
    const { count } = await this.db.webhook.deleteMany({ where: { id, ...vendorWhere(scope) } });
    return count === 1;
  }

  /** A webhook's deliveries, newest first; null when the webhook is not in scope. */
  async deliveries(scope: VendorScope, webhookId: string, limit: number): Promise<WebhookDeliveryDto[] | null> {
    const hook = await this.db.webhook.findFirst({ where: { id: webhookId, ...vendorWhere(scope) }, select: { id: true } });
    if (!hook) return null;
    const rows = await this.db.webhookDelivery.findMany({ where: { webhookId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit });
    return rows.map(toDeliveryDto);
  }

  /**
   * Records `event` for every webhook of the vendor subscribed to it, once per webhook and
   * `eventKey` (raising the same event again records nothing). Returns the new deliveries' ids.
   */
  async recordEvent(vendorId: string, event: string, eventKey: string, payload: unknown): Promise<string[]> {
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      INSERT INTO webhook_delivery (id, webhook_id, event, event_key, payload, status)
      SELECT gen_random_uuid(), w.id, ${event}, ${eventKey}, ${JSON.stringify(payload)}::jsonb, 'pending'
      FROM webhook w WHERE w.vendor_id = ${vendorId}::uuid AND ${event} = ANY (w.events)
      ON CONFLICT (webhook_id, event_key) DO NOTHING
      RETURNING id`;
    return rows.map((r) => r.id);
  }

  async work(deliveryId: string): Promise<DeliveryWork | null> {
    const d = await this.db.webhookDelivery.findUnique({ where: { id: deliveryId }, include: { webhook: { select: { url: true, secret: true } } } });
    return d && { id: d.id, event: d.event, status: d.status, payload: d.payload, url: d.webhook.url, secret: d.webhook.secret };
  }

  /** Logs one attempt; `status` is the delivery's state after it. */
  async noteAttempt(deliveryId: string, attempt: { status: 'pending' | 'delivered' | 'failed'; statusCode: number | null; error: string | null }): Promise<void> {
    const now = new Date();
    await this.db.webhookDelivery.update({
      where: { id: deliveryId },
      data: {
        status: attempt.status,
        attempts: { increment: 1 },
        lastStatusCode: attempt.statusCode,
        lastError: attempt.error?.slice(0, 1000) ?? null,
        lastAttemptAt: now,
        ...(attempt.status === 'delivered' && { deliveredAt: now }),
      } satisfies Prisma.WebhookDeliveryUpdateInput,
    });
  }

  /** Pending deliveries created before `before`: the ones to hand to the queue again (Redis may have lost them). */
  async pending(before: Date, limit: number): Promise<string[]> {
    const rows = await this.db.webhookDelivery.findMany({ where: { status: 'pending', createdAt: { lt: before } }, select: { id: true }, orderBy: { createdAt: 'asc' }, take: limit });
    return rows.map((r) => r.id);
  }
}
