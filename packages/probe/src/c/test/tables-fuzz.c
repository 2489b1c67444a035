/*
 * Host-side check of acpi.c and smbios.c (run by src/probe.spec.ts).
 *
 * Usage: tables-fuzz RANDOM_CASES SEED
 *
 * Builds the tables QEMU's virt machine has (RSDP, XSDT, FACP, DSDT, APIC,
 * GTDT, SPCR; an SMBIOS 3 entry point and structure table) in host memory,
 * each ending right before a PROT_NONE page, so that a read past a table's
 * stated length faults. Checks the pristine results, then every truncated
 * length of every table and seeded random corruptions. Host pointers stand
 * in for physical addresses (acpi.c converts addresses 1:1).
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../acpi.h"
#include "../smbios.h"

#define SLOT (64u * 1024u) /* room per table, followed by a guard page */

static size_t page;
static unsigned long failures;

static UINT64 rng_state;
static UINT32 rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (UINT32)((rng_state * 0x2545f4914f6cdd1dULL) >> 32);
}

/* A slot whose end touches a guard page; place() copies n bytes to its end. */
static UINT8 *new_slot(void)
{
    UINT8 *m = mmap(0, SLOT + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (m == MAP_FAILED || mprotect(m + SLOT, page, PROT_NONE) != 0) {
        perror("mmap");
        exit(2);
    }
    return m;
}

static UINT8 *place(UINT8 *slot, const UINT8 *bytes, size_t n)
{
    UINT8 *p = slot + SLOT - n;

    memmove(p, bytes, n);
    return p;
}

static void put16(UINT8 *p, UINT16 v) { p[0] = (UINT8)v; p[1] = (UINT8)(v >> 8); }
static void put32(UINT8 *p, UINT32 v) { put16(p, (UINT16)v); put16(p + 2, (UINT16)(v >> 16)); }
static void put64(UINT8 *p, UINT64 v) { put32(p, (UINT32)v); put32(p + 4, (UINT32)(v >> 32)); }

static void header(UINT8 *t, const char *sig, UINT32 len)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
}

static void checksum(UINT8 *p, size_t n, size_t at)
{
    UINT8 sum = 0;
    size_t i;

    p[at] = 0;
    for (i = 0; i < n; i++)
        sum = (UINT8)(sum + p[i]);
    p[at] = (UINT8)-sum;
}

static void expect(int cond, const char *what)
{
    if (!cond) {
        failures++;
        fprintf(stderr, "FAIL: %s\n", what);
    }
}

/* The pristine tables, built fresh in each slot. */
enum { T_RSDP, T_XSDT, T_FACP, T_DSDT, T_APIC, T_GTDT, T_SPCR, T_COUNT };
static UINT8 pristine[T_COUNT][512];
static size_t plen[T_COUNT];
static UINT8 *slots[T_COUNT];
static UINT8 *where[T_COUNT];

static void build(void)
{
    UINT8 *t;

    memset(pristine, 0, sizeof(pristine));
    t = pristine[T_FACP]; plen[T_FACP] = 276; header(t, "FACP", 276);
    put32(t + 112, 1u << 20);   /* HW_REDUCED_ACPI */
    put16(t + 129, 3);          /* PSCI_COMPLIANT | PSCI_USE_HVC */
    t[131] = 3;
    t = pristine[T_DSDT]; plen[T_DSDT] = 60; header(t, "DSDT", 60);
    memcpy(t + 48, "ARMH0011", 8);
    t = pristine[T_APIC]; plen[T_APIC] = 44 + 80 + 24 + 16 + 20; header(t, "APIC", (UINT32)plen[T_APIC]);
    t[44] = 0x0b; t[45] = 80;                           /* GICC */
    t[124] = 0x0c; t[125] = 24; t[124 + 20] = 3;        /* GICD, version 3 */
    t[148] = 0x0e; t[149] = 16;                         /* GICR */
    t[164] = 0x0f; t[165] = 20;                         /* ITS */
    t = pristine[T_GTDT]; plen[T_GTDT] = 104; header(t, "GTDT", 104);
    put32(t + 64, 27);
    t = pristine[T_SPCR]; plen[T_SPCR] = 80; header(t, "SPCR", 80);
    t[36] = 3;
    put64(t + 44, 0x9000000);
    plen[T_XSDT] = 36 + 8 * 5;
    header(pristine[T_XSDT], "XSDT", (UINT32)plen[T_XSDT]);
    plen[T_RSDP] = 36;
    memcpy(pristine[T_RSDP], "RSD PTR ", 8);
    pristine[T_RSDP][15] = 2;
    put32(pristine[T_RSDP] + 20, 36);
}

/* Copies every table into its slot (the last `len[i]` bytes readable) and
 * links them: XSDT entries, FADT X_DSDT, RSDP XsdtAddress and checksums. */
