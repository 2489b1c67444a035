import { MatrixSpec, type NightlySummaryDto, type NightlyTrendDto } from '@bootfarm/contracts';
import { NightlyRepository } from '@bootfarm/db';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Roles } from '../auth/roles.decorator.js';
import { NotFoundError } from '../common/errors.js';
import { parseId } from '../common/ids.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { VendorContext } from '../vendors/vendor.context.js';
import { NightlyService, utcDate, type NightOutcome } from './nightly.service.js';

const RegisterBody = z.strictObject({ matrix: MatrixSpec });
const TriggerBody = z.strictObject({ date: z.iso.date().optional() }).default({});
const TrendQuery = z.strictObject({ days: z.coerce.number().int().min(1).max(366).default(30) });

/** Nightly runs: vendors register their images; an admin may trigger (or replay) a night. */
@ApiTags('nightly')
@Controller('api')
export class NightlyController {
  constructor(
    private readonly nightly: NightlyService,
    private readonly nights: NightlyRepository,
    private readonly vendor: VendorContext,
  ) {}

  @Get('nightly')
  @ApiOperation({ summary: 'The last nights, newest first: pass rate per backend, mean time per boot stage, regressions opened' })
  trends(@Query(new ZodPipe(TrendQuery)) q: z.output<typeof TrendQuery>): Promise<NightlyTrendDto> {
    return this.nights.trends(this.vendor.scope, q.days);
  }

  @Get('nightly/:date')
  @ApiOperation({ summary: 'One night by vendor: what regressed, what was fixed, what is flaky (complete once its re-runs have ended)' })
  async summary(@Param('date') date: string): Promise<NightlySummaryDto> {
    const night = z.iso.date().safeParse(date);
    const found = night.success ? await this.nights.summary(this.vendor.scope, night.data) : null;
    if (!found) throw new NotFoundError(`night ${date.slice(0, 20)} not found`);
    return found;
  }

  @Put('images/:id/nightly')
  @ApiOperation({ summary: 'Re-run one of your images on this matrix every night' })
  register(@Param('id') id: string, @Body(new ZodPipe(RegisterBody)) body: z.output<typeof RegisterBody>) {
    return this.nightly.register(this.vendor.vendorId, parseId(id, 'image'), body.matrix);
  }

  @Delete('images/:id/nightly')
  @HttpCode(204)
  @ApiOperation({ summary: 'Stop the nightly runs of one of your images' })
  async unregister(@Param('id') id: string): Promise<void> {
    await this.nightly.unregister(this.vendor.vendorId, parseId(id, 'image'));
  }

  @Post('nightly/trigger')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: "Create a night's runs now (default: today, UTC); a night already booked creates nothing" })
  trigger(@Body(new ZodPipe(TriggerBody)) body: z.output<typeof TriggerBody>): Promise<NightOutcome> {
    return this.nightly.runNight(body.date ?? utcDate(new Date()));
  }
}
