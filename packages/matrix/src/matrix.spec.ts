import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { ZodError } from 'zod';
import { defaultProfile, profileKey, type VmProfile } from '@bootfarm/contracts';
import { defaultFirmwareCatalog, explainProfile, firmwareFileList, firmwareKeys, type HostCapabilities, type ToolProbe } from '@bootfarm/emulator';
import {
  MATRIX_AXES, MATRIX_MAX_CELLS, MatrixSpec, MatrixTooLargeError, PresetName, completeProfile, expandMatrix, matchesEntry, matrixPresets,
  type ExpandedCell, type MatrixSpecInput, type PartialProfile,
} from './index.js';

const keys = (cells: readonly ExpandedCell[]): string[] => cells.map((c) => c.key);
const P = (over: Partial<VmProfile> = {}): VmProfile => ({ ...defaultProfile, ...over });
const K = (over: Partial<VmProfile> = {}): string => profileKey(P(over));
const sorted = (xs: readonly string[]): string[] => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

function assertWellFormed(cells: readonly ExpandedCell[]): void {
  assert.deepEqual(keys(cells), sorted(keys(cells)), 'sorted by key');
  assert.equal(new Set(keys(cells)).size, cells.length, 'keys unique');
  for (const c of cells) assert.equal(c.key, profileKey(c.profile));
}

const tool = (path: string, present = true): ToolProbe => ({ path, present, version: present ? 'x 1.0' : null, error: present ? null : 'ENOENT' });
/** Everything installed, x86_64, no usable KVM, no Xen (as in the emulator's validator spec). */
const x86Host: HostCapabilities = {
  schema: 1,
  probedAt: '2026-11-25T00:00:00.000Z',
  hostArch: 'x86_64',
  cpuCount: 2,
  memoryMiB: 7900,
  qemu: { aarch64: tool('/usr/bin/qemu-system-aarch64'), arm: tool('/usr/bin/qemu-system-arm'), img: tool('/usr/bin/qemu-img') },
  containment: { setpriv: tool('/usr/bin/setpriv'), prlimit: tool('/usr/bin/prlimit') },
  firmware: firmwareKeys.flatMap((key) =>
    firmwareFileList(defaultFirmwareCatalog[key]).map((f) => ({ key, role: f.role, path: f.path, present: true, sizeBytes: 1, sha256: '0'.repeat(64), error: null })),
  ),
  kvm: { path: '/dev/kvm', present: true, usable: false, detail: '/dev/kvm is not usable by this user (EACCES)' },
  xen: { xl: tool('/usr/sbin/xl', false), usable: false, info: null, detail: 'xl is not installed (/usr/sbin/xl)' },
};

