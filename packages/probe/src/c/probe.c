/*
 * VMSPEC probe: a freestanding UEFI application for AArch64 and 32-bit ARM
 * (the same source, built twice: BOOTAA64.EFI and BOOTARM.EFI).
 *
 * It reports what the firmware hands to an OS loader (UEFI revision, vendor,
 * configuration tables, the FDT, ACPI and SMBIOS tables, the memory map, the
 * RTC and variable services) as one `VMSPEC-PROBE key=value` line per fact on
 * ConOut, then powers the VM off with ResetSystem(EfiResetShutdown) so that
 * the host sees QEMU exit by itself.
 *
 * The output format is a contract with the farm's console parser
 * (packages/probe/PROTOCOL.md, src/protocol.ts): keys are never renamed.
 *
 * Every firmware service is optional here: a NULL pointer prints `missing`,
 * an error status is printed as is (U-Boot returns EFI_UNSUPPORTED for some),
 * and the probe always goes on to ResetSystem.
 *
 * No C library: everything is written into a fixed ASCII line buffer and
 * widened to CHAR16 just before OutputString. Nothing here allocates memory.
 *
 * No helper library either: on 32-bit ARM a 64-bit (or, before ARMv7VE, any)
 * division is a call into a runtime library we do not link, so decimal
 * output subtracts powers of ten instead of dividing.
 */
#include "acpi.h"
#include "efi.h"
#include "fdt.h"
#include "smbios.h"

#define PREFIX "VMSPEC-PROBE "

#if defined(__aarch64__)
#define PROBE_ARCH "aarch64"
#elif defined(__arm__)
#define PROBE_ARCH "arm"
#else
#error "the probe is built for aarch64 or arm"
#endif

/* A console line, prefix included. Longer lines are cut, never overrun. */
#define LINE_MAX 256
/* Upper bounds on data we only partly trust (missing NULs, corrupt counts). */
#define VENDOR_MAX 128
#define CFGTABLE_MAX 256

static EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL *con_out;
static char line[LINE_MAX];
static UINTN line_len;
static CHAR16 wide_line[LINE_MAX + 3]; /* + "\r\n" + NUL */

/* ---- line output -------------------------------------------------------- */

static void put_char(char c)
{
    if (line_len < LINE_MAX)
        line[line_len++] = c;
}

static void put_str(const char *s)
{
    while (*s)
        put_char(*s++);
}

/* Firmware strings and DT values are untrusted: keep the console line clean
 * (no control characters, no bytes the parser would have to decode). */
static void put_printable(UINT32 c)
{
    put_char(c >= 0x20 && c < 0x7f ? (char)c : '?');
}

static void put_dec_width(UINT64 v, unsigned width)
{
    static const UINT64 pow10[20] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
        10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
        100000000000ULL, 1000000000000ULL, 10000000000000ULL,
        100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
        100000000000000000ULL, 1000000000000000000ULL,
        10000000000000000000ULL,
    };
    unsigned n = 20; /* 2^64 - 1 has 20 decimal digits */
    BOOLEAN started = 0;

    while (n-- != 0) {
        char digit = '0';

        while (v >= pow10[n]) {  /* at most 9 rounds (19 for the top digit) */
            v -= pow10[n];
            digit++;
        }
        if (digit != '0' || started || n == 0 || n < width) {
            started = 1;
            put_char(digit);
        }
    }
}

static void put_dec(UINT64 v)
{
    put_dec_width(v, 1);
}

static void put_hex_digits(UINT64 v, unsigned digits)
{
    static const char hex[] = "0123456789abcdef";

    while (digits-- != 0)
        put_char(hex[(v >> (digits * 4)) & 0xf]);
}

/* Fixed-width "0x%016llx" (AArch64) or "0x%08x" (ARM): UINTN-wide, as the
 * earlier probe printed UINTN values. */
static void put_hex64(UINT64 v)
{
    put_str("0x");
    put_hex_digits(v, sizeof(UINTN) * 2);
}

static void begin(const char *key)
{
    line_len = 0;
    put_str(PREFIX);
    put_str(key);
    put_char('=');
}

