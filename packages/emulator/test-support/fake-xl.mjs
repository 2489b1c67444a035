#!/usr/bin/env node
// A stand-in for Xen's `xl` toolstack, for tests of the Xen backend on hosts without Xen.
// Node built-ins only. State lives in $FAKE_XL_STATE_DIR (required):
//   calls.jsonl          one {"argv":[...],"t":epochMs} line per invocation
//   domains/NAME.json    {name, domid, state: "paused"|"running", unpausedAt, vuart}
//   NAME.cfg             a copy of the config given to `create`
//
// Commands: create [-p] CFG | unpause NAME | domid NAME | console -t pv|vuart NAME |
//           list [NAME] | destroy NAME | info
//
// Behaviour (environment):
//   FAKE_XL_TRANSCRIPT        .tlog replayed on the PV console ("[  seconds] text" lines, ^[ = ESC)
//   FAKE_XL_VUART_TRANSCRIPT  .tlog replayed on the vuart console (default: silent)
//   FAKE_XL_TIME_SCALE        transcript seconds are multiplied by this (default 1)
//   FAKE_XL_POWEROFF_MS       the domain goes away this long after the last line (default 20)
//   FAKE_XL_HANG=1            the guest never powers off (console stays open, list says running)
//   FAKE_XL_CRASH=1           instead of powering off, the domain is left crashed (on_crash=preserve)
//   FAKE_XL_FAIL_CREATE=MSG   `create` fails with MSG, exit status 1
//   FAKE_XL_FAIL_DESTROY=1    `destroy` fails (exit 1) and leaves the domain
//   FAKE_XL_UNPAUSE_RETURN_MS `unpause` returns this long after the domain started (a slow host)
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const env = process.env;
const stateDir = env.FAKE_XL_STATE_DIR;
if (!stateDir) {
  process.stderr.write('fake-xl: FAKE_XL_STATE_DIR is not set\n');
  process.exit(2);
}
const domainsDir = path.join(stateDir, 'domains');
mkdirSync(domainsDir, { recursive: true });
const argv = process.argv.slice(2);
appendFileSync(path.join(stateDir, 'calls.jsonl'), `${JSON.stringify({ argv, t: Date.now(), pid: process.pid })}\n`);

const scale = Number(env.FAKE_XL_TIME_SCALE ?? '1');
const poweroffMs = Number(env.FAKE_XL_POWEROFF_MS ?? '20');
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const domainFile = (name) => path.join(domainsDir, `${name}.json`);
const invalid = (name) => {
  process.stderr.write(`${name} is an invalid domain identifier (rc=-6)\n`);
  process.exit(1);
};

function readDomain(name) {
  try {
    return JSON.parse(readFileSync(domainFile(name), 'utf8'));
  } catch {
    return null;
  }
}

function readTranscript(file) {
  if (!file) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const m = /^\[\s*([\d.]+)\] ?(.*)$/.exec(l);
      if (!m) throw new Error(`fake-xl: bad transcript line: ${l}`);
      return { ms: Number(m[1]) * 1000 * scale, text: m[2].replaceAll('^[', '\x1b') };
    });
}

/** When the guest "powers off" (epoch ms), or null while paused / when it hangs. */
function endsAt(dom) {
  if (dom.state !== 'running' || env.FAKE_XL_HANG === '1') return null;
  const lines = readTranscript(env.FAKE_XL_TRANSCRIPT);
  const last = lines.length > 0 ? lines[lines.length - 1].ms : 0;
  return dom.unpausedAt + last + poweroffMs;
}

/** 'gone' (powered off, destroyed by Xen per on_poweroff), 'crashed', 'paused' or 'running'. */
function liveState(name) {
  const dom = readDomain(name);
  if (!dom) return { dom: null, state: 'gone' };
  const end = endsAt(dom);
  if (end !== null && Date.now() >= end) return { dom, state: env.FAKE_XL_CRASH === '1' ? 'crashed' : 'gone' };
  return { dom, state: dom.state };
}

function parseConfig(text) {
  const out = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-z_]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`syntax error: ${line}`);
    out[m[1]] = m[2];
  }
  return out;
}

const unquote = (v) => (v && /^"[^"\\]*"$/.test(v) ? v.slice(1, -1) : null);

