import { MergeSignatureRequest, SignatureKind, type HistoryResultListDto, type SignatureDto, type SignatureListDto } from '@bootfarm/contracts';
import { SignatureRepository } from '@bootfarm/db';
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Roles } from '../auth/roles.decorator.js';
import { NotFoundError } from '../common/errors.js';
import { parseId } from '../common/ids.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { VendorContext } from '../vendors/vendor.context.js';

const ListQuery = z.strictObject({
  kind: SignatureKind.optional(),
  failureClass: z.string().max(60).optional(),
  q: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional(),
});
const PageQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().max(200).optional() });

/** Failure signatures: the same failure grouped across images, vendors and platforms (a vendor sees its own occurrences). */
@ApiTags('history')
@Controller('api/signatures')
export class SignaturesController {
  constructor(
    private readonly signatures: SignatureRepository,
    private readonly vendor: VendorContext,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Signatures, most recently seen first, with counts, backends and a 30-day sparkline' })
  list(@Query(new ZodPipe(ListQuery)) q: z.output<typeof ListQuery>): Promise<SignatureListDto> {
    return this.signatures.list(this.vendor.scope, q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One signature: aliases, affected images, vendors and platform axes' })
  async get(@Param('id') id: string): Promise<SignatureDto> {
    const found = await this.signatures.find(this.vendor.scope, parseId(id, 'signature'));
    if (!found) throw new NotFoundError(`signature ${id} not found`);
    return found;
  }

  @Get(':id/occurrences')
  @ApiOperation({ summary: "A signature's occurrences, newest first (keyset pagination with `cursor`)" })
  async occurrences(@Param('id') id: string, @Query(new ZodPipe(PageQuery)) q: z.output<typeof PageQuery>): Promise<HistoryResultListDto> {
    await this.get(id);
    return this.signatures.occurrences(this.vendor.scope, id, q);
  }

  @Post(':id/merge')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({ summary: 'Fold another signature into this one (its titles become aliases of this one)' })
  async merge(@Param('id') id: string, @Body(new ZodPipe(MergeSignatureRequest)) body: z.output<typeof MergeSignatureRequest>): Promise<SignatureDto> {
    if (!(await this.signatures.merge(parseId(id, 'signature'), body.from))) throw new NotFoundError(`signature ${id} or ${body.from} not found`);
    return this.get(id);
  }
}