/* CRLF: UEFI text output does not translate "\n", and a bare LF leaves the
 * terminal's cursor in its column. The earlier probe's logs use CRLF too. */
static void end(void)
{
    UINTN i;

    for (i = 0; i < line_len; i++)
        wide_line[i] = (CHAR16)(UINT8)line[i];
    wide_line[i++] = '\r';
    wide_line[i++] = '\n';
    wide_line[i] = 0;
    if (con_out != 0)
        con_out->OutputString(con_out, wide_line);
}

static void kv_str(const char *key, const char *value)
{
    begin(key);
    put_str(value);
    end();
}

static void kv_dec(const char *key, UINT64 value)
{
    begin(key);
    put_dec(value);
    end();
}

static void kv_hex64(const char *key, UINT64 value)
{
    begin(key);
    put_hex64(value);
    end();
}

static void kv_presence(const char *key, const void *table)
{
    kv_str(key, table != 0 ? "present" : "absent");
}

static void kv_present(const char *key, BOOLEAN v)
{
    kv_str(key, v ? "present" : "absent");
}

static void kv_yes_no(const char *key, BOOLEAN v)
{
    kv_str(key, v ? "yes" : "no");
}

/* Natural-width hex for fixed-size table fields (u16, u32, u64). */
static void kv_hex_width(const char *key, UINT64 value, unsigned digits)
{
    begin(key);
    put_str("0x");
    put_hex_digits(value, digits);
    end();
}

/* First string of a DT stringlist (up to its NUL or its end). */
static void kv_first_string(const char *key, FDT_BYTES v)
{
    UINT32 i;

    begin(key);
    for (i = 0; v.ptr != 0 && i < v.len && v.ptr[i] != 0; i++)
        put_printable(v.ptr[i]);
    end();
}

/* Every string of a DT stringlist, joined by a space. */
static void kv_stringlist(const char *key, FDT_BYTES v)
{
    UINT32 i, len = v.len;

    if (v.ptr != 0 && len > 0 && v.ptr[len - 1] == 0)
        len--;
    begin(key);
    for (i = 0; v.ptr != 0 && i < len; i++)
        put_printable(v.ptr[i] == 0 ? ' ' : v.ptr[i]);
    end();
}

/* ---- UEFI helpers ------------------------------------------------------- */

static const EFI_GUID acpi20_guid  = EFI_ACPI_20_TABLE_GUID;
static const EFI_GUID acpi10_guid  = ACPI_10_TABLE_GUID;
static const EFI_GUID smbios_guid  = SMBIOS_TABLE_GUID;
static const EFI_GUID smbios3_guid = SMBIOS3_TABLE_GUID;
static const EFI_GUID dtb_guid     = EFI_DTB_TABLE_GUID;
static const EFI_GUID rtprop_guid  = EFI_RT_PROPERTIES_TABLE_GUID;

static BOOLEAN guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
    unsigned i;

    if (a->Data1 != b->Data1 || a->Data2 != b->Data2 || a->Data3 != b->Data3)
        return 0;
    for (i = 0; i < 8; i++)
        if (a->Data4[i] != b->Data4[i])
            return 0;
    return 1;
}

/* Registry format, lowercase: Data1-Data2-Data3-Data4[0..1]-Data4[2..7]. */
static void put_guid(const EFI_GUID *g)
{
    unsigned i;

    put_hex_digits(g->Data1, 8);
    put_char('-');
    put_hex_digits(g->Data2, 4);
    put_char('-');
    put_hex_digits(g->Data3, 4);
    put_char('-');
    put_hex_digits(g->Data4[0], 2);
    put_hex_digits(g->Data4[1], 2);
    put_char('-');
    for (i = 2; i < 8; i++)
        put_hex_digits(g->Data4[i], 2);
}

/* "2.70" for 0x00020046 and "2.3.1" for 0x0002001f: the minor field holds
 * two decimal digits, the second one only printed when it is not zero
 * (UEFI spec §4.2.1; edk2 and Linux print it the same way). */
