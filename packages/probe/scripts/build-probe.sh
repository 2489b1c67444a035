#!/usr/bin/env bash
# Builds the VMSPEC probe: probe-aa64.efi (PE32+ UEFI application, AArch64)
# and probe-aa64.img (raw 64 MiB GPT disk whose FAT32 ESP holds it as
# \EFI\BOOT\BOOTAA64.EFI, the removable-media path).
#
# Usage: build-probe.sh OUT_DIR
#
# No root, no loop mounts: sgdisk writes the GPT into a plain file, the ESP is
# formatted and filled as a separate file, then copied in at its first sector.
# The output is byte-for-byte reproducible: fixed GUIDs, volume id, label and
# timestamps, and a linker timestamp derived from the content (/Brepro).
set -euo pipefail

die() { echo "build-probe.sh: $*" >&2; exit 1; }

[[ $# -eq 1 && -n $1 ]] || die "usage: build-probe.sh OUT_DIR"
OUT_DIR=$1
[[ -d $OUT_DIR ]] || die "output directory '$OUT_DIR' does not exist"

# sgdisk and mkfs.vfat live in /usr/sbin, which is not on a normal user's PATH.
export PATH="$PATH:/usr/sbin:/sbin"
# Tools that print or stamp local time (mtools) must see one fixed zone.
export LC_ALL=C TZ=UTC

need() { # tool, Debian package
  command -v "$1" >/dev/null 2>&1 \
    || die "required tool '$1' not found (install the Debian package '$2')"
}
need clang clang
need lld-link lld
need sgdisk gdisk
need mkfs.vfat dosfstools
need mcopy mtools
need truncate coreutils
need dd coreutils
need touch coreutils

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$SCRIPT_DIR/../src/c" && pwd)

# WARNING: changing any of these changes the image hash that runs record.
readonly DISK_BYTES=$((64 * 1024 * 1024))
readonly ESP_FIRST_LBA=2048                            # 1 MiB aligned
readonly DISK_GUID=5f0c8a47-3f5e-4c8e-9b44-0b1e6f7a2d11
readonly ESP_GUID=9a6b2c3d-1e4f-4a5b-8c7d-2e3f4a5b6c7d
readonly FAT_VOLUME_ID=5650524f                        # "VPRO"
readonly FAT_LABEL=VMSPECPROBE
readonly FILE_EPOCH=315532800                          # 1980-01-01T00:00:00Z, the FAT epoch

WORK=$(mktemp -d "$OUT_DIR/.build-probe.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT

# --- the UEFI application -------------------------------------------------
# aarch64-unknown-windows makes clang emit COFF, which lld-link turns into a
# PE32+ image; /subsystem:efi_application sets Subsystem 10. -mgeneral-regs-only
# because nothing here needs FP/SIMD, so we never depend on its state.
objs=()
for src in probe fdt; do
  clang -target aarch64-unknown-windows -std=c11 -Os -Wall -Wextra -Werror \
    -ffreestanding -fno-stack-protector -fshort-wchar -fno-builtin \
    -mno-red-zone -mgeneral-regs-only \
    -c "$SRC_DIR/$src.c" -o "$WORK/$src.obj"
  objs+=("$WORK/$src.obj")
done
lld-link /nologo /subsystem:efi_application /entry:efi_main /nodefaultlib \
  /machine:arm64 /Brepro /out:"$WORK/probe-aa64.efi" "${objs[@]}"

# --- the disk -----------------------------------------------------------------
truncate -s "$DISK_BYTES" "$WORK/disk.img"
sgdisk -o -n "1:$ESP_FIRST_LBA:0" -t 1:EF00 -c "1:EFI system partition" \
  -U "$DISK_GUID" -u "1:$ESP_GUID" "$WORK/disk.img" >/dev/null

# Read the partition back rather than recomputing sgdisk's rules.
part_info=$(sgdisk -i 1 "$WORK/disk.img")
first=$(sed -n 's/^First sector: \([0-9]*\).*/\1/p' <<<"$part_info")
last=$(sed -n 's/^Last sector: \([0-9]*\).*/\1/p' <<<"$part_info")
[[ $first == "$ESP_FIRST_LBA" && -n $last && $last -gt $first ]] \
  || die "unexpected ESP geometry from sgdisk: first='$first' last='$last'"
esp_sectors=$((last - first + 1))

# FAT32 with 1 sector per cluster keeps the cluster count above 65524, so the
# volume is FAT32 by the FAT spec's own rule, not just by its label.
# --invariant fixes mkfs.fat's time-derived fields; -i after it wins.
# -h records the partition offset in the BPB's hidden-sectors field.
truncate -s $((esp_sectors * 512)) "$WORK/esp.img"
mkfs.vfat -F 32 -s 1 -S 512 --invariant -i "$FAT_VOLUME_ID" -n "$FAT_LABEL" \
  -h "$first" "$WORK/esp.img" >/dev/null

# mtools 4.0.32 ignores SOURCE_DATE_EPOCH and mmd stamps the current time, so
# stage the tree with fixed mtimes and copy it with -s (recursive) and -m
# (keep mtimes), which also applies to the directories it creates.
mkdir -p "$WORK/esp/EFI/BOOT"
cp "$WORK/probe-aa64.efi" "$WORK/esp/EFI/BOOT/BOOTAA64.EFI"
touch -d "@$FILE_EPOCH" "$WORK/esp/EFI/BOOT/BOOTAA64.EFI" "$WORK/esp/EFI/BOOT" "$WORK/esp/EFI"
mcopy -s -m -i "$WORK/esp.img" "$WORK/esp/EFI" ::/

dd if="$WORK/esp.img" of="$WORK/disk.img" bs=1M oflag=seek_bytes \
  seek=$((first * 512)) conv=notrunc,sparse status=none

mv -f "$WORK/probe-aa64.efi" "$OUT_DIR/probe-aa64.efi"
mv -f "$WORK/disk.img" "$OUT_DIR/probe-aa64.img"