static UINT8 *install(UINT8 tables[T_COUNT][512], const size_t len[T_COUNT], int fix_checksums)
{
    static const int listed[] = { T_FACP, T_APIC, T_GTDT, T_SPCR, T_DSDT };
    int i;

    for (i = T_COUNT - 1; i >= 0; i--) {
        if (i == T_XSDT) {
            int k;

            for (k = 0; k < 4; k++)
                put64(tables[T_XSDT] + 36 + 8 * k, (UINT64)(uintptr_t)where[listed[k]]);
            put64(tables[T_XSDT] + 36 + 32, 0); /* a NULL entry is skipped */
        } else if (i == T_FACP) {
            put64(tables[T_FACP] + 140, (UINT64)(uintptr_t)slots[T_DSDT] + SLOT - len[T_DSDT]);
        } else if (i == T_RSDP) {
            put64(tables[T_RSDP] + 24, (UINT64)(uintptr_t)where[T_XSDT]);
            if (fix_checksums) {
                checksum(tables[T_RSDP], 20, 8);
                checksum(tables[T_RSDP], 36, 32);
            }
        }
        where[i] = place(slots[i], tables[i], len[i]);
    }
    return where[T_RSDP];
}

static void check_pristine(void)
{
    ACPI_INFO a;

    memset(&a, 0, sizeof(a));
    acpi_scan(install(pristine, plen, 1), &a);
    expect(a.rsdp_signature_ok && a.revision == 2 && a.checksum_ok, "rsdp");
    expect(a.xsdt && a.xsdt_entries == 5 && a.table_count == 4, "xsdt walk");
    expect(memcmp(a.sigs[0], "FACP", 4) == 0 && memcmp(a.sigs[3], "SPCR", 4) == 0, "xsdt order");
    expect(a.fadt && a.fadt_flags_valid && ((a.fadt_flags >> 20) & 1), "fadt hw_reduced");
    expect(a.arm_boot_arch_valid && a.arm_boot_arch == 3 && a.fadt_minor == 3, "fadt arm_boot_arch");
    expect(a.dsdt && a.dsdt_armh0011, "dsdt ARMH0011");
    expect(a.madt && a.gicc == 1 && a.gicd == 1 && a.gicr == 1 && a.its == 1, "madt counts");
    expect(a.gicd_version_valid && a.gicd_version == 3, "gicd version");
    expect(a.gtdt_virt_valid && a.gtdt_virt_gsiv == 27, "gtdt");
    expect(a.spcr_type_valid && a.spcr_interface_type == 3 && a.spcr_base == 0x9000000, "spcr");
    printf("acpi.pristine=%s\n", failures == 0 ? "ok" : "bad");

    /* A corrupted RSDP checksum is reported, not fatal. */
    {
        UINT8 copy[T_COUNT][512];

        memcpy(copy, pristine, sizeof(copy));
        copy[T_RSDP][9] ^= 1; /* an OEMID byte; checksums left as they were */
        memset(&a, 0, sizeof(a));
        acpi_scan(install(copy, plen, 0), &a);
        expect(!a.checksum_ok && a.xsdt, "bad checksum reported, walk goes on");

        /* A corrupt RSDP length is not summed (only 36 bytes are readable). */
        memcpy(copy, pristine, sizeof(copy));
        put32(copy[T_RSDP] + 20, 4096);
        memset(&a, 0, sizeof(a));
        acpi_scan(install(copy, plen, 1), &a);
        expect(!a.checksum_ok && a.xsdt, "corrupt RSDP length");
    }
}

static unsigned long acpi_cases;

/* Every stated length of every table, with only that many bytes readable. */
static void truncations(void)
{
    int t;
    size_t n;

    for (t = T_XSDT; t < T_COUNT; t++) {
        for (n = 8; n <= plen[t]; n++) {
            UINT8 copy[T_COUNT][512];
            size_t len[T_COUNT];
            ACPI_INFO a;

            memcpy(copy, pristine, sizeof(copy));
            memcpy(len, plen, sizeof(len));
            len[t] = n;
            put32(copy[t] + 4, (UINT32)n);
            memset(&a, 0, sizeof(a));
            acpi_scan(install(copy, len, 1), &a);
            acpi_cases++;
        }
    }
}

/* Random bytes anywhere in the tables, lengths included (stated lengths
 * larger than the readable bytes are clamped back so the guard still
 * catches reads past what the table claims). */
