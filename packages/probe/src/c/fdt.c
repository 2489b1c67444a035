/*
 * Bounded FDT walk for the VMSPEC probe. See fdt.h for the contract.
 */
#include "fdt.h"

#define FDT_BEGIN_NODE  0x1U
#define FDT_END_NODE    0x2U
#define FDT_PROP        0x3U
#define FDT_NOP         0x4U
#define FDT_END         0x9U

#define FDT_V16_HEADER_SIZE 36 /* up to size_dt_strings */
#define FDT_V17_HEADER_SIZE 40 /* + size_dt_struct */

static UINT64 align4(UINT64 v)
{
    return (v + 3) & ~3ULL;
}

/* True when the NUL-terminated string at s, which must end within max
 * bytes, equals lit. */
static BOOLEAN str_eq_bounded(const UINT8 *s, UINT64 max, const char *lit)
{
    UINT64 i;

    for (i = 0; i < max; i++) {
        if (s[i] != (UINT8)lit[i])
            return 0;
        if (s[i] == 0)
            return 1;
    }
    return 0;
}

/*
 * Header checks: the structure block is [*start, *end) and the strings block
 * [*strings, *strings + *strings_size), all inside totalsize. Offset
 * arithmetic is done in 64 bits, so 32-bit header fields cannot wrap.
 */
static const char *fdt_blocks(const UINT8 *fdt, UINT64 *start, UINT64 *end,
                              UINT64 *strings, UINT64 *strings_size)
{
    UINT32 total = fdt_be32(fdt + 4);
    UINT32 version, hdr_size;
    UINT64 off_struct, size_struct, off_strings, size_strings;

    if (total < FDT_V16_HEADER_SIZE)
        return "header-truncated";
    version = fdt_be32(fdt + 20);
    /* Before v16 node names were full paths; a last_comp_version above 17
     * means a layout this reader does not know. */
    if (version < 16 || fdt_be32(fdt + 24) > 17)
        return "unsupported-version";
    hdr_size = version >= 17 ? FDT_V17_HEADER_SIZE : FDT_V16_HEADER_SIZE;
    if (total < hdr_size)
        return "header-truncated";

    off_struct = fdt_be32(fdt + 8);
    off_strings = fdt_be32(fdt + 12);
    size_strings = fdt_be32(fdt + 32);
    if (off_struct < hdr_size || off_struct > total || (off_struct & 3) != 0)
        return "bad-struct-offset";
    /* v16 has no size_dt_struct: the block may run to the end of the blob. */
    size_struct = version >= 17 ? fdt_be32(fdt + 36) : total - off_struct;
    if (off_struct + size_struct > total)
        return "bad-struct-size";
    if (off_strings + size_strings > total)
        return "bad-strings-block";
    *start = off_struct;
    *end = off_struct + size_struct;
    *strings = off_strings;
    *strings_size = size_strings;
    return 0;
}

/* ---- full walk ------------------------------------------------------------ */

/* True when the len bytes at p are exactly lit (no NUL inside). */
static BOOLEAN bytes_eq(FDT_BYTES b, const char *lit)
{
    UINT32 i;

    for (i = 0; i < b.len; i++)
        if (lit[i] == 0 || b.ptr[i] != (UINT8)lit[i])
            return 0;
    return lit[i] == 0;
}

/* A string property (device_type, status) equals lit: the value must be
 * lit plus its NUL, or lit without one (tolerated). */
static BOOLEAN prop_str_eq(FDT_BYTES v, const char *lit)
{
    if (v.ptr == 0)
        return 0;
    if (v.len > 0 && v.ptr[v.len - 1] == 0)
        v.len--;
    return bytes_eq(v, lit);
}

BOOLEAN fdt_stringlist_has(FDT_BYTES v, const char *lit)
{
    UINT32 i = 0;

    while (v.ptr != 0 && i < v.len) {
        UINT32 j = i;
        FDT_BYTES one;

        while (j < v.len && v.ptr[j] != 0)
            j++;
        one.ptr = v.ptr + i;
        one.len = j - i;
        if (bytes_eq(one, lit))
            return 1;
        i = j + 1;
    }
    return 0;
}

/* Some string of the list starts with prefix. */
static BOOLEAN stringlist_has_prefix(FDT_BYTES v, const char *prefix)
{
    UINT32 i = 0;

    while (v.ptr != 0 && i < v.len) {
        UINT32 k = 0;

        while (prefix[k] != 0 && i + k < v.len && v.ptr[i + k] == (UINT8)prefix[k])
            k++;
        if (prefix[k] == 0)
            return 1;
        while (i < v.len && v.ptr[i] != 0)
            i++;
        i++;
    }
    return 0;
}

