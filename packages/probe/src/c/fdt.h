/*
 * Bounded reader for a flattened device tree (Devicetree Specification v0.4,
 * chapter 5), just enough for the probe. Kept free of UEFI calls so that the
 * host test suite can compile it natively and feed it corrupted blobs.
 */
#ifndef VMSPEC_PROBE_FDT_H
#define VMSPEC_PROBE_FDT_H

#include "efi.h"

#define FDT_MAGIC 0xd00dfeedU

/* Header and structure-block values are big-endian; read byte by byte so
 * that no alignment is assumed. */
static inline UINT32 fdt_be32(const UINT8 *p)
{
    return (UINT32)p[0] << 24 | (UINT32)p[1] << 16 | (UINT32)p[2] << 8 | p[3];
}

/*
 * Finds the first string of the root node's `compatible` property.
 *
 * The caller has checked the magic. The blob is otherwise untrusted: the only
 * assumption is that its first 8 bytes (magic, totalsize) and its first
 * totalsize bytes are readable; no byte beyond those is ever read.
 *
 * Returns 0 and sets *value / *len to the property's bytes (inside the blob;
 * not necessarily NUL-terminated), or a short reason such as
 * "struct-truncated" for the console.
 */
const char *fdt_root_compatible(const UINT8 *fdt, const UINT8 **value,
                                UINT32 *len);

#endif /* VMSPEC_PROBE_FDT_H */
