/*
 * VMSPEC probe: a freestanding UEFI application for AArch64 and 32-bit ARM
 * (the same source, built twice: BOOTAA64.EFI and BOOTARM.EFI).
 *
 * It reports what the firmware hands to an OS loader (UEFI revision, vendor,
 * configuration tables, FDT/ACPI, GetTime) as one `VMSPEC-PROBE key=value`
 * line per fact on ConOut, then powers the VM off with
 * ResetSystem(EfiResetShutdown) so that the host sees QEMU exit by itself.
 *
 * The output format is a contract with the farm's console parser
 * (packages/probe/src/index.ts, parseProbeLines): keys are never renamed.
 *
 * No C library: everything is written into a fixed ASCII line buffer and
 * widened to CHAR16 just before OutputString. Nothing here allocates memory.
 *
 * No helper library either: on 32-bit ARM a 64-bit (or, before ARMv7VE, any)
 * division is a call into a runtime library we do not link, so decimal
 * output subtracts powers of ten instead of dividing.
 */
#include "efi.h"
#include "fdt.h"

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

/* ---- UEFI helpers ------------------------------------------------------- */

static const EFI_GUID acpi20_guid  = EFI_ACPI_20_TABLE_GUID;
static const EFI_GUID acpi10_guid  = ACPI_10_TABLE_GUID;
static const EFI_GUID smbios_guid  = SMBIOS_TABLE_GUID;
static const EFI_GUID smbios3_guid = SMBIOS3_TABLE_GUID;
static const EFI_GUID dtb_guid     = EFI_DTB_TABLE_GUID;

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
    case EFI_DEVICE_ERROR:       return "EFI_DEVICE_ERROR";
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

static void probe_cpu(void)
{
    kv_hex64("cpu.cpsr_mode", read_cpsr() & 0x1f);
    kv_dec("timer.cntfrq_hz", read_cntfrq());
}
#endif

/* ---- Flattened device tree ---------------------------------------------- */

static void probe_fdt(const UINT8 *fdt)
{
    const UINT8 *value;
    const char *error;
    UINT32 len, i;

    if (fdt_be32(fdt) != FDT_MAGIC) {
        kv_str("fdt.magic", "bad");
        return;
    }
    kv_str("fdt.magic", "ok");
    kv_dec("fdt.totalsize", fdt_be32(fdt + 4));
    if (fdt_be32(fdt + 4) >= 24)
        kv_dec("fdt.version", fdt_be32(fdt + 20));

    error = fdt_root_compatible(fdt, &value, &len);
    if (error != 0) {
        kv_str("fdt.error", error);
        return;
    }
    /* compatible is a stringlist; the first entry is the most specific. */
    begin("fdt.root.compatible");
    for (i = 0; i < len && value[i] != 0; i++)
        put_printable(value[i]);
    end();
}

/* ---- ACPI ------------------------------------------------------------------ */

static void probe_rsdp(const UINT8 *rsdp)
{
    static const char signature[8] = { 'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ' };
    unsigned i;

    for (i = 0; i < 8; i++) {
        if (rsdp[i] != (UINT8)signature[i]) {
            kv_str("acpi.rsdp.signature", "bad");
            return;
        }
    }
    kv_dec("acpi.rsdp.revision", rsdp[15]); /* ACPI 6.x §5.2.5.3 */
}

/* ---- runtime services ------------------------------------------------------ */

static void probe_gettime(EFI_RUNTIME_SERVICES *rt)
{
    EFI_TIME time;
    EFI_TIME_CAPABILITIES caps;
    EFI_STATUS status;

    if (rt == 0 || rt->GetTime == 0) {
        kv_str("rt.gettime", "missing");
        return;
    }
    status = rt->GetTime(&time, &caps);
    kv_hex64("rt.gettime.status", status);
    kv_status("rt.gettime", status);
    if (status != EFI_SUCCESS)
        return;
    begin("rt.gettime.time");
    put_dec_width(time.Year, 4);
    put_char('-');
    put_dec_width(time.Month, 2);
    put_char('-');
    put_dec_width(time.Day, 2);
    put_char('T');
    put_dec_width(time.Hour, 2);
    put_char(':');
    put_dec_width(time.Minute, 2);
    put_char(':');
    put_dec_width(time.Second, 2);
    end();
}

/* ---- entry point ------------------------------------------------------------ */

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
    const void *fdt = 0, *acpi20 = 0, *acpi10 = 0, *smbios3 = 0, *smbios = 0;
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

    kv_str("banner", "vmspec-probe/1 arch=" PROBE_ARCH);

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
    }

    kv_presence("fdt", fdt);
    kv_presence("acpi20", acpi20);
    kv_presence("acpi10", acpi10);
    kv_presence("smbios3", smbios3);
    kv_presence("smbios", smbios);
    if (fdt != 0)
        probe_fdt(fdt);
    if (acpi20 != 0)
        probe_rsdp(acpi20);

    probe_gettime(st->RuntimeServices);

    kv_str("result", "done");
    kv_str("action", "ResetSystem(EfiResetShutdown)");
    if (st->RuntimeServices != 0 && st->RuntimeServices->ResetSystem != 0)
        st->RuntimeServices->ResetSystem(EfiResetShutdown, EFI_SUCCESS, 0, 0);

    /* ResetSystem must not return. If it does, say so and hand control back
     * to the boot manager; the host's timeout ends the run. */
    kv_str("result", "reset-failed");
    return EFI_DEVICE_ERROR;
}
