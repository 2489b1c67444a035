/**
 * BootRequest.varsStore: boots of one VM sharing one UEFI variable store. Real edk2 boots of
 * Bootfarm's probe (packages/probe, loaded by path at run time like qemu-probe.boot.spec), which
 * writes a variable on every boot and prints the one it found: boot 2 must see boot 1's.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { QemuLauncher } from './qemu.launcher.js';
import { defaultProfile, type VmProfile } from './vm.profile.js';
import type { BootReport, BootRequest, ConsoleLine } from './boot.types.js';
import { removeDir, scratchDir } from './testing.helpers.js';

type EnsureProbeImage = (opts?: { arch?: 'aarch64' | 'arm' }) => Promise<{ imagePath: string }>;

async function loadProbe(): Promise<{ ensureProbeImage: EnsureProbeImage }> {
  const specifier = '../../probe/dist/index.js'; // a variable: no compile-time dependency
  try {
    return (await import(specifier)) as { ensureProbeImage: EnsureProbeImage };
  } catch (e) {
    throw new Error(`packages/probe is not built (run: npx tsc -b packages/probe): ${(e as Error).message}`);
  }
}

const TEMPLATE = '/usr/share/AAVMF/AAVMF_VARS.fd';
const launcher = new QemuLauncher();
let dir: string;
let imagePath: string;
let n = 0;

before(async () => {
  dir = await scratchDir('bootfarm-emulator-vars-');
  imagePath = (await (await loadProbe()).ensureProbeImage()).imagePath;
});

after(async () => {
  await removeDir(dir);
});

async function boot(profile: VmProfile, extra: Partial<BootRequest>): Promise<{ r: BootReport; texts: string[]; workDir: string }> {
  const texts: string[] = [];
  const workDir = path.join(dir, `work-${++n}`);
  const r = await launcher.boot({
    image: { path: imagePath, format: 'raw' },
    profile,
    workDir,
    timeoutMs: 60_000,
    successMarkers: [/VMSPEC-PROBE result=done/],
    markerGraceMs: 1000,
    onLine: (l: ConsoleLine) => texts.push(l.text),
    ...extra,
  });
  return { r, texts, workDir };
}

const fact = (texts: string[], key: string): string | undefined =>
  texts.filter((t) => t.startsWith(`VMSPEC-PROBE ${key}=`)).map((t) => t.slice(`VMSPEC-PROBE ${key}=`.length)).at(-1);

describe('BootRequest.varsStore', () => {
  it('edk2: creates the store from the template once, then reuses it as is (the variable persists)', async () => {
    const store = path.join(dir, 'shared', 'vars.fd');
    await mkdir(path.dirname(store));

    const first = await boot(defaultProfile, { varsStore: store });
    assert.equal(first.r.outcome, 'passed', first.r.reason);
    assert.ok(first.r.command.argv.includes(`if=pflash,format=raw,unit=1,file=${store}`), first.r.command.shell);
    assert.ok(!first.r.command.shell.includes(path.join(first.workDir, 'vars.fd')), 'no per-boot copy');
    assert.ok(first.r.command.reproduce.split('\n').includes(`test -e ${store} || install -m 600 ${TEMPLATE} ${store}`), first.r.command.reproduce);
    assert.equal(first.r.firmware.varsStorePath, store);
    assert.equal(first.r.firmware.varsStoreCreated, true);
    await assert.rejects(stat(first.workDir), { code: 'ENOENT' }, 'the work dir is removed');
    const st1 = await stat(store);
    assert.equal(st1.mode & 0o777, 0o600);
    assert.equal(st1.size, (await stat(TEMPLATE)).size);
    const bytes = await readFile(store);
    assert.notDeepEqual(bytes, await readFile(TEMPLATE), 'edk2 wrote to the store');
    assert.ok(bytes.includes(Buffer.from('VmspecProbe', 'utf16le')), "the probe's variable is in the store");
    const written = fact(first.texts, 'var.written');
    assert.match(written ?? '', /^[0-9a-f]{16}$/);
    assert.equal(fact(first.texts, 'var.previous'), 'absent');

    const second = await boot(defaultProfile, { varsStore: store });
    assert.equal(second.r.outcome, 'passed', second.r.reason);
    assert.equal(second.r.firmware.varsStoreCreated, false);
    const st2 = await stat(store);
    assert.equal(st2.ino, st1.ino, 'the same file, not recreated');
    assert.equal(fact(second.texts, 'var.previous'), written, 'boot 2 read what boot 1 wrote');
  });

  it('a store that exists is used as it is, never overwritten by the template', async () => {
    const store = path.join(dir, 'preexisting.fd');
    // A fresh template copy that boot 1 above did not touch: the probe must see no variable.
    await writeFile(store, await readFile(TEMPLATE), { mode: 0o640 });
    const { r, texts } = await boot(defaultProfile, { varsStore: store });
    assert.equal(r.outcome, 'passed', r.reason);
    assert.equal(r.firmware.varsStoreCreated, false);
    assert.equal((await stat(store)).mode & 0o777, 0o640, 'mode left as it was');
    assert.equal(fact(texts, 'var.previous'), 'absent');
  });

  it('U-Boot has no vars store: the request is ignored and no file is created', async () => {
    const store = path.join(dir, 'u-boot-vars.fd');
    const profile: VmProfile = { ...defaultProfile, firmware: 'u-boot', hwDescription: 'dt' };
    const { r } = await boot(profile, { varsStore: store });
    assert.equal(r.outcome, 'passed', r.reason);
    assert.ok(!r.command.argv.some((a) => a.startsWith('if=pflash')));
    assert.ok(!r.command.reproduce.includes(store));
    assert.equal(r.firmware.varsStorePath, undefined);
    await assert.rejects(stat(store), { code: 'ENOENT' });
  });

  it('refuses a relative store, one inside workDir, and a symlink', async () => {
    const base = { image: { path: imagePath, format: 'raw' as const }, profile: defaultProfile, timeoutMs: 10_000 };
    const workDir = path.join(dir, 'refused');
    await assert.rejects(launcher.boot({ ...base, workDir, varsStore: 'vars.fd' }), { name: 'BootRequestInvalidError', message: /varsStore must be an absolute path/ });
    await assert.rejects(launcher.boot({ ...base, workDir, varsStore: path.join(workDir, 'vars.fd') }), { message: /varsStore must lie outside workDir/ });
    await assert.rejects(launcher.boot({ ...base, workDir, varsStore: workDir }), { message: /varsStore must lie outside workDir/ });

    const link = path.join(dir, 'link.fd');
    await symlink(TEMPLATE, link);
    const r = await launcher.boot({ ...base, workDir, varsStore: link });
    assert.equal(r.outcome, 'infrastructure_error');
    assert.equal(r.failureClass, 'host_setup_failed');
    assert.match(r.reason, /cannot be used: not a regular file/);
    assert.equal(r.exit.by, 'not_started');
  });
});
