import type { CellDetailDto, ConsoleDto } from '@bootfarm/contracts';
import { BootRepository, inScope, RunRepository } from '@bootfarm/db';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { NotFoundError } from '../common/errors.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { parseId } from '../common/ids.js';
import { VendorContext } from '../vendors/vendor.context.js';
import { WorkersService } from '../workers/workers.service.js';

const ConsoleQuery = z.strictObject({
  attempt: z.coerce.number().int().min(1).optional(),
  afterSeq: z.coerce.number().int().min(-1).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});

/** One cell, and its console paged by line sequence number (poll with afterSeq to follow a live boot). */
@ApiTags('cells')
@Controller('api/cells')
export class CellsController {
  constructor(
    private readonly boots: BootRepository,
    private readonly runs: RunRepository,
    private readonly vendor: VendorContext,
    private readonly workers: WorkersService,
  ) {}

  @Get(':id')
  @ApiOperation({ summary: "One cell: its run and image, the result with the analyzer's evidence (stage timeline, deciding line) and the requirement verdicts" })
  async get(@Param('id') id: string): Promise<CellDetailDto> {
    const cellId = parseId(id, 'cell');
    const cell = await this.runs.findCell(this.vendor.scope, cellId);
    if (!cell) throw new NotFoundError(`cell ${cellId} not found`);
    return (await this.workers.withWaitingFor({ cells: [cell] })).cells[0]!;
  }

  @Get(':id/console')
  @ApiOperation({ summary: "Console lines of the cell's latest attempt (or ?attempt=N)" })
  async console(@Param('id') id: string, @Query(new ZodPipe(ConsoleQuery)) q: z.output<typeof ConsoleQuery>): Promise<ConsoleDto> {
    const cellId = parseId(id, 'cell');
    const owner = await this.runs.cellVendor(cellId);
    if (owner === null || !inScope(this.vendor.scope, owner)) throw new NotFoundError(`cell ${cellId} not found`);
    return this.boots.console(cellId, { attempt: q.attempt, afterSeq: q.afterSeq, limit: q.limit });
  }
}
