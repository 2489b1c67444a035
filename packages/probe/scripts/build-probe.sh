#!/usr/bin/env bash
# Builds the VMSPEC probe for both architectures:
#   probe-aa64.efi (PE32+ UEFI application, AArch64) and probe-aa64.img (raw
#   64 MiB GPT disk whose FAT32 ESP holds it as \EFI\BOOT\BOOTAA64.EFI);
#   probe-arm.efi (PE32 UEFI application, 32-bit ARM Thumb-2) and probe-arm.img
#   (the same disk layout with \EFI\BOOT\BOOTARM.EFI).
# \EFI\BOOT\BOOT<arch>.EFI is the removable-media path.
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
need od coreutils

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

# --- the UEFI applications ---------------------------------------------------
# *-unknown-windows makes clang emit COFF, which lld-link turns into a PE
# image; /subsystem:efi_application sets Subsystem 10. Nothing here needs
# FP/SIMD, so we never depend on its state (-mgeneral-regs-only on AArch64,
# -mfpu=none on ARM).
#
# ARM: -mno-movt because U-Boot 2023.01 rejects the IMAGE_REL_BASED_ARM_MOV32T
# base relocation (type 7) that movw/movt pairs produce; literal pools give
# plain HIGHLOW relocations instead. lld-link writes COFF Machine 0x01C4
# (ARMNT) but edk2 only loads 0x01C2 (ARM Thumb mixed): patch_machine below.
compile_app() { # arch, out.efi
  local arch=$1 out=$2 src objs=() cflags
  case $arch in
    aa64) cflags=(-target aarch64-unknown-windows -mno-red-zone -mgeneral-regs-only) ;;
    arm) cflags=(-target thumbv7-unknown-windows -march=armv7-a -mno-movt -mfpu=none) ;;
    *) die "unknown arch '$arch'" ;;
  esac
  for src in probe fdt acpi smbios; do
    clang "${cflags[@]}" -std=c11 -Os -Wall -Wextra -Werror \
      -ffreestanding -fno-stack-protector -fshort-wchar -fno-builtin \
      -c "$SRC_DIR/$src.c" -o "$WORK/$src-$arch.obj"
    objs+=("$WORK/$src-$arch.obj")
  done
  local machine=arm64
  [[ $arch == arm ]] && machine=arm
  lld-link /nologo /subsystem:efi_application /entry:efi_main /nodefaultlib \
    /machine:$machine /Brepro /out:"$out" "${objs[@]}"
}

# Reads a little-endian unsigned integer of $3 bytes at offset $2 of file $1.
read_le() {
  od -An -t u"$3" -j "$2" -N "$3" --endian=little "$1" | tr -d ' '
}

# COFF Machine 0x01C4 (IMAGE_FILE_MACHINE_ARMNT) -> 0x01C2 (IMAGE_FILE_MACHINE_THUMB).
# Same instruction set as far as the loader is concerned; the PE checksum is
# 0 (lld-link does not compute one), so nothing else needs updating.
patch_machine() { # file
  local pe machine
  pe=$(read_le "$1" 60 4)
  [[ $(od -An -c -j "$pe" -N 4 "$1" | tr -d ' ') == 'PE\0\0' ]] || die "$1: no PE signature"
  machine=$(read_le "$1" $((pe + 4)) 2)
  [[ $machine == $((0x01c4)) ]] || die "$1: unexpected COFF Machine $machine"
  [[ $(read_le "$1" $((pe + 24 + 64)) 4) == 0 ]] || die "$1: PE checksum is not 0"
  printf '\xc2\x01' | dd of="$1" bs=1 seek=$((pe + 4)) conv=notrunc status=none
}

compile_app aa64 "$WORK/probe-aa64.efi"
compile_app arm "$WORK/probe-arm.efi"
patch_machine "$WORK/probe-arm.efi"

# --- the disks ------------------------------------------------------------------
make_disk() { # efi, boot file name (BOOTAA64.EFI), out.img
  local efi=$1 bootname=$2 disk=$3 stage part_info first last esp_sectors
  rm -f "$WORK/esp.img"
  truncate -s "$DISK_BYTES" "$disk"
  sgdisk -o -n "1:$ESP_FIRST_LBA:0" -t 1:EF00 -c "1:EFI system partition" \
    -U "$DISK_GUID" -u "1:$ESP_GUID" "$disk" >/dev/null

  # Read the partition back rather than recomputing sgdisk's rules.
  part_info=$(sgdisk -i 1 "$disk")
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
  stage="$WORK/esp-$bootname"
  mkdir -p "$stage/EFI/BOOT"
  cp "$efi" "$stage/EFI/BOOT/$bootname"
  touch -d "@$FILE_EPOCH" "$stage/EFI/BOOT/$bootname" "$stage/EFI/BOOT" "$stage/EFI"
  mcopy -s -m -i "$WORK/esp.img" "$stage/EFI" ::/

  dd if="$WORK/esp.img" of="$disk" bs=1M oflag=seek_bytes \
    seek=$((first * 512)) conv=notrunc,sparse status=none
}

make_disk "$WORK/probe-aa64.efi" BOOTAA64.EFI "$WORK/disk-aa64.img"
make_disk "$WORK/probe-arm.efi" BOOTARM.EFI "$WORK/disk-arm.img"

mv -f "$WORK/probe-aa64.efi" "$OUT_DIR/probe-aa64.efi"
mv -f "$WORK/disk-aa64.img" "$OUT_DIR/probe-aa64.img"
mv -f "$WORK/probe-arm.efi" "$OUT_DIR/probe-arm.efi"
mv -f "$WORK/disk-arm.img" "$OUT_DIR/probe-arm.img"
