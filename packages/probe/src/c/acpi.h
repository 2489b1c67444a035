/*
 * Bounded reader for the ACPI tables the probe reports on (ACPI 6.x: RSDP,
 * XSDT, FADT, DSDT, MADT, GTDT, SPCR). No UEFI calls, so the host test suite
 * compiles it natively and feeds it hand-made and corrupted tables.
 *
 * Trust model: table addresses come from firmware and cannot be checked for
 * being mapped; what is checked is every length before reading a field
 * (header length >= 36 and <= ACPI_TABLE_MAX, each field inside it, MADT
 * entries inside the table) and addresses that do not fit a pointer.
 */
#ifndef VMSPEC_PROBE_ACPI_H
#define VMSPEC_PROBE_ACPI_H

#include "efi.h"

/* XSDT entries walked; more are counted but not looked at. */
#define ACPI_MAX_TABLES 64
/* Largest table accepted (QEMU's DSDT is a few KiB); a larger length is
 * taken as corrupt rather than read. */
#define ACPI_TABLE_MAX (1U << 20)

typedef struct {
    BOOLEAN rsdp_signature_ok;
    UINT8   revision;
    BOOLEAN checksum_ok;          /* 20-byte sum, and the extended one for rev >= 2 */
    BOOLEAN xsdt;                 /* XsdtAddress set and its header valid */
    UINT32  xsdt_entries;         /* all entries, even beyond ACPI_MAX_TABLES */
    UINT32  table_count;          /* signatures stored below */
    UINT8   sigs[ACPI_MAX_TABLES][4];

    BOOLEAN fadt;
    BOOLEAN fadt_flags_valid;
    UINT32  fadt_flags;
    BOOLEAN arm_boot_arch_valid;
    UINT16  arm_boot_arch;
    BOOLEAN fadt_minor_valid;
    UINT8   fadt_minor;
    BOOLEAN dsdt;                 /* X_DSDT (or DSDT) points at a valid "DSDT" */
    BOOLEAN dsdt_armh0011;

    BOOLEAN madt;
    UINT32  gicc, gicd, gicr, its;
    BOOLEAN gicd_version_valid;
    UINT8   gicd_version;         /* of the first GICD */

    BOOLEAN gtdt;
    BOOLEAN gtdt_virt_valid;
    UINT32  gtdt_virt_gsiv;

    BOOLEAN spcr;
    BOOLEAN spcr_type_valid;
    UINT8   spcr_interface_type;
    BOOLEAN spcr_base_valid;
    UINT64  spcr_base;
} ACPI_INFO;

/* Fills *info (zeroed by the caller) from the RSDP at rsdp. */
void acpi_scan(const UINT8 *rsdp, ACPI_INFO *info);

#endif /* VMSPEC_PROBE_ACPI_H */
