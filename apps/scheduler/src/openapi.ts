import * as contracts from '@bootfarm/contracts';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { z } from 'zod';

const schemas = {
  ImageDto: contracts.ImageDto,
  UploadImageQuery: contracts.UploadImageQuery,
  CreateRunRequest: contracts.CreateRunRequest,
  RunDto: contracts.RunDto,
  RunListDto: contracts.RunListDto,
  CellDto: contracts.CellDto,
  ResultDto: contracts.ResultDto,
  ConsoleDto: contracts.ConsoleDto,
  ErrorDto: contracts.ErrorDto,
  CreateVendorRequest: contracts.CreateVendorRequest,
  VendorDto: contracts.VendorDto,
  CreateTokenRequest: contracts.CreateTokenRequest,
  CreatedTokenDto: contracts.CreatedTokenDto,
  MeDto: contracts.MeDto,
};

/**
 * Serves the OpenAPI document (JSON at /api/openapi.json, UI at /api/docs). Routes come from the
 * controllers; the request/response shapes are the contracts' zod schemas, so they cannot drift.
 */
export function serveOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Bootfarm scheduler API')
    .setDescription('Upload ARM VM images, run them on the boot matrix, read results and consoles.')
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API token: bft_ followed by 43 base64url characters' })
    .addSecurityRequirements('bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components = {
    ...document.components,
    schemas: Object.fromEntries(
      Object.entries(schemas).map(([name, schema]) => [name, z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as object]),
    ),
  };
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/openapi.json' });
}
