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
 * Like libfdt, only the properties before the root's first subnode are
 * looked at: the DT spec requires properties to precede subnodes. All offset
 * arithmetic is done in 64 bits, so 32-bit header fields cannot wrap.
 */
const char *fdt_root_compatible(const UINT8 *fdt, const UINT8 **value,
                                UINT32 *len)
{
    UINT32 total = fdt_be32(fdt + 4);
    UINT32 version, hdr_size;
    UINT64 off_struct, size_struct, off_strings, size_strings, pos, end_pos;
    int depth = 0;

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

    pos = off_struct;
    end_pos = off_struct + size_struct;
    /* Every iteration consumes at least 4 bytes, so the walk terminates. */
    for (;;) {
        UINT32 tag, prop_len, name_off;
        UINT64 name_end;

        if (pos + 4 > end_pos)
            return "struct-truncated";
        tag = fdt_be32(fdt + pos);
        pos += 4;
        switch (tag) {
        case FDT_BEGIN_NODE:
            if (depth == 1)
                return "no-root-compatible"; /* first subnode: no more root props */
            depth++;
            name_end = pos;
            while (name_end < end_pos && fdt[name_end] != 0)
                name_end++;
            if (name_end >= end_pos)
                return "struct-truncated";
            pos = align4(name_end + 1);
            break;
        case FDT_END_NODE:
        case FDT_END:
            return "no-root-compatible";
        case FDT_PROP:
            if (depth != 1)
                return "bad-structure"; /* a property outside any node */
            if (pos + 8 > end_pos)
                return "struct-truncated";
            prop_len = fdt_be32(fdt + pos);
            name_off = fdt_be32(fdt + pos + 4);
            pos += 8;
            if (prop_len > end_pos - pos)
                return "struct-truncated";
            if (name_off < size_strings &&
                str_eq_bounded(fdt + off_strings + name_off,
                               size_strings - name_off, "compatible")) {
                *value = fdt + pos;
                *len = prop_len;
                return 0;
            }
            pos = align4(pos + prop_len);
            break;
        case FDT_NOP:
            break;
        default:
            return "bad-token";
        }
    }
}
