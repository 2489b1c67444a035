#!/usr/bin/env bash
# Builds known-good (and known-imperfect) raw disk images for the disk inspector's specs, without root:
# truncate + sgdisk (or a small python GPT writer for 4Kn) + mkfs.vfat on a separate file + mtools + dd.
#
#   build-fixture-images.sh OUTDIR [NAME...]     (no NAME: build all)
#
# Images (OUTDIR/NAME.raw):
#   aa64        GPT, FAT32 ESP, \EFI\BOOT\BOOTAA64.EFI (PE32+, 0xAA64), a clean grub.cfg, a Linux partition
#   arm32       GPT, FAT32 ESP, \EFI\BOOT\BOOTARM.EFI (PE32, 0x01C2)
#   dual        GPT, FAT32 ESP with both BOOTAA64.EFI and BOOTARM.EFI
#   fat16       GPT, FAT16 ESP, BOOTAA64.EFI
#   4kn         GPT written for 4096-byte logical sectors, FAT32 ESP with 4096-byte sectors, BOOTAA64.EFI
#   big16g      16 GiB sparse disk (only the first MiBs and the backup GPT written), FAT32 ESP, BOOTAA64.EFI
#   x64only     GPT, FAT32 ESP, only \EFI\BOOT\BOOTX64.EFI
#   mbronly     MBR with one 0xEF partition (no 0xEE, no GPT), FAT32 inside, BOOTAA64.EFI
#   grubdtb     aa64 plus loader configs that hard-code a DTB, acpi=off, earlycon and consoles
#   aavmf       aa64 plus \AAVMF_CODE.fd (a dummy blob named like the firmware)
#   vendoronly  GPT, FAT32 ESP with only \EFI\debian\grubaa64.efi
#   noesp       GPT with a single Linux partition
#
# The PE files are tiny UEFI applications built with clang + lld (clang -target aarch64-unknown-windows, then lld-link /subsystem:efi_application).
set -euo pipefail

OUT=${1:?usage: build-fixture-images.sh OUTDIR [NAME...]}
shift
ONLY=("$@")
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export MTOOLS_SKIP_CHECK=1

