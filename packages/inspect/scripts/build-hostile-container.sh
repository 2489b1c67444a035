#!/usr/bin/env bash
# Builds the container-level hostile images (reference/reliability-and-security.md §5.1, B1–B13,
# plus a few extra header mutations) into OUTDIR and writes OUTDIR/manifest.tsv:
#   id <TAB> file <TAB> declared format <TAB> expected code (or "ok") <TAB> policy maxVirtualBytes
#
# Usage: build-hostile-container.sh OUTDIR CANARY_PATH
#
# CANARY_PATH is a file whose content must never leak. This script only writes its *path* into
# image metadata. It never writes to the canary: qemu-img create -o data_file=X zeroes X, so the
# data-file image is built against a scratch file and then re-pointed with `amend`, and the
# backing-file image uses -u so qemu-img does not even open the canary.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 OUTDIR CANARY_PATH" >&2
  exit 2
fi
OUT=$1
CANARY=$2
[[ -f "$CANARY" ]] || { echo "canary $CANARY is not a file" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export LC_ALL=C LANG=C

DEFAULT_POLICY=$((64 * 1024 * 1024 * 1024)) # 64 GiB
MANIFEST="$OUT/manifest.tsv"
: >"$MANIFEST"

qi() { qemu-img "$@" >/dev/null; }

# case ID FILE DECLARED EXPECTED [MAX_VIRTUAL_BYTES]
case_() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-$DEFAULT_POLICY}" >>"$MANIFEST"; }