static void put_uefi_revision(UINT32 revision)
{
    UINT32 major = revision >> 16;
    UINT32 minor = revision & 0xffff;

    put_dec(major);
    put_char('.');
    if (minor % 10 != 0) {
        put_dec(minor / 10);
        put_char('.');
        put_dec(minor % 10);
    } else {
        put_dec_width(minor, 2);
    }
}

static const char *status_name(EFI_STATUS status)
{
    switch (status) {
    case EFI_SUCCESS:            return "EFI_SUCCESS";
    case EFI_LOAD_ERROR:         return "EFI_LOAD_ERROR";
    case EFI_INVALID_PARAMETER:  return "EFI_INVALID_PARAMETER";
    case EFI_UNSUPPORTED:        return "EFI_UNSUPPORTED";
    case EFI_BUFFER_TOO_SMALL:   return "EFI_BUFFER_TOO_SMALL";
    case EFI_DEVICE_ERROR:       return "EFI_DEVICE_ERROR";
    case EFI_WRITE_PROTECTED:    return "EFI_WRITE_PROTECTED";
    case EFI_OUT_OF_RESOURCES:   return "EFI_OUT_OF_RESOURCES";
    case EFI_NOT_FOUND:          return "EFI_NOT_FOUND";
    case EFI_SECURITY_VIOLATION: return "EFI_SECURITY_VIOLATION";
    default:                     return 0;
    }
}

static void kv_status(const char *key, EFI_STATUS status)
{
    const char *name = status_name(status);

    begin(key);
    if (name != 0)
        put_str(name);
    else
        put_hex64(status);
    end();
}

/* ---- CPU registers ---------------------------------------------------------- */

#if defined(__aarch64__)
static UINT64 read_current_el(void)
{
    UINT64 v;

    __asm__ volatile("mrs %0, CurrentEL" : "=r"(v));
    return (v >> 2) & 3; /* CurrentEL.EL is bits [3:2] */
}

static UINT64 read_cntfrq(void)
{
    UINT64 v;

    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
    return v & 0xffffffffULL; /* bits [63:32] are RES0 */
}

static UINT64 read_cntvct(void)
{
    UINT64 v;

    /* isb: without it the read may be taken early, out of program order. */
    __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
    return v;
}

static void probe_cpu(void)
{
    kv_dec("cpu.current_el", read_current_el());
    kv_dec("timer.cntfrq_hz", read_cntfrq());
}
#else
/* AArch32 has no CurrentEL: the mode field of CPSR says where we run
 * (0x13 SVC = PL1, 0x1a HYP = PL2). */
static UINT32 read_cpsr(void)
{
    UINT32 v;

    __asm__ volatile("mrs %0, cpsr" : "=r"(v));
    return v;
}

static UINT32 read_cntfrq(void)
{
    UINT32 v;

    __asm__ volatile("mrc p15, 0, %0, c14, c0, 0" : "=r"(v)); /* CNTFRQ */
    return v;
}

static UINT64 read_cntvct(void)
{
    UINT32 lo, hi;

    /* CNTVCT is the 64-bit CP15 register (opc1 1, CRm c14). */
    __asm__ volatile("isb\n\tmrrc p15, 1, %0, %1, c14" : "=r"(lo), "=r"(hi) : : "memory");
    return (UINT64)hi << 32 | lo;
}

static void probe_cpu(void)
{
    kv_hex64("cpu.cpsr_mode", read_cpsr() & 0x1f);
    kv_dec("timer.cntfrq_hz", read_cntfrq());
}
#endif

/* ---- Flattened device tree ---------------------------------------------- */

/* Static: zeroed by the loader, and too big for the stack of a Windows
 * target without __chkstk. */
static FDT_INFO fdt_info;

