import { z } from 'zod';
import { BootStage, RunStatus } from './enums.js';
import { CellDto, ImageRefDto, ResultDto } from './api.js';
import { CellCompliance } from './compliance.js';

// One cell as its own page shows it: the result with the analyzer's evidence and the verdicts.

/** A console line the analyzer cited: its sequence number, offset since the emulator started, text. */
export const EvidenceLineDto = z.object({ seq: z.number().int(), offsetMs: z.number(), text: z.string() });
export type EvidenceLineDto = z.infer<typeof EvidenceLineDto>;

/** A line that matched a success marker or a failure signature, with the pattern it matched. */
export const MatchedLineDto = EvidenceLineDto.extend({ pattern: z.string() });
export type MatchedLineDto = z.infer<typeof MatchedLineDto>;

/**
 * How a boot's outcome was reached, as the worker stores it with the result: when each stage and
 * finer phase was first reached, the deciding line, and how the emulator ended. Fields are
 * optional because older results and infrastructure errors carry less.
 */
export const BootEvidenceDto = z.object({
  backend: z.string().optional(),
  /** Every coarse stage reached, in order, with the line that showed it. */
  stages: z.array(z.object({ stage: BootStage, seq: z.number().int(), offsetMs: z.number() })).default([]),
  /** Finer phases (`firmware`, `boot_manager`, `loader`, `kernel`, `init`, `ready`). */
  phases: z.array(EvidenceLineDto.extend({ phase: z.string() })).default([]),
  /** The line that decided the outcome (a marker or a failure), if any. */
  decidingLine: EvidenceLineDto.nullable().optional(),
  marker: MatchedLineDto.nullable().optional(),
  failureSignature: MatchedLineDto.nullable().optional(),
  normalisedSignature: z.string().nullable().optional(),
  exit: z
    .object({ code: z.number().nullable(), signal: z.string().nullable(), offsetMs: z.number().nullable(), by: z.string() })
    .nullable()
    .optional(),
  lineCount: z.number().int().optional(),
  consoleBytes: z.number().int().optional(),
  consoleTruncated: z.boolean().optional(),
  /** The emulator's own stderr (capped). */
  stderr: z.string().optional(),
  warnings: z.array(z.string()).optional(),
});
export type BootEvidenceDto = z.infer<typeof BootEvidenceDto>;

/** A cell's result with its evidence and its requirement verdicts. */
export const ResultDetailDto = ResultDto.extend({
  evidence: BootEvidenceDto,
  /** Null when the cell ended without verdicts (an infrastructure error, a result from before compliance). */
  compliance: CellCompliance.nullable(),
});
export type ResultDetailDto = z.infer<typeof ResultDetailDto>;

/** GET /api/cells/:id: one cell with its run and image. */
export const CellDetailDto = CellDto.extend({
  runId: z.uuid(),
  runStatus: RunStatus,
  image: ImageRefDto,
  timeoutMs: z.number().int(),
  result: ResultDetailDto.nullable(),
});
export type CellDetailDto = z.infer<typeof CellDetailDto>;
