/*
 * Bounded SMBIOS reader for the probe (DSP0134 3.x): the entry point and a
 * walk over the structure table. No UEFI calls (host-testable). Each
 * structure is a formatted area (length >= 4) then NUL-terminated strings
 * ending with an extra NUL; nothing is read past the table's stated size.
 */
#ifndef VMSPEC_PROBE_SMBIOS_H
#define VMSPEC_PROBE_SMBIOS_H

#include "efi.h"

/* Largest structure table walked; a larger stated size is clamped. */
#define SMBIOS_TABLE_MAX (1U << 20)

typedef struct {
    BOOLEAN anchor_ok;
    UINT8   major, minor;
    BOOLEAN walked;        /* the table address was usable */
    UINT32  structures;
    UINT32  type19;
    const char *error;     /* why the walk stopped early, or 0 */
} SMBIOS_INFO;

/* `_SM3_` 64-bit entry point. */
void smbios3_scan(const UINT8 *ep, SMBIOS_INFO *info);
/* `_SM_` 32-bit entry point. */
void smbios2_scan(const UINT8 *ep, SMBIOS_INFO *info);

#endif /* VMSPEC_PROBE_SMBIOS_H */