static void probe_fdt(const UINT8 *fdt)
{
    const char *error, *root_error;
    FDT_INFO *f = &fdt_info;

    if (fdt_be32(fdt) != FDT_MAGIC) {
        kv_str("fdt.magic", "bad");
        return;
    }
    kv_str("fdt.magic", "ok");
    kv_dec("fdt.totalsize", fdt_be32(fdt + 4));
    if (fdt_be32(fdt + 4) >= 24)
        kv_dec("fdt.version", fdt_be32(fdt + 20));

    error = fdt_scan(fdt, f);
    /* No root compatible: only the reason (v1's fdt.error), no walk keys. */
    root_error = fdt_root_compatible_error(f, error);
    if (root_error != 0) {
        kv_str("fdt.error", root_error);
        return;
    }
    /* compatible is a stringlist; the first entry is the most specific. */
    kv_first_string("fdt.root.compatible", f->root_compatible);

    /* A walk that stops early still reports what it saw before. */
    kv_str("fdt.walk", error != 0 ? error : "ok");
    kv_dec("fdt.nodes", f->nodes);
    kv_dec("fdt.cpus", f->cpus);
    kv_dec("fdt.memory.count", f->memory_count);
    kv_dec("fdt.memory.bytes", f->memory_bytes);
    if (f->gic_found) {
        kv_first_string("fdt.gic.compatible", f->gic_compatible);
        kv_str("fdt.gic.version", f->gic_version == 3 ? "v3" : f->gic_version == 2 ? "v2" : "unknown");
    }
    if (f->timer_found) {
        kv_first_string("fdt.timer.compatible", f->timer_compatible);
        if (f->timer_virt_ppi_found)
            kv_dec("fdt.timer.virt_ppi", f->timer_virt_ppi);
    }
    if (f->psci_found) {
        kv_stringlist("fdt.psci.compatible", f->psci_compatible);
        if (f->psci_method.ptr != 0)
            kv_first_string("fdt.psci.method", f->psci_method);
    }
    kv_dec("fdt.uart.count", f->uart_count);
    if (f->uart_count != 0) {
        kv_first_string("fdt.uart.compatible", f->uart_compatible);
        if (f->uart_status.ptr != 0)
            kv_first_string("fdt.uart.status", f->uart_status);
        else
            kv_str("fdt.uart.status", "okay");
    }
    if (f->chosen_found && f->stdout_path.ptr != 0)
        kv_first_string("fdt.chosen.stdout_path", f->stdout_path);
    if (f->rtc_found) {
        kv_first_string("fdt.rtc.compatible", f->rtc_compatible);
        if (f->rtc_status.ptr != 0)
            kv_first_string("fdt.rtc.status", f->rtc_status);
        else
            kv_str("fdt.rtc.status", "okay");
    }
    kv_dec("fdt.virtio_mmio.count", f->virtio_mmio_count);
    kv_present("fdt.pcie", f->pcie);
    kv_present("fdt.xen", f->xen);
}

/* ---- ACPI ------------------------------------------------------------------ */

static ACPI_INFO acpi_info;

static void probe_acpi(const UINT8 *rsdp)
{
    ACPI_INFO *a = &acpi_info;
    UINT32 i;

    acpi_scan(rsdp, a);
    if (!a->rsdp_signature_ok) {
        kv_str("acpi.rsdp.signature", "bad");
        return;
    }
    kv_dec("acpi.rsdp.revision", a->revision); /* ACPI 6.x §5.2.5.3 */
    kv_str("acpi.rsdp.checksum", a->checksum_ok ? "ok" : "bad");
    kv_present("acpi.xsdt", a->xsdt);
    if (!a->xsdt)
        return;
    begin("acpi.xsdt.tables");
    for (i = 0; i < a->table_count; i++) {
        if (i != 0)
            put_char(',');
        put_printable(a->sigs[i][0]);
        put_printable(a->sigs[i][1]);
        put_printable(a->sigs[i][2]);
        put_printable(a->sigs[i][3]);
    }
    end();
    if (a->fadt_flags_valid)
        kv_yes_no("acpi.fadt.hw_reduced", (a->fadt_flags >> 20) & 1);
    if (a->arm_boot_arch_valid) {
        kv_hex_width("acpi.fadt.arm_boot_arch", a->arm_boot_arch, 4);
        kv_yes_no("acpi.fadt.psci", a->arm_boot_arch & 1);
        kv_yes_no("acpi.fadt.psci_hvc", (a->arm_boot_arch >> 1) & 1);
    }
    if (a->fadt_minor_valid)
        kv_dec("acpi.fadt.minor", a->fadt_minor);
    if (a->fadt) {
        kv_present("acpi.dsdt", a->dsdt);
        if (a->dsdt)
            kv_present("acpi.dsdt.armh0011", a->dsdt_armh0011);
    }
    if (a->madt) {
        kv_dec("acpi.madt.gicc", a->gicc);
        kv_dec("acpi.madt.gicd", a->gicd);
        if (a->gicd_version_valid)
            kv_dec("acpi.madt.gicd.version", a->gicd_version);
        kv_dec("acpi.madt.gicr", a->gicr);
        kv_dec("acpi.madt.its", a->its);
    }
    if (a->gtdt_virt_valid)
        kv_dec("acpi.gtdt.virt_gsiv", a->gtdt_virt_gsiv);
    if (a->spcr_type_valid)
        kv_dec("acpi.spcr.interface_type", a->spcr_interface_type);
    if (a->spcr_base_valid)
        kv_hex_width("acpi.spcr.base", a->spcr_base, 16);
}

