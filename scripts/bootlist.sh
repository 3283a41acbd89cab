# shellcheck shell=bash disable=SC2034 # BL_* are for the scripts sourcing this
# Boot list parser, sourced by scripts/boot and scripts/mkiso (not executable).
#
# A boot list describes one system, one item per line:
#   kernel PATH [CMDLINE...]
#   module PATH [ARGS...]
#   machine pc|q35                 the emulated chipset (default pc)
#   iommu on|intremap|off          an Intel IOMMU (QEMU q35 only; default off)
#   nic e1000|e1000e|virtio-net-pci [hub N|user]  a network card (default net: user)
# PATH is relative to the repository root. A word starting with '#' starts a
# comment. Words are separated by white space (runs of it collapse to one).
#
# bootlist_load FILE sets:
#   BL_FILE            the boot list's absolute path
#   BL_NAME            its basename without .boot
#   BL_KERNEL          kernel path (as written)
#   BL_KERNEL_ARGS     kernel command line after the path ('' if none)
#   BL_MODS[i]         module paths (as written)
#   BL_MOD_ARGS[i]     module arguments after the path ('' if none)
#   BL_MACHINE         pc or q35
#   BL_IOMMU           off, on or intremap
#   BL_NICS[i]         "MODEL hub N" or "MODEL user", one per 'nic' line
# and fails with a message naming the file and line on any error.
# ROOT must be set to the repository root; paths are checked relative to it.

bootlist_die() {
	echo "$*" >&2
	exit 2
}

bootlist_load() {
	local file=$1 line n=0 words key path
	[ -f "$file" ] || bootlist_die "boot list not found: $file"
	BL_FILE=$(cd "$(dirname "$file")" && pwd)/$(basename "$file")
	BL_NAME=$(basename "$file" .boot)
	BL_KERNEL=
	BL_KERNEL_ARGS=
	BL_MODS=()
	BL_MOD_ARGS=()
	BL_MACHINE=pc
	BL_IOMMU=off
	BL_NICS=()
	local have_machine='' have_iommu=''
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		# read -a splits without glob expansion; drop everything from a '#' word on
		read -r -a words <<<"$line"
		local i kept=()
		for i in "${words[@]}"; do
			[ "${i:0:1}" = "#" ] && break
			kept+=("$i")
		done
		[ ${#kept[@]} -eq 0 ] && continue
		key=${kept[0]}
		path=${kept[1]:-}
		case "$key" in
		machine | iommu | nic)
			bootlist_machine_line "$file:$n" "${kept[@]}"
			continue
			;;
		esac
		[ -n "$path" ] || bootlist_die "$file:$n: '$key' needs a path"
		case "$key" in
		kernel)
			[ -z "$BL_KERNEL" ] || bootlist_die "$file:$n: second 'kernel' line"
			BL_KERNEL=$path
			BL_KERNEL_ARGS="${kept[*]:2}"
			;;
		module)
			BL_MODS+=("$path")
			BL_MOD_ARGS+=("${kept[*]:2}")
			;;
		*) bootlist_die "$file:$n: unknown keyword '$key' (expected kernel, module, machine, iommu or nic)" ;;
		esac
		bootlist_abs "$path" >/dev/null ||
			bootlist_die "$file:$n: no such file: $path (relative to $ROOT; did the build run?)"
	done <"$file"
	[ -n "$BL_KERNEL" ] || bootlist_die "$file: no 'kernel' line"
	[ "$BL_IOMMU" = off ] || [ "$BL_MACHINE" = q35 ] ||
		bootlist_die "$file: 'iommu $BL_IOMMU' needs 'machine q35'"
}

# bootlist_machine_line WHERE KEY ARGS...: one machine, iommu or nic line
# (called by bootlist_load with have_machine/have_iommu in its scope)
bootlist_machine_line() {
	local where=$1 key=$2
	shift 2
	case "$key" in
	machine)
		[ $# -eq 1 ] || bootlist_die "$where: expected 'machine pc' or 'machine q35'"
		[ -z "$have_machine" ] || bootlist_die "$where: second 'machine' line"
		case "$1" in pc | q35) BL_MACHINE=$1 ;; *) bootlist_die "$where: unknown machine '$1' (expected pc or q35)" ;; esac
		have_machine=1
		;;
	iommu)
		[ $# -eq 1 ] || bootlist_die "$where: expected 'iommu on', 'iommu intremap' or 'iommu off'"
		[ -z "$have_iommu" ] || bootlist_die "$where: second 'iommu' line"
		case "$1" in on | intremap | off) BL_IOMMU=$1 ;; *) bootlist_die "$where: unknown iommu setting '$1' (expected on, intremap or off)" ;; esac
		have_iommu=1
		;;
	nic)
		[ $# -ge 1 ] || bootlist_die "$where: 'nic' needs a model (e1000, e1000e or virtio-net-pci)"
		case "$1" in e1000 | e1000e | virtio-net-pci) ;; *) bootlist_die "$where: unknown nic model '$1' (expected e1000, e1000e or virtio-net-pci)" ;; esac
		if [ $# -eq 1 ] || { [ $# -eq 2 ] && [ "$2" = user ]; }; then
			BL_NICS+=("$1 user")
		elif [ $# -eq 3 ] && [ "$2" = hub ] && [[ $3 =~ ^[0-9]$ ]]; then
			BL_NICS+=("$1 hub $3")
		else
			bootlist_die "$where: expected 'nic MODEL', 'nic MODEL user' or 'nic MODEL hub N' (N 0..9)"
		fi
		[ ${#BL_NICS[@]} -le 8 ] || bootlist_die "$where: at most 8 'nic' lines"
		;;
	esac
}

# bootlist_abs PATH: absolute host path of a boot-list path; fails if missing.
bootlist_abs() {
	local p=$1
	[ "${p:0:1}" = / ] || p=$ROOT/$p
	[ -f "$p" ] || return 1
	echo "$p"
}

# bootlist_stage_path PATH: where a file goes inside an ISO or TFTP tree,
# without a leading slash. Repository-relative paths are kept as they are
# (so a module's first command-line word is the same path under every
# loader); absolute paths or paths leaving the repo go to ext/BASENAME.
bootlist_stage_path() {
	case "$1" in
	/* | ../* | */../* | *..) echo "ext/$(basename "$1")" ;;
	./*) echo "${1#./}" ;;
	*) echo "$1" ;;
	esac
}

# bootlist_key: a short hash of the boot list and every file it names
# (path, size, mtime), plus EXTRA (a string the caller adds). Used as a
# cache key for generated ISOs and TFTP trees.
bootlist_key() {
	local extra=${1:-} p
	{
		cat "$BL_FILE"
		echo "$extra"
		for p in "$BL_KERNEL" "${BL_MODS[@]}"; do
			stat -L -c '%n %s %Y' "$(bootlist_abs "$p")"
		done
	} | sha1sum | cut -c1-12
}