# patch FILE OFFSET HEXBYTES: overwrite bytes in place (e.g. patch f 72 0000000000000400)
patch() {
  local f=$1 off=$2 hex=$3 esc=''
  for ((i = 0; i < ${#hex}; i += 2)); do esc+="\\x${hex:i:2}"; done
  # shellcheck disable=SC2059
  printf "$esc" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

# be64 FILE OFFSET: a big-endian u64 as decimal (small values only)
be64() { echo $((16#$(od -An -tx1 -j"$2" -N8 "$1" | tr -d ' \n'))); }

fresh() { rm -f "$OUT/$1"; qi create -f qcow2 "${@:2}" "$OUT/$1" 1M; }

# --- B1 / B5: backing file pointing at the canary (-u: do not open it) ---
qi create -f qcow2 -u -b "$CANARY" -F raw "$OUT/b01-backing-file.qcow2" 1M
case_ B1 b01-backing-file.qcow2 qcow2 backing_file
cp "$OUT/b01-backing-file.qcow2" "$OUT/b05-declared-raw-backing.qcow2"
case_ B5 b05-declared-raw-backing.qcow2 raw format_mismatch

# --- B2: external data file, built on a scratch file, then re-pointed at the canary ---
truncate -s 1M "$OUT/b02-scratch.raw"
rm -f "$OUT/b02-data-file.qcow2"
qi create -f qcow2 -o data_file="$OUT/b02-scratch.raw",data_file_raw=on "$OUT/b02-data-file.qcow2" 1M
qi amend -f qcow2 -o data_file="$CANARY" "$OUT/b02-data-file.qcow2"
rm -f "$OUT/b02-scratch.raw"
case_ B2 b02-data-file.qcow2 qcow2 data_file

# --- B3: unknown incompatible feature bit 10 (offset 0x48, big-endian u64) ---
fresh b03-unknown-incompat-bit.qcow2
patch "$OUT/b03-unknown-incompat-bit.qcow2" 72 0000000000000400
case_ B3 b03-unknown-incompat-bit.qcow2 qcow2 unknown_features

# --- B4: version 1, and QED ---
fresh b04-version1.qcow2
patch "$OUT/b04-version1.qcow2" 4 00000001
case_ B4a b04-version1.qcow2 qcow2 unsafe_qcow2
rm -f "$OUT/b04-image.qed"
qi create -f qed "$OUT/b04-image.qed" 1M
case_ B4b b04-image.qed qcow2 format_not_allowed

# --- B6 / B7: VMDK monolithicFlat descriptors with absolute and traversal extents ---
vmdk_desc() {
  printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\n# Extent description\nRW 2048 FLAT "%s" 0\n\nddb.virtualHWVersion = "4"\n' "$1"
}
vmdk_desc "$CANARY" >"$OUT/b06-vmdk-flat-absolute.vmdk"
case_ B6 b06-vmdk-flat-absolute.vmdk raw format_not_allowed
vmdk_desc "../../$(basename "$CANARY")" >"$OUT/b07-vmdk-flat-traversal.vmdk"
case_ B7 b07-vmdk-flat-traversal.vmdk raw format_not_allowed

# --- B8: sparse VMDK whose header claims a 2 MiB descriptor (descriptorSize, LE u64 at 36) ---
rm -f "$OUT/b08-vmdk-huge-descriptor.vmdk"
qi create -f vmdk "$OUT/b08-vmdk-huge-descriptor.vmdk" 1M
patch "$OUT/b08-vmdk-huge-descriptor.vmdk" 36 0010000000000000
case_ B8 b08-vmdk-huge-descriptor.vmdk raw format_not_allowed

# --- B9: ISO 9660 polyglot with a qcow2 header in the system area; and a plain ISO ---
# A minimal ISO by hand (no genisoimage here): PVD at sector 16, terminator at sector 17.
make_iso() {
  truncate -s 1M "$1"
  patch "$1" 32768 01434430303101 # type 1, "CD001", version 1
  patch "$1" 34816 ff434430303101 # type 255 (set terminator)
}
make_iso "$OUT/b09-iso-plain.iso"
case_ B9b b09-iso-plain.iso raw format_not_allowed
fresh b09-donor.qcow2
make_iso "$OUT/b09-iso-qcow2-polyglot.iso"
dd if="$OUT/b09-donor.qcow2" of="$OUT/b09-iso-qcow2-polyglot.iso" bs=32768 count=1 conv=notrunc status=none
rm -f "$OUT/b09-donor.qcow2"
case_ B9 b09-iso-qcow2-polyglot.iso qcow2 multiple_formats

# --- B10: virtual-size bomb, 64 TiB ---
rm -f "$OUT/b10-64tib.qcow2"
qi create -f qcow2 "$OUT/b10-64tib.qcow2" 64T
case_ B10 b10-64tib.qcow2 qcow2 virtual_size_over_policy

# --- B11: header virtual size 2^62 (offset 24) ---
fresh b11-size-2p62.qcow2
patch "$OUT/b11-size-2p62.qcow2" 24 4000000000000000
case_ B11 b11-size-2p62.qcow2 qcow2 virtual_size_over_policy

# --- B12: truncated qcow2 (first 100 bytes) and a zero-byte file ---
fresh b12-donor.qcow2
head -c 100 "$OUT/b12-donor.qcow2" >"$OUT/b12-truncated.qcow2"
rm -f "$OUT/b12-donor.qcow2"
case_ B12a b12-truncated.qcow2 qcow2 truncated
: >"$OUT/b12-empty.img"
case_ B12b b12-empty.img raw empty

# --- B13: tiny clusters with a large virtual size (L1 of 4 MiB, 512-byte L2 tables) ---
rm -f "$OUT/b13-tiny-cluster.qcow2"
qi create -f qcow2 -o cluster_size=512 "$OUT/b13-tiny-cluster.qcow2" 16G
case_ B13a b13-tiny-cluster.qcow2 qcow2 virtual_size_over_policy $((8 * 1024 * 1024 * 1024))
# The same image within policy must open and read cheaply (lazy L1/L2, nothing preloaded).
case_ B13b b13-tiny-cluster.qcow2 qcow2 ok $((16 * 1024 * 1024 * 1024))
# An L1 table bigger than qemu's own 32 MiB cap (l1_size at offset 36 = 8 Mi entries).
fresh b13-l1-huge.qcow2
patch "$OUT/b13-l1-huge.qcow2" 36 00800000
case_ B13c b13-l1-huge.qcow2 qcow2 limits_exceeded

# --- Extra header mutations and other formats ---
fresh x-dirty.qcow2
patch "$OUT/x-dirty.qcow2" 79 01
case_ X1 x-dirty.qcow2 qcow2 unsafe_qcow2
fresh x-corrupt-bit.qcow2
patch "$OUT/x-corrupt-bit.qcow2" 79 02
case_ X2 x-corrupt-bit.qcow2 qcow2 unsafe_qcow2
fresh x-zstd.qcow2
patch "$OUT/x-zstd.qcow2" 79 08
patch "$OUT/x-zstd.qcow2" 104 01
case_ X3 x-zstd.qcow2 qcow2 unknown_features
fresh x-extended-l2.qcow2 -o extended_l2=on
case_ X4 x-extended-l2.qcow2 qcow2 unknown_features
fresh x-encrypted.qcow2
patch "$OUT/x-encrypted.qcow2" 32 00000001
case_ X5 x-encrypted.qcow2 qcow2 unsafe_qcow2
fresh x-cluster-bits-30.qcow2
patch "$OUT/x-cluster-bits-30.qcow2" 20 0000001e
case_ X6 x-cluster-bits-30.qcow2 qcow2 corrupt_qcow2
fresh x-l1-unaligned.qcow2
patch "$OUT/x-l1-unaligned.qcow2" 40 0000000000030008
case_ X7 x-l1-unaligned.qcow2 qcow2 corrupt_qcow2
fresh x-l1-past-eof.qcow2
patch "$OUT/x-l1-past-eof.qcow2" 40 0000010000000000
case_ X8 x-l1-past-eof.qcow2 qcow2 corrupt_qcow2
fresh x-header-length.qcow2
patch "$OUT/x-header-length.qcow2" 100 00000065
case_ X9 x-header-length.qcow2 qcow2 corrupt_qcow2
# An L2 entry pointing past the end of the file (found by walking the real tables).
fresh x-l2-past-eof.qcow2
qemu-io -f qcow2 -c 'write -P 0x5a 0 64k' "$OUT/x-l2-past-eof.qcow2" >/dev/null
l1=$(be64 "$OUT/x-l2-past-eof.qcow2" 40)
l2=$(($(be64 "$OUT/x-l2-past-eof.qcow2" "$l1") & 0x00fffffffffffe00))
patch "$OUT/x-l2-past-eof.qcow2" "$l2" 800000007fff0000
case_ X10 x-l2-past-eof.qcow2 qcow2 corrupt_qcow2
# A data-file header extension without the incompatible bit (defence in depth).
cp "$OUT/b02-data-file.qcow2" "$OUT/x-data-file-ext-only.qcow2"
patch "$OUT/x-data-file-ext-only.qcow2" 72 0000000000000000
case_ X11 x-data-file-ext-only.qcow2 qcow2 data_file
rm -f "$OUT/x-image.vhd" "$OUT/x-fixed.vhd" "$OUT/x-image.vhdx" "$OUT/x-image.vdi" "$OUT/x-image.luks"
qi create -f vpc "$OUT/x-image.vhd" 1M
case_ X12 x-image.vhd raw format_not_allowed
qi create -f vpc -o subformat=fixed "$OUT/x-fixed.vhd" 1M
case_ X13 x-fixed.vhd raw format_not_allowed
qi create -f vhdx "$OUT/x-image.vhdx" 1M
case_ X14 x-image.vhdx raw format_not_allowed
qi create -f vdi "$OUT/x-image.vdi" 1M
case_ X15 x-image.vdi raw format_not_allowed
# qemu-img times its PBKDF2 with the thread's CPU clock and gives up ("Unable to get accurate CPU
# usage") where that clock is too coarse, on some hosts every time. Then write the LUKS1 header
# ourselves: magic "LUKS\xba\xbe", version 1, cipher aes, mode xts-plain64, hash sha256 (on-disk
# format, LUKS1 spec §2.4) - all the format detection looks at.
luks_ok=
for try in 1 2 3; do
  if qemu-img create -f luks --object secret,id=s0,data=not-a-secret -o key-secret=s0,iter-time=10 "$OUT/x-image.luks" 1M >/dev/null 2>&1; then
    luks_ok=1 && break
  fi
done
if [[ -z $luks_ok ]]; then
  truncate -s 1M "$OUT/x-image.luks"
  patch "$OUT/x-image.luks" 0 4c554b53babe0001
  printf 'aes' | dd of="$OUT/x-image.luks" bs=1 seek=8 conv=notrunc status=none
  printf 'xts-plain64' | dd of="$OUT/x-image.luks" bs=1 seek=40 conv=notrunc status=none
  printf 'sha256' | dd of="$OUT/x-image.luks" bs=1 seek=72 conv=notrunc status=none
fi
case_ X16 x-image.luks raw format_not_allowed
printf 'hello, this is not a disk\n' >"$OUT/x-text.img"
case_ X17 x-text.img raw not_a_disk
truncate -s 1M "$OUT/x-no-signature.img"
case_ X18 x-no-signature.img raw not_a_disk
truncate -s 1M "$OUT/x-raw-as-qcow2.img"
patch "$OUT/x-raw-as-qcow2.img" 510 55aa
case_ X19 x-raw-as-qcow2.img qcow2 format_mismatch

echo "$MANIFEST"