/* ---- SMBIOS ---------------------------------------------------------------- */

static SMBIOS_INFO smbios3_info, smbios2_info;

static void put_smbios_version(const SMBIOS_INFO *s)
{
    put_dec(s->major);
    put_char('.');
    put_dec(s->minor);
}

static void probe_smbios(const UINT8 *sm3, const UINT8 *sm2)
{
    const SMBIOS_INFO *walked = 0;

    if (sm3 != 0) {
        smbios3_scan(sm3, &smbios3_info);
        kv_str("smbios3.anchor", smbios3_info.anchor_ok ? "ok" : "bad");
        if (smbios3_info.anchor_ok) {
            begin("smbios3.version");
            put_smbios_version(&smbios3_info);
            end();
            if (smbios3_info.walked)
                walked = &smbios3_info;
        }
    }
    if (sm2 != 0) {
        smbios2_scan(sm2, &smbios2_info);
        kv_str("smbios.anchor", smbios2_info.anchor_ok ? "ok" : "bad");
        if (smbios2_info.anchor_ok) {
            begin("smbios.version");
            put_smbios_version(&smbios2_info);
            end();
            if (walked == 0 && smbios2_info.walked)
                walked = &smbios2_info;
        }
    }
    if (walked == 0)
        return;
    /* The 64-bit table wins when both exist (it is the one an OS reads). */
    kv_dec("smbios.structures", walked->structures);
    kv_dec("smbios.type19", walked->type19);
    if (walked->error != 0)
        kv_str("smbios.error", walked->error);
}

/* ---- EFI_RT_PROPERTIES_TABLE ---------------------------------------------- */

static void probe_rtprop(const EFI_RT_PROPERTIES_TABLE *t)
{
    kv_dec("rtprop.version", t->Version);
    /* Length covers RuntimeServicesSupported since version 1. */
    if (t->Length >= 8)
        kv_hex_width("rtprop.supported", t->RuntimeServicesSupported, 8);
}

/* ---- memory map (Boot Services) ------------------------------------------- */

/* 16 KiB: edk2's map under QEMU has ~60 descriptors of 48 bytes. */
static UINT64 mmap_static[2048];

