import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildContainmentPrefix,
  buildOverlayCommand,
  buildQemuCommand,
  cpuModelFor,
  defaultRlimits,
  qemuOptionValue,
  shellJoin,
  shellQuote,
  workDirLayout,
  type QemuPaths,
} from './qemu-command.builder.js';
import { defaultProfile, profileKey, type VmProfile } from './vm.profile.js';
import { defaultFirmwareCatalog, firmwareCatalog, firmwareFileList, firmwareFor } from './firmware.catalog.js';

const W = '/tmp/bootfarm/attempt-123';
const IMAGE = '/cache/images/0123abcd';
const paths: QemuPaths = {
  ...workDirLayout(W),
  qemuSystem: 'qemu-system-aarch64',
  firmware: { kind: 'pflash', code: '/usr/share/AAVMF/AAVMF_CODE.fd', varsTemplate: '/usr/share/AAVMF/AAVMF_VARS.fd' },
};

function expected(machine: string, device: string, p: Partial<VmProfile> = {}): string[] {
  return [
    'qemu-system-aarch64',
    '-M', machine,
    '-cpu', 'cortex-a72',
    '-smp', String(p.cpus ?? 1),
    '-m', `${p.memoryMiB ?? 512}M`,
    '-nodefaults', '-no-user-config', '-nic', 'none', '-display', 'none', '-no-reboot',
    '-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
    '-boot', 'menu=on,splash-time=0',
    '-drive', 'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/AAVMF/AAVMF_CODE.fd',
    '-drive', `if=pflash,format=raw,unit=1,file=${W}/vars.fd`,
    '-drive', `if=none,id=disk0,format=qcow2,file=${W}/overlay.qcow2`,
    '-device', `${device},drive=disk0`,
    '-chardev', 'stdio,id=serial0,signal=off',
    '-serial', 'chardev:serial0',
    '-chardev', `socket,id=qmp0,path=${W}/qmp.sock,server=on,wait=off`,
    '-mon', 'chardev=qmp0,mode=control',
  ];
}

describe('buildQemuCommand', () => {
  it('builds the default profile (ACPI, GICv3, virtio-pci) exactly', () => {
    assert.deepEqual(buildQemuCommand({ profile: defaultProfile }, paths), expected('virt,accel=tcg,gic-version=3', 'virtio-blk-pci'));
  });

  it('turns ACPI off for a device-tree profile', () => {
    const profile: VmProfile = { ...defaultProfile, hwDescription: 'dt' };
    assert.deepEqual(buildQemuCommand({ profile }, paths), expected('virt,accel=tcg,acpi=off,gic-version=3', 'virtio-blk-pci'));
  });

  it('selects GICv2', () => {
    const profile: VmProfile = { ...defaultProfile, gic: 'v2' };
    assert.deepEqual(buildQemuCommand({ profile }, paths), expected('virt,accel=tcg,gic-version=2', 'virtio-blk-pci'));
  });

  it('uses virtio-blk-device for virtio-mmio, with vCPUs and memory from the profile', () => {
    const profile: VmProfile = { ...defaultProfile, disk: 'virtio-mmio', hwDescription: 'dt', gic: 'v2', cpus: 2, memoryMiB: 1024 };
    assert.deepEqual(
      buildQemuCommand({ profile }, paths),
      expected('virt,accel=tcg,acpi=off,gic-version=2', 'virtio-blk-device', { cpus: 2, memoryMiB: 1024 }),
    );
  });

  it('gives every -drive an explicit format and never names the image itself', () => {
    for (const profile of [defaultProfile, { ...defaultProfile, hwDescription: 'dt' as const, disk: 'virtio-mmio' as const }]) {
      const argv = buildQemuCommand({ profile }, paths);
      const drives = argv.filter((_, i) => argv[i - 1] === '-drive');
      assert.equal(drives.length, 3);
      for (const d of drives) assert.match(d, /(^|,)format=(raw|qcow2)(,|$)/);
      assert.ok(!argv.some((a) => a.includes(IMAGE)));
      assert.ok(!argv.includes('-snapshot'), 'never -snapshot (its overlay goes to /tmp and C-a s writes back)');
      assert.ok(!argv.some((a) => /mon:stdio|-monitor/.test(a)), 'no monitor on the console');
    }
  });

  it('escapes commas in paths (QEMU option syntax)', () => {
    const odd: QemuPaths = { ...workDirLayout('/tmp/a,b'), qemuSystem: 'q', firmware: { kind: 'pflash', code: '/fw/x,y.fd', varsTemplate: '/fw/v.fd' } };
    const argv = buildQemuCommand({ profile: defaultProfile }, odd);
    assert.ok(argv.includes('if=pflash,format=raw,unit=0,readonly=on,file=/fw/x,,y.fd'));
    assert.ok(argv.includes('if=none,id=disk0,format=qcow2,file=/tmp/a,,b/overlay.qcow2'));
    assert.equal(qemuOptionValue('a,,b'), 'a,,,,b');
  });
});

