// The JSON report: the published form of RunCompliance, and the JSON Schema generated from it.
import { COMPLIANCE_SCHEMA, RunCompliance } from '@bootfarm/contracts';

/**
 * The report as JSON: validated first (a renderer must never publish a malformed report), then
 * written in schema order. Zod rebuilds objects in shape order and enum-keyed records in enum
 * order, so the same report always gives the same bytes whatever order its keys came in.
 * Two-space indent, trailing newline. Throws a ZodError when the report is invalid.
 */
export function renderJsonReport(report: RunCompliance): string {
  return `${JSON.stringify(RunCompliance.parse(report), null, 2)}\n`;
}

/** `$id` of the published JSON Schema: an absolute URI that spells the format's version tag. */
export const COMPLIANCE_SCHEMA_ID = `urn:bootfarm:schema:${COMPLIANCE_SCHEMA}`;

/**
 * JSON Schema (draft 2020-12) of the report format, generated from the zod schema.
 * Generated for the *input* side on purpose: zod strips unknown keys on input, so the schema
 * leaves `additionalProperties` open and a v1 consumer still accepts a report from a later,
 * additively extended v1 producer (see REPORTS.md, versioning).
 */
export function complianceJsonSchema(): Record<string, unknown> {
  // Same generator as z.toJSONSchema(RunCompliance, ...); the method keeps zod out of this
  // package's direct imports.
  const generated = RunCompliance.toJSONSchema({ target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: COMPLIANCE_SCHEMA_ID,
    title: COMPLIANCE_SCHEMA,
    description:
      'Bootfarm compliance report: per-requirement verdicts of a VM image against the ARM VM System Specification ' +
      '(profiles vmspec-1.0, vmspec-2.0, bbr), per run and per matrix cell. Documented in packages/compliance/REPORTS.md.',
    ...rest,
  };
}

/** The schema file's exact text (what schema/compliance-v1.schema.json must contain). */
export function complianceJsonSchemaText(): string {
  return `${JSON.stringify(complianceJsonSchema(), null, 2)}\n`;
}
