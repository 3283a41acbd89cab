# shellcheck shell=bash disable=SC2034 # BL_* are for the scripts sourcing this
# Boot list parser, sourced by scripts/boot and scripts/mkiso (not executable).
#
# A boot list describes one system, one item per line:
#   kernel PATH [CMDLINE...]
#   module PATH [ARGS...]
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
		*) bootlist_die "$file:$n: unknown keyword '$key' (expected kernel or module)" ;;
		esac
		bootlist_abs "$path" >/dev/null ||
			bootlist_die "$file:$n: no such file: $path (relative to $ROOT; did the build run?)"
	done <"$file"
	[ -n "$BL_KERNEL" ] || bootlist_die "$file: no 'kernel' line"
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
