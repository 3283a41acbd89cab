#!/bin/bash
# Build the Linux guest's images from Debian's stock packages (no kernel is
# patched or rebuilt). Called by `make linux` (mk/linux.mk); usable alone.
#
# Usage: guests/linux/build.sh        (environment: BUILD=build CC=gcc)
#
# Outputs, in $BUILD/linux/:
#   vmlinuz          the stock bzImage of linux-image-<release>
#   initrd.img       gzip'd newc cpio: busybox-static, the virtio modules,
#                    guests/linux/init as /init, the tsc helper
#   kernel-release   e.g. 6.1.0-56-amd64
# Cached there: debs/ (the downloaded .debs), pkg/ (the unpacked kernel
# package), bb/ (busybox-static unpacked), tools/tsc. A package already in
# debs/ is never fetched again; apt-get update runs only if a download fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
CC=${CC:-gcc}
OUT=$BUILD/linux
SRC=guests/linux

# Modules the initramfs loads (with whatever they depend on, in order)
WANT_MODS="virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
virtio_blk virtio_net virtio_console virtio_rng pvpanic_mmio"

say() { echo "  LINUX   $*"; }
die() {
	echo "linux: $*" >&2
	exit 1
}

for tool in apt-cache apt-get dpkg-deb cpio gzip objcopy "$CC"; do
	command -v "$tool" >/dev/null || die "$tool missing (run scripts/deps build)"
done
mkdir -p "$OUT/debs"

# --- the packages ---------------------------------------------------------

