/*
 * Host-side robustness check for fdt.c (run by src/probe.spec.ts).
 *
 * Usage: fdt-fuzz BLOB.dtb RANDOM_CASES SEED
 *
 * Feeds fdt_scan() the pristine blob, every truncation of it, every value
 * of every header byte, and seeded random corruptions (header, root
 * properties, strings, and anywhere in the structure block). Each case is
 * copied so that its last byte (at totalsize - 1) sits right before a
 * PROT_NONE page: a read at or beyond totalsize faults and kills the process.
 * Every returned property, the root compatible included, must also lie
 * inside the blob. Prints a summary of `key=value` lines (the pristine walk's
 * findings first; `reason.*` counts the root compatible outcome the probe
 * prints: `found` or its fdt.error) and exits 0 only when every case was in
 * bounds.
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../fdt.h"

#define ARENA_SIZE (64u << 20) /* largest totalsize a corrupted header may claim and still be run */
#define MAX_REASONS 16

static UINT8 *arena_end;
static const char *reasons[MAX_REASONS];
static unsigned long reason_counts[MAX_REASONS];
static unsigned long cases, skipped, violations;

static UINT64 rng_state;
static FDT_INFO scan_info;
static unsigned long scan_ok, scan_errors;

static UINT32 rng(void)
{
    /* xorshift64*: deterministic for a given seed, no libc state. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (UINT32)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

static void count_reason(const char *reason)
{
    unsigned i;

    for (i = 0; i < MAX_REASONS && reasons[i] != 0; i++)
        if (strcmp(reasons[i], reason) == 0)
            break;
    if (i == MAX_REASONS) {
        fprintf(stderr, "too many distinct reasons\n");
        exit(2);
    }
    reasons[i] = reason;
    reason_counts[i]++;
}

/* Runs one case: blob holds n bytes whose header may claim any totalsize. */
static const char *run_case(const UINT8 *blob, size_t n, const UINT8 **out_value, UINT32 *out_len)
{
    UINT32 total = fdt_be32(blob + 4);
    /* The reader always reads the 8-byte magic+totalsize prefix. */
    size_t readable = total < 8 ? 8 : total;
    const char *reason;
    UINT8 *fdt;

    if (readable > ARENA_SIZE) {
        skipped++;
        return "skipped";
    }
    fdt = arena_end - readable;
    /* Bytes beyond n (when the header claims more) keep whatever an earlier
     * case left there: just more untrusted content. */
    memcpy(fdt, blob, n < readable ? n : readable);
    cases++;
    memset(&scan_info, 0, sizeof(scan_info));
    reason = fdt_scan(fdt, &scan_info);
    if (reason == 0)
        scan_ok++;
    else
        scan_errors++;
    /* What the probe prints: the root compatible, else this reason. */
    reason = fdt_root_compatible_error(&scan_info, reason);
    count_reason(reason == 0 ? "found" : reason);
    if (out_value != 0) {
        *out_value = scan_info.root_compatible.ptr;
        *out_len = scan_info.root_compatible.len;
    }
    {
        const FDT_BYTES found[] = {
            scan_info.root_compatible, scan_info.gic_compatible, scan_info.timer_compatible,
            scan_info.psci_compatible, scan_info.psci_method, scan_info.uart_compatible,
            scan_info.uart_status, scan_info.stdout_path, scan_info.rtc_compatible,
            scan_info.rtc_status,
        };
        size_t k;

        for (k = 0; k < sizeof(found) / sizeof(found[0]); k++) {
            if (found[k].ptr == 0)
                continue;
            if (found[k].ptr < fdt || (UINT64)(found[k].ptr - fdt) + found[k].len > total) {
                if (violations++ < 10)
                    fprintf(stderr, "violation: scan value %zu at +%td len %u outside totalsize %u\n",
                            k, found[k].ptr - fdt, found[k].len, total);
            }
        }
    }
    return reason;
}

static void print_bytes(const char *key, FDT_BYTES b)
{
    size_t i;

    printf("%s=", key);
    for (i = 0; b.ptr != 0 && i < b.len; i++)
        putchar(b.ptr[i] == 0 ? (i + 1 == b.len ? '\n' : ' ') : b.ptr[i]);
    if (b.ptr == 0 || b.len == 0 || b.ptr[b.len - 1] != 0)
        putchar('\n');
}

static void put_be32(UINT8 *p, UINT32 v)
{
    p[0] = (UINT8)(v >> 24);
    p[1] = (UINT8)(v >> 16);
    p[2] = (UINT8)(v >> 8);
    p[3] = (UINT8)v;
}

int main(int argc, char **argv)
{
    static const UINT32 interesting[] = { 0, 1, 2, 3, 4, 9, 16, 17, 35, 36, 39, 40, 0x7fffffffu,
                                          0x80000000u, 0xfffffffcu, 0xffffffffu };
    size_t page = (size_t)sysconf(_SC_PAGESIZE), n, i;
    unsigned long random_cases;
    const UINT8 *value;
    UINT8 *blob, *work;
    UINT32 len, v;
    FILE *f;
    long size;

    if (argc != 4) {
        fprintf(stderr, "usage: fdt-fuzz BLOB.dtb RANDOM_CASES SEED\n");
        return 2;
    }
    random_cases = strtoul(argv[2], 0, 10);
    rng_state = strtoull(argv[3], 0, 0) | 1;

    f = fopen(argv[1], "rb");
    if (f == 0 || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 40 || fseek(f, 0, SEEK_SET) != 0) {
        perror(argv[1]);
        return 2;
    }
    blob = malloc((size_t)size);
    work = malloc((size_t)size);
    if (blob == 0 || work == 0 || fread(blob, 1, (size_t)size, f) != (size_t)size) {
        perror("read");
        return 2;
    }
    fclose(f);

    /* Pack: QEMU pads the blob to 1 MiB; the content ends with the larger
     * of the struct and strings blocks. Smaller cases run faster. */
    n = fdt_be32(blob + 12) + (size_t)fdt_be32(blob + 32);
    if (fdt_be32(blob + 8) + (size_t)fdt_be32(blob + 36) > n)
        n = fdt_be32(blob + 8) + (size_t)fdt_be32(blob + 36);
    if (n > (size_t)size) {
        fprintf(stderr, "blob header does not fit the file\n");
        return 2;
    }
    put_be32(blob + 4, (UINT32)n);

    {
        UINT8 *map = mmap(0, ARENA_SIZE + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (map == MAP_FAILED || mprotect(map + ARENA_SIZE, page, PROT_NONE) != 0) {
            perror("mmap");
            return 2;
        }
        arena_end = map + ARENA_SIZE;
    }

    /* 1. The pristine (packed) blob. */
    if (run_case(blob, n, &value, &len) != 0) {
        fprintf(stderr, "pristine blob: no root compatible\n");
        return 1;
    }
    printf("pristine=%.*s\n", (int)strnlen((const char *)value, len), (const char *)value);
    /* run_case left the pristine walk in scan_info. */
    printf("scan.ok=%lu\nscan.nodes=%u\nscan.cpus=%u\nscan.memory.count=%u\nscan.memory.bytes=%llu\n",
           scan_ok, scan_info.nodes, scan_info.cpus, scan_info.memory_count,
           (unsigned long long)scan_info.memory_bytes);
    printf("scan.gic.version=%u\nscan.timer.virt_ppi=%u\nscan.uart.count=%u\nscan.virtio_mmio.count=%u\n",
           scan_info.gic_version, scan_info.timer_virt_ppi, scan_info.uart_count,
           scan_info.virtio_mmio_count);
    printf("scan.pcie=%u\nscan.xen=%u\n", scan_info.pcie, scan_info.xen);
    print_bytes("scan.gic.compatible", scan_info.gic_compatible);
    print_bytes("scan.psci.compatible", scan_info.psci_compatible);
    print_bytes("scan.psci.method", scan_info.psci_method);
    print_bytes("scan.uart.compatible", scan_info.uart_compatible);
    print_bytes("scan.stdout_path", scan_info.stdout_path);
    print_bytes("scan.rtc.compatible", scan_info.rtc_compatible);

    /* 2. Every truncation, with totalsize saying so. */
    for (i = 8; i <= n; i++) {
        memcpy(work, blob, n);
        put_be32(work + 4, (UINT32)i);
        run_case(work, i, 0, 0);
    }

    /* 3. Every value of every header byte, and interesting 32-bit values in
     *    every header field. */
    for (i = 0; i < 40; i++) {
        for (v = 0; v < 256; v++) {
            memcpy(work, blob, n);
            work[i] = (UINT8)v;
            run_case(work, n, 0, 0);
        }
    }
    for (i = 4; i < 40; i += 4) {
        for (v = 0; v < sizeof(interesting) / sizeof(interesting[0]); v++) {
            memcpy(work, blob, n);
            put_be32(work + i, interesting[v]);
            run_case(work, n, 0, 0);
        }
    }

    /* 4. Seeded random corruption, biased to where the walk looks: the
     *    header, the root node's properties and the strings block. */
    for (i = 0; i < random_cases; i++) {
        UINT32 edits = 1 + rng() % 4, e;

        memcpy(work, blob, n);
        for (e = 0; e < edits; e++) {
            UINT32 where = rng() % 4, off;

            if (where == 0)
                off = rng() % 40;
            else if (where == 1)
                off = fdt_be32(blob + 8) + rng() % 512;
            else if (where == 2)
                off = fdt_be32(blob + 12) + rng() % fdt_be32(blob + 32);
            else /* anywhere in the structure block: the full walk reads it all */
                off = fdt_be32(blob + 8) + rng() % fdt_be32(blob + 36);
            if (off + 4 > n)
                continue;
            if (rng() % 2)
                work[off] = (UINT8)rng();
            else
                put_be32(work + (off & ~3u), interesting[rng() % (sizeof(interesting) / sizeof(interesting[0]))]);
        }
        run_case(work, n, 0, 0);
    }

    printf("blob_bytes=%zu\ncases=%lu\nskipped=%lu\nscan.cases_ok=%lu\nscan.cases_error=%lu\n",
           n, cases, skipped, scan_ok, scan_errors);
    for (i = 0; i < MAX_REASONS && reasons[i] != 0; i++)
        printf("reason.%s=%lu\n", reasons[i], reason_counts[i]);
    printf("violations=%lu\n", violations);
    return violations == 0 ? 0 : 1;
}