static void random_cases(unsigned long count)
{
    unsigned long c;

    for (c = 0; c < count; c++) {
        UINT8 copy[T_COUNT][512];
        size_t len[T_COUNT];
        ACPI_INFO a;
        int e, t;

        memcpy(copy, pristine, sizeof(copy));
        memcpy(len, plen, sizeof(len));
        for (e = 1 + rng() % 4; e > 0; e--) {
            t = 1 + rng() % (T_COUNT - 1);
            copy[t][rng() % plen[t]] = (UINT8)rng();
        }
        for (t = T_XSDT; t < T_COUNT; t++) {
            UINT32 stated = copy[t][4] | copy[t][5] << 8 | copy[t][6] << 16 | (UINT32)copy[t][7] << 24;

            if (stated < plen[t])
                len[t] = stated < 8 ? 8 : stated;
            else if (stated > plen[t])
                put32(copy[t] + 4, (UINT32)plen[t]);
        }
        memset(&a, 0, sizeof(a));
        acpi_scan(install(copy, len, 1), &a);
        acpi_cases++;
    }
}

/* ---- SMBIOS ------------------------------------------------------------------ */

static unsigned long smbios_cases;

static size_t smbios_table(UINT8 *t)
{
    size_t n = 0;

    /* type 0 with one string, type 19 with none, type 1, then End-of-Table. */
    t[n] = 0; t[n + 1] = 4; memcpy(t + n + 4, "EDK II\0\0", 8); n += 12;
    t[n] = 19; t[n + 1] = 31; memset(t + n + 2, 0, 29 + 2); n += 33;
    t[n] = 1; t[n + 1] = 27; memset(t + n + 2, 0, 25); memcpy(t + n + 27, "QEMU\0\0", 6); n += 33;
    t[n] = 127; t[n + 1] = 4; t[n + 2] = 0; t[n + 3] = 0; t[n + 4] = 0; t[n + 5] = 0; n += 6;
    return n;
}

static void smbios_checks(unsigned long count)
{
    UINT8 *ep_slot = new_slot(), *table_slot = new_slot();
    UINT8 table[256], ep[24];
    size_t n = smbios_table(table), cut;
    SMBIOS_INFO s;
    unsigned long c;

    memset(ep, 0, sizeof(ep));
    memcpy(ep, "_SM3_", 5);
    ep[6] = 24; ep[7] = 3; ep[8] = 0;
    for (cut = 0; cut <= n; cut++) {
        UINT8 *t = place(table_slot, table, cut);
        UINT8 *e;

        put32(ep + 12, (UINT32)cut);
        put64(ep + 16, (UINT64)(uintptr_t)t);
        e = place(ep_slot, ep, sizeof(ep));
        memset(&s, 0, sizeof(s));
        smbios3_scan(e, &s);
        smbios_cases++;
        if (cut == n) {
            expect(s.anchor_ok && s.major == 3 && s.walked, "smbios3 entry point");
            expect(s.structures == 4 && s.type19 == 1 && s.error == 0, "smbios3 walk");
        }
    }
    for (c = 0; c < count; c++) {
        UINT8 copy[256];
        UINT8 *t;
        int e;

        memcpy(copy, table, n);
        for (e = 1 + rng() % 3; e > 0; e--)
            copy[rng() % n] = (UINT8)rng();
        t = place(table_slot, copy, n);
        put32(ep + 12, (UINT32)(rng() % 2 ? n : rng() % (n + 1)));
        put64(ep + 16, (UINT64)(uintptr_t)t);
        memset(&s, 0, sizeof(s));
        smbios3_scan(place(ep_slot, ep, sizeof(ep)), &s);
        smbios_cases++;
    }
    /* The 32-bit entry point. */
    {
        UINT8 ep2[31];
        UINT8 *t = place(table_slot, table, n);

        memset(ep2, 0, sizeof(ep2));
        memcpy(ep2, "_SM_", 4);
        ep2[6] = 2; ep2[7] = 8;
        memcpy(ep2 + 0x10, "_DMI_", 5);
        put16(ep2 + 0x16, (UINT16)n);
        put32(ep2 + 0x18, (UINT32)(uintptr_t)t);
        memset(&s, 0, sizeof(s));
        /* A host pointer above 4 GiB cannot be a 32-bit table address. */
        if ((uintptr_t)t <= 0xffffffffu) {
            smbios2_scan(ep2, &s);
            expect(s.anchor_ok && s.structures == 4, "smbios2 walk");
        }
    }
}

int main(int argc, char **argv)
{
    int i;

    if (argc != 3) {
        fprintf(stderr, "usage: tables-fuzz RANDOM_CASES SEED\n");
        return 2;
    }
    rng_state = strtoull(argv[2], 0, 0) | 1;
    page = (size_t)sysconf(_SC_PAGESIZE);
    for (i = 0; i < T_COUNT; i++)
        slots[i] = new_slot();
    build();
    check_pristine();
    truncations();
    random_cases(strtoul(argv[1], 0, 10));
    smbios_checks(strtoul(argv[1], 0, 10));
    printf("acpi.cases=%lu\nsmbios.cases=%lu\nfailures=%lu\n", acpi_cases, smbios_cases, failures);
    return failures == 0 ? 0 : 1;
}
