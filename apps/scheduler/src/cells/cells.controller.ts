import type { ConsoleDto } from '@bootfarm/contracts';
import { BootRepository, RunRepository } from '@bootfarm/db';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { NotFoundError } from '../common/errors.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { parseId } from '../common/ids.js';
import { VendorContext } from '../vendors/vendor.context.js';

const ConsoleQuery = z.strictObject({
  attempt: z.coerce.number().int().min(1).optional(),
  afterSeq: z.coerce.number().int().min(-1).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});

/** A cell's console, paged by line sequence number (poll with afterSeq to follow a live boot). */
@ApiTags('cells')
@Controller('api/cells')
export class CellsController {
  constructor(
    private readonly boots: BootRepository,
    private readonly runs: RunRepository,
    private readonly vendor: VendorContext,
  ) {}

  @Get(':id/console')
  @ApiOperation({ summary: "Console lines of the cell's latest attempt (or ?attempt=N)" })
  async console(@Param('id') id: string, @Query(new ZodPipe(ConsoleQuery)) q: z.output<typeof ConsoleQuery>): Promise<ConsoleDto> {
    const cellId = parseId(id, 'cell');
    if ((await this.runs.cellVendor(cellId)) !== this.vendor.vendorId) throw new NotFoundError(`cell ${cellId} not found`);
    return this.boots.console(cellId, { attempt: q.attempt, afterSeq: q.afterSeq, limit: q.limit });
  }
}