want() {
  [ ${#ONLY[@]} -eq 0 ] && return 0
  local n
  for n in "${ONLY[@]}"; do [ "$n" = "$1" ] && return 0; done
  return 1
}

# --- tiny PE/COFF UEFI applications -------------------------------------------------------------
build_pes() {
  local d="$WORK/pe"
  mkdir -p "$d"
  cat >"$d/app.c" <<'EOF'
typedef unsigned long long u64;
u64 efi_main(void *image, void *st) { (void)image; (void)st; return 0; }
EOF
  local cflags=(-ffreestanding -fno-stack-protector -fshort-wchar -fno-builtin -c)
  clang -target aarch64-unknown-windows "${cflags[@]}" -mno-red-zone "$d/app.c" -o "$d/a64.o"
  lld-link /subsystem:efi_application /entry:efi_main /nodefaultlib /machine:arm64 /out:"$d/BOOTAA64.EFI" "$d/a64.o" >/dev/null
  clang -target thumbv7-unknown-windows -march=armv7-a -mno-movt "${cflags[@]}" "$d/app.c" -o "$d/arm.o"
  lld-link /subsystem:efi_application /entry:efi_main /nodefaultlib /machine:arm /out:"$d/BOOTARM.EFI" "$d/arm.o" >/dev/null
  clang -target x86_64-unknown-windows "${cflags[@]}" -mno-red-zone "$d/app.c" -o "$d/x64.o"
  lld-link /subsystem:efi_application /entry:efi_main /nodefaultlib /machine:x64 /out:"$d/BOOTX64.EFI" "$d/x64.o" >/dev/null
  # lld-link writes Machine 0x01C4 (ARMNT); edk2 loads 0x01C2 (ARM Thumb mixed). PE checksum is 0.
  python3 - "$d/BOOTARM.EFI" <<'EOF'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
pe = struct.unpack_from('<I', b, 0x3C)[0]
assert b[pe:pe + 4] == b'PE\0\0'
assert struct.unpack_from('<H', b, pe + 4)[0] == 0x01C4
struct.pack_into('<H', b, pe + 4, 0x01C2)
open(p, 'wb').write(b)
EOF
}

# make_esp FILE SIZE_MIB FAT_BITS SECTOR_SIZE: an empty FAT filesystem in its own file.
make_esp() {
  rm -f "$1"
  truncate -s "$2M" "$1"
  mkfs.vfat -F "$3" -S "$4" -s 1 -n ESP "$1" >/dev/null
}

# put ESP_FILE DEST_PATH SRC: copy a file in, creating directories.
put() {
  local img=$1 dest=$2 src=$3 dir="" part
  IFS=/ read -r -a parts <<<"${dest#/}"
  for ((i = 0; i < ${#parts[@]} - 1; i++)); do
    part=${parts[$i]}
    dir="$dir/$part"
    mdir -i "$img" "::$dir" >/dev/null 2>&1 || mmd -i "$img" "::$dir"
  done
  mcopy -o -i "$img" "$src" "::$dest"
}

# gpt_disk DISK TOTAL_MIB ESP_MIB [linux]: sgdisk GPT with the ESP at LBA 2048 (+ optional Linux partition).
gpt_disk() {
  rm -f "$1"
  truncate -s "$2M" "$1"
  if [ "${4:-}" = linux ]; then
    sgdisk -o -n "1:2048:+$3M" -t 1:EF00 -c 1:ESP -n 2:0:0 -t 2:8300 -c 2:root "$1" >/dev/null
  else
    sgdisk -o -n "1:2048:+$3M" -t 1:EF00 -c 1:ESP "$1" >/dev/null
  fi
}

# place ESP_FILE DISK BYTE_OFFSET
place() {
  dd if="$1" of="$2" bs=1M seek="$3" oflag=seek_bytes conv=notrunc,sparse status=none
}

standard() { # NAME ESP_MIB FAT_BITS: GPT disk with an ESP, BOOTAA64 + clean grub.cfg unless the caller adds files
  local name=$1
  gpt_disk "$WORK/$name.raw" $(($2 + 40)) "$2" linux
  make_esp "$WORK/$name.esp" "$2" "$3" 512
}

finish() { # NAME
  place "$WORK/$1.esp" "$WORK/$1.raw" $((2048 * 512))
  mv "$WORK/$1.raw" "$OUT/$1.raw"
  rm -f "$WORK/$1.esp"
}

build_pes
PE="$WORK/pe"
printf 'set timeout=0\nsearch --no-floppy --label root --set=root\nlinux /boot/vmlinuz root=LABEL=root ro quiet\ninitrd /boot/initrd.img\n' >"$WORK/clean-grub.cfg"

if want aa64; then
  standard aa64 64 32
  put "$WORK/aa64.esp" /EFI/BOOT/BOOTAA64.EFI "$PE/BOOTAA64.EFI"
  put "$WORK/aa64.esp" /EFI/BOOT/grub.cfg "$WORK/clean-grub.cfg"
  finish aa64
fi

if want arm32; then
  standard arm32 64 32
  put "$WORK/arm32.esp" /EFI/BOOT/BOOTARM.EFI "$PE/BOOTARM.EFI"
  finish arm32
fi

if want dual; then
  standard dual 64 32
  put "$WORK/dual.esp" /EFI/BOOT/BOOTAA64.EFI "$PE/BOOTAA64.EFI"
  put "$WORK/dual.esp" /EFI/BOOT/BOOTARM.EFI "$PE/BOOTARM.EFI"
  finish dual
fi

if want fat16; then
  standard fat16 32 16
  put "$WORK/fat16.esp" /EFI/BOOT/BOOTAA64.EFI "$PE/BOOTAA64.EFI"
  finish fat16
fi

if want x64only; then
  standard x64only 64 32
  put "$WORK/x64only.esp" /EFI/BOOT/BOOTX64.EFI "$PE/BOOTX64.EFI"
  finish x64only
fi

if want grubdtb; then
  standard grubdtb 64 32
  put "$WORK/grubdtb.esp" /EFI/BOOT/BOOTAA64.EFI "$PE/BOOTAA64.EFI"
  cat >"$WORK/grub.cfg" <<'EOF'
set timeout=0
# devicetree /commented/out.dtb
menuentry 'Linux' {
  devicetree /dtb/board.dtb
  linux /vmlinuz root=/dev/vda2 acpi=off console=ttyAMA0 earlycon=pl011,0x9000000
  initrd /initrd.img
}
EOF
  put "$WORK/grubdtb.esp" /EFI/debian/grub.cfg "$WORK/grub.cfg"
  printf 'title Linux\nlinux /vmlinuz\noptions root=/dev/vda2 console=hvc0\n' >"$WORK/linux.conf"
  put "$WORK/grubdtb.esp" /loader/entries/linux.conf "$WORK/linux.conf"
  printf 'console=ttyAMA0,115200 console=hvc0 dtb=/board.dtb root=/dev/vda2\n' >"$WORK/cmdline.txt"
  put "$WORK/grubdtb.esp" /cmdline.txt "$WORK/cmdline.txt"
  finish grubdtb
fi

if want aavmf; then
  standard aavmf 64 32
  put "$WORK/aavmf.esp" /EFI/BOOT/BOOTAA64.EFI "$PE/BOOTAA64.EFI"
  head -c 65536 /dev/zero >"$WORK/AAVMF_CODE.fd"
  put "$WORK/aavmf.esp" /AAVMF_CODE.fd "$WORK/AAVMF_CODE.fd"
  finish aavmf
fi

if want vendoronly; then
  standard vendoronly 64 32
  put "$WORK/vendoronly.esp" /EFI/debian/grubaa64.efi "$PE/BOOTAA64.EFI"
  finish vendoronly
fi

if want noesp; then
  rm -f "$WORK/noesp.raw"
  truncate -s 16M "$WORK/noesp.raw"
  sgdisk -o -n 1:2048:0 -t 1:8300 "$WORK/noesp.raw" >/dev/null
  mv "$WORK/noesp.raw" "$OUT/noesp.raw"
fi

if want big16g; then
  rm -f "$WORK/big16g.raw"
  truncate -s 16G "$WORK/big16g.raw"
  sgdisk -o -n 1:2048:+64M -t 1:EF00 -n 2:0:0 -t 2:8300 "$WORK/big16g.raw" >/dev/null
  make_esp "$WORK/big16g.esp" 64 32 512
  put "$WORK/big16g.esp" /EFI/BOOT/BOOTAA64.EFI "$PE/BOOTAA64.EFI"
  finish big16g
fi

# Raw GPT / MBR writers for what sgdisk cannot do (4Kn logical sectors; MBR-only).
write_table() { # KIND DISK SECTOR_SIZE ESP_FIRST_LBA ESP_LAST_LBA
  python3 - "$@" <<'EOF'
import struct, sys, uuid, zlib
kind, path, ss, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
f = open(path, 'r+b')
f.seek(0, 2)
size = f.tell()
lba_count = size // ss
def entry(boot, typ, start, count):
    return struct.pack('<B3sB3sII', boot, b'\0\0\0', typ, b'\0\0\0', start, count)
if kind == 'mbr':
    mbr = bytearray(512)
    mbr[446:462] = entry(0x80, 0xEF, first, last - first + 1)
    mbr[510:512] = b'\x55\xaa'
    f.seek(0); f.write(mbr)
    sys.exit(0)
# GPT at sector size ss
mbr = bytearray(ss)
pm = struct.pack('<B3sB3sII', 0, bytes([0, 2, 0]), 0xEE, b'\xff\xff\xff', 1, min(lba_count - 1, 0xFFFFFFFF))
mbr[446:462] = pm
mbr[510:512] = b'\x55\xaa'
f.seek(0); f.write(mbr)
n, esz = 128, 128
arr_sectors = (n * esz + ss - 1) // ss
esp_type = uuid.UUID('C12A7328-F81F-11D2-BA4B-00A0C93EC93B').bytes_le
ent = bytearray(n * esz)
ent[0:128] = esp_type + uuid.uuid4().bytes_le + struct.pack('<QQQ', first, last, 0) + 'ESP'.encode('utf-16-le').ljust(72, b'\0')
arr_crc = zlib.crc32(ent) & 0xffffffff
first_usable = 2 + arr_sectors
last_usable = lba_count - 2 - arr_sectors
disk_guid = uuid.uuid4().bytes_le
def header(my, alt, arr_lba):
    h = bytearray(struct.pack('<8sIIIIQQQQ16sQIII', b'EFI PART', 0x10000, 92, 0, 0, my, alt, first_usable, last_usable, disk_guid, arr_lba, n, esz, arr_crc))
    struct.pack_into('<I', h, 16, zlib.crc32(h) & 0xffffffff)
    return bytes(h).ljust(ss, b'\0')
last_lba = lba_count - 1
f.seek(1 * ss); f.write(header(1, last_lba, 2))
f.seek(2 * ss); f.write(ent)
f.seek((last_lba - arr_sectors) * ss); f.write(ent)
f.seek(last_lba * ss); f.write(header(last_lba, 1, last_lba - arr_sectors))
EOF
}

if want 4kn; then
  rm -f "$WORK/4kn.raw"
  truncate -s 300M "$WORK/4kn.raw"
  # ESP: 4096-byte LBAs 256 .. 256 + 280 MiB / 4 KiB - 1
  write_table gpt "$WORK/4kn.raw" 4096 256 $((256 + 280 * 256 - 1))
  make_esp "$WORK/4kn.esp" 280 32 4096
  put "$WORK/4kn.esp" /EFI/BOOT/BOOTAA64.EFI "$PE/BOOTAA64.EFI"
  place "$WORK/4kn.esp" "$WORK/4kn.raw" $((256 * 4096))
  mv "$WORK/4kn.raw" "$OUT/4kn.raw"
fi

if want mbronly; then
  rm -f "$WORK/mbronly.raw"
  truncate -s 80M "$WORK/mbronly.raw"
  write_table mbr "$WORK/mbronly.raw" 512 2048 $((2048 + 64 * 2048 - 1))
  make_esp "$WORK/mbronly.esp" 64 32 512
  put "$WORK/mbronly.esp" /EFI/BOOT/BOOTAA64.EFI "$PE/BOOTAA64.EFI"
  finish mbronly
fi

ls "$OUT"