/* Some string of the list contains sub. */
static BOOLEAN stringlist_has_substring(FDT_BYTES v, const char *sub)
{
    UINT32 i, k;

    for (i = 0; v.ptr != 0 && i < v.len; i++) {
        for (k = 0; sub[k] != 0 && i + k < v.len && v.ptr[i + k] == (UINT8)sub[k]; k++)
            ;
        if (sub[k] == 0)
            return 1;
    }
    return 0;
}

static const char *const gic_v2_compatibles[] = {
    "arm,cortex-a15-gic", "arm,cortex-a9-gic", "arm,cortex-a7-gic",
    "arm,cortex-a5-gic", "arm,gic-400", "arm,pl390", "arm,arm11mp-gic",
    "arm,eb11mp-gic", "arm,tc11mp-gic", "arm,arm1176jzf-devchip-gic",
    "qcom,msm-qgic2", 0,
};

static BOOLEAN has_any(FDT_BYTES v, const char *const *list)
{
    for (; *list != 0; list++)
        if (fdt_stringlist_has(v, *list))
            return 1;
    return 0;
}

/* Big-endian value of n cells at p; cells above the low 64 bits drop out. */
static UINT64 read_cells(const UINT8 *p, UINT32 n)
{
    UINT64 v = 0;
    UINT32 i;

    for (i = 0; i < n; i++)
        v = (v << 32) | fdt_be32(p + 4 * i);
    return v;
}

static void add_reg_sizes(FDT_INFO *info, FDT_BYTES reg)
{
    UINT32 ac = info->address_cells, sc = info->size_cells, entry, off;

    /* Cell counts above 4 are not a real tree: skip rather than guess. */
    if (reg.ptr == 0 || ac > 4 || sc > 4 || sc == 0)
        return;
    entry = (ac + sc) * 4;
    for (off = 0; entry <= reg.len - off; off += entry) {
        UINT64 size = read_cells(reg.ptr + off + ac * 4, sc);

        info->memory_bytes = info->memory_bytes + size < info->memory_bytes
                                 ? ~0ULL : info->memory_bytes + size;
    }
}

static void finish_node(FDT_INFO *info, UINT32 depth)
{
    const FDT_NODE_STATE *n = &info->stack[depth];
    FDT_BYTES compat = n->compatible;

    /* depth 1 is the root, 2 its children. */
    if (depth == 3 && bytes_eq(info->stack[2].name, "cpus") &&
        prop_str_eq(n->device_type, "cpu"))
        info->cpus++;
    if (depth == 2 && prop_str_eq(n->device_type, "memory")) {
        info->memory_count++;
        add_reg_sizes(info, n->reg);
    }
    /* A GIC: an interrupt controller whose compatible names a "gic"; the
     * version comes from the known bindings, else 0 (unknown). */
    if (!info->gic_found && n->interrupt_controller &&
        stringlist_has_substring(compat, "gic")) {
        info->gic_found = 1;
        info->gic_compatible = compat;
        info->gic_version = fdt_stringlist_has(compat, "arm,gic-v3") ? 3
                            : has_any(compat, gic_v2_compatibles)    ? 2 : 0;
    }
    if (!info->timer_found && (fdt_stringlist_has(compat, "arm,armv8-timer") ||
                               fdt_stringlist_has(compat, "arm,armv7-timer"))) {
        info->timer_found = 1;
        info->timer_compatible = compat;
        /* GIC binding: 3 cells per entry (type, number, flags); the
         * virtual timer is the third entry, its number a PPI (INTID - 16). */
        if (n->interrupts.ptr != 0 && n->interrupts.len >= 36) {
            info->timer_virt_ppi_found = 1;
            info->timer_virt_ppi = fdt_be32(n->interrupts.ptr + 28);
        }
    }
    if (!info->psci_found && stringlist_has_prefix(compat, "arm,psci")) {
        info->psci_found = 1;
        info->psci_compatible = compat;
        info->psci_method = n->method;
    }
    if (fdt_stringlist_has(compat, "arm,pl011") ||
        fdt_stringlist_has(compat, "arm,sbsa-uart")) {
        if (info->uart_count == 0) {
            info->uart_compatible = compat;
            info->uart_status = n->status;
        }
        info->uart_count++;
    }
    if (depth == 2 && bytes_eq(n->name, "chosen")) {
        info->chosen_found = 1;
        info->stdout_path = n->stdout_path;
    }
    if (!info->rtc_found && fdt_stringlist_has(compat, "arm,pl031")) {
        info->rtc_found = 1;
        info->rtc_compatible = compat;
        info->rtc_status = n->status;
    }
    if (fdt_stringlist_has(compat, "virtio,mmio"))
        info->virtio_mmio_count++;
    if (fdt_stringlist_has(compat, "pci-host-ecam-generic"))
        info->pcie = 1;
    if (depth == 2 && bytes_eq(n->name, "hypervisor") &&
        fdt_stringlist_has(compat, "xen,xen"))
        info->xen = 1;
}

