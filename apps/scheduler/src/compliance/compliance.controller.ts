import { ComplianceProfile, type RunCompliance } from '@bootfarm/contracts';
import { renderHtmlReport, renderJUnitReport, renderJsonReport } from '@bootfarm/compliance';
import { RunRepository, type ComplianceSources } from '@bootfarm/db';
import { Controller, Get, Header, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { BadRequestError, ConflictError, NotFoundError } from '../common/errors.js';
import { parseId } from '../common/ids.js';
import { RunSettler } from '../queue/run.settler.js';
import { ZodPipe } from '../common/zod.pipe.js';
import { VendorContext } from '../vendors/vendor.context.js';

/** Which of the run's images the report is about: required when the run holds several. */
const ImageQuery = z.strictObject({ image: z.uuid().optional() });
const JUnitQuery = ImageQuery.extend({ profile: ComplianceProfile.default('vmspec-2.0') });

/**
 * A run's compliance report, one per image (`?image=` when the run holds several), in three forms: JSON (bootfarm.compliance/v1), JUnit XML for the
 * vendor's CI, and a self-contained HTML page to attach to a release. Available once every cell
 * is terminal; written then by the run's settle job (or settled here, write-once, if it has not run yet).
 */
@ApiTags('compliance')
@Controller('api/runs')
export class ComplianceController {
  constructor(
    private readonly runs: RunRepository,
    private readonly vendor: VendorContext,
    private readonly settler: RunSettler,
  ) {}

  @Get(':id/compliance')
  @ApiOperation({ summary: 'Compliance report (JSON, schema bootfarm.compliance/v1); 409 until the run has ended' })
  async json(@Param('id') id: string, @Query(new ZodPipe(ImageQuery)) q: z.output<typeof ImageQuery>, @Res() res: Response): Promise<void> {
    const report = await this.report(id, q.image);
    send(res, 'application/json; charset=utf-8', renderJsonReport(report), `${fileStem(report)}.json`, false);
  }

  @Get(':id/compliance/junit')
  @ApiOperation({ summary: 'Compliance as JUnit XML (one test case per requirement × cell) under ?profile=' })
  @Header('X-Content-Type-Options', 'nosniff')
  async junit(@Param('id') id: string, @Query(new ZodPipe(JUnitQuery)) q: z.output<typeof JUnitQuery>, @Res() res: Response): Promise<void> {
    const report = await this.report(id, q.image);
    send(res, 'application/xml; charset=utf-8', renderJUnitReport(report, { profile: q.profile }), `${fileStem(report)}-${q.profile}.junit.xml`, true);
  }

  @Get(':id/compliance/html')
  @ApiOperation({ summary: 'Compliance as one self-contained HTML page' })
  async html(@Param('id') id: string, @Query(new ZodPipe(ImageQuery)) q: z.output<typeof ImageQuery>, @Res() res: Response): Promise<void> {
    const report = await this.report(id, q.image);
    // The page embeds guest console text: no scripts may run in it, whatever it contains.
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    send(res, 'text/html; charset=utf-8', renderHtmlReport(report), `${fileStem(report)}.html`, false);
  }

  private async report(id: string, imageId: string | undefined): Promise<RunCompliance> {
    const runId = parseId(id, 'run');
    const sources = await this.runs.complianceSources(runId, this.vendor.scope);
    if (!sources) throw new NotFoundError(`run ${runId} not found`);
    const pick = (s: ComplianceSources) => {
      if (imageId === undefined && s.images.length > 1) {
        throw new BadRequestError(`run ${runId} holds ${s.images.length} images: choose one with ?image= (${s.images.map((i) => `${i.image.id} ${i.image.name}`).join(', ')})`);
      }
      const image = imageId === undefined ? s.images[0] : s.images.find((i) => i.image.id === imageId);
      if (!image) throw new NotFoundError(`run ${runId} has no image ${imageId}`);
      return image;
    };
    let image = pick(sources);
    if (!image.report) {
      // The settle job has not written it yet: settle now (write-once), then serve the stored report.
      await this.settler.settle(runId);
      const again = await this.runs.complianceSources(runId, this.vendor.scope);
      if (again) image = pick(again);
    }
    if (!image.report) throw new ConflictError(`run ${runId} is ${sources.status}: its compliance report exists once every cell has ended`);
    return image.report;
  }
}

function fileStem(report: RunCompliance): string {
  return `bootfarm-${report.runId}-${report.image.name.replace(/[^\w.+@-]+/g, '_')}`;
}

function send(res: Response, type: string, body: string, filename: string, attachment: boolean): void {
  res.setHeader('Content-Type', type);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Disposition', `${attachment ? 'attachment' : 'inline'}; filename="${filename}"`);
  res.status(200).send(body);
}