describe('presets', () => {
  const expected: Record<PresetName, { cells: number; applicable: number }> = {
    quick: { cells: 1, applicable: 1 },
    'vm-spec-platforms': { cells: 6, applicable: 6 },
    'vm-spec-full': { cells: 192, applicable: 100 },
    xen: { cells: 8, applicable: 8 },
  };

  it('exist for every preset name, with a description', () => {
    assert.deepEqual(Object.keys(matrixPresets).sort(), [...PresetName.options].sort());
    for (const name of PresetName.options) assert.ok(matrixPresets[name].description.length > 10, name);
  });

  for (const name of PresetName.options) {
    it(`${name} expands to its documented size (${expected[name].cells} cells, ${expected[name].applicable} applicable)`, () => {
      const cells = expandMatrix({ preset: name });
      assertWellFormed(cells);
      assert.equal(cells.length, expected[name].cells);
      assert.equal(cells.filter((c) => c.applicable).length, expected[name].applicable);
      assert.deepEqual(expandMatrix({ preset: name }), cells, 'deterministic');
    });
  }

  it('quick is the default reference cell', () => {
    const [cell, ...rest] = expandMatrix({ preset: 'quick' });
    assert.equal(rest.length, 0);
    assert.deepEqual(cell, { key: 'aarch64/edk2/acpi/gicv3/virtio-pci/1cpu/512M/tcg', profile: defaultProfile, backend: 'qemu-tcg', applicable: true });
    assert.deepEqual(expandMatrix({}), expandMatrix({ preset: 'quick' }), 'an empty spec is the quick cell');
  });

  it('vm-spec-platforms is the compliance platforms, 2 vCPUs on TCG', () => {
    assert.deepEqual(keys(expandMatrix({ preset: 'vm-spec-platforms' })), [
      'aarch64/edk2/acpi/gicv2/virtio-pci/2cpu/512M/tcg',
      'aarch64/edk2/acpi/gicv3/virtio-pci/2cpu/512M/tcg',
      'aarch64/edk2/dt/gicv2/virtio-pci/2cpu/512M/tcg',
      'aarch64/edk2/dt/gicv3/virtio-pci/2cpu/512M/tcg',
      'aarch64/u-boot/dt/gicv3/virtio-pci/2cpu/512M/tcg',
      'arm/edk2/dt/gicv2/virtio-pci/2cpu/512M/tcg',
    ]);
  });

  it('vm-spec-full marks exactly the impossible combinations', () => {
    for (const c of expandMatrix({ preset: 'vm-spec-full' })) {
      const p = c.profile;
      const impossible = (p.gic === 'v2' && p.cpus > 8) || (p.firmware === 'u-boot' && p.hwDescription === 'acpi') || (p.arch === 'arm' && p.firmware === 'edk2' && p.hwDescription === 'acpi');
      assert.equal(c.applicable, !impossible, c.key);
      assert.equal(c.backend, 'qemu-tcg');
    }
  });

  it('xen cells route to the xen backend', () => {
    for (const c of expandMatrix({ preset: 'xen' })) assert.equal(c.backend, 'xen');
  });

  it('a spec overrides a preset axis and keeps the rest', () => {
    const cells = expandMatrix({ preset: 'vm-spec-full', axes: { arch: ['aarch64'] } });
    assert.equal(cells.length, 96);
    assert.ok(cells.every((c) => c.profile.arch === 'aarch64'));
    const kvm = expandMatrix({ preset: 'vm-spec-platforms', axes: { accel: ['kvm'] } });
    assert.equal(kvm.filter((c) => c.profile.accel === 'kvm').length, 4, 'the product follows the override');
    assert.equal(kvm.filter((c) => c.profile.accel === 'tcg').length, 2, "the preset's include entries are fixed cells");
  });
});

