#!/bin/sh
# Build the Debian packages of this source tree (debian/) with
# dpkg-buildpackage -us -uc -b in a copy of the tree, check them with
# lintian, and put them in _deb/ of the tree: nothing is written beside
# the tree (where dpkg-buildpackage writes its output) or into it but
# _deb/.
#
#	sh scripts/deb.sh [--if-needed]
#
# --if-needed: do nothing when _deb/ holds the packages of the tree as
# it is now (its source.sha256, a hash of every source file, matches).
# The copy holds what a clean clone would, plus uncommitted changes:
# git ls-files (tracked and untracked, not ignored), or without git
# every file but _build*/ and _deb/.  With python/mmapclient in the
# tree, the build profile pkg.mmapd.python adds python3-mmapclient.
#
# MMAPD_DEB_DIR sets the output folder (default SRCDIR/_deb).  Fails
# when the build fails or lintian reports an error or a warning (its
# output is in _deb/lintian.txt; the build's in _deb/build.log).
set -eu

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
OUT=${MMAPD_DEB_DIR:-$SRCDIR/_deb}

say() {
	printf '%s\n' "deb: $*"
}

die() {
	printf '%s\n' "deb: error: $*" >&2
	exit 1
}

# The source files, one per line, relative to SRCDIR, sorted.
source_files() {
	if git -C "$SRCDIR" rev-parse --is-inside-work-tree >/dev/null 2>&1
	then
		git -C "$SRCDIR" ls-files -c -o --exclude-standard
	else
		(cd "$SRCDIR" && find . \( -path './_build*' -o -path ./_deb \
		    -o -path ./.git \) -prune -o -type f -print | sed 's|^\./||')
	fi | grep -v -E '^(_deb|_build[^/]*)/' | LC_ALL=C sort
}

# A hash of the names and contents of the source files.
source_hash() {
	source_files | (cd "$SRCDIR" && while IFS= read -r f; do
		[ -f "$f" ] || continue
		printf '%s %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$f"
	done) | sha256sum | cut -d' ' -f1
}

case ${1:-} in
--if-needed) if_needed=1 ;;
'') if_needed= ;;
*) die "usage: sh scripts/deb.sh [--if-needed]" ;;
esac

[ -f "$SRCDIR/debian/control" ] || die "no debian/control in $SRCDIR"
hash=$(source_hash)
if [ -n "$if_needed" ] && [ -f "$OUT/source.sha256" ] &&
    [ "$(cat "$OUT/source.sha256")" = "$hash" ] &&
    ls "$OUT"/*.deb >/dev/null 2>&1; then
	say "$OUT holds the packages of this tree (source $hash)"
	exit 0
fi

for tool in dpkg-buildpackage dpkg-checkbuilddeps lintian; do
	command -v "$tool" >/dev/null 2>&1 ||
	    die "$tool not found (sh scripts/dev.sh deps installs it)"
done

profiles=
[ -d "$SRCDIR/python/mmapclient" ] && profiles=pkg.mmapd.python
if ! (cd "$SRCDIR" && dpkg-checkbuilddeps ${profiles:+-P"$profiles"}); then
	die "build dependencies missing (above); sh scripts/dev.sh deps installs them"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmapd-deb.XXXXXX")
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

version=$(cd "$SRCDIR" && dpkg-parsechangelog -S Version)
tree=$tmp/mmapd-${version%-*}
mkdir -p "$tree"
source_files | (cd "$SRCDIR" && tar -c -f - --no-recursion -T -) |
    tar -x -f - -C "$tree"
say "copied $(source_files | wc -l) files to $tree"

rm -rf "$OUT"
mkdir -p "$OUT"
start=$(date +%s)
say "dpkg-buildpackage -us -uc -b${profiles:+ -P$profiles} (log: $OUT/build.log)"
if ! (cd "$tree" && dpkg-buildpackage -us -uc -b ${profiles:+-P"$profiles"}) \
    >"$OUT/build.log" 2>&1; then
	tail -n 40 "$OUT/build.log" >&2
	die "dpkg-buildpackage failed (the log's tail is above)"
fi
say "built in $(($(date +%s) - start)) s"

changes=$(ls "$tmp"/*.changes)
rc=0
# (Its "running with root privileges is not recommended!" is no tag.)
{ lintian --fail-on error,warning "$changes" 2>&1 ||
    echo "$?" >"$tmp/lintian.rc"; } |
    { grep -v -F 'running with root privileges' || true; } >"$OUT/lintian.txt"
[ -f "$tmp/lintian.rc" ] && rc=$(cat "$tmp/lintian.rc")
if [ -s "$OUT/lintian.txt" ]; then
	say "lintian:"
	sed 's/^/  /' "$OUT/lintian.txt"
else
	say "lintian: no tags"
fi
[ "$rc" -eq 0 ] || die "lintian reports an error or a warning (above)"

cp "$tmp"/*.deb "$changes" "$tmp"/*.buildinfo "$OUT/"
printf '%s\n' "$hash" >"$OUT/source.sha256"
for deb in "$OUT"/*.deb; do
	say "$(dpkg-deb -f "$deb" Package Version Architecture |
	    tr '\n' ' ')-> $deb"
done
