import { ImageDto, UploadImageQuery } from '@bootfarm/contracts';
import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { BadRequestError, PayloadTooLargeError } from '../common/errors.js';
import { parseId } from '../common/ids.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { Roles } from '../auth/roles.decorator.js';
import { RateLimit } from '../auth/rate-limit.js';
import { ImagesService } from './images.service.js';
import { Inject } from '@nestjs/common';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';

/** Image uploads (the request body is the raw image, streamed) and downloads by id. */
@ApiTags('images')
@Controller('api/images')
export class ImagesController {
  constructor(
    private readonly images: ImagesService,
    @Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig,
  ) {}

  @Post()
  @RateLimit('uploads')
  @ApiOperation({ summary: 'Upload a disk image (body: the raw bytes, application/octet-stream)' })
  async upload(
    @Query(new ZodPipe(UploadImageQuery)) query: UploadImageQuery,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ImageDto> {
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('application/octet-stream')) {
      throw new BadRequestError('send the image bytes as the body with Content-Type: application/octet-stream');
    }
    // A truthful Content-Length over the cap is refused before reading a byte.
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > this.config.UPLOAD_MAX_BYTES) {
      throw new PayloadTooLargeError(`the upload exceeds the limit of ${this.config.UPLOAD_MAX_BYTES} bytes`);
    }
    if (declared > 0) await this.images.assertRoomFor(declared);
    const { image, created } = await this.images.upload(req, query);
    res.status(created ? 201 : 200);
    return image;
  }

  @Get(':id')
  @ApiOperation({ summary: 'One image' })
  get(@Param('id') id: string): Promise<ImageDto> {
    return this.images.get(parseId(id, 'image'));
  }

  @Get(':id/content')
  @Roles('vendor', 'admin', 'worker')
  @ApiOperation({ summary: "The image bytes (workers fetch any vendor's images by id and verify the sha256; a vendor only its own)" })
  async content(@Param('id') id: string, @Res() res: Response): Promise<void> {
    const { image, stream } = await this.images.content(parseId(id, 'image'));
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(image.sizeBytes));
    res.setHeader('X-Image-Sha256', image.sha256);
    await pipeline(stream, res);
  }
}