describe('axes, include, exclude', () => {
  it('missing axes take the default profile value', () => {
    assert.deepEqual(keys(expandMatrix({ axes: { gic: ['v3', 'v2'] } })), [K({ gic: 'v2' }), K({ gic: 'v3' })]);
  });

  it('is the cartesian product of the axes', () => {
    const cells = expandMatrix({ axes: { hwDescription: ['acpi', 'dt'], gic: ['v2', 'v3'], cpus: [1, 2, 4] } });
    assert.equal(cells.length, 12);
    assertWellFormed(cells);
  });

  it('exclude drops combinations matching every field of an entry', () => {
    const axes = { hwDescription: ['acpi', 'dt'], gic: ['v2', 'v3'] } as const;
    const one = expandMatrix({ axes: { ...axes, hwDescription: [...axes.hwDescription], gic: [...axes.gic] }, exclude: [{ gic: 'v2', hwDescription: 'acpi' }] });
    assert.deepEqual(keys(one), sorted([K({ hwDescription: 'acpi', gic: 'v3' }), K({ hwDescription: 'dt', gic: 'v2' }), K({ hwDescription: 'dt', gic: 'v3' })]));
    const partial = expandMatrix({ axes: { hwDescription: ['acpi', 'dt'], gic: ['v2', 'v3'] }, exclude: [{ gic: 'v2' }] });
    assert.deepEqual(keys(partial), sorted([K({ hwDescription: 'acpi', gic: 'v3' }), K({ hwDescription: 'dt', gic: 'v3' })]));
    const none = expandMatrix({ axes: { gic: ['v2', 'v3'] }, exclude: [{ gic: 'v2', cpus: 4 }] });
    assert.equal(none.length, 2, 'an entry that matches no combination drops nothing');
    const all = expandMatrix({ axes: { gic: ['v2', 'v3'] }, exclude: [{ gic: 'v2' }, { gic: 'v3' }] });
    assert.deepEqual(all, [], 'everything excluded: an empty matrix');
  });

  it('include adds a cell completed from the default profile', () => {
    const cells = expandMatrix({ axes: { gic: ['v2', 'v3'] }, include: [{ arch: 'arm', hwDescription: 'dt' }] });
    assert.deepEqual(keys(cells), sorted([K({ gic: 'v2' }), K({ gic: 'v3' }), K({ arch: 'arm', hwDescription: 'dt' })]));
    assert.deepEqual(cells.find((c) => c.profile.arch === 'arm')?.profile, P({ arch: 'arm', hwDescription: 'dt' }));
  });

  it('include of an existing combination is not added twice; include wins over exclude', () => {
    assert.equal(expandMatrix({ axes: { gic: ['v2', 'v3'] }, include: [{ gic: 'v2' }, {}] }).length, 2);
    const back = expandMatrix({ axes: { gic: ['v2', 'v3'] }, exclude: [{ gic: 'v2' }], include: [{ gic: 'v2' }] });
    assert.deepEqual(keys(back), [K({ gic: 'v2' }), K({ gic: 'v3' })]);
  });

  it('fields set to undefined count as absent', () => {
    assert.deepEqual(completeProfile({ gic: 'v2', cpus: undefined }), P({ gic: 'v2' }));
    assert.ok(matchesEntry(P({ gic: 'v2' }), { gic: 'v2', arch: undefined }));
    assert.equal(expandMatrix({ axes: { gic: ['v2', 'v3'] }, exclude: [{ gic: 'v2', arch: undefined }] }).length, 1);
  });

  it('duplicates collapse', () => {
    const cells = expandMatrix({
      axes: { gic: ['v2', 'v3', 'v2', 'v3'], cpus: [2, 2] },
      include: [{ gic: 'v2', cpus: 2 }, { gic: 'v2', cpus: 2 }, { arch: 'arm', firmware: 'u-boot', hwDescription: 'dt' }, { arch: 'arm', firmware: 'u-boot', hwDescription: 'dt' }],
    });
    assertWellFormed(cells);
    assert.equal(cells.length, 3);
    assert.equal(expandMatrix({ preset: 'vm-spec-platforms', include: [{ firmware: 'u-boot', hwDescription: 'dt', gic: 'v3', cpus: 2 }] }).length, 6);
  });

  it('does not share profile objects with the default profile', () => {
    const [cell] = expandMatrix({ include: [{ gic: 'v2' }] });
    assert.notEqual(cell!.profile, defaultProfile);
  });
});

describe('validation', () => {
  const bad: Array<[string, unknown]> = [
    ['an unknown gic value', { axes: { gic: ['v4'] } }],
    ['0 vCPUs', { axes: { cpus: [0] } }],
    ['65 vCPUs', { axes: { cpus: [65] } }],
    ['fractional memory', { axes: { memoryMiB: [512.5] } }],
    ['memory below 128 MiB', { axes: { memoryMiB: [64] } }],
    ['a string for a number', { axes: { cpus: ['2'] } }],
    ['an empty axis', { axes: { gic: [] } }],
    ['an axis that is not an array', { axes: { gic: 'v2' } }],
    ['an unknown axis', { axes: { gics: ['v2'] } }],
    ['an unknown top-level key', { preset: 'quick', matrix: {} }],
    ['an unknown preset', { preset: 'everything' }],
    ['an unknown include field', { include: [{ memory: 512 }] }],
    ['an invalid include value', { include: [{ disk: 'nvme' }] }],
    ['an invalid exclude value', { exclude: [{ accel: 'hvf' }] }],
    ['an empty exclude entry', { exclude: [{}] }],
    ['an exclude entry of only undefined fields', { exclude: [{ gic: undefined }] }],
  ];
  for (const [name, spec] of bad) {
    it(`rejects ${name} with a ZodError`, () => {
      assert.throws(() => expandMatrix(spec as MatrixSpecInput), ZodError);
      assert.equal(MatrixSpec.safeParse(spec).success, false);
    });
  }

  it('accepts every preset, axes, include and exclude together', () => {
    const spec = { preset: 'vm-spec-full', axes: { cpus: [1, 64], memoryMiB: [128, 65536] }, include: [{}], exclude: [{ arch: 'arm' }] };
    assert.equal(MatrixSpec.safeParse(spec).success, true);
  });
});

