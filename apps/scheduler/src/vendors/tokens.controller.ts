import type { MeDto } from '@bootfarm/contracts';
import { ALL_VENDORS, TokenRepository } from '@bootfarm/db';
import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles.decorator.js';
import { NotFoundError } from '../common/errors.js';
import { parseId } from '../common/ids.js';
import { VendorContext } from './vendor.context.js';

/** The caller's identity, and token revocation. */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('api')
export class TokensController {
  constructor(
    private readonly tokens: TokenRepository,
    private readonly vendor: VendorContext,
  ) {}

  @Get('me')
  @Roles('admin', 'vendor', 'worker')
  @ApiOperation({ summary: 'Who this token stands for: its vendor and role' })
  me(): MeDto {
    const { tokenId, role, vendorId, vendorName } = this.vendor.caller;
    return { tokenId, role, vendor: { id: vendorId, name: vendorName } };
  }

  @Delete('tokens/:id')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a token (it answers 401 from now on); revoking twice is a no-op' })
  async revoke(@Param('id') id: string): Promise<void> {
    const tokenId = parseId(id, 'token');
    if (!(await this.tokens.revoke(ALL_VENDORS, tokenId))) throw new NotFoundError(`token ${tokenId} not found`);
  }
}
