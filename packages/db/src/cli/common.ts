// Shared by the migrator CLIs: environment, argument and error reporting. The CLIs are the only
// place in @bootfarm/db that reads the environment.
import { isMigrationError } from '../migrate/index.js';

/** Reads a required environment variable or exits 2 with a usage message. */
export function requireEnv(name: string, command: string, purpose: string): string {
  const value = process.env[name]?.trim();
  if (!value) fail(command, `${name} is not set (${purpose}), e.g. ${name}=postgresql://user:password@127.0.0.1:5432/bootfarm`, 2);
  try {
    new URL(value);
  } catch {
    fail(command, `${name} is not a valid URL`, 2);
  }
  return value;
}

/** Prints an error the way every migrator CLI does and exits non-zero. */
export function reportAndExit(command: string, err: unknown): never {
  if (isMigrationError(err)) {
    const engine = err.engineCode ? `, Prisma ${err.engineCode}` : '';
    fail(command, `[${err.code}${engine}] ${err.message}`, 1);
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  fail(command, `unexpected error: ${stack}`, 1);
}

function fail(command: string, message: string, exitCode: number): never {
  process.stderr.write(`${command}: ${message}\n`);
  process.exit(exitCode);
}

/** Milliseconds since `start` (a performance.now() reading), for progress lines. */
export function elapsed(start: number): string {
  return `${Math.round(performance.now() - start)} ms`;
}
