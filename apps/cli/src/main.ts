#!/usr/bin/env node
/**
 * bootfarm — check an image locally with no server (`bootfarm check`), or drive the farm.
 * Exit codes: 0 every required verdict passed, 1 compliance or boot failures, 2 infrastructure
 * problems, usage errors or no result.
 */
import { ComplianceProfile, ImageFormat } from '@bootfarm/contracts';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { check } from './check/check.command.js';
import * as farm from './farm/commands.js';
import { parseMatrixOption } from './check/matrix-option.js';
import { CliError, ExitCode } from './exit-codes.js';

const positiveInt = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a whole number ≥ 1`);
  return n;
};

const program = new Command('bootfarm')
  .description('Boot-test ARM VM images against the ARM VM System Specification, locally or on a Bootfarm farm.')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program
  .command('check')
  .description('Check an image on this machine, with no server: intake, boots on local QEMU for a matrix, verdicts per requirement.')
  .argument('<image>', 'the disk image (raw or qcow2)')
  .addOption(new Option('--format <format>', 'container format; default from the file name (.img/.raw, .qcow2)').choices(ImageFormat.options))
  .option('--matrix <matrix>', 'a preset (quick, vm-spec-platforms, vm-spec-full, xen), a JSON matrix spec, or @file.json', 'quick')
  .addOption(new Option('--profile <profile>', 'the profile whose verdict decides the exit code').choices(ComplianceProfile.options).default('bbr'))
  .option('--json', 'print the bootfarm.compliance/v1 report on stdout instead of the table', false)
  .option('--junit <file>', 'write a JUnit XML file (one test case per requirement × cell, under --profile)')
  .option('--html <file>', 'write the self-contained HTML report')
  .option('--keep-logs <dir>', 'keep each cell\'s console (with offsets) and boot result in this directory')
  .option('--timeout <seconds>', 'limit of each boot', positiveInt('--timeout'), 120)
  .option('--jobs <n>', 'cells booted at once', positiveInt('--jobs'), availableParallelism())
  .addHelpText('after', '\nExit codes: 0 all required verdicts pass, 1 compliance or boot failures, 2 infrastructure problems or no result.')
  .action(async (image: string, o: Record<string, unknown>) => {
    process.exitCode = await check(image, {
      ...(o.format !== undefined && { format: o.format as ImageFormat }),
      matrix: parseMatrixOption(String(o.matrix)),
      profile: o.profile as ComplianceProfile,
      json: Boolean(o.json),
      ...(typeof o.junit === 'string' && { junit: o.junit }),
      ...(typeof o.html === 'string' && { html: o.html }),
      ...(typeof o.keepLogs === 'string' && { keepLogs: o.keepLogs }),
      timeoutSec: o.timeout as number,
      jobs: o.jobs as number,
    });
  });

// ---- the farm client -------------------------------------------------------------------------

const farmOptions = (c: Command) =>
  c
    .option('--server <url>', 'the farm (default: BOOTFARM_SERVER, or what `bootfarm login` saved)')
    .option('--token <token>', 'an API token (default: BOOTFARM_TOKEN, or what `bootfarm login` saved)');
const profileOption = () => new Option('--profile <profile>', 'the profile whose verdict decides the exit code, and the JUnit file\'s').choices(ComplianceProfile.options).default('bbr');
const pick = (o: Record<string, unknown>) => ({
  ...(typeof o.server === 'string' && { server: o.server }),
  ...(typeof o.token === 'string' && { token: o.token }),
});
const reportFiles = (o: Record<string, unknown>) => ({
  ...(typeof o.junit === 'string' && { junit: o.junit }),
  ...(typeof o.html === 'string' && { html: o.html }),
  ...(typeof o.json === 'string' && { json: o.json }),
});
const run = (fn: () => Promise<ExitCode>) => async () => {
  process.exitCode = await fn();
};

program
  .command('login')
  .description('Check a token against a farm and save both for the other commands (mode 0600).')
  .requiredOption('--server <url>', 'the farm, e.g. http://farm.example:8080')
  .requiredOption('--token <token>', 'an API token (bft_…)')
  .action((o: { server: string; token: string }) => run(() => farm.login(o))());

farmOptions(
  program
    .command('submit')
    .description('Upload images to the farm and start one run of them on a matrix (every image on every cell); with --wait, follow it to its verdict.')
    .argument('<image...>', 'the disk images (raw or qcow2)')
    .addOption(new Option('--format <format>', 'container format; default from the file name').choices(ImageFormat.options))
    .option('--name <name>', 'the image\'s name on the farm (default: the file name)')
    .option('--matrix <matrix>', 'a preset, a JSON matrix spec, or @file.json', 'quick')
    .option('--timeout <seconds>', 'limit of each boot', positiveInt('--timeout'), 120)
    .option('--wait', 'follow the run live and exit with its verdict', false)
    .addOption(profileOption())
    .option('--junit <file>', 'with --wait: write the JUnit report')
    .option('--html <file>', 'with --wait: write the HTML report')
    .option('--json <file>', 'with --wait: write the JSON report (with several images: one file each, suffixed -<image name>)'),
).action((images: string[], o: Record<string, unknown>) =>
  run(() =>
    farm.submit(images, {
      ...pick(o),
      ...(o.format !== undefined && { format: o.format as ImageFormat }),
      ...(typeof o.name === 'string' && { name: o.name }),
      matrix: parseMatrixOption(String(o.matrix)),
      timeoutSec: o.timeout as number,
      wait: Boolean(o.wait),
      profile: o.profile as ComplianceProfile,
      ...reportFiles(o),
    }),
  )(),
);

farmOptions(
  program
    .command('rerun')
    .description('Run a run\'s images again on the same platforms.')
    .argument('<run>', 'run id')
    .option('--timeout <seconds>', 'limit of each boot', positiveInt('--timeout'), 120)
    .option('--wait', 'follow the new run and exit with its verdict', false)
    .addOption(profileOption())
    .option('--junit <file>', 'with --wait: write the JUnit report')
    .option('--html <file>', 'with --wait: write the HTML report')
    .option('--json <file>', 'with --wait: write the JSON report'),
).action((id: string, o: Record<string, unknown>) =>
  run(() => farm.rerun(id, { ...pick(o), timeoutSec: o.timeout as number, wait: Boolean(o.wait), profile: o.profile as ComplianceProfile, ...reportFiles(o) }))(),
);

farmOptions(program.command('runs').description('Your runs, newest first.').option('--limit <n>', 'how many', positiveInt('--limit'), 25)).action((o: Record<string, unknown>) =>
  run(() => farm.runs({ ...pick(o), limit: o.limit as number }))(),
);

farmOptions(program.command('show').description('A run: its cells, their outcomes and the verdict per profile.').argument('<run>', 'run id')).action((id: string, o: Record<string, unknown>) =>
  run(() => farm.show(id, pick(o)))(),
);

farmOptions(
  program
    .command('logs')
    .description('A cell\'s console with offsets; --follow streams it live until the cell ends.')
    .argument('<cell>', 'cell id')
    .option('-f, --follow', 'stream the console live', false),
).action((id: string, o: Record<string, unknown>) => run(() => farm.logs(id, { ...pick(o), follow: Boolean(o.follow) }))());

farmOptions(
  program
    .command('report')
    .description('Download a run\'s compliance reports.')
    .argument('<run>', 'run id')
    .addOption(profileOption())
    .option('--junit <file>', 'the JUnit report (under --profile)')
    .option('--html <file>', 'the self-contained HTML report')
    .option('--json <file>', 'the bootfarm.compliance/v1 report'),
).action((id: string, o: Record<string, unknown>) => run(() => farm.report(id, { ...pick(o), profile: o.profile as ComplianceProfile, ...reportFiles(o) }))());

farmOptions(program.command('workers').description('The farm\'s workers: state, health and capabilities.')).action((o: Record<string, unknown>) =>
  run(() => farm.workers(pick(o)))(),
);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; every usage error exits 2 (commander already printed it).
    process.exitCode = err.exitCode === 0 ? ExitCode.Ok : ExitCode.NoResult;
  } else if (err instanceof CliError) {
    process.stderr.write(`bootfarm: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`bootfarm: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = ExitCode.NoResult;
  }
}
