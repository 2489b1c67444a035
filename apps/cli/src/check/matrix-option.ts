import { MatrixSpec, type MatrixSpecInput } from '@bootfarm/contracts';
import { matrixPresets } from '@bootfarm/matrix';
import { readFileSync } from 'node:fs';
import { CliError } from '../exit-codes.js';

/** `--matrix`: a preset name, a JSON spec, or `@file.json`. */
export function parseMatrixOption(value: string): MatrixSpecInput {
  if (Object.hasOwn(matrixPresets, value)) return { preset: value as keyof typeof matrixPresets };
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch (err) {
      throw new CliError(`--matrix ${value}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  } else if (!value.trimStart().startsWith('{')) {
    throw new CliError(`--matrix ${value}: not a preset (${Object.keys(matrixPresets).join(', ')}), a JSON spec or @file.json`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CliError(`--matrix: not valid JSON (${(err as Error).message})`);
  }
  const parsed = MatrixSpec.safeParse(json);
  if (!parsed.success) throw new CliError(`--matrix: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(spec)'}: ${i.message}`).join('; ')}`);
  return json as MatrixSpecInput;
}
