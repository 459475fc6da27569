#!/bin/sh
# ./configure --prefix=DIR && make && make install, as a user who owns
# nothing else (uid 65534 through setpriv when run as root), with
# criterion hidden from configure:
#  - configure succeeds and its summary says criterion is missing;
#  - make and make install succeed: the user may write only DIR, so an
#    install outside it (a systemd, sysusers.d, tmpfiles.d, pkg-config,
#    Python or completion folder of the system) would fail;
#  - make install DESTDIR=D puts every file under D/DIR, nothing beside
#    it, and the pieces installed are all there (daemon, tool, library,
#    header, .pc, units, snippets, example policy, man pages);
#  - make check builds no criterion test, fails, and says criterion is
#    what is missing.
#
#	sh tests/install-prefix.sh
#
# Run by scripts/dev.sh check (a whole configure and build: too slow for
# make check).  Prints "ok NAME" or "FAIL NAME: detail" per check, then
# "install-prefix: N passed, M failed"; exits 0 when nothing failed.
set -u

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${JOBS:-2}
PASSED=0
FAILED=0

ok() {
	PASSED=$((PASSED + 1))
	echo "ok $1"
}

fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL $1: $2"
}

# check NAME DETAIL CMD...: ok when CMD succeeds.
check() {
	name=$1
	detail=$2
	shift 2
	if "$@"; then ok "$name"; else fail "$name" "$detail"; fi
}

finish() {
	echo "install-prefix: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit
}

[ -x "$SRCDIR/configure" ] || {
	fail "set-up" "no $SRCDIR/configure: run autoreconf -fi (sh scripts/dev.sh build)"
	finish
}
[ -f "$SRCDIR/config.status" ] && {
	fail "set-up" "$SRCDIR is configured in place (make distclean there)"
	finish
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmapd-prefix.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 0755 "$tmp"
prefix=$tmp/prefix
log=$tmp/log

# As root: everything below runs as uid 65534, which owns only $tmp's
# folders.  Otherwise the caller is such a user already.
if [ "$(id -u)" -eq 0 ]; then
	command -v setpriv >/dev/null 2>&1 || {
		fail "set-up" "running as root, and no setpriv to become uid 65534"
		finish
	}
	AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
else
	AS=
fi

# The source, copied where that user can read it (the tree may sit in a
# home folder only its owner can enter), without build trees.
mkdir -p "$tmp/src" "$tmp/build" "$prefix" "$tmp/dest" "$tmp/pc"
(cd "$SRCDIR" && tar -c -f - --exclude='./_build*' --exclude=./_deb \
    --exclude=./.git .) | tar -x -f - -C "$tmp/src" ||
    { fail "set-up" "cannot copy $SRCDIR"; finish; }

# pkg-config's folders with every .pc but criterion's: configure sees
# the other libraries and not it.
pcdirs=$(pkg-config --variable pc_path pkg-config 2>/dev/null)
old_ifs=$IFS
IFS=:
for d in $pcdirs ${PKG_CONFIG_PATH:-}; do
	for pc in "$d"/*.pc; do
		[ -f "$pc" ] || continue
		case ${pc##*/} in
		criterion.pc) ;;
		*) [ -e "$tmp/pc/${pc##*/}" ] || ln -s "$pc" "$tmp/pc/" ;;
		esac
	done
done
IFS=$old_ifs
[ "$(id -u)" -eq 0 ] && chown -R 65534:65534 "$tmp/src" "$tmp/build" \
    "$prefix" "$tmp/dest"

# in_build CMD...: CMD in the build folder, as that user, with the
# filtered pkg-config folders and no make of a caller around it.
in_build() {
	# shellcheck disable=SC2086  # AS is words
	(cd "$tmp/build" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    PKG_CONFIG_LIBDIR="$tmp/pc" PKG_CONFIG_PATH= HOME="$tmp" \
	    $AS "$@") >"$log" 2>&1
}

said() {
	tail -n 15 "$log" | tr '\n' ' ' | cut -c 1-600
}

rc=0
in_build "$tmp/src/configure" --prefix="$prefix" || rc=$?
if [ "$rc" -ne 0 ]; then
	fail "configure --prefix=$prefix without criterion" "status $rc: $(said)"
	finish
fi
ok "configure --prefix=DIR without criterion succeeds"
check "configure's summary says criterion is missing and what that means" \
    "$(grep 'criterion:' "$log")" \
    grep -q 'criterion: *NOT FOUND: make check fails' "$log"
# shellcheck disable=SC2016  # configure prints ${prefix} as it is
check "configure's summary: the unit dir is under the prefix" \
    "$(grep 'unit dir:' "$log")" grep -q 'unit dir: *${prefix}/' "$log"

rc=0
in_build make -j"$JOBS" || rc=$?
check "make without criterion" "status $rc: $(said)" [ "$rc" -eq 0 ]
rc=0
in_build make install || rc=$?
check "make install as $(echo "${AS:-the caller}" | sed 's/ --clear.*//') into DIR" \
    "status $rc: $(said)" [ "$rc" -eq 0 ]

rc=0
in_build make install DESTDIR="$tmp/dest" || rc=$?
check "make install DESTDIR=D" "status $rc: $(said)" [ "$rc" -eq 0 ]
outside=$(cd "$tmp/dest" && find . ! -type d | sed 's|^\.||' |
    grep -v -F "$prefix/" | tr '\n' ' ')
check "every file installed is under DIR" "outside: $outside" \
    [ -z "$outside" ]
missing=
for f in sbin/mmapd bin/mmapctl lib/libmmapclient.so.0 \
    lib/libmmapclient.so include/mmapclient.h lib/pkgconfig/mmapclient.pc \
    lib/systemd/system/mmapd.service lib/systemd/system/mmapd.socket \
    lib/sysusers.d/mmapd.conf lib/tmpfiles.d/mmapd.conf \
    etc/mmapd/mmapd.conf.example share/man/man8/mmapd.8 \
    share/man/man1/mmapctl.1 share/man/man3/libmmapclient.3 \
    share/man/man5/mmapd.conf.5; do
	[ -e "$prefix/$f" ] || missing="$missing $f"
done
check "make install put every piece in DIR" "missing:$missing" \
    [ -z "$missing" ]
v=$("$prefix/sbin/mmapd" --version 2>&1)
check "the installed mmapd runs (mmapd --version)" "$v" [ "$v" = "mmapd $(
    sed -n 's/^AC_INIT(\[mmapd\], \[\([^]]*\)\])$/\1/p' "$SRCDIR/configure.ac")" ]

# make check, as far as it goes: no criterion test is built, and the one
# test left to say so fails.
rc=0
in_build make -j"$JOBS" check TESTS=tests/criterion-missing.sh || rc=$?
check "make check fails without criterion" "status $rc" [ "$rc" -ne 0 ]
check "make check names criterion as what is missing" "$(said)" \
    grep -q 'criterion >= 2.4 was not found' "$tmp/build/test-suite.log"
built=$(cd "$tmp/build" && ls tests/unit/test_* tests/integration/test_* \
    2>/dev/null | tr '\n' ' ')
check "make check built no criterion test" "built: $built" [ -z "$built" ]
finish
