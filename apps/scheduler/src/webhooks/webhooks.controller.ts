import { CreateWebhookRequest, type CreatedWebhookDto, type WebhookDeliveryDto, type WebhookDto } from '@bootfarm/contracts';
import { WebhookRepository } from '@bootfarm/db';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { BadRequestError, NotFoundError } from '../common/errors.js';
import { parseId } from '../common/ids.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { VendorContext } from '../vendors/vendor.context.js';
import { assertDeliverableUrl, WebhookUrlRefusedError } from './webhook-url.policy.js';

const DeliveriesQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });

/** The calling vendor's webhooks and their delivery log (an admin sees every vendor's). */
@ApiTags('webhooks')
@Controller('api/webhooks')
export class WebhooksController {
  constructor(
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
    private readonly hooks: WebhookRepository,
    private readonly vendor: VendorContext,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Subscribe a URL to events; the answer carries the signing secret, shown once' })
  async create(@Body(new ZodPipe(CreateWebhookRequest)) body: z.output<typeof CreateWebhookRequest>): Promise<CreatedWebhookDto> {
    try {
      await assertDeliverableUrl(body.url, { allowPrivate: this.config.WEBHOOK_ALLOW_PRIVATE_HOSTS });
    } catch (err) {
      if (err instanceof WebhookUrlRefusedError) throw new BadRequestError(`webhook url refused: ${err.message}`);
      throw err;
    }
    const secret = `bfwh_${randomBytes(32).toString('base64url')}`;
    const hook = await this.hooks.create({ vendorId: this.vendor.vendorId, url: body.url, events: body.events, secret });
    return { ...hook, secret };
  }

  @Get()
  @ApiOperation({ summary: 'Webhooks (without their secrets)' })
  list(): Promise<WebhookDto[]> {
    return this.hooks.list(this.vendor.scope);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a webhook and its delivery log' })
  async remove(@Param('id') id: string): Promise<void> {
    const hookId = parseId(id, 'webhook');
    if (!(await this.hooks.delete(this.vendor.scope, hookId))) throw new NotFoundError(`webhook ${hookId} not found`);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: 'The delivery log, newest first: status, attempts, the last HTTP status or error' })
  async deliveries(@Param('id') id: string, @Query(new ZodPipe(DeliveriesQuery)) q: z.output<typeof DeliveriesQuery>): Promise<WebhookDeliveryDto[]> {
    const hookId = parseId(id, 'webhook');
    const list = await this.hooks.deliveries(this.vendor.scope, hookId, q.limit);
    if (!list) throw new NotFoundError(`webhook ${hookId} not found`);
    return list;
  }
}