function validateConfig(cfg) {
  const problems = [];
  for (const k of ['name', 'type', 'kernel', 'memory', 'vcpus', 'gic_version', 'disk', 'on_poweroff', 'on_reboot', 'on_crash']) {
    if (!(k in cfg)) problems.push(`missing key ${k}`);
  }
  if (problems.length > 0) return problems;
  if (unquote(cfg.type) !== 'pvh') problems.push(`type must be "pvh" on Arm, got ${cfg.type}`);
  const kernel = unquote(cfg.kernel);
  if (!kernel || !existsSync(kernel)) problems.push(`kernel ${cfg.kernel} does not exist`);
  if (!/^\d+$/.test(cfg.memory)) problems.push(`memory ${cfg.memory}`);
  if (!/^\d+$/.test(cfg.vcpus)) problems.push(`vcpus ${cfg.vcpus}`);
  if (!['"v2"', '"v3"'].includes(cfg.gic_version)) problems.push(`gic_version ${cfg.gic_version}`);
  if ('vuart' in cfg && cfg.vuart !== '"sbsa_uart"') problems.push(`vuart ${cfg.vuart}`);
  if ('acpi' in cfg && !['0', '1'].includes(cfg.acpi)) problems.push(`acpi ${cfg.acpi}`);
  const disk = /^\[\s*"([^"\\]*)"\s*\]$/.exec(cfg.disk);
  if (!disk) {
    problems.push(`disk ${cfg.disk}`);
  } else {
    const spec = disk[1];
    const t = spec.indexOf('target=');
    if (!/(^|,\s*)format=(raw|qcow2)\s*,/.test(spec)) problems.push('disk spec without an explicit format=');
    if (!/(^|,\s*)vdev=xvd[a-z]+\s*,/.test(spec)) problems.push('disk spec without vdev=');
    if (t < 0) problems.push('disk spec without target=');
    else if (!existsSync(spec.slice(t + 'target='.length))) problems.push(`disk target ${spec.slice(t + 7)} does not exist`);
  }
  return problems;
}

function nextDomid() {
  const f = path.join(stateDir, 'next-domid');
  const id = existsSync(f) ? Number(readFileSync(f, 'utf8')) : 1;
  writeFileSync(f, String(id + 1));
  return id;
}

async function create(args) {
  const paused = args.includes('-p');
  const cfgPath = args.filter((a) => !a.startsWith('-'))[0];
  if (!cfgPath) {
    process.stderr.write('xl create: no config file given\n');
    process.exit(1);
  }
  process.stderr.write(`Parsing config from ${cfgPath}\n`);
  if (env.FAKE_XL_FAIL_CREATE) {
    process.stderr.write(`libxl: error: libxl_create.c:1234:domcreate_rebuild_done: Domain 1:${env.FAKE_XL_FAIL_CREATE}\n`);
    process.stderr.write('libxl: error: libxl_domain.c:1183:libxl__destroy_domid: Domain 1:Non-existant domain\n');
    process.exit(1);
  }
  let cfg;
  try {
    cfg = parseConfig(readFileSync(cfgPath, 'utf8'));
  } catch (e) {
    process.stderr.write(`Failed to parse config: ${e.message}\n`);
    process.exit(1);
  }
  const problems = validateConfig(cfg);
  if (problems.length > 0) {
    process.stderr.write(`Failed to parse config: ${problems.join('; ')}\n`);
    process.exit(1);
  }
  const name = unquote(cfg.name);
  if (!name) {
    process.stderr.write('Failed to parse config: bad name\n');
    process.exit(1);
  }
  if (readDomain(name)) {
    process.stderr.write(`libxl: error: Domain with name ${name} already exists.\n`);
    process.exit(1);
  }
  copyFileSync(cfgPath, path.join(stateDir, `${name}.cfg`));
  const dom = { name, domid: nextDomid(), state: paused ? 'paused' : 'running', unpausedAt: paused ? null : Date.now(), vuart: 'vuart' in cfg, memory: Number(cfg.memory), vcpus: Number(cfg.vcpus) };
  writeFileSync(domainFile(name), JSON.stringify(dom));
}

function unpause(name) {
  const { dom, state } = liveState(name);
  if (!dom || state === 'gone') invalid(name);
  if (dom.state === 'paused') writeFileSync(domainFile(name), JSON.stringify({ ...dom, state: 'running', unpausedAt: Date.now() }));
}

