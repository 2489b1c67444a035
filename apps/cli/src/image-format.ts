import type { ImageFormat } from '@bootfarm/contracts';
import { basename, extname } from 'node:path';
import { CliError } from './exit-codes.js';

/** `--format`, or the file name's: the format is always declared, checked against the content, never guessed from it. */
export function imageFormat(path: string, declared?: ImageFormat): ImageFormat {
  if (declared) return declared;
  const ext = extname(path).toLowerCase();
  if (ext === '.qcow2') return 'qcow2';
  if (ext === '.raw' || ext === '.img') return 'raw';
  throw new CliError(`cannot tell the container format of ${basename(path)} from its name: pass --format raw or --format qcow2 (it is checked against the content, never guessed)`);
}
