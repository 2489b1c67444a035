/*
 * Bounded ACPI walk for the VMSPEC probe. See acpi.h for the contract.
 * Multi-byte fields are read byte by byte: ACPI tables are packed, so
 * fields are often unaligned.
 */
#include "acpi.h"

#define HDR_LEN 36

static UINT16 le16(const UINT8 *p)
{
    return (UINT16)(p[0] | p[1] << 8);
}

static UINT32 le32(const UINT8 *p)
{
    return (UINT32)p[0] | (UINT32)p[1] << 8 | (UINT32)p[2] << 16 | (UINT32)p[3] << 24;
}

static UINT64 le64(const UINT8 *p)
{
    return (UINT64)le32(p) | (UINT64)le32(p + 4) << 32;
}

/* A physical address as a pointer (UEFI maps memory 1:1), or 0 when it is
 * 0 or does not fit a pointer (above 4 GiB on 32-bit ARM). */
static const UINT8 *to_ptr(UINT64 addr)
{
    if (addr == 0 || addr > (UINT64)(UINTN)~(UINTN)0)
        return 0;
    return (const UINT8 *)(UINTN)addr;
}

static BOOLEAN sig_eq(const UINT8 *p, const char *sig, UINT32 n)
{
    UINT32 i;

    for (i = 0; i < n; i++)
        if (p[i] != (UINT8)sig[i])
            return 0;
    return 1;
}

static BOOLEAN sum_is_zero(const UINT8 *p, UINT32 n)
{
    UINT8 sum = 0;
    UINT32 i;

    for (i = 0; i < n; i++)
        sum = (UINT8)(sum + p[i]);
    return sum == 0;
}

/* The table's length when its header is sane, else 0. */
static UINT32 table_len(const UINT8 *t)
{
    UINT32 len;

    if (t == 0)
        return 0;
    len = le32(t + 4);
    return len >= HDR_LEN && len <= ACPI_TABLE_MAX ? len : 0;
}

static void scan_dsdt(const UINT8 *t, ACPI_INFO *info)
{
    UINT32 len = table_len(t), i;

    if (len == 0 || !sig_eq(t, "DSDT", 4))
        return;
    info->dsdt = 1;
    /* The PL011's _HID is the string "ARMH0011" in the AML byte stream. */
    for (i = HDR_LEN; i + 8 <= len; i++) {
        if (sig_eq(t + i, "ARMH0011", 8)) {
            info->dsdt_armh0011 = 1;
            return;
        }
    }
}

static void scan_fadt(const UINT8 *t, UINT32 len, ACPI_INFO *info)
{
    UINT64 dsdt = 0;

    info->fadt = 1;
    if (len >= 116) {
        info->fadt_flags_valid = 1;
        info->fadt_flags = le32(t + 112);
    }
    if (len >= 131) {
        info->arm_boot_arch_valid = 1;
        info->arm_boot_arch = le16(t + 129);
    }
    if (len >= 132) {
        info->fadt_minor_valid = 1;
        info->fadt_minor = t[131];
    }
    if (len >= 148)
        dsdt = le64(t + 140); /* X_DSDT wins when set */
    if (dsdt == 0 && len >= 44)
        dsdt = le32(t + 40);
    scan_dsdt(to_ptr(dsdt), info);
}

static void scan_madt(const UINT8 *t, UINT32 len, ACPI_INFO *info)
{
    UINT32 pos = 44; /* header + LocalInterruptControllerAddress + Flags */

    info->madt = 1;
    while (pos + 2 <= len) {
        UINT8 type = t[pos], elen = t[pos + 1];

        if (elen < 2 || elen > len - pos)
            return; /* corrupt entry: stop rather than loop or overrun */
        switch (type) {
        case 0x0b:
            info->gicc++;
            break;
        case 0x0c:
            if (info->gicd == 0 && elen > 20) {
                info->gicd_version_valid = 1;
                info->gicd_version = t[pos + 20];
            }
            info->gicd++;
            break;
        case 0x0e:
            info->gicr++;
            break;
        case 0x0f:
            info->its++;
            break;
        default:
            break;
        }
        pos += elen;
    }
}

static void scan_table(const UINT8 *t, ACPI_INFO *info)
{
    UINT32 len = table_len(t);

    if (len == 0)
        return;
    if (sig_eq(t, "FACP", 4) && !info->fadt) {
        scan_fadt(t, len, info);
    } else if (sig_eq(t, "APIC", 4) && !info->madt) {
        scan_madt(t, len, info);
    } else if (sig_eq(t, "GTDT", 4) && !info->gtdt) {
        info->gtdt = 1;
        if (len >= 68) {
            info->gtdt_virt_valid = 1;
            info->gtdt_virt_gsiv = le32(t + 64);
        }
    } else if (sig_eq(t, "SPCR", 4) && !info->spcr) {
        info->spcr = 1;
        if (len >= 37) {
            info->spcr_type_valid = 1;
            info->spcr_interface_type = t[36];
        }
        if (len >= 52) { /* Generic Address Structure at 40, its address at +4 */
            info->spcr_base_valid = 1;
            info->spcr_base = le64(t + 44);
        }
    }
}

void acpi_scan(const UINT8 *rsdp, ACPI_INFO *info)
{
    const UINT8 *xsdt;
    UINT32 len, i;

    if (rsdp == 0 || !sig_eq(rsdp, "RSD PTR ", 8))
        return;
    info->rsdp_signature_ok = 1;
    info->revision = rsdp[15];
    info->checksum_ok = sum_is_zero(rsdp, 20);
    if (info->revision < 2)
        return; /* ACPI 1.0: no XSDT */
    /* The extended RSDP is 36 bytes (ACPI 2.0 to 6.5): any other length is
     * corrupt, and summing it could read past the structure. */
    if (le32(rsdp + 20) != 36 || !sum_is_zero(rsdp, 36))
        info->checksum_ok = 0;

    xsdt = to_ptr(le64(rsdp + 24));
    len = table_len(xsdt);
    if (len == 0 || !sig_eq(xsdt, "XSDT", 4))
        return;
    info->xsdt = 1;
    info->xsdt_entries = (len - HDR_LEN) >> 3;
    for (i = 0; i < info->xsdt_entries && i < ACPI_MAX_TABLES; i++) {
        const UINT8 *t = to_ptr(le64(xsdt + HDR_LEN + 8 * i));
        UINT32 k;

        if (t == 0)
            continue;
        for (k = 0; k < 4; k++)
            info->sigs[info->table_count][k] = t[k];
        info->table_count++;
        scan_table(t, info);
    }
}