# The kernel package linux-image-amd64 points at, e.g. linux-image-6.1.0-56-amd64
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
if [ -z "$kpkg" ]; then
	# no package lists at all (fresh container): they are needed once
	apt-get update -qq >&2 || true
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
fi
[ -n "$kpkg" ] || die "cannot resolve linux-image-amd64 (apt-cache depends linux-image-amd64)"
release=${kpkg#linux-image-}

# fetch PKG: prints the path of PKG's .deb (candidate version) in debs/,
# downloading it only if it is not there yet
fetch() {
	local pkg=$1 ver deb
	ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		die "no candidate version for $pkg"
	fi
	# apt-get download names files with ':' escaped as %3a
	deb=$OUT/debs/${pkg}_${ver//:/%3a}_amd64.deb
	if [ ! -s "$deb" ]; then
		say "download $pkg $ver" >&2
		# as root, apt's sandbox user cannot write here: not worth a warning
		if ! (cd "$OUT/debs" && apt-get download -q "$pkg=$ver" 2>/dev/null >&2); then
			say "apt-get update (download failed)" >&2
			apt-get update -qq >&2 || true
			(cd "$OUT/debs" && apt-get download -q "$pkg=$ver" >&2) || die "apt-get download $pkg failed"
		fi
		[ -s "$deb" ] || die "downloaded $pkg but $deb is not there"
	fi
	echo "$deb"
}

kdeb=$(fetch "$kpkg")
bbdeb=$(fetch busybox-static)

# unpack DEB DIR: dpkg -x into DIR once per .deb (a stamp names the .deb)
unpack() {
	local deb=$1 dir=$2
	if [ "$(cat "$dir.stamp" 2>/dev/null)" != "$(basename "$deb")" ]; then
		say "unpack $(basename "$deb")"
		rm -rf "$dir" "$dir.stamp"
		dpkg-deb -x "$deb" "$dir.tmp"
		mv "$dir.tmp" "$dir"
		basename "$deb" >"$dir.stamp"
	fi
}
unpack "$kdeb" "$OUT/pkg"
unpack "$bbdeb" "$OUT/bb"

vmlinuz=$OUT/pkg/boot/vmlinuz-$release
moddir=$OUT/pkg/lib/modules/$release
busybox=$OUT/bb/bin/busybox
[ -f "$vmlinuz" ] || die "$vmlinuz missing in $kpkg"
[ -d "$moddir" ] || die "$moddir missing in $kpkg"
[ -x "$busybox" ] || die "$busybox missing in busybox-static"

# --- the tsc helper ---------------------------------------------------------

mkdir -p "$OUT/tools"
say "CC $SRC/tools/tsc.c"
"$CC" -std=gnu11 -O2 -Wall -Wextra -Werror -Wmissing-prototypes -ffreestanding -fno-builtin \
	-nostdlib -static -fno-pie -no-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
	-mgeneral-regs-only -s -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 \
	-o "$OUT/tools/tsc" "$SRC/tools/tsc.c"

# --- modules: dependency order from each module's .modinfo ------------------

declare -A modpath=() # module name (with '_') -> file, for every module in the package
while IFS= read -r -d '' f; do
	n=${f##*/}
	n=${n%.xz}
	n=${n%.ko}
	modpath[${n//-/_}]=$f
done < <(find "$moddir/kernel" \( -name '*.ko' -o -name '*.ko.xz' \) -print0)

# modinfo_depends FILE: the depends= list of a module, one per line
modinfo_depends() {
	local f=$1 tmp
	tmp=$(mktemp)
	case "$f" in
	*.xz) xz -dc "$f" >"$tmp.ko" ;;
	*) cp "$f" "$tmp.ko" ;;
	esac
	objcopy -O binary --only-section=.modinfo "$tmp.ko" "$tmp"
	tr '\0' '\n' <"$tmp" | sed -n 's/^depends=//p' | tr ',' '\n' | sed '/^$/d'
	rm -f "$tmp" "$tmp.ko"
}

declare -A visiting=() done_mod=()
order=()
visit() { # depth-first: dependencies first
	local m=${1//-/_} d
	[ -z "${done_mod[$m]:-}" ] || return 0
	[ -z "${visiting[$m]:-}" ] || die "module dependency cycle at $m"
	[ -n "${modpath[$m]:-}" ] || die "module $m not in $kpkg"
	visiting[$m]=1
	for d in $(modinfo_depends "${modpath[$m]}"); do
		visit "$d"
	done
	done_mod[$m]=1
	order+=("$m")
}
for m in $WANT_MODS; do
	visit "$m"
done

# --- the initramfs tree -----------------------------------------------------

stage=$OUT/initrd.d
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,etc,"lib/modules/$release"}
chmod 1777 "$stage/tmp"
cp "$busybox" "$stage/bin/busybox"
# one symlink per applet, at the path busybox itself reports
"$busybox" --list-full | while read -r a; do
	[ "$a" = bin/busybox ] || [ -L "$stage/$a" ] || ln -s /bin/busybox "$stage/$a"
done
[ -L "$stage/bin/sh" ] || ln -s /bin/busybox "$stage/bin/sh"
cp "$OUT/tools/tsc" "$stage/bin/tsc"
install -m 0755 "$SRC/init" "$stage/init"
: >"$stage/lib/modules/load.order"
for m in "${order[@]}"; do
	f=${modpath[$m]}
	case "$f" in
	*.xz) xz -dc "$f" >"$stage/lib/modules/$release/$m.ko" ;;
	*) cp "$f" "$stage/lib/modules/$release/$m.ko" ;;
	esac
	echo "$m" >>"$stage/lib/modules/load.order"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$stage/etc/passwd"
echo "root:x:0:" >"$stage/etc/group"
echo "$release" >"$stage/etc/kernel-release"
# busybox init (interactive boots): one shell on the console, cttyhack giving
# it the real tty (ttyS0) as controlling terminal for job control
cat >"$stage/etc/inittab" <<'EOF'
::respawn:/bin/cttyhack /bin/sh -l
::shutdown:/bin/sync
EOF
cat >"$stage/etc/profile" <<'EOF'
export PS1='guest# ' PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root
cd /root
EOF

# newc_node NAME MODE MAJOR MINOR: one newc cpio header for a device node
# (written by hand so that building needs no root for mknod); mode is octal
ino=900000
newc_node() {
	local name=$1 namesize=$((${#1} + 1)) pad
	ino=$((ino + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
		"$ino" "$((8#$2))" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0 "$name"
	pad=$(((4 - (110 + namesize) % 4) % 4))
	head -c "$pad" /dev/zero
}

# --- the archive: stage tree, then the device nodes, then the trailer -------

say "initrd ${#order[@]} modules: ${order[*]}"
tmp=$OUT/initrd.img.tmp
# GNU cpio writes the tree and its trailer; the device nodes follow as a
# second archive with its own trailer (the kernel unpacks concatenated ones)
# fixed times: the archive depends only on its contents
find "$stage" -mindepth 1 -exec touch -h -d @0 {} +
(
	cd "$stage"
	find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0 --reproducible
	newc_node dev/console 020600 5 1
	newc_node dev/null 020666 1 3
	newc_node 'TRAILER!!!' 0 0 0
) | gzip -9 -n >"$tmp"
mv -f "$tmp" "$OUT/initrd.img"
cp "$vmlinuz" "$OUT/vmlinuz.tmp"
mv -f "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
echo "$release" >"$OUT/kernel-release"
say "$OUT/vmlinuz $(stat -c %s "$OUT/vmlinuz") bytes, $OUT/initrd.img $(stat -c %s "$OUT/initrd.img") bytes, release $release"
