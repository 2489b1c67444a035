import { CreateRunRequest, RunStatus, RunTrigger, type RunDto, type RunListDto } from '@bootfarm/contracts';
import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { RateLimit } from '../auth/rate-limit.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { parseId } from '../common/ids.js';
import { RunsService } from './runs.service.js';

const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(200).optional(),
  status: RunStatus.optional(),
  trigger: RunTrigger.optional(),
  /** Runs holding an image whose name contains this (case-insensitive). */
  imageName: z.string().trim().max(200).optional().transform((v) => v || undefined),
});

/** Runs of the calling vendor (an admin reads every vendor's). */
@ApiTags('runs')
@Controller('api/runs')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Post()
  @RateLimit('runs')
  @ApiOperation({ summary: 'Create a run for an uploaded image and enqueue its cells' })
  create(@Body(new ZodPipe(CreateRunRequest)) body: z.output<typeof CreateRunRequest>): Promise<RunDto> {
    return this.runs.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'Runs, newest first (keyset pagination with `cursor`), optionally by status, trigger or image name' })
  list(@Query(new ZodPipe(ListQuery)) query: z.output<typeof ListQuery>): Promise<RunListDto> {
    return this.runs.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One run with its cells and their results' })
  get(@Param('id') id: string): Promise<RunDto> {
    return this.runs.get(parseId(id, 'run'));
  }
}
