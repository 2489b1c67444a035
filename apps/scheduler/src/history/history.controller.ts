import { RegressionState, SearchQuery, type ConsoleCompareDto, type DifferentialDto, type ImageHistoryDto, type RegressionDto, type RegressionListDto, type SearchResultDto } from '@bootfarm/contracts';
import { HistoryRepository, RunRepository, SearchRepository } from '@bootfarm/db';
import { compareConsoles, differential } from '@bootfarm/history';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { BadRequestError, NotFoundError } from '../common/errors.js';
import { parseId } from '../common/ids.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { VendorContext } from '../vendors/vendor.context.js';

const RegressionQuery = z.strictObject({
  state: RegressionState.optional(),
  image: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional(),
});
const ImageQuery = z.strictObject({ image: z.uuid().optional() });
const HistoryQuery = z.strictObject({ perCell: z.coerce.number().int().min(1).max(100).default(30) });
const CompareQuery = z.strictObject({ a: z.uuid(), b: z.uuid() });

/** History: regressions, an image's timeline, the cross-hypervisor differential, console comparison and search. */
@ApiTags('history')
@Controller('api')
export class HistoryController {
  constructor(
    private readonly history: HistoryRepository,
    private readonly search: SearchRepository,
    private readonly runs: RunRepository,
    private readonly vendor: VendorContext,
  ) {}

  @Get('regressions')
  @ApiOperation({ summary: 'Regressions newest first: checking (re-runs on the way), confirmed, flaky or fixed' })
  regressions(@Query(new ZodPipe(RegressionQuery)) q: z.output<typeof RegressionQuery>): Promise<RegressionListDto> {
    return this.history.regressions(this.vendor.scope, { state: q.state, imageId: q.image, cursor: q.cursor, limit: q.limit });
  }

  @Get('regressions/:id')
  @ApiOperation({ summary: 'One regression with its re-run checks' })
  async regression(@Param('id') id: string): Promise<RegressionDto> {
    const found = await this.history.regression(this.vendor.scope, parseId(id, 'regression'));
    if (!found) throw new NotFoundError(`regression ${id} not found`);
    return found;
  }

  @Get('images/:id/history')
  @ApiOperation({ summary: "An image's cells over time: counters, flake rate, latest results per cell, regressions" })
  async imageHistory(@Param('id') id: string, @Query(new ZodPipe(HistoryQuery)) q: z.output<typeof HistoryQuery>): Promise<ImageHistoryDto> {
    const found = await this.history.imageHistory(this.vendor.scope, parseId(id, 'image'), { perCell: q.perCell });
    if (!found) throw new NotFoundError(`image ${id} not found`);
    return found;
  }

  @Get('runs/:id/differential')
  @ApiOperation({ summary: 'Where one image of a run fails, in plain words ("fails only on Xen"), with its cells grouped by outcome' })
  async differential(@Param('id') id: string, @Query(new ZodPipe(ImageQuery)) q: z.output<typeof ImageQuery>): Promise<DifferentialDto> {
    const run = await this.runs.find(this.vendor.scope, parseId(id, 'run'));
    if (!run) throw new NotFoundError(`run ${id} not found`);
    const image = q.image ? run.images.find((i) => i.id === q.image) : run.images.length === 1 ? run.images[0] : undefined;
    if (!image) {
      throw q.image
        ? new NotFoundError(`image ${q.image} is not in run ${run.id}`)
        : new BadRequestError(`run ${run.id} holds ${run.images.length} images: choose one with ?image= (${run.images.map((i) => `${i.id} ${i.name}`).join(', ')})`);
    }
    const cells = (await this.search.differentialCells(this.vendor.scope, run.id, image.id)) ?? [];
    const { compliance: _, ...ref } = image;
    return { runId: run.id, image: ref, ...differential(cells) };
  }

  @Get('compare')
  @ApiOperation({ summary: 'Two cells (or one cell in two runs) side by side: consoles aligned by boot stage, the first divergence with the lines around it' })
  async compare(@Query(new ZodPipe(CompareQuery)) q: z.output<typeof CompareQuery>): Promise<ConsoleCompareDto> {
    const [a, b] = await Promise.all([this.search.compareSide(this.vendor.scope, q.a), this.search.compareSide(this.vendor.scope, q.b)]);
    if (!a) throw new NotFoundError(`cell ${q.a} not found`);
    if (!b) throw new NotFoundError(`cell ${q.b} not found`);
    const side = (s: NonNullable<typeof a>) => ({ cellId: s.cellId, runId: s.runId, key: s.key, outcome: s.outcome as ConsoleCompareDto['a']['outcome'], lines: s.lines.length });
    return { a: side(a), b: side(b), ...compareConsoles(a, b) };
  }

  @Get('search')
  @ApiOperation({ summary: 'Boot results by vendor, image, platform axes, outcome, stage, failure class, signature, date; with `q`, console text (substring, case-insensitive)' })
  find(@Query(new ZodPipe(SearchQuery)) q: z.output<typeof SearchQuery>): Promise<SearchResultDto> {
    // A vendor searches its own results; the vendor filter is for admins.
    return this.search.search(this.vendor.scope, { ...q, vendor: this.vendor.role === 'admin' ? q.vendor : undefined });
  }
}