static void probe_memory_map(EFI_BOOT_SERVICES *bs)
{
    EFI_MEMORY_DESCRIPTOR *map = (EFI_MEMORY_DESCRIPTOR *)mmap_static;
    UINTN size = sizeof(mmap_static), key = 0, desc_size = 0, off;
    UINT32 desc_version = 0;
    UINT64 ram = 0;
    EFI_STATUS status;
    VOID *pool = 0;

    if (bs == 0 || bs->GetMemoryMap == 0) {
        kv_str("mem.getmemorymap", "missing");
        return;
    }
    status = bs->GetMemoryMap(&size, map, &key, &desc_size, &desc_version);
    if (status == EFI_BUFFER_TOO_SMALL && bs->AllocatePool != 0) {
        /* Allocating may split a free range: leave room for a few more. */
        size += 8 * (desc_size != 0 ? desc_size : 64);
        if (bs->AllocatePool(EfiLoaderData, size, &pool) == EFI_SUCCESS && pool != 0) {
            map = pool;
            status = bs->GetMemoryMap(&size, map, &key, &desc_size, &desc_version);
        }
    }
    kv_status("mem.getmemorymap", status);
    if (status == EFI_SUCCESS && desc_size >= sizeof(EFI_MEMORY_DESCRIPTOR)) {
        UINT32 count = 0;

        for (off = 0; desc_size <= size - off; off += desc_size) {
            const EFI_MEMORY_DESCRIPTOR *d = (const EFI_MEMORY_DESCRIPTOR *)((UINT8 *)map + off);

            count++;
            switch (d->Type) {
            case EfiLoaderCode: case EfiLoaderData:
            case EfiBootServicesCode: case EfiBootServicesData:
            case EfiRuntimeServicesCode: case EfiRuntimeServicesData:
            case EfiConventionalMemory:
            case EfiACPIReclaimMemory: case EfiACPIMemoryNVS:
                ram += d->NumberOfPages << 12; /* UEFI pages are 4 KiB */
                break;
            default:
                break;
            }
        }
        kv_dec("mem.descriptors", count);
        kv_dec("mem.ram_bytes", ram);
    }
    if (pool != 0 && bs->FreePool != 0)
        bs->FreePool(pool);
}

/* ---- runtime services ------------------------------------------------------ */

static void put_time(const EFI_TIME *time)
{
    put_dec_width(time->Year, 4);
    put_char('-');
    put_dec_width(time->Month, 2);
    put_char('-');
    put_dec_width(time->Day, 2);
    put_char('T');
    put_dec_width(time->Hour, 2);
    put_char(':');
    put_dec_width(time->Minute, 2);
    put_char(':');
    put_dec_width(time->Second, 2);
}

/* rt.gettime.<n> and, on success, rt.gettime.<n>.time. True on success. */
static BOOLEAN probe_gettime(EFI_RUNTIME_SERVICES *rt, EFI_TIME *time,
                             const char *key, const char *time_key)
{
    EFI_TIME_CAPABILITIES caps;
    EFI_STATUS status;

    if (rt == 0 || rt->GetTime == 0) {
        kv_str(key, "missing");
        return 0;
    }
    status = rt->GetTime(time, &caps);
    kv_status(key, status);
    if (status != EFI_SUCCESS)
        return 0;
    begin(time_key);
    put_time(time);
    end();
    return 1;
}

static void probe_clock(EFI_RUNTIME_SERVICES *rt, EFI_BOOT_SERVICES *bs)
{
    static const UINTN stall_us = 2000000;
    EFI_TIME t1, t2;
    BOOLEAN have2;

    kv_dec("timer.cntvct.1", read_cntvct());
    probe_gettime(rt, &t1, "rt.gettime.1", "rt.gettime.1.time");
    /* FW-6: the RTC must advance across a known wait. */
    if (bs == 0 || bs->Stall == 0) {
        kv_str("rt.stall", "missing");
    } else {
        kv_status("rt.stall", bs->Stall(stall_us));
        kv_dec("rt.stall_us", stall_us);
    }
    have2 = probe_gettime(rt, &t2, "rt.gettime.2", "rt.gettime.2.time");
    kv_dec("timer.cntvct.2", read_cntvct());

    if (rt == 0 || rt->SetTime == 0)
        kv_str("rt.settime", "missing");
    else if (!have2)
        kv_str("rt.settime", "skipped"); /* no time to write back */
    else
        kv_status("rt.settime", rt->SetTime(&t2));
}