async function consoleCmd(args) {
  let type = 'pv';
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-t') type = args[++i];
    else rest.push(args[i]);
  }
  const name = rest[0];
  const first = readDomain(name);
  if (!first) invalid(name);
  if (type !== 'pv' && type !== 'vuart') {
    process.stderr.write(`console type ${type} not supported\n`);
    process.exit(1);
  }
  if (type === 'vuart' && !first.vuart) {
    process.stderr.write(`Unable to get console tty for domain ${first.domid}: no vuart\n`);
    process.exit(1);
  }
  // Wait for the unpause; end if the domain is destroyed meanwhile.
  let dom = first;
  while (dom.state !== 'running') {
    await sleep(10);
    dom = readDomain(name);
    if (!dom) process.exit(0);
  }
  const lines = readTranscript(type === 'pv' ? env.FAKE_XL_TRANSCRIPT : env.FAKE_XL_VUART_TRANSCRIPT);
  for (const line of lines) {
    let wait = dom.unpausedAt + line.ms - Date.now();
    while (wait > 0) {
      await sleep(Math.min(wait, 20));
      if (!readDomain(name)) process.exit(0); // destroyed
      wait = dom.unpausedAt + line.ms - Date.now();
    }
    if (!readDomain(name)) process.exit(0);
    process.stdout.write(`${line.text}\r\n`);
  }
  // Stay attached until the domain goes away (power-off, or destroy when it hangs or crashed).
  for (;;) {
    const { state } = liveState(name);
    if (state === 'gone' || !readDomain(name)) break;
    await sleep(10);
  }
  process.exit(0);
}

function list(name) {
  const header = 'Name                                        ID   Mem VCPUs\tState\tTime(s)\n';
  const row = (d, state) => {
    const flags = state === 'running' ? '-b----' : state === 'paused' ? '--p---' : state === 'crashed' ? '----c-' : '------';
    return `${d.name.padEnd(40)}${String(d.domid).padStart(6)}${String(d.memory).padStart(6)}${String(d.vcpus).padStart(6)}     ${flags}       0.1\n`;
  };
  if (name) {
    const { dom, state } = liveState(name);
    if (!dom || state === 'gone') invalid(name);
    process.stdout.write(header + row(dom, state));
    return;
  }
  process.stdout.write(`${header}Domain-0                                     0  1024     1     r-----       5.0\n`);
}

function destroy(name) {
  const { dom, state } = liveState(name);
  if (!dom || state === 'gone') {
    if (dom) rmSync(domainFile(name), { force: true });
    invalid(name);
  }
  if (env.FAKE_XL_FAIL_DESTROY === '1') {
    process.stderr.write(`libxl: error: libxl_domain.c:1183:libxl__destroy_domid: Domain ${dom.domid}:fake destroy failure\n`);
    process.exit(1);
  }
  rmSync(domainFile(name), { force: true });
}

function info() {
  process.stdout.write(
    [
      'host                   : fake-xen',
      'release                : 6.1.0-fake-arm64',
      'machine                : aarch64',
      'nr_cpus                : 2',
      'total_memory           : 4096',
      'free_memory            : 2048',
      'xen_major              : 4',
      'xen_minor              : 17',
      'xen_extra              : .7',
      'xen_version            : 4.17.7',
      'xen_caps               : xen-3.0-aarch64 xen-3.0-armv7l ',
      'xen_scheduler          : credit2',
      'xen_commandline        : console=dtuart dom0_mem=1024M',
      'xend_config_format     : 4',
      '',
    ].join('\n'),
  );
}

const [cmd, ...args] = argv;
switch (cmd) {
  case 'create':
    await create(args);
    break;
  case 'unpause':
    unpause(args[0]);
    await new Promise((r) => setTimeout(r, Number(env.FAKE_XL_UNPAUSE_RETURN_MS ?? '0')));
    break;
  case 'domid': {
    const { dom, state } = liveState(args[0]);
    if (!dom || state === 'gone') invalid(args[0]);
    process.stdout.write(`${dom.domid}\n`);
    break;
  }
  case 'console':
    await consoleCmd(args);
    break;
  case 'list':
    list(args[0]);
    break;
  case 'destroy':
    destroy(args[0]);
    break;
  case 'info':
    info();
    break;
  default:
    process.stderr.write(`fake-xl: unknown command ${cmd ?? '(none)'}\n`);
    process.exit(1);
}