describe('size cap', () => {
  it('rejects a too-large product before building it, quickly', () => {
    const spec: MatrixSpecInput = {
      axes: {
        arch: ['aarch64', 'arm'], firmware: ['edk2', 'u-boot'], hwDescription: ['acpi', 'dt'], gic: ['v2', 'v3'], disk: ['virtio-pci', 'virtio-mmio', 'xen-pv'], accel: ['tcg', 'kvm', 'xen'],
        cpus: Array.from({ length: 64 }, (_, i) => i + 1),
        memoryMiB: Array.from({ length: 65536 - 128 + 1 }, (_, i) => i + 128),
      },
    };
    let err: unknown;
    const t0 = performance.now();
    try {
      expandMatrix(spec);
    } catch (e) {
      err = e;
    }
    const ms = performance.now() - t0;
    assert.ok(err instanceof MatrixTooLargeError);
    assert.equal(err.stage, 'product');
    assert.equal(err.cells, 2 * 2 * 2 * 2 * 3 * 3 * 64 * 65409);
    assert.equal(err.limit, MATRIX_MAX_CELLS);
    assert.match(err.message, /cpus 64 × memoryMiB 65409/);
    assert.ok(ms < 500, `took ${ms.toFixed(0)} ms`);
  });

  it('allows exactly the limit', () => {
    const cells = expandMatrix({ axes: { cpus: Array.from({ length: 50 }, (_, i) => i + 1), memoryMiB: Array.from({ length: 200 }, (_, i) => 128 + i) } });
    assert.equal(cells.length, MATRIX_MAX_CELLS);
    assertWellFormed(cells);
  });

  it('counts duplicates once, and checks the cells after include against maxCells', () => {
    assert.equal(expandMatrix({ axes: { gic: ['v2', 'v2', 'v2'] } }, { maxCells: 1 }).length, 1);
    assert.throws(() => expandMatrix({ axes: { gic: ['v2', 'v3'] } }, { maxCells: 1 }), (e: unknown) => e instanceof MatrixTooLargeError && e.stage === 'product' && e.cells === 2);
    assert.throws(() => expandMatrix({ include: [{ gic: 'v2' }] }, { maxCells: 1 }), (e: unknown) => e instanceof MatrixTooLargeError && e.stage === 'cells' && e.cells === 2);
    assert.equal(expandMatrix({ axes: { gic: ['v2', 'v3'] }, exclude: [{ gic: 'v3' }], include: [{ cpus: 2 }] }, { maxCells: 2 }).length, 2);
    assert.throws(() => expandMatrix({}, { maxCells: 0 }), RangeError);
  });
});

