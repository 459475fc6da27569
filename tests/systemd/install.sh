#!/bin/sh
# make install DESTDIR=TMP puts each file where configure said, the
# installed pieces work from there (mmapd and mmapctl run, a program
# builds against libmmapclient through pkg-config), a real mmapd.conf
# already there is left alone, and make uninstall DESTDIR=TMP removes
# every file install put, and nothing else.
#
# Environment (set by make check): MMAPD_BUILDDIR, MAKE, CC, SAN_CFLAGS
# and SAN_LDFLAGS, and inst_*, the installation directories as make has
# them.
set -u

fail() {
	echo "install.sh: FAIL: $*" >&2
	exit 1
}

build=${MMAPD_BUILDDIR:?MMAPD_BUILDDIR is not set: run this through make check}
: "${inst_sbindir:?}" "${inst_bindir:?}" "${inst_libdir:?}"
: "${inst_includedir:?}" "${inst_pkgconfigdir:?}" "${inst_mmapdconfdir:?}"
make=${MAKE:-make}
# This runs inside make check: the inner make is a make of its own, with
# no jobserver to share and nothing else of the outer one's.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmapd-install.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT HUP INT TERM
dest=$tmp/dest
case $dest in
/?*/dest) ;;
*) fail "bad DESTDIR '$dest'" ;;
esac

# A real configuration, there before install: install must not touch it.
mkdir -p "$dest$inst_mmapdconfdir" || exit 99
printf '# the administrator'"'"'s own\n[zero]\nusers = root\n' \
	>"$dest$inst_mmapdconfdir/mmapd.conf" || exit 99
cp "$dest$inst_mmapdconfdir/mmapd.conf" "$tmp/mmapd.conf.orig" || exit 99

if ! $make -C "$build" install DESTDIR="$dest" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log"
	fail "make install DESTDIR=$dest"
fi
echo "install.sh: installed files:"
(cd "$dest" && find . \( -type f -o -type l \) -print | sort | sed 's/^\./  /')

need() {
	[ -f "$dest$1" ] || fail "make install did not install $1"
}
need_x() {
	[ -f "$dest$1" ] && [ -x "$dest$1" ] ||
		fail "make install did not install $1, executable"
}

need_x "$inst_sbindir/mmapd"
need_x "$inst_bindir/mmapctl"
need "$inst_libdir/libmmapclient.so"
need "$inst_includedir/mmapclient.h"
need "$inst_pkgconfigdir/mmapclient.pc"
need "$inst_mmapdconfdir/mmapd.conf.example"
cmp -s "${srcdir:-.}/daemon/mmapd.conf.example" \
    "$dest$inst_mmapdconfdir/mmapd.conf.example" ||
	fail "the installed mmapd.conf.example is not daemon/mmapd.conf.example"
cmp -s "$tmp/mmapd.conf.orig" "$dest$inst_mmapdconfdir/mmapd.conf" ||
	fail "make install changed an existing $inst_mmapdconfdir/mmapd.conf"

if [ -n "${inst_unitdir:-}" ]; then
	need "$inst_unitdir/mmapd.service"
	need "$inst_unitdir/mmapd.socket"
	grep -qx "ExecStart=$inst_sbindir/mmapd" "$dest$inst_unitdir/mmapd.service" ||
		fail "the installed mmapd.service does not start $inst_sbindir/mmapd"
else
	echo "install.sh: units not installed (--with-systemdsystemunitdir=no)"
fi
if [ -n "${inst_sysusersdir:-}" ]; then
	need "$inst_sysusersdir/mmapd.conf"
	grep -q '^u mmapd ' "$dest$inst_sysusersdir/mmapd.conf" &&
		grep -q '^g mmap ' "$dest$inst_sysusersdir/mmapd.conf" ||
		fail "the sysusers.d snippet names no user mmapd or group mmap"
fi
if [ -n "${inst_tmpfilesdir:-}" ]; then
	need "$inst_tmpfilesdir/mmapd.conf"
fi
if [ -n "${inst_bashcompletiondir:-}" ]; then
	need "$inst_bashcompletiondir/mmapctl"
fi

# The programs run from where they are.
out=$("$dest$inst_sbindir/mmapd" --version 2>&1) ||
	fail "installed mmapd --version: $out"
echo "install.sh: $out"
out=$(LD_LIBRARY_PATH=$dest$inst_libdir "$dest$inst_bindir/mmapctl" --help 2>&1) ||
	fail "installed mmapctl --help: $out"

# pkg-config finds the library, and a program builds and runs with it.
export PKG_CONFIG_SYSROOT_DIR="$dest"
export PKG_CONFIG_PATH="$dest$inst_pkgconfigdir"
flags=$(pkg-config --cflags --libs mmapclient 2>&1) ||
	fail "pkg-config mmapclient with the installed .pc: $flags"
echo "install.sh: pkg-config --cflags --libs mmapclient: $flags"
case " $flags " in
*" -I$dest$inst_includedir "*) ;;
*) fail "pkg-config's flags do not name the installed header's folder" ;;
esac
case " $flags " in
*" -L$dest$inst_libdir "*) ;;
*) fail "pkg-config's flags do not name the installed library's folder" ;;
esac
cat >"$tmp/use.c" <<'EOF'
#include <stdio.h>
#include <mmapclient.h>

int
main(void)
{
	struct mmapclient *c = NULL;
	int err;

	/* No daemon there: the library answers with an error of its own. */
	err = mmapclient_connect("/nonexistent/mmapd.sock", &c);
	printf("mmapclient_connect: %d\n", err);
	return err < 0 && c == NULL ? 0 : 1;
}
EOF
# A sanitizer build's library wants its runtime in the program too.
# shellcheck disable=SC2086
if ! ${CC:-cc} ${SAN_CFLAGS:-} -o "$tmp/use" "$tmp/use.c" $flags \
    ${SAN_LDFLAGS:-} >"$tmp/cc.log" 2>&1; then
	cat "$tmp/cc.log"
	fail "a program does not build against the installed libmmapclient"
fi
LD_LIBRARY_PATH=$dest$inst_libdir "$tmp/use" ||
	fail "a program built against the installed libmmapclient does not run"
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH

# uninstall: every file goes but the administrator's own.
if ! $make -C "$build" uninstall DESTDIR="$dest" >"$tmp/uninstall.log" 2>&1; then
	cat "$tmp/uninstall.log"
	fail "make uninstall DESTDIR=$dest"
fi
cmp -s "$tmp/mmapd.conf.orig" "$dest$inst_mmapdconfdir/mmapd.conf" ||
	fail "make uninstall removed or changed $inst_mmapdconfdir/mmapd.conf"
rm -f "$dest$inst_mmapdconfdir/mmapd.conf"
left=$(cd "$dest" && find . \( -type f -o -type l \) -print)
if [ -n "$left" ]; then
	printf '%s\n' "$left"
	fail "make uninstall left the files above"
fi
echo "install.sh: make uninstall removed every file"
exit 0