static void probe_rt_misc(EFI_RUNTIME_SERVICES *rt)
{
    static CHAR16 name[256];
    EFI_GUID guid = { 0, 0, 0, { 0 } };
    BOOLEAN enabled = 0, pending = 0;
    EFI_TIME wake;
    UINT32 high = 0;
    UINT64 max_storage = 0, remaining = 0, max_var = 0;
    UINTN name_size = sizeof(name);

    if (rt == 0 || rt->GetWakeupTime == 0)
        kv_str("rt.getwakeuptime", "missing");
    else
        kv_status("rt.getwakeuptime", rt->GetWakeupTime(&enabled, &pending, &wake));

    if (rt == 0 || rt->GetNextHighMonotonicCount == 0)
        kv_str("rt.getnexthighmonotoniccount", "missing");
    else
        kv_status("rt.getnexthighmonotoniccount", rt->GetNextHighMonotonicCount(&high));

    if (rt == 0 || rt->QueryVariableInfo == 0) {
        kv_str("rt.queryvariableinfo", "missing");
    } else {
        EFI_STATUS status = rt->QueryVariableInfo(
            EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS | EFI_VARIABLE_RUNTIME_ACCESS,
            &max_storage, &remaining, &max_var);

        kv_status("rt.queryvariableinfo", status);
        if (status == EFI_SUCCESS) {
            kv_dec("rt.queryvariableinfo.max_storage", max_storage);
            kv_dec("rt.queryvariableinfo.remaining", remaining);
        }
    }

    /* An empty name asks for the first variable. */
    name[0] = 0;
    if (rt == 0 || rt->GetNextVariableName == 0)
        kv_str("rt.getnextvariablename", "missing");
    else
        kv_status("rt.getnextvariablename", rt->GetNextVariableName(&name_size, name, &guid));
}

/* ---- persistent variable (FW-7) ------------------------------------------- */

#define TOKEN_LEN 16
#define VAR_BUF 64

static CHAR16 var_name[] = { 'V', 'm', 's', 'p', 'e', 'c', 'P', 'r', 'o', 'b', 'e', 0 };
static EFI_GUID var_guid = VMSPEC_PROBE_VAR_GUID;

static void probe_variable(EFI_RUNTIME_SERVICES *rt)
{
    static UINT8 prev[VAR_BUF], back[VAR_BUF], token[TOKEN_LEN];
    static const char hex[] = "0123456789abcdef";
    const UINT32 attrs = EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS |
                         EFI_VARIABLE_RUNTIME_ACCESS;
    UINT32 got_attrs = 0;
    UINTN size = sizeof(prev), i;
    BOOLEAN have_prev = 0, same = 1, match;
    EFI_STATUS status;
    UINT64 v;

    if (rt == 0 || rt->GetVariable == 0) {
        kv_str("var.getvariable", "missing");
        kv_str("var.previous", "missing");
    } else {
        status = rt->GetVariable(var_name, &var_guid, &got_attrs, &size, prev);
        kv_status("var.getvariable", status);
        have_prev = status == EFI_SUCCESS;
        begin("var.previous");
        if (have_prev) {
            for (i = 0; i < size && i < sizeof(prev); i++)
                put_printable(prev[i]);
        } else {
            put_str("absent");
        }
        end();
    }

    /* The token: CNTVCT in hex, made different from the previous one so that
     * boot 2 can never pass FW-7 by writing what boot 1 wrote. */
    v = read_cntvct();
    for (;;) {
        for (i = 0; i < TOKEN_LEN; i++)
            token[i] = (UINT8)hex[(v >> (60 - 4 * i)) & 0xf];
        same = have_prev && size == TOKEN_LEN;
        for (i = 0; same && i < TOKEN_LEN; i++)
            same = prev[i] == token[i];
        if (!same)
            break;
        v++;
    }

    if (rt == 0 || rt->SetVariable == 0) {
        kv_str("var.setvariable", "missing");
        return;
    }
    kv_status("var.setvariable", rt->SetVariable(var_name, &var_guid, attrs, TOKEN_LEN, token));
    begin("var.written");
    for (i = 0; i < TOKEN_LEN; i++)
        put_char((char)token[i]);
    end();

    if (rt->GetVariable == 0) {
        kv_str("var.readback", "missing");
        return;
    }
    size = sizeof(back);
    got_attrs = 0;
    status = rt->GetVariable(var_name, &var_guid, &got_attrs, &size, back);
    kv_status("var.readback", status);
    match = status == EFI_SUCCESS && size == TOKEN_LEN;
    for (i = 0; match && i < TOKEN_LEN; i++)
        match = back[i] == token[i];
    kv_yes_no("var.readback.match", match);
    if (status == EFI_SUCCESS)
        kv_hex_width("var.readback.attributes", got_attrs, 8);
}

