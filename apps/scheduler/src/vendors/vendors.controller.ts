import { CreateTokenRequest, CreateVendorRequest, type CreatedTokenDto, type VendorDto } from '@bootfarm/contracts';
import { TokenRepository, VendorRepository, type VendorRecord } from '@bootfarm/db';
import { Body, Controller, Get, Header, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { Roles } from '../auth/roles.decorator.js';
import { NotFoundError } from '../common/errors.js';
import { parseId } from '../common/ids.js';
import { ZodPipe } from '../common/zod.pipe.js';

/** Vendors (tenants) and their tokens: operators only. */
@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('api/vendors')
export class VendorsController {
  constructor(
    private readonly vendors: VendorRepository,
    private readonly tokens: TokenRepository,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every vendor, by name' })
  async list(): Promise<VendorDto[]> {
    return (await this.vendors.list()).map(toVendorDto);
  }

  @Post()
  @ApiOperation({ summary: 'Create a vendor (409 when the name is taken)' })
  async create(@Body(new ZodPipe(CreateVendorRequest)) body: CreateVendorRequest): Promise<VendorDto> {
    return toVendorDto(await this.vendors.create(body.name));
  }

  @Post(':id/tokens')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "Create an API token for the vendor; the answer is the only time the secret is shown" })
  async createToken(@Param('id') id: string, @Body(new ZodPipe(CreateTokenRequest)) body: z.output<typeof CreateTokenRequest>): Promise<CreatedTokenDto> {
    const vendorId = parseId(id, 'vendor');
    if (!(await this.vendors.find(vendorId))) throw new NotFoundError(`vendor ${vendorId} not found`);
    const expiresAt = body.expiresInDays === undefined ? null : new Date(Date.now() + body.expiresInDays * 86_400_000);
    const created = await this.tokens.create({ vendorId, role: body.role, name: body.name, expiresAt });
    return { ...created, expiresAt: created.expiresAt?.toISOString() ?? null };
  }
}

function toVendorDto(v: VendorRecord): VendorDto {
  return { id: v.id, name: v.name, createdAt: v.createdAt.toISOString() };
}
