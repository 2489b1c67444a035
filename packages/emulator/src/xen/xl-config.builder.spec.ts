import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BootRequestInvalidError } from '../emulator.errors.js';
import { buildOverlayCommand } from '../qemu-command.builder.js';
import type { VmProfile } from '../vm.profile.js';
import { buildDiskSpec, buildXlConfig, buildXlConfigEntries } from './xl-config.builder.js';
import { debianXenCapabilities, xenNoAcpiReason, xenUnsupportedReasons } from './xen-profile.validator.js';
import { isCrashedState, parseXlList } from './xl-output.parser.js';

const profile: VmProfile = { arch: 'aarch64', firmware: 'edk2', hwDescription: 'dt', gic: 'v3', disk: 'xen-pv', cpus: 2, memoryMiB: 512, accel: 'xen' };
const base = { name: 'bootfarm-0123456789', profile, firmwarePath: '/opt/fw/XEN_EFI.fd', overlayPath: '/var/lib/bootfarm/work/b1/overlay.qcow2', imagePath: '/images/vendor.img' };
const entries = (over: Partial<typeof base> & { vuart?: boolean } = {}): Map<string, string> => new Map(buildXlConfigEntries({ ...base, ...over }));

describe('buildXlConfig', () => {
  it('writes the exact configuration of a DT, GICv3 boot', () => {
    assert.equal(
      buildXlConfig(base),
      [
        '# Bootfarm boot of domain bootfarm-0123456789: generated, one file per boot',
        'name = "bootfarm-0123456789"',
        'type = "pvh"',
        'kernel = "/opt/fw/XEN_EFI.fd"',
        'memory = 512',
        'maxmem = 512',
        'vcpus = 2',
        'gic_version = "v3"',
        'acpi = 0',
        'disk = [ "format=qcow2, vdev=xvda, access=rw, backendtype=qdisk, target=/var/lib/bootfarm/work/b1/overlay.qcow2" ]',
        'vif = [ ]',
        'on_poweroff = "destroy"',
        'on_reboot = "destroy"',
        'on_watchdog = "destroy"',
        'on_crash = "preserve"',
        '',
      ].join('\n'),
    );
  });

  const table: Array<{ title: string; over: Partial<VmProfile>; vuart?: boolean; expect: Record<string, string | undefined> }> = [
    { title: 'GICv2', over: { gic: 'v2' }, expect: { gic_version: '"v2"' } },
    { title: 'GICv3', over: { gic: 'v3' }, expect: { gic_version: '"v3"' } },
    { title: 'ACPI', over: { hwDescription: 'acpi' }, expect: { acpi: '1' } },
    { title: 'DT', over: { hwDescription: 'dt' }, expect: { acpi: '0' } },
    { title: 'vuart', over: {}, vuart: true, expect: { vuart: '"sbsa_uart"' } },
    { title: 'no vuart by default', over: {}, expect: { vuart: undefined } },
    { title: 'memory and vCPUs', over: { memoryMiB: 1024, cpus: 4 }, expect: { memory: '1024', maxmem: '1024', vcpus: '4' } },
    {
      title: 'virtio-mmio disk (Xen >= 4.17)',
      over: { disk: 'virtio-mmio' },
      expect: { disk: '[ "format=qcow2, vdev=xvda, access=rw, specification=virtio, backendtype=standalone, target=/var/lib/bootfarm/work/b1/overlay.qcow2" ]' },
    },
  ];
  for (const row of table) {
    it(`maps ${row.title}`, () => {
      const e = entries({ profile: { ...profile, ...row.over }, ...(row.vuart ? { vuart: true } : {}) });
      for (const [k, v] of Object.entries(row.expect)) assert.equal(e.get(k), v, k);
    });
  }

  it('gives the guest only the overlay, with an explicit format; the image is only its backing file', () => {
    const text = buildXlConfig(base);
    assert.ok(!text.includes(base.imagePath), 'the image path never appears in the config');
    assert.match(text, /format=qcow2, /);
    assert.match(text, /target=\/var\/lib\/bootfarm\/work\/b1\/overlay\.qcow2" \]/);
    const overlay = buildOverlayCommand({ path: base.imagePath, format: 'raw' }, base.overlayPath, '/usr/bin/qemu-img');
    assert.deepEqual(overlay, ['/usr/bin/qemu-img', 'create', '-f', 'qcow2', '-b', base.imagePath, '-F', 'raw', base.overlayPath]);
  });

  it('puts target= last so a comma in the path cannot be read as another key', () => {
    assert.match(buildDiskSpec(profile, '/w/a,b,format=raw.qcow2'), /, target=\/w\/a,b,format=raw\.qcow2$/);
  });

  const unsafe: Array<[string, Partial<typeof base>]> = [
    ['a double quote in the overlay path', { overlayPath: '/w/x"; kernel="/evil' }],
    ['a single quote in the firmware path', { firmwarePath: "/fw/it's.fd" }],
    ['a newline in the overlay path', { overlayPath: '/w/x\non_crash="preserve"' }],
    ['a backslash', { firmwarePath: '/fw/a\\b' }],
    ['a NUL byte', { overlayPath: '/w/a\u0000b' }],
    ['a relative path', { overlayPath: 'overlay.qcow2' }],
    ['trailing whitespace', { overlayPath: '/w/overlay.qcow2 ' }],
    ['a bad domain name', { name: 'x"y' }],
    ['a domain name with a space', { name: 'a b' }],
    ['the image as the disk', { overlayPath: '/images/vendor.img' }],
  ];
  for (const [what, over] of unsafe) {
    it(`rejects ${what}`, () => {
      assert.throws(() => buildXlConfig({ ...base, ...over }), BootRequestInvalidError);
    });
  }
});

describe('xenUnsupportedReasons', () => {
  it('accepts aarch64 / edk2 / DT / xen-pv / xen', () => {
    assert.deepEqual(xenUnsupportedReasons(profile, debianXenCapabilities), []);
  });
  it('says Xen on this host has no ACPI support', () => {
    const r = xenUnsupportedReasons({ ...profile, hwDescription: 'acpi' }, debianXenCapabilities);
    assert.deepEqual(r, [xenNoAcpiReason]);
    assert.match(r[0]!, /Xen on this host has no ACPI support/);
    assert.deepEqual(xenUnsupportedReasons({ ...profile, hwDescription: 'acpi' }, { ...debianXenCapabilities, acpi: true }), []);
  });
  it('refuses other accels, arm, virtio-pci, u-boot without xenguest, too many GICv2 vCPUs', () => {
    const r = xenUnsupportedReasons({ ...profile, accel: 'tcg', arch: 'arm', disk: 'virtio-pci', firmware: 'u-boot', gic: 'v2', cpus: 9 }, debianXenCapabilities);
    assert.equal(r.length, 5, r.join('\n'));
    assert.match(r.join('\n'), /accel tcg/);
    assert.match(r.join('\n'), /arch arm/);
    assert.match(r.join('\n'), /U-Boot xenguest/);
    assert.match(r.join('\n'), /disk virtio-pci/);
    assert.match(r.join('\n'), /cpus 9/);
  });
  it('takes u-boot and virtio-mmio only when the host has them (and not virtio-mmio with ArmVirtXen)', () => {
    const caps = { ...debianXenCapabilities, ubootFirmware: true, virtioMmioDisks: true };
    assert.deepEqual(xenUnsupportedReasons({ ...profile, firmware: 'u-boot', disk: 'virtio-mmio' }, caps), []);
    assert.match(xenUnsupportedReasons({ ...profile, disk: 'virtio-mmio' }, caps).join(), /XenPvBlkDxe/);
    assert.match(xenUnsupportedReasons({ ...profile, disk: 'virtio-mmio' }, debianXenCapabilities).join(), /4\.17/);
  });
});

describe('xl list parser', () => {
  const list = 'Name                                        ID   Mem VCPUs\tState\tTime(s)\nbootfarm-ab                                  7   512     1     ----c-       1.2\n';
  it('parses xl list', () => {
    assert.deepEqual(parseXlList(list, 'bootfarm-ab'), { name: 'bootfarm-ab', domid: 7, memoryMiB: 512, vcpus: 1, state: '----c-' });
    assert.equal(parseXlList(list, 'bootfarm'), null);
    assert.equal(isCrashedState('----c-'), true);
    assert.equal(isCrashedState('-b----'), false);
  });
});