static void clear_bytes(FDT_BYTES *b)
{
    b->ptr = 0;
    b->len = 0;
}

/* Field by field: a struct assignment could become a memset call, and
 * there is no C library to provide one. */
static void clear_node(FDT_NODE_STATE *n)
{
    clear_bytes(&n->name);
    clear_bytes(&n->compatible);
    clear_bytes(&n->device_type);
    clear_bytes(&n->status);
    clear_bytes(&n->reg);
    clear_bytes(&n->interrupts);
    clear_bytes(&n->method);
    clear_bytes(&n->stdout_path);
    n->interrupt_controller = 0;
}

static void record_prop(FDT_INFO *info, UINT32 depth, const UINT8 *name,
                        UINT64 name_max, FDT_BYTES v)
{
    FDT_NODE_STATE *n = &info->stack[depth];

    if (str_eq_bounded(name, name_max, "compatible")) {
        n->compatible = v;
        if (depth == 1 && !info->root_props_done && info->root_compatible.ptr == 0)
            info->root_compatible = v;
    } else if (str_eq_bounded(name, name_max, "device_type"))
        n->device_type = v;
    else if (str_eq_bounded(name, name_max, "status"))
        n->status = v;
    else if (str_eq_bounded(name, name_max, "reg"))
        n->reg = v;
    else if (str_eq_bounded(name, name_max, "interrupts"))
        n->interrupts = v;
    else if (str_eq_bounded(name, name_max, "method"))
        n->method = v;
    else if (str_eq_bounded(name, name_max, "stdout-path"))
        n->stdout_path = v;
    else if (str_eq_bounded(name, name_max, "interrupt-controller"))
        n->interrupt_controller = 1;
    else if (depth == 1 && v.len == 4 && str_eq_bounded(name, name_max, "#address-cells"))
        info->address_cells = fdt_be32(v.ptr);
    else if (depth == 1 && v.len == 4 && str_eq_bounded(name, name_max, "#size-cells"))
        info->size_cells = fdt_be32(v.ptr);
}

const char *fdt_scan(const UINT8 *fdt, FDT_INFO *info)
{
    UINT64 off_strings, size_strings, pos, end_pos;
    const char *error;
    UINT32 depth = 0;

    info->address_cells = 2; /* DT spec defaults */
    info->size_cells = 1;
    error = fdt_blocks(fdt, &pos, &end_pos, &off_strings, &size_strings);
    if (error != 0)
        return error;
    /* Every iteration consumes at least 4 bytes, so the walk terminates. */
    for (;;) {
        UINT32 tag, prop_len, name_off;
        UINT64 name_end;
        FDT_BYTES v;

        if (pos + 4 > end_pos)
            return "struct-truncated";
        tag = fdt_be32(fdt + pos);
        pos += 4;
        switch (tag) {
        case FDT_BEGIN_NODE:
            if (depth == 1)
                info->root_props_done = 1; /* the root's first subnode */
            name_end = pos;
            while (name_end < end_pos && fdt[name_end] != 0)
                name_end++;
            if (name_end >= end_pos)
                return "struct-truncated";
            depth++; /* at most end_pos / 8: cannot wrap */
            info->nodes++;
            if (depth <= FDT_SCAN_MAX_DEPTH) {
                clear_node(&info->stack[depth]);
                info->stack[depth].name.ptr = fdt + pos;
                info->stack[depth].name.len = (UINT32)(name_end - pos);
            }
            pos = align4(name_end + 1);
            break;
        case FDT_END_NODE:
            info->root_props_done = 1;
            if (depth == 0)
                return "bad-structure";
            if (depth <= FDT_SCAN_MAX_DEPTH)
                finish_node(info, depth);
            depth--;
            break;
        case FDT_PROP:
            if (depth == 0)
                return "bad-structure"; /* a property outside any node */
            if (pos + 8 > end_pos)
                return "struct-truncated";
            prop_len = fdt_be32(fdt + pos);
            name_off = fdt_be32(fdt + pos + 4);
            pos += 8;
            if (prop_len > end_pos - pos)
                return "struct-truncated";
            v.ptr = fdt + pos;
            v.len = prop_len;
            if (depth <= FDT_SCAN_MAX_DEPTH && name_off < size_strings)
                record_prop(info, depth, fdt + off_strings + name_off,
                            size_strings - name_off, v);
            pos = align4(pos + prop_len);
            break;
        case FDT_NOP:
            break;
        case FDT_END:
            info->root_props_done = 1;
            return depth == 0 ? 0 : "bad-structure";
        default:
            return "bad-token";
        }
    }
}
