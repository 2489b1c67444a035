/*
 * Bounded SMBIOS walk for the VMSPEC probe. See smbios.h.
 */
#include "smbios.h"

static UINT32 le32(const UINT8 *p)
{
    return (UINT32)p[0] | (UINT32)p[1] << 8 | (UINT32)p[2] << 16 | (UINT32)p[3] << 24;
}

static const UINT8 *to_ptr(UINT64 addr)
{
    if (addr == 0 || addr > (UINT64)(UINTN)~(UINTN)0)
        return 0;
    return (const UINT8 *)(UINTN)addr;
}

static BOOLEAN anchor_eq(const UINT8 *p, const char *a)
{
    for (; *a != 0; a++, p++)
        if (*p != (UINT8)*a)
            return 0;
    return 1;
}

static void walk(const UINT8 *t, UINT32 max, SMBIOS_INFO *info)
{
    UINT32 pos = 0;

    if (t == 0)
        return;
    info->walked = 1;
    if (max > SMBIOS_TABLE_MAX)
        max = SMBIOS_TABLE_MAX;
    /* Each round moves pos forward by at least 6 bytes. */
    while (pos + 4 <= max) {
        UINT8 type = t[pos], len = t[pos + 1];
        UINT32 s;

        if (len < 4) {
            info->error = "bad-length";
            return;
        }
        if (len > max - pos) {
            info->error = "truncated";
            return;
        }
        s = pos + len;
        while (s + 1 < max && !(t[s] == 0 && t[s + 1] == 0))
            s++;
        if (s + 1 >= max) {
            info->error = "truncated";
            return;
        }
        info->structures++;
        if (type == 19)
            info->type19++;
        pos = s + 2;
        if (type == 127)
            return; /* End-of-Table */
    }
}

void smbios3_scan(const UINT8 *ep, SMBIOS_INFO *info)
{
    if (ep == 0 || !anchor_eq(ep, "_SM3_"))
        return;
    info->anchor_ok = 1;
    info->major = ep[7];
    info->minor = ep[8];
    /* Structure table maximum size @12, address @16. */
    walk(to_ptr((UINT64)le32(ep + 16) | (UINT64)le32(ep + 20) << 32), le32(ep + 12), info);
}

void smbios2_scan(const UINT8 *ep, SMBIOS_INFO *info)
{
    if (ep == 0 || !anchor_eq(ep, "_SM_"))
        return;
    info->anchor_ok = 1;
    info->major = ep[6];
    info->minor = ep[7];
    /* Structure table length @0x16 (u16), address @0x18 (u32). */
    walk(to_ptr(le32(ep + 0x18)), (UINT32)(ep[0x16] | ep[0x17] << 8), info);
}