/* ---- entry point ------------------------------------------------------------ */

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
    const void *fdt = 0, *acpi20 = 0, *acpi10 = 0, *smbios3 = 0, *smbios = 0, *rtprop = 0;
    const CHAR16 *vendor;
    UINTN count, i;

    (void)image;
    if (st == 0 || st->Hdr.Signature != EFI_SYSTEM_TABLE_SIGNATURE)
        return EFI_INVALID_PARAMETER;
    con_out = st->ConOut;

    /* The boot manager may leave the cursor mid-line (e.g. after escape
     * sequences): start on a fresh line so the banner is parseable. */
    if (con_out != 0)
        con_out->OutputString(con_out, (CHAR16[]){ '\r', '\n', 0 });

    kv_str("banner", "vmspec-probe/2 arch=" PROBE_ARCH);

    begin("uefi.revision");
    put_uefi_revision(st->Hdr.Revision);
    end();
    kv_hex64("uefi.revision_raw", st->Hdr.Revision);

    begin("fw.vendor");
    vendor = st->FirmwareVendor;
    for (i = 0; vendor != 0 && i < VENDOR_MAX && vendor[i] != 0; i++)
        put_printable(vendor[i]);
    end();
    kv_hex64("fw.revision", st->FirmwareRevision);

    probe_cpu();

    count = st->ConfigurationTable != 0 ? st->NumberOfTableEntries : 0;
    kv_dec("cfgtable.count", count);
    if (count > CFGTABLE_MAX)
        count = CFGTABLE_MAX;
    for (i = 0; i < count; i++) {
        const EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];

        begin("cfgtable.guid");
        put_guid(&t->VendorGuid);
        end();
        if (guid_eq(&t->VendorGuid, &dtb_guid))
            fdt = t->VendorTable;
        else if (guid_eq(&t->VendorGuid, &acpi20_guid))
            acpi20 = t->VendorTable;
        else if (guid_eq(&t->VendorGuid, &acpi10_guid))
            acpi10 = t->VendorTable;
        else if (guid_eq(&t->VendorGuid, &smbios3_guid))
            smbios3 = t->VendorTable;
        else if (guid_eq(&t->VendorGuid, &smbios_guid))
            smbios = t->VendorTable;
        else if (guid_eq(&t->VendorGuid, &rtprop_guid))
            rtprop = t->VendorTable;
    }

    kv_presence("fdt", fdt);
    kv_presence("acpi20", acpi20);
    kv_presence("acpi10", acpi10);
    kv_presence("smbios3", smbios3);
    kv_presence("smbios", smbios);
    kv_presence("rtprop", rtprop);
    if (fdt != 0)
        probe_fdt(fdt);
    if (acpi20 != 0)
        probe_acpi(acpi20);
    if (rtprop != 0)
        probe_rtprop(rtprop);
    probe_smbios(smbios3, smbios);
    probe_memory_map(st->BootServices);

    probe_clock(st->RuntimeServices, st->BootServices);
    probe_rt_misc(st->RuntimeServices);
    probe_variable(st->RuntimeServices);

    kv_str("result", "done");
    kv_str("action", "ResetSystem(EfiResetShutdown)");
    if (st->RuntimeServices != 0 && st->RuntimeServices->ResetSystem != 0)
        st->RuntimeServices->ResetSystem(EfiResetShutdown, EFI_SUCCESS, 0, 0);

    /* ResetSystem must not return. If it does, say so and hand control back
     * to the boot manager; the host's timeout ends the run. */
    kv_str("result", "reset-failed");
    return EFI_DEVICE_ERROR;
}