describe('applicability', () => {
  it('GICv2 with 9 vCPUs is not applicable, with the reason', () => {
    const [cell] = expandMatrix({ axes: { gic: ['v2'], cpus: [9] } });
    assert.equal(cell?.applicable, false);
    assert.ok(cell && !cell.applicable);
    assert.match(cell.reason, /GICv2 limits a VM to 8 vCPUs \(asked for 9\)/);
    assert.equal(expandMatrix({ axes: { gic: ['v3'], cpus: [9] } })[0]?.applicable, true);
  });

  it('U-Boot with ACPI is not applicable, with the reason', () => {
    const [cell] = expandMatrix({ include: [{ firmware: 'u-boot', hwDescription: 'acpi' }], exclude: [{ firmware: 'edk2' }] });
    assert.equal(cell?.key, K({ firmware: 'u-boot', hwDescription: 'acpi' }));
    assert.ok(cell && !cell.applicable);
    assert.match(cell.reason, /U-Boot has no ACPI/);
  });

  it('joins several errors and leaves information out', () => {
    const [cell] = expandMatrix({ axes: { firmware: ['u-boot'], gic: ['v2'], cpus: [9], disk: ['virtio-mmio'] } });
    assert.ok(cell && !cell.applicable);
    const errors = explainProfile(cell.profile, null).problems.filter((p) => p.severity === 'error');
    assert.equal(errors.length, 2);
    assert.equal(cell.reason, errors.map((p) => p.message).join('; '));
    assert.doesNotMatch(cell.reason, /hotplug/);
    const [mmio] = expandMatrix({ axes: { disk: ['virtio-mmio'] } });
    assert.equal(mmio?.applicable, true, 'an info finding does not make a cell not applicable');
  });

  it('AArch32 limits: edk2 with ACPI, more than 3 GiB', () => {
    const cells = expandMatrix({ axes: { arch: ['arm'], hwDescription: ['acpi', 'dt'], memoryMiB: [3072, 4096] } });
    assert.deepEqual(cells.map((c) => [c.key, c.applicable]), [
      ['arm/edk2/acpi/gicv3/virtio-pci/1cpu/3072M/tcg', false],
      ['arm/edk2/acpi/gicv3/virtio-pci/1cpu/4096M/tcg', false],
      ['arm/edk2/dt/gicv3/virtio-pci/1cpu/3072M/tcg', true],
      ['arm/edk2/dt/gicv3/virtio-pci/1cpu/4096M/tcg', false],
    ]);
  });

  it('host-dependent problems count only when a host is given', () => {
    const spec: MatrixSpecInput = { axes: { accel: ['tcg', 'kvm'] } };
    const independent = expandMatrix(spec);
    assert.deepEqual(independent.map((c) => [c.backend, c.applicable]), [['qemu-kvm', true], ['qemu-tcg', true]]);
    assert.deepEqual(expandMatrix(spec, { host: null }), independent);
    const onX86 = expandMatrix(spec, { host: x86Host });
    assert.deepEqual(onX86.map((c) => [c.backend, c.applicable]), [['qemu-kvm', false], ['qemu-tcg', true]]);
    const kvm = onX86[0]!;
    assert.ok(!kvm.applicable);
    assert.match(kvm.reason, /no KVM for aarch64 guests/);
    const xen = expandMatrix({ preset: 'xen' }, { host: x86Host });
    assert.ok(xen.every((c) => !c.applicable && /Xen dom0|xl is not installed/.test(c.reason)));
  });

  it('host-independent backend mismatches: xen-pv disks on QEMU, virtio under Xen', () => {
    const cells = expandMatrix({ axes: { disk: ['virtio-pci', 'xen-pv'], accel: ['tcg', 'xen'], hwDescription: ['dt'] } });
    assert.deepEqual(cells.map((c) => [c.key, c.applicable]), [
      ['aarch64/edk2/dt/gicv3/virtio-pci/1cpu/512M/tcg', true],
      ['aarch64/edk2/dt/gicv3/virtio-pci/1cpu/512M/xen', false],
      ['aarch64/edk2/dt/gicv3/xen-pv/1cpu/512M/tcg', false],
      ['aarch64/edk2/dt/gicv3/xen-pv/1cpu/512M/xen', true],
    ]);
  });
});

// ---- property: random small specs against a naive model ------------------------------------

/** mulberry32: a small seeded PRNG, so a failure is reproducible with MATRIX_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POOLS: { [K in keyof VmProfile]: readonly VmProfile[K][] } = {
  arch: ['aarch64', 'arm'],
  firmware: ['edk2', 'u-boot'],
  hwDescription: ['acpi', 'dt'],
  gic: ['v2', 'v3'],
  disk: ['virtio-pci', 'virtio-mmio', 'xen-pv'],
  cpus: [1, 2, 8, 9, 64],
  memoryMiB: [128, 512, 3072, 4096],
  accel: ['tcg', 'kvm', 'xen'],
};

function randomSpec(r: () => number): MatrixSpecInput {
  const pools = POOLS as Readonly<Record<string, readonly unknown[]>>;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const partial = (min: number): PartialProfile => {
    const e: Record<string, unknown> = {};
    for (const k of MATRIX_AXES) if (r() < 0.3) e[k] = pick(pools[k]!);
    if (r() < 0.1) e[pick(MATRIX_AXES)] = undefined; // an explicit undefined counts as absent
    if (Object.keys(e).filter((k) => e[k] !== undefined).length < min) {
      const k = pick(MATRIX_AXES);
      e[k] = pick(pools[k]!);
    }
    return e as PartialProfile;
  };
  const spec: Record<string, unknown> = {};
  if (r() < 0.2) spec.preset = pick(['quick', 'vm-spec-platforms', 'xen'] as const);
  if (r() < 0.9) {
    const axes: Record<string, unknown> = {};
    for (const k of MATRIX_AXES) if (r() < 0.4) axes[k] = Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(pools[k]!));
    spec.axes = axes;
  }
  if (r() < 0.6) spec.include = Array.from({ length: Math.floor(r() * 4) }, () => partial(0));
  if (r() < 0.6) spec.exclude = Array.from({ length: Math.floor(r() * 4) }, () => partial(1));
  return spec as MatrixSpecInput;
}

/** The semantics, written the slow obvious way. */
function model(input: MatrixSpecInput): Set<string> {
  const spec = MatrixSpec.parse(input);
  const preset = spec.preset ? matrixPresets[spec.preset] : undefined;
  let combos: Record<string, unknown>[] = [{}];
  for (const k of MATRIX_AXES) {
    const values = (spec.axes?.[k] ?? preset?.axes[k] ?? [defaultProfile[k]]) as unknown[];
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
  }
  const excludes = [...(preset?.exclude ?? []), ...(spec.exclude ?? [])];
  const out = new Set<string>();
  for (const c of combos as unknown as VmProfile[]) {
    if (!excludes.some((e) => MATRIX_AXES.every((k) => e[k] === undefined || e[k] === c[k]))) out.add(profileKey(c));
  }
  for (const i of [...(preset?.include ?? []), ...(spec.include ?? [])]) out.add(profileKey(completeProfile(i)));
  return out;
}

