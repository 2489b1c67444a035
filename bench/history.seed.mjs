// The million-cell history database the history and dashboard benchmarks share: created and
// seeded once (bootfarm_bench_history, kept between runs), seeded again when BENCH_RESEED is set.
//
// Seeded distributions: 20 vendors with skewed shares, 2,000 images, 50,000 runs of 20 cells over
// a year (30% nightly), outcomes 90% passed / 7% failed / 2.5% timeout / 0.5% infrastructure,
// 600 signatures hit Zipf-like (a few very common, a long tail), consoles of every failure and of
// 50,000 passing boots (30 lines each, addresses varying).
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { migrateDeploy } from '../packages/db/dist/index.js';

export const historyDatabase = 'bootfarm_bench_history';

/**
 * SQL: a settled run's stored compliance report (bootfarm.compliance/v1) with its per-profile summary
 * (v2.0 failing FW-5, as stock QEMU does) and, to keep the seed small, no per-requirement detail.
 */
export const complianceOf = (runId, image, finishedAt) => {
  const summary = (verdict, failing) => `jsonb_build_object('verdict', '${verdict}', 'failing', '${JSON.stringify(failing)}'::jsonb,
    'counts', jsonb_build_object('pass', 30, 'fail', ${failing.length}, 'warn', 2, 'not_applicable', 5, 'not_tested', 6))`;
  return `jsonb_build_object('schema', 'bootfarm.compliance/v1', 'runId', ${runId}::text,
    'image', jsonb_build_object('id', ${image}.id::text, 'name', ${image}.name, 'sha256', ${image}.sha256, 'format', ${image}.format),
    'generatedAt', to_char((${finishedAt}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'catalogueVersion', '2026.11-1',
    'summary', jsonb_build_object('vmspec-1.0', ${summary('pass', [])}, 'vmspec-2.0', ${summary('fail', ['FW-5'])}, 'bbr', ${summary('pass', [])}),
    'requirements', '[]'::jsonb, 'cells', '[]'::jsonb)`;
};

/** SQL: the cell profile (jsonb) a seeded key such as aarch64/edk2/acpi/gicv3/virtio-pci/1cpu/512M/tcg names. */
export const profileOfKey = (key) => `jsonb_build_object('arch', split_part(${key}, '/', 1), 'firmware', split_part(${key}, '/', 2),
  'hwDescription', split_part(${key}, '/', 3), 'gic', substr(split_part(${key}, '/', 4), 4), 'disk', split_part(${key}, '/', 5),
  'cpus', 1, 'memoryMiB', 512, 'accel', split_part(${key}, '/', 8))`;

