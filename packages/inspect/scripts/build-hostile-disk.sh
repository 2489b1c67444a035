#!/usr/bin/env bash
# Builds hostile raw disk images (reliability-and-security.md §5.1 rows B14–B26) from a good AArch64 image:
# each variant is a sparse copy of the base with a few bytes patched by the python helper below (which also
# recomputes GPT CRCs where the row asks for it).
#
#   build-hostile-disk.sh OUTDIR
#
# Output: OUTDIR/<variant>.raw (see the list at the bottom) and OUTDIR/manifest.txt (one variant per line).
# The ESP of the base starts at byte 1 MiB (LBA 2048) and is FAT32 with 512-byte clusters; its
# \EFI\BOOT\BOOTAA64.EFI is a real PE padded to 20 KiB (40 clusters) so chain patches land inside it.
set -euo pipefail

OUT=${1:?usage: build-hostile-disk.sh OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export MTOOLS_SKIP_CHECK=1
ESP_OFF=$((2048 * 512))

bash "$HERE/build-fixture-images.sh" "$WORK/good" aa64 >/dev/null

cat >"$WORK/h.py" <<'PY'
import struct, sys, zlib

SS = 512
ESP = 2048 * 512

def rd(f, off, n):
    f.seek(off); return f.read(n)

def wr(f, off, b):
    f.seek(off); f.write(b)

# ---------------- GPT ----------------
def hdr_offsets(f):
    f.seek(0, 2); size = f.tell()
    prim = SS
    alt = struct.unpack_from('<Q', rd(f, prim, 92), 32)[0]
    return [prim, alt * SS]

def fix_header_crc(f, off):
    h = bytearray(rd(f, off, 92))
    struct.pack_into('<I', h, 16, 0)
    struct.pack_into('<I', h, 16, zlib.crc32(h) & 0xffffffff)
    wr(f, off, h)

def fix_array_crc(f, off):
    h = rd(f, off, 92)
    lba, n, esz = struct.unpack_from('<QII', h, 72)
    arr = rd(f, lba * SS, n * esz)
    wr(f, off + 88, struct.pack('<I', zlib.crc32(arr) & 0xffffffff))

def gpt_set(f, field, value, which='both'):
    fmt, at = {'count': ('<I', 80), 'esize': ('<I', 84), 'first_usable': ('<Q', 40), 'last_usable': ('<Q', 48)}[field]
    offs = hdr_offsets(f)
    if which == 'primary': offs = offs[:1]
    for off in offs:
        wr(f, off + at, struct.pack(fmt, value))
        fix_header_crc(f, off)

def gpt_entry(f, index, first, last):
    ESP_T = bytes.fromhex('28732ac11ff8d211ba4b00a0c93ec93b')
    LINUX_T = bytes.fromhex('af3dc60f838472478e793d69d8477de4')
    for off in hdr_offsets(f):
        lba, n, esz = struct.unpack_from('<QII', rd(f, off, 92), 72)
        e = LINUX_T + bytes(range(16)) + struct.pack('<QQQ', first, last, 0) + 'evil'.encode('utf-16-le').ljust(72, b'\0')
        wr(f, lba * SS + index * esz, e)
        fix_array_crc(f, off)
        fix_header_crc(f, off)

# ---------------- MBR ----------------
def mbr(f, kind):
    s = bytearray(rd(f, 0, 512))
    if kind == 'ee-lba2':
        struct.pack_into('<I', s, 446 + 8, 2)
    elif kind == 'ee-double':
        s[462:478] = s[446:462]
    elif kind == 'bootflag':
        s[446] = 0x42
    wr(f, 0, s)

# ---------------- FAT32 ----------------
class Fat:
    def __init__(self, f):
        self.f = f
        b = rd(f, ESP, 512)
        self.bps, = struct.unpack_from('<H', b, 11)
        self.spc = b[13]
        self.rsvd, = struct.unpack_from('<H', b, 14)
        self.nfats = b[16]
        self.fatsz, = struct.unpack_from('<I', b, 36)
        self.tot, = struct.unpack_from('<I', b, 32)
        self.root, = struct.unpack_from('<I', b, 44)
        self.data = self.rsvd + self.nfats * self.fatsz
        self.ncl = (self.tot - self.data) // self.spc
        self.cb = self.bps * self.spc
    def fat_off(self, c, copy=0):
        return ESP + (self.rsvd + copy * self.fatsz) * self.bps + 4 * c
    def get(self, c):
        return struct.unpack('<I', rd(self.f, self.fat_off(c), 4))[0] & 0x0FFFFFFF
    def set(self, c, v):
        for k in range(self.nfats):
            wr(self.f, self.fat_off(c, k), struct.pack('<I', v))
    def cl_off(self, c):
        return ESP + (self.data + (c - 2) * self.spc) * self.bps
    def chain(self, c):
        out = []
        while 2 <= c < 0x0FFFFFF8 and len(out) < 100000:
            out.append(c); c = self.get(c)
        return out
    def entries(self, c):
        """Yields (name, short_entry_offset, lfn_slot_offsets, first_cluster, is_dir)."""
        lfn, slots = {}, []
        for cl in self.chain(c):
            for i in range(self.cb // 32):
                off = self.cl_off(cl) + 32 * i
                e = rd(self.f, off, 32)
                if e[0] == 0: return
                if e[0] == 0xE5: lfn, slots = {}, []; continue
                if e[11] & 0x3F == 0x0F:
                    chars = e[1:11] + e[14:26] + e[28:32]
                    lfn[e[0] & 0x1F] = chars.decode('utf-16-le', 'replace'); slots.append(off); continue
                short = e[0:8].decode('latin1').rstrip() + ('.' + e[8:11].decode('latin1').rstrip() if e[8:11].strip() else '')
                name = ''.join(lfn[k] for k in sorted(lfn)).split('\0')[0].rstrip('\uffff') if lfn else short
                fc = (struct.unpack_from('<H', e, 20)[0] << 16) | struct.unpack_from('<H', e, 26)[0]
                yield name, off, slots, fc, bool(e[11] & 0x10)
                lfn, slots = {}, []
    def find(self, path):
        c, hit = self.root, None
        for part in [p for p in path.split('/') if p]:
            hit = next((x for x in self.entries(c) if x[0].upper() == part.upper()), None)
            if hit is None: raise SystemExit('not found: ' + path)
            c = hit[3]
        return hit

def fat_chain(f, path, mode):
    fat = Fat(f)
    name, off, slots, c1, _ = fat.find(path)
    c2 = fat.get(c1)
    if mode == 'loop':   # 2nd cluster -> 1st
        fat.set(c2, c1)
    else:
        fat.set(c1, {'zero': 0, 'one': 1, 'past': fat.ncl + 2 + 10, 'bad': 0x0FFFFFF7}[mode])

def bpb(f, kind):
    fat = Fat(f)
    if kind == 'bps0': wr(f, ESP + 11, struct.pack('<H', 0))
    elif kind == 'spc0': wr(f, ESP + 13, b'\0')
    elif kind == 'spc3': wr(f, ESP + 13, b'\x03')
    elif kind == 'fatsz0': wr(f, ESP + 22, struct.pack('<H', 0)); wr(f, ESP + 36, struct.pack('<I', 0))
    elif kind == 'reserved': wr(f, ESP + 14, struct.pack('<H', 0xFFFF)); wr(f, ESP + 32, struct.pack('<I', 0x8000))
    elif kind == 'totsec': wr(f, ESP + 32, struct.pack('<I', 0xFFFFFFFF))

def dir_start(f, path, target):
    fat = Fat(f)
    name, off, slots, fc, is_dir = fat.find(path)
    parent = '/'.join(path.split('/')[:-1])
    c = fat.root if target == 'root' else fat.find(parent)[3]
    wr(f, off + 20, struct.pack('<H', c >> 16)); wr(f, off + 26, struct.pack('<H', c & 0xFFFF))

def lfn_rename(f, path, new):
    """Overwrites the LFN characters of an entry with `new` (may hold / or NUL, and may be longer than the old
    name as long as it fits the existing slots: 13 characters each), then a NUL and 0xFFFF padding."""
    fat = Fat(f)
    name, off, slots, fc, _ = fat.find(path)
    assert len(new) <= len(slots) * 13, (len(new), len(slots))
    pos = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]
    for so in slots:
        e = bytearray(rd(f, so, 32))
        k = e[0] & 0x1F
        for j, p in enumerate(pos):
            i = (k - 1) * 13 + j
            c = ord(new[i]) if i < len(new) else (0 if i == len(new) else 0xFFFF)
            struct.pack_into('<H', e, p, c)
        wr(f, so, e)

def pe(src, dst, kind):
    b = bytearray(open(src, 'rb').read())
    pe_off = struct.unpack_from('<I', b, 0x3C)[0]
    if kind == 'lfanew':
        b = bytearray(b[:64]); struct.pack_into('<I', b, 0x3C, 0x10000)
    elif kind == 'sections':
        struct.pack_into('<H', b, pe_off + 6, 0xFFFF)
    elif kind == 'rawdata':
        opt = struct.unpack_from('<H', b, pe_off + 20)[0]
        struct.pack_into('<I', b, pe_off + 24 + opt + 16, 0xFFFFFFFF)
    elif kind == 'pad':
        b += bytes(20480 - len(b))
    open(dst, 'wb').write(b)

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == 'pe':
    pe(*args); sys.exit(0)
with open(args[0], 'r+b') as f:
    if cmd == 'gpt-crc': wr(f, SS + 16, b'\xde\xad\xbe\xef')
    elif cmd == 'gpt-set': gpt_set(f, args[1], int(args[2], 0), *(args[3:4]))
    elif cmd == 'gpt-entry': gpt_entry(f, int(args[1]), int(args[2], 0), int(args[3], 0))
    elif cmd == 'mbr': mbr(f, args[1])
    elif cmd == 'fat-chain': fat_chain(f, args[1], args[2])
    elif cmd == 'bpb': bpb(f, args[1])
    elif cmd == 'dir-start': dir_start(f, args[1], args[2])
    elif cmd == 'lfn': lfn_rename(f, args[1], args[2].encode().decode('unicode_escape'))
    else: raise SystemExit('unknown command ' + cmd)
PY

H() { python3 "$WORK/h.py" "$@"; }
M() { echo "$1@@$ESP_OFF"; } # mtools image spec for the ESP inside a disk

# Base: the good aa64 image with BOOTAA64.EFI padded to 20 KiB.
BASE="$WORK/base.raw"
cp --sparse=always "$WORK/good/aa64.raw" "$BASE"
mcopy -i "$(M "$BASE")" ::/EFI/BOOT/BOOTAA64.EFI "$WORK/good.efi"
H pe "$WORK/good.efi" "$WORK/pad.efi" pad
mcopy -o -i "$(M "$BASE")" "$WORK/pad.efi" ::/EFI/BOOT/BOOTAA64.EFI

: >"$OUT/manifest.txt"
variant() { # NAME: copy the base to OUT/NAME.raw and echo its path
  cp --sparse=always "$BASE" "$OUT/$1.raw"
  echo "$1" >>"$OUT/manifest.txt"
  echo "$OUT/$1.raw"
}

# B14: bad primary header CRC, valid backup
H gpt-crc "$(variant gpt-primary-crc)"
# B15: NumberOfPartitionEntries = 0xFFFFFFFF with a recomputed header CRC (both headers)
H gpt-set "$(variant gpt-count-ffffffff)" count 0xFFFFFFFF
H gpt-set "$(variant gpt-count-primary-only)" count 0xFFFFFFFF primary
# B16: SizeOfPartitionEntry 0 / 1 / 127 / 129
for s in 0 1 127 129; do H gpt-set "$(variant "gpt-entry-size-$s")" esize "$s"; done
# B17: entries beyond the disk, overlapping, first > last; first_usable > last_usable
H gpt-entry "$(variant gpt-entry-beyond)" 2 0x1000000 0x2000000
H gpt-entry "$(variant gpt-entry-overlap)" 2 4096 8191
H gpt-entry "$(variant gpt-entry-reversed)" 2 150000 140000
H gpt-set "$(variant gpt-usable-reversed)" first_usable 300000
# B18: MBR tricks
H mbr "$(variant mbr-ee-lba2)" ee-lba2
H mbr "$(variant mbr-ee-double)" ee-double
H mbr "$(variant mbr-bootflag)" bootflag
# B19 / B20: cluster chains of BOOTAA64.EFI
for m in loop zero one past bad; do H fat-chain "$(variant "fat-chain-$m")" /EFI/BOOT/BOOTAA64.EFI "$m"; done
# B21: BPB nonsense
for k in bps0 spc0 spc3 fatsz0 reserved totsec; do H bpb "$(variant "fat-bpb-$k")" "$k"; done
# B22: directory cycles and deep nesting
v=$(variant fat-dir-cycle-root); mmd -i "$(M "$v")" ::/EFI/LOOP; H dir-start "$v" /EFI/LOOP root
v=$(variant fat-dir-cycle-parent); mmd -i "$(M "$v")" ::/EFI/LOOP; H dir-start "$v" /EFI/LOOP parent
v=$(variant fat-dir-deep); p=""; for i in $(seq 1 24); do p="$p/D$i"; mmd -i "$(M "$v")" "::$p"; done
# B23: long names with ../, /, NUL and 255 characters
v=$(variant fat-lfn-names)
echo x >"$WORK/x"
mcopy -i "$(M "$v")" "$WORK/x" "::/EFI/aaaaaaaaaaaaaaaa.txt"
mcopy -i "$(M "$v")" "$WORK/x" "::/EFI/bbbbbbbbbbbbbbbbbbbb.txt"
mcopy -i "$(M "$v")" "$WORK/x" "::/EFI/cccccccccc.txt"
L247=$(printf 'L%.0s' $(seq 1 247))
M247=$(printf 'M%.0s' $(seq 1 247))
mmd -i "$(M "$v")" ::/LONG ::/LONG2
mcopy -i "$(M "$v")" "$WORK/x" "::/LONG/$L247.txt"   # mtools stops at 251 characters
mcopy -i "$(M "$v")" "$WORK/x" "::/LONG2/$M247.txt"
H lfn "$v" /EFI/aaaaaaaaaaaaaaaa.txt '../../etc/passwd.txt'
H lfn "$v" /EFI/bbbbbbbbbbbbbbbbbbbb.txt '\\EFI\\BOOT/evil\x01\x1b[31m.txt'
H lfn "$v" /EFI/cccccccccc.txt 'nul\x00hidden.txt'
H lfn "$v" "/LONG/$L247.txt" "$(printf 'L%.0s' $(seq 1 251)).txt"    # 255 characters: the FAT maximum
H lfn "$v" "/LONG2/$M247.txt" "$(printf 'M%.0s' $(seq 1 256)).txt"    # 260 characters: over the maximum
# B24 / B25 / B26: hostile PE files as BOOTAA64.EFI
for k in lfanew sections rawdata; do
  v=$(variant "pe-$k")
  H pe "$WORK/good.efi" "$WORK/pe-$k.efi" "$k"
  mcopy -o -i "$(M "$v")" "$WORK/pe-$k.efi" ::/EFI/BOOT/BOOTAA64.EFI
done
# The untouched base, as a control.
cp --sparse=always "$BASE" "$OUT/control.raw"
echo control >>"$OUT/manifest.txt"
cat "$OUT/manifest.txt"