describe('buildQemuCommand: other firmware, arches, KVM and networking', () => {
  const at = (argv: string[], flag: string): string | undefined => argv[argv.indexOf(flag) + 1];

  it('boots U-Boot with -bios: no pflash, no vars, no boot-menu option', () => {
    const profile: VmProfile = { ...defaultProfile, firmware: 'u-boot', hwDescription: 'dt' };
    const argv = buildQemuCommand({ profile }, { ...paths, firmware: { kind: 'bios', bios: '/usr/lib/u-boot/qemu_arm64/u-boot.bin' } });
    assert.equal(at(argv, '-bios'), '/usr/lib/u-boot/qemu_arm64/u-boot.bin');
    assert.ok(!argv.some((a) => a.includes('pflash') || a.includes('vars.fd')));
    assert.ok(!argv.includes('-boot'));
    assert.equal(at(argv, '-M'), 'virt,accel=tcg,acpi=off,gic-version=3');
    assert.deepEqual(argv.filter((_, i) => argv[i - 1] === '-drive'), [`if=none,id=disk0,format=qcow2,file=${W}/overlay.qcow2`]);
  });

  it('boots 32-bit ARM with qemu-system-arm and cortex-a15 (AAVMF32 pflash pair)', () => {
    const profile: VmProfile = { ...defaultProfile, arch: 'arm', hwDescription: 'dt', gic: 'v2' };
    const argv = buildQemuCommand({ profile }, {
      ...paths,
      qemuSystem: '/usr/bin/qemu-system-arm',
      firmware: { kind: 'pflash', code: '/usr/share/AAVMF/AAVMF32_CODE.fd', varsTemplate: '/usr/share/AAVMF/AAVMF32_VARS.fd' },
    });
    assert.equal(argv[0], '/usr/bin/qemu-system-arm');
    assert.equal(at(argv, '-cpu'), 'cortex-a15');
    assert.equal(at(argv, '-M'), 'virt,accel=tcg,acpi=off,gic-version=2');
    assert.ok(argv.includes('if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/AAVMF/AAVMF32_CODE.fd'));
    assert.ok(argv.includes(`if=pflash,format=raw,unit=1,file=${W}/vars.fd`));
  });

  it('uses accel=kvm and -cpu host for KVM profiles', () => {
    const argv = buildQemuCommand({ profile: { ...defaultProfile, accel: 'kvm' } }, paths);
    assert.equal(at(argv, '-M'), 'virt,accel=kvm,gic-version=3');
    assert.equal(at(argv, '-cpu'), 'host');
    assert.equal(cpuModelFor({ arch: 'arm', accel: 'kvm' }), 'host');
    assert.equal(cpuModelFor({ arch: 'arm', accel: 'tcg' }), 'cortex-a15');
  });

  it('adds restricted user networking only when asked: no forwards, no option ROM', () => {
    const pci = buildQemuCommand({ profile: { ...defaultProfile, network: 'user-restricted' } }, paths);
    assert.ok(!pci.includes('-nic'));
    assert.equal(at(pci, '-netdev'), 'user,id=net0,restrict=on');
    assert.ok(pci.includes('virtio-net-pci,netdev=net0,romfile='));
    assert.ok(!pci.some((a) => a.includes('hostfwd') || a.includes('guestfwd')));
    const mmio = buildQemuCommand({ profile: { ...defaultProfile, disk: 'virtio-mmio', network: 'user-restricted' } }, paths);
    assert.ok(mmio.includes('virtio-net-device,netdev=net0'));
    const none = buildQemuCommand({ profile: { ...defaultProfile, network: 'none' } }, paths);
    assert.deepEqual(none, buildQemuCommand({ profile: defaultProfile }, paths));
    assert.equal(profileKey({ ...defaultProfile, network: 'user-restricted' }), 'aarch64/edk2/acpi/gicv3/virtio-pci/1cpu/512M/tcg/net-user-restricted');
    assert.equal(profileKey({ ...defaultProfile, network: 'none' }), profileKey(defaultProfile));
  });
});