/** Opens (creating and seeding when needed) the seeded database; returns its URL and a connected client. */
export async function openHistoryDatabase(serverUrl) {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  // A seed that did not finish leaves no 'seeded' comment on the database, and is seeded again.
  const found = await admin.query(`SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1`, [historyDatabase]);
  const exists = found.rowCount === 1;
  const seed = !exists || found.rows[0].note !== 'seeded' || !!process.env.BENCH_RESEED;
  if (exists && seed) await admin.query(`DROP DATABASE ${historyDatabase} WITH (FORCE)`);
  if (seed) await admin.query(`CREATE DATABASE ${historyDatabase}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${historyDatabase}`;
  const dbUrl = url.toString();
  // Schema changes since the last seed are applied; a run that changes the seeded columns needs BENCH_RESEED.
  await migrateDeploy({ databaseUrl: dbUrl });
  const sql = new pg.Client({ connectionString: dbUrl });
  await sql.connect();
  if (seed) {
    const t = performance.now();
    await seedHistory(sql);
    await sql.query(`COMMENT ON DATABASE ${historyDatabase} IS 'seeded'`);
    console.log(`seeded in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
  return { dbUrl, sql };
}

/** The seeding script: plain SQL, deterministic (setseed), a few minutes on one core. */
async function seedHistory(c) {
  const step = async (label, q) => {
    const t = performance.now();
    await c.query(q);
    console.log(`  ${label} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  };
  await c.query(`SELECT setseed(0.42)`);
  // The trigram index is built once at the end (faster than maintaining it row by row).
  await c.query(`DROP INDEX console_chunk_text_trgm_idx`);
  await step('vendors, images', `
    INSERT INTO vendor (id, name) SELECT gen_random_uuid(), 'vendor-' || lpad(g::text, 2, '0') FROM generate_series(1, 20) g;
    CREATE TEMP TABLE v AS SELECT id, row_number() OVER (ORDER BY name) AS n FROM vendor;
    -- Skewed shares: vendor 1 owns about a third of the images, the last few a handful.
    INSERT INTO image (id, vendor_id, name, format, sha256, size_bytes, created_at)
    SELECT gen_random_uuid(), v.id, 'image-' || (g % 400), 'raw', encode(sha256(g::text::bytea), 'hex'), 1073741824, now() - interval '400 days'
    FROM generate_series(1, 2000) g JOIN v ON v.n = 1 + floor(20 * power(((g * 7919) % 2000) / 2000.0, 2))::int;
    CREATE TEMP TABLE im AS SELECT id, vendor_id, row_number() OVER (ORDER BY id) - 1 AS n FROM image;`);
  await step('platforms, signatures', `
    CREATE TEMP TABLE k AS
    SELECT row_number() OVER () - 1 AS n, key, backend FROM (
      SELECT 'aarch64/' || fw || '/' || hw || '/gic' || gic || '/' || disk || '/1cpu/512M/' || accel AS key,
             CASE accel WHEN 'xen' THEN 'xen' WHEN 'kvm' THEN 'qemu-kvm' ELSE 'qemu-tcg' END AS backend
      FROM unnest(ARRAY['edk2', 'u-boot']) fw, unnest(ARRAY['acpi', 'dt']) hw, unnest(ARRAY['v2', 'v3']) gic,
           unnest(ARRAY['virtio-pci', 'virtio-mmio']) disk, unnest(ARRAY['tcg', 'kvm', 'xen']) accel
      WHERE NOT (fw = 'u-boot' AND hw = 'acpi') ORDER BY 1 LIMIT 20) x;
    CREATE TEMP TABLE s AS
    SELECT g AS n, gen_random_uuid() AS id,
      (ARRAY['kernel_panic', 'kernel_panic', 'no_boot_device', 'loader_error', 'firmware_exception', 'kernel_oops', 'hang', 'qemu_start_failed'])[1 + g % 8] AS failure_class,
      (ARRAY['os', 'os', 'boot_manager', 'bootloader', 'firmware', 'os', 'os', 'none'])[1 + g % 8] AS stage
    FROM generate_series(0, 599) g;
    INSERT INTO failure_signature (id, title, kind, failure_class, stage, occurrences, first_seen_at, last_seen_at)
    SELECT id, CASE failure_class
        WHEN 'kernel_panic' THEN 'kernel panic: VFS: Unable to mount root fs on unknown-block(N,N) in driver_' || n
        WHEN 'no_boot_device' THEN 'no boot device: BdsDxe: failed to load Boot000' || (n % 10) || ' "UEFI Misc Device ' || n || '": Not Found'
        WHEN 'loader_error' THEN 'loader error: grub: error: file /boot/vmlinuz-' || n || ' not found'
        WHEN 'firmware_exception' THEN 'firmware exception: Synchronous Exception at ADDR in module_' || n
        WHEN 'kernel_oops' THEN 'kernel oops: Unable to handle kernel NULL pointer dereference in probe_' || n
        WHEN 'hang' THEN 'hang after os: last line init_' || n
        ELSE 'qemu_start_failed: qemu-system-aarch64: cannot set up guest memory ' || n END,
      CASE WHEN failure_class = 'qemu_start_failed' THEN 'infrastructure' ELSE 'product' END, failure_class, stage, 0, now(), now()
    FROM s;
    INSERT INTO signature_alias (title_key, title, join_key, signature_id) SELECT kind || ':' || title, title, kind || ':' || lower(title), id FROM failure_signature;`);
  await step('50,000 runs', `
    CREATE TEMP TABLE ru AS
    SELECT gen_random_uuid() AS id, r, im.id AS image_id, im.vendor_id, now() - (50000 - r) * interval '10 minutes' AS at,
           (r % 10 < 3) AS nightly
    FROM generate_series(0, 49999) r JOIN im ON im.n = r % 2000;
    INSERT INTO run (id, vendor_id, status, trigger, created_at, finished_at, nightly_date, nightly_image_id)
    SELECT id, vendor_id, 'passed', CASE WHEN nightly THEN 'nightly' ELSE 'vendor' END, at, at + interval '5 minutes',
           CASE WHEN nightly THEN to_char(at, 'YYYY-MM-DD') END, CASE WHEN nightly THEN image_id END FROM ru;
    INSERT INTO run_image (run_id, image_id, position, compliance)
    SELECT ru.id, ru.image_id, 0, ${complianceOf('ru.id', 'i', "ru.at + interval '5 minutes'")} FROM ru JOIN image i ON i.id = ru.image_id;`);
  await step('1,000,000 cells, attempts, results', `
    CREATE TEMP TABLE ce AS
    SELECT gen_random_uuid() AS cell_id, gen_random_uuid() AS attempt_id, gen_random_uuid() AS result_id, ru.id AS run_id, ru.image_id, ru.vendor_id,
           k.key, k.backend, ru.at + (k.n * interval '10 seconds') AS at, random() AS roll, random() AS pick
    FROM ru CROSS JOIN k;
    ALTER TABLE ce ADD COLUMN outcome text, ADD COLUMN sig uuid;
    UPDATE ce SET outcome = CASE WHEN roll < 0.90 THEN 'passed' WHEN roll < 0.97 THEN 'failed' WHEN roll < 0.995 THEN 'timeout' ELSE 'infrastructure_error' END;
    -- Zipf-like: pick^3 crowds the draws onto the first signatures.
    UPDATE ce SET sig = s.id FROM s WHERE ce.outcome <> 'passed' AND s.n = floor(600 * power(ce.pick, 3))::int;
    INSERT INTO cell (id, run_id, image_id, key, backend, capability, profile, status, timeout_ms, created_at, started_at, finished_at)
    SELECT cell_id, run_id, image_id, key, backend, backend || ':aarch64', ${profileOfKey('key')}, outcome, 120000, at, at, at + interval '30 seconds' FROM ce;
    INSERT INTO attempt (id, cell_id, number, worker_id, status, started_at, finished_at)
    SELECT attempt_id, cell_id, 1, 'worker-' || (abs(hashtext(key)) % 8), outcome, at, at + interval '30 seconds' FROM ce;
    INSERT INTO result (id, cell_id, attempt_id, outcome, failure_class, reason, stage, duration_ms, command, command_line, firmware, facts, evidence,
                        created_at, run_id, vendor_id, image_id, cell_key, backend, signature_id, transition, recorded_at)
    SELECT ce.result_id, ce.cell_id, ce.attempt_id, ce.outcome, s.failure_class, CASE WHEN ce.outcome = 'passed' THEN 'ready' ELSE 'see console' END,
           CASE WHEN ce.outcome = 'passed' THEN 'os' ELSE s.stage END, 4000 + (ce.pick * 20000)::int, '{}', 'qemu-system-aarch64 …', '{}', '{}',
           jsonb_build_object('stages', jsonb_build_array(jsonb_build_object('stage', 'firmware', 'seq', 0, 'offsetMs', 40),
             jsonb_build_object('stage', 'boot_manager', 'seq', 3, 'offsetMs', 500 + (ce.pick * 300)::int),
             jsonb_build_object('stage', 'bootloader', 'seq', 6, 'offsetMs', 700 + (ce.pick * 300)::int),
             jsonb_build_object('stage', 'os', 'seq', 9, 'offsetMs', 1400 + (ce.pick * 900)::int))),
           ce.at + interval '30 seconds', ce.run_id, ce.vendor_id, ce.image_id, ce.key, ce.backend, ce.sig,
           CASE WHEN ce.outcome = 'passed' THEN 'still_passing' WHEN ce.roll < 0.975 THEN 'still_failing' ELSE 'new_failure' END, ce.at + interval '31 seconds'
    FROM ce LEFT JOIN s ON s.id = ce.sig;`);
  await step('signature statistics, tracks, regressions', `
    UPDATE failure_signature f SET occurrences = x.n, first_seen_at = x.first, last_seen_at = x.last
    FROM (SELECT signature_id, count(*) AS n, min(created_at) AS first, max(created_at) AS last FROM result WHERE signature_id IS NOT NULL GROUP BY 1) x
    WHERE f.id = x.signature_id;
    INSERT INTO signature_stat (signature_id, vendor_id, axis, value, occurrences, first_seen_at, last_seen_at)
    SELECT r.signature_id, r.vendor_id, a.axis, a.value, count(*), min(r.created_at), max(r.created_at)
    FROM result r CROSS JOIN LATERAL (VALUES ('all', ''), ('image', r.image_id::text), ('backend', r.backend), ('key', r.cell_key),
      ('firmware', split_part(r.cell_key, '/', 2)), ('hwDescription', split_part(r.cell_key, '/', 3)), ('gic', substr(split_part(r.cell_key, '/', 4), 4)),
      ('day', to_char(r.created_at, 'YYYY-MM-DD'))) a(axis, value)
    WHERE r.signature_id IS NOT NULL GROUP BY 1, 2, 3, 4;
    INSERT INTO cell_track (image_id, cell_key, backend, boots, passes, failures, flaky_failures, last_outcome, updated_at)
    SELECT image_id, cell_key, min(backend), count(*), count(*) FILTER (WHERE outcome = 'passed'), count(*) FILTER (WHERE outcome IN ('failed', 'timeout')),
           count(*) FILTER (WHERE transition = 'new_failure') / 3, 'passed', max(created_at) FROM result GROUP BY 1, 2;
    INSERT INTO regression (id, vendor_id, image_id, cell_key, backend, state, basis, signature_id, opened_run_id, opened_result_id, previous_result_id,
                            nightly_date, checks_requested, checks_done, checks_failed, last_run_id, opened_at, updated_at, closed_at)
    SELECT gen_random_uuid(), r.vendor_id, r.image_id, r.cell_key, r.backend,
           (ARRAY['confirmed', 'flaky', 'fixed', 'fixed'])[1 + abs(hashtext(r.id::text)) % 4], 'digest', r.signature_id, c.run_id, r.id, r.id,
           ru.nightly_date, 2, 2, 1, c.run_id, r.created_at, r.created_at, NULL
    FROM result r JOIN cell c ON c.id = r.cell_id JOIN run ru ON ru.id = c.run_id WHERE r.transition = 'new_failure';`);
  await step('nightly counters', `
    INSERT INTO nightly_stat (night, vendor_id, backend, total, passed)
    SELECT ru.nightly_date, r.vendor_id, r.backend, count(*), count(*) FILTER (WHERE r.outcome = 'passed')
    FROM run ru JOIN cell c ON c.run_id = ru.id JOIN result r ON r.cell_id = c.id
    WHERE ru.nightly_date IS NOT NULL AND r.outcome IN ('passed', 'failed', 'timeout') GROUP BY 1, 2, 3;
    INSERT INTO nightly_stage_stat (night, vendor_id, stage, boots, total_ms)
    SELECT night, vendor_id, stage, count(*), sum(ms) FROM (
      SELECT ru.nightly_date AS night, r.vendor_id, e->>'stage' AS stage,
             COALESCE((r.evidence->'stages'->(x.ord::int)->>'offsetMs')::int, r.duration_ms) - (e->>'offsetMs')::int AS ms
      FROM run ru JOIN cell c ON c.run_id = ru.id JOIN result r ON r.cell_id = c.id
      CROSS JOIN LATERAL jsonb_array_elements(r.evidence->'stages') WITH ORDINALITY AS x(e, ord)
      WHERE ru.nightly_date IS NOT NULL AND r.outcome IN ('passed', 'failed', 'timeout')) d GROUP BY 1, 2, 3;`);
  await step('consoles: every failure, 50,000 passes (30 lines each)', `
    INSERT INTO console_chunk (attempt_id, first_seq, last_seq, offsets_ms, text)
    SELECT r.attempt_id, 0, 29, (SELECT array_agg(40 + l * 150 ORDER BY l) FROM generate_series(0, 29) l),
      (SELECT string_agg(CASE
          WHEN l = 0 THEN 'UEFI firmware (version edk2-stable202408 built at 13:10:49 on Nov  5 2024)'
          WHEN l = 3 THEN 'BdsDxe: loading Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0)'
          WHEN l = 6 THEN 'EFI stub: Booting Linux Kernel...'
          WHEN l = 27 AND s.failure_class = 'kernel_panic' THEN '[    1.' || lpad(l::text, 6, '0') || '] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)'
          WHEN l = 27 AND s.failure_class = 'firmware_exception' THEN 'Synchronous Exception at 0x00000000' || to_hex(abs(hashtext(r.id::text)) % 1048576)
          WHEN l = 27 AND s.failure_class = 'kernel_oops' THEN '[    2.000000] Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008'
          WHEN l = 27 AND s.failure_class = 'no_boot_device' THEN 'BdsDxe: failed to load Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x1,0x0): Not Found'
          ELSE '[    0.' || lpad((l * 1371)::text, 6, '0') || '] random: crng init: mapped ffff8000' || to_hex(65536 + (abs(hashtext(r.id::text || l)) % 1000000)) || ' at slot ' || l
        END, E'\\n' ORDER BY l) FROM generate_series(0, 29) l)
    FROM result r LEFT JOIN s ON s.id = r.signature_id
    WHERE r.outcome <> 'passed' OR abs(hashtext(r.id::text)) % 18 = 0;`);
  await step('trigram index on the consoles', `CREATE INDEX console_chunk_text_trgm_idx ON console_chunk USING GIN (text gin_trgm_ops)`);
  await step('analyze', `VACUUM ANALYZE`);
}
