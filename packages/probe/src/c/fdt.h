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

/* A property value inside the blob: (0, 0) when not found. */
typedef struct {
    const UINT8 *ptr;
    UINT32 len;
} FDT_BYTES;

/* Deepest node whose properties are looked at (root = 1). Deeper nodes are
 * still walked and counted. QEMU's virt tree is 4 deep. */
#define FDT_SCAN_MAX_DEPTH 16

/* Properties of one open node, kept until its END_NODE. */
typedef struct {
    FDT_BYTES name;          /* node name, unit address included */
    FDT_BYTES compatible;
    FDT_BYTES device_type;
    FDT_BYTES status;
    FDT_BYTES reg;
    FDT_BYTES interrupts;
    FDT_BYTES method;
    FDT_BYTES stdout_path;
    BOOLEAN   interrupt_controller;
} FDT_NODE_STATE;

/* What fdt_scan() found. Counts are of nodes; FDT_BYTES point into the blob. */
typedef struct {
    /* The root's first `compatible` property (a stringlist, not necessarily
     * NUL-terminated). Like libfdt, only the properties before the root's
     * first subnode are looked at: the DT spec requires properties to
     * precede subnodes. */
    FDT_BYTES root_compatible;
    /* The walk got past the root's properties (its first subnode, an
     * END_NODE or END), so a (0, 0) root_compatible means there is none
     * rather than that the walk stopped before reaching it. */
    BOOLEAN root_props_done;
    UINT32 nodes;
    UINT32 cpus;              /* /cpus/<n> with device_type "cpu" */
    UINT32 memory_count;      /* root children with device_type "memory" */
    UINT64 memory_bytes;      /* sum of their reg sizes (wraps are clamped) */
    UINT32 address_cells, size_cells; /* root's, defaults 2 and 1 */
    FDT_BYTES gic_compatible; /* stringlist of the first GIC */
    UINT32 gic_version;       /* 2, 3, or 0 = unknown */
    BOOLEAN gic_found;
    FDT_BYTES timer_compatible;
    BOOLEAN timer_found;
    BOOLEAN timer_virt_ppi_found;
    UINT32 timer_virt_ppi;
    FDT_BYTES psci_compatible;
    FDT_BYTES psci_method;
    BOOLEAN psci_found;
    FDT_BYTES uart_compatible;
    FDT_BYTES uart_status;    /* (0, 0): no status property, i.e. "okay" */
    UINT32 uart_count;
    FDT_BYTES stdout_path;
    BOOLEAN chosen_found;
    FDT_BYTES rtc_compatible;
    FDT_BYTES rtc_status;
    BOOLEAN rtc_found;
    UINT32 virtio_mmio_count;
    BOOLEAN pcie;
    BOOLEAN xen;
    /* Scratch for the walk: one entry per open node. */
    FDT_NODE_STATE stack[FDT_SCAN_MAX_DEPTH + 1];
} FDT_INFO;

/*
 * Walks the whole structure block and fills *info, which the caller has
 * zeroed.
 *
 * The caller has checked the magic. The blob is otherwise untrusted: the only
 * assumption is that its first 8 bytes (magic, totalsize) and its first
 * totalsize bytes are readable; no byte beyond those is ever read.
 *
 * Returns 0 when the walk reached FDT_END, or a short reason such as
 * "struct-truncated" for the console; what was found before the error is
 * kept in *info either way.
 */
const char *fdt_scan(const UINT8 *fdt, FDT_INFO *info);

/*
 * After fdt_scan() returned error: 0 when info->root_compatible was found,
 * else why not: "no-root-compatible" when the walk got past the root's
 * properties without one, else the walk's own error.
 */
static inline const char *fdt_root_compatible_error(const FDT_INFO *info,
                                                    const char *error)
{
    if (info->root_compatible.ptr != 0)
        return 0;
    return info->root_props_done || error == 0 ? "no-root-compatible" : error;
}

/* True when the stringlist v (len bytes, maybe not NUL-terminated) holds
 * the string lit. */
BOOLEAN fdt_stringlist_has(FDT_BYTES v, const char *lit);

#endif /* VMSPEC_PROBE_FDT_H */
