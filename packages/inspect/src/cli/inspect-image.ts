// `node inspect-image.js --format raw|qcow2 --max-virtual-bytes N PATH`: inspects one image and
// prints one JSON object: {"ok":true,"report":...} or {"ok":false,"rejected":{code,message}}.
// Run by the scheduler in its own process under prlimit: a parser of hostile bytes never runs
// inside the API server. Exit 0 accepted, 3 rejected, 2 usage, 1 inspector failure.
import { parseArgs } from 'node:util';
import { ImageRejectedError } from '../container/index.js';
import { inspectImage } from '../image.inspector.js';

const usage = 'usage: inspect-image --format raw|qcow2 [--max-virtual-bytes N] PATH';
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

let args;
try {
  args = parseArgs({ options: { format: { type: 'string' }, 'max-virtual-bytes': { type: 'string' } }, allowPositionals: true });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${usage}\n`);
  process.exit(2);
}
const format = args.values.format;
const maxVirtualBytes = Number(args.values['max-virtual-bytes'] ?? 64 * 1024 ** 3);
const path = args.positionals[0];
if ((format !== 'raw' && format !== 'qcow2') || !path || args.positionals.length !== 1 || !Number.isSafeInteger(maxVirtualBytes)) {
  process.stderr.write(`${usage}\n`);
  process.exit(2);
}

try {
  print({ ok: true, report: await inspectImage(path, { declaredFormat: format, policy: { maxVirtualBytes } }) });
} catch (err) {
  if (err instanceof ImageRejectedError) {
    print({ ok: false, rejected: { code: err.code, message: err.message } });
    process.exit(3);
  }
  // No stack trace on stdout: the scheduler turns a crash into a typed rejection.
  process.stderr.write(`inspector failure: ${(err as Error).message}\n`);
  process.exit(1);
}
