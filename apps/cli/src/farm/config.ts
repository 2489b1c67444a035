/**
 * Where the CLI finds its farm: `--server`/`--token`, else BOOTFARM_SERVER/BOOTFARM_TOKEN, else
 * what `bootfarm login` saved in $XDG_CONFIG_HOME/bootfarm/config.json (mode 0600: it holds a
 * token).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from '../exit-codes.js';

export interface FarmLogin {
  readonly server: string;
  readonly token: string;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'bootfarm', 'config.json');
}

export function saveLogin(login: FarmLogin): string {
  const path = configPath();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/** The farm to talk to; a missing piece is an error saying how to provide it. */
export function resolveLogin(opts: { server?: string | undefined; token?: string | undefined }, env: NodeJS.ProcessEnv = process.env): FarmLogin {
  let saved: Partial<FarmLogin> = {};
  try {
    saved = JSON.parse(readFileSync(configPath(env), 'utf8')) as Partial<FarmLogin>;
  } catch {
    // not logged in
  }
  const server = opts.server ?? env.BOOTFARM_SERVER ?? saved.server;
  const token = opts.token ?? env.BOOTFARM_TOKEN ?? saved.token;
  if (!server || !token) throw new CliError('no farm to talk to: run `bootfarm login --server URL --token TOKEN` (or set BOOTFARM_SERVER and BOOTFARM_TOKEN)');
  return { server: server.replace(/\/+$/, ''), token };
}