describe('property: random small specs', () => {
  const seed = Number(process.env.MATRIX_SEED ?? 20261125);
  const iterations = Number(process.env.MATRIX_ITERATIONS ?? 400);

  it(`${iterations} specs (seed ${seed}): unique sorted keys, excludes respected, includes present, matches the model`, () => {
    const r = rng(seed);
    let cellsSeen = 0;
    let notApplicable = 0;
    for (let i = 0; i < iterations; i++) {
      const input = randomSpec(r);
      const where = `spec #${i}: ${JSON.stringify(input)}`;
      const spec = MatrixSpec.parse(input);
      const preset = spec.preset ? matrixPresets[spec.preset] : undefined;
      const includes = [...(preset?.include ?? []), ...(spec.include ?? [])].map((e) => profileKey(completeProfile(e)));
      const excludes = [...(preset?.exclude ?? []), ...(spec.exclude ?? [])];
      const cells = expandMatrix(input);
      cellsSeen += cells.length;

      assertWellFormed(cells);
      const got = new Set(keys(cells));
      for (const k of includes) assert.ok(got.has(k), `include ${k} present; ${where}`);
      for (const c of cells) {
        // A cell matching an exclude entry exists only because an include entry named it.
        if (excludes.some((e) => matchesEntry(c.profile, e))) assert.ok(includes.includes(c.key), `${c.key} is excluded; ${where}`);
        const errors = explainProfile(c.profile, null).problems.filter((p) => p.severity === 'error');
        assert.equal(c.applicable, errors.length === 0, where);
        if (!c.applicable) {
          notApplicable++;
          assert.equal(c.reason, errors.map((p) => p.message).join('; '));
        }
      }
      assert.deepEqual(keys(cells), sorted([...model(input)]), `same cells as the model; ${where}`);
    }
    assert.ok(cellsSeen > iterations, 'the generator makes non-trivial matrices');
    assert.ok(notApplicable > 0, 'the generator reaches not-applicable cells');
  });

  it('specs whose includes match no exclude: no cell matches an exclude entry', () => {
    const r = rng(seed ^ 0x5a5a);
    let checked = 0;
    for (let i = 0; i < iterations; i++) {
      const input = randomSpec(r);
      const spec = MatrixSpec.parse(input);
      const preset = spec.preset ? matrixPresets[spec.preset] : undefined;
      const excludes = [...(preset?.exclude ?? []), ...(spec.exclude ?? [])];
      const clash = (e: PartialProfile): boolean => excludes.some((x) => matchesEntry(completeProfile(e), x));
      if ((preset?.include ?? []).some(clash)) continue; // a preset's fixed cell would be brought back
      checked++;
      const cells = expandMatrix({ ...input, include: (spec.include ?? []).filter((e) => !clash(e)) });
      for (const c of cells) assert.ok(!excludes.some((e) => matchesEntry(c.profile, e)), `${c.key}: ${JSON.stringify(input)}`);
    }
    assert.ok(checked > iterations / 2);
  });
});