describe('firmware catalogue', () => {
  it('maps (arch, firmware) to files, with injectable paths', () => {
    assert.deepEqual(firmwareFor(defaultFirmwareCatalog, 'arm', 'u-boot'), { kind: 'bios', bios: '/usr/lib/u-boot/qemu_arm/u-boot.bin' });
    assert.deepEqual(firmwareFor(defaultFirmwareCatalog, 'arm', 'edk2'), { kind: 'pflash', code: '/usr/share/AAVMF/AAVMF32_CODE.fd', varsTemplate: '/usr/share/AAVMF/AAVMF32_VARS.fd' });
    const cat = firmwareCatalog({ 'aarch64/u-boot': { kind: 'bios', bios: '/opt/u-boot.bin' } });
    assert.deepEqual(firmwareFor(cat, 'aarch64', 'u-boot'), { kind: 'bios', bios: '/opt/u-boot.bin' });
    assert.deepEqual(firmwareFor(cat, 'aarch64', 'edk2'), defaultFirmwareCatalog['aarch64/edk2']);
    assert.equal(firmwareFor(cat, 'aarch64', 'grub' as 'edk2'), undefined);
    assert.deepEqual(firmwareFileList(cat['aarch64/edk2']).map((f) => f.role), ['code', 'vars-template']);
  });
});

describe('buildOverlayCommand', () => {
  it('names the image only as the backing file, with its format explicit', () => {
    assert.deepEqual(buildOverlayCommand({ path: IMAGE, format: 'raw' }, `${W}/overlay.qcow2`, 'qemu-img'), [
      'qemu-img', 'create', '-f', 'qcow2', '-b', IMAGE, '-F', 'raw', `${W}/overlay.qcow2`,
    ]);
    assert.deepEqual(buildOverlayCommand({ path: IMAGE, format: 'qcow2' }, '/o.qcow2', 'qemu-img').slice(4, 8), ['-b', IMAGE, '-F', 'qcow2']);
  });
});

describe('buildContainmentPrefix', () => {
  it('wraps QEMU in setpriv --pdeathsig SIGKILL then prlimit', () => {
    const rlimits = defaultRlimits(defaultProfile, 60_000);
    assert.deepEqual(buildContainmentPrefix({ setpriv: 'setpriv', prlimit: 'prlimit', rlimits, runAs: null }), [
      'setpriv', '--pdeathsig', 'SIGKILL', '--no-new-privs', '--',
      'prlimit', `--as=${(512 + 2048 + 256) * 1024 * 1024}`, `--fsize=${4096 * 1024 * 1024}`, '--core=0', '--cpu=150', '--nofile=1024', '--',
    ]);
  });

  it('drops to another uid/gid when asked', () => {
    const prefix = buildContainmentPrefix({ setpriv: 's', prlimit: 'p', rlimits: defaultRlimits(defaultProfile, 1000), runAs: { uid: 65534, gid: 65534 } });
    assert.deepEqual(prefix.slice(0, 10), ['s', '--pdeathsig', 'SIGKILL', '--no-new-privs', '--reuid', '65534', '--regid', '65534', '--clear-groups', '--']);
  });
});

describe('shell quoting', () => {
  it('leaves plain words alone and single-quotes the rest', () => {
    assert.equal(shellQuote('-M'), '-M');
    assert.equal(shellQuote('virt,accel=tcg'), 'virt,accel=tcg');
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote('a b'), "'a b'");
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(shellQuote('$(rm -rf /)'), "'$(rm -rf /)'");
    assert.equal(shellJoin(['echo', 'a b', 'c']), "echo 'a b' c");
  });
});

describe('profiles', () => {
  it('has a stable key', () => {
    assert.equal(profileKey(defaultProfile), 'aarch64/edk2/acpi/gicv3/virtio-pci/1cpu/512M/tcg');
  });
});
