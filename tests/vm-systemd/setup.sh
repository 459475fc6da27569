#!/bin/sh
# One-time set-up of the systemd VM test (tests/vm-systemd/run.sh): what
# tests/vm/setup.sh provides (QEMU, Debian's kernel), and a minimal
# Debian root file system with systemd, made by mmdebstrap and packed as
# an uncompressed cpio archive, the guest's initramfs.  A second run
# finds everything in place and returns at once.
#
#	sh tests/vm-systemd/setup.sh
#
# The root goes into $MMAPD_VM_CACHE (default $HOME/.cache/mmapd-vm), in
# a folder named after a hash of what makes it (the suite, the package
# list, the options below): change any of them and the next run makes a
# new one and removes the old.  Making it needs root (mmdebstrap's root
# mode: chroot, real file owners) and the archive apt on this machine
# uses; 1 to 5 minutes (measured; the download and dpkg) and 300 MB, once.
#
# Exit status: 0 ready; 77 (automake's SKIP) QEMU is not installed and
# cannot be; 1 anything else went wrong.
set -eu

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${MMAPD_VM_CACHE:-${HOME:-/root}/.cache/mmapd-vm}

# Bumped when what is done to the root below changes, so that a cached
# root made the old way is not taken for a new one.
FORMAT=2

# What the guest needs beyond minbase: systemd as PID 1 (udev for the
# serial devices systemd waits for; dbus, and procps for the kill an
# ExecReload= may name, as any real system has them); the
# libraries mmapd and libmmapclient link (the same suite as the host's,
# so the same sonames); and what a user building against libmmapclient
# needs: pkg-config, a compiler, the C library's headers, and
# libprotobuf-c-dev, because mmapclient.pc says Requires.private:
# libprotobuf-c and pkg-config wants that .pc even for --cflags.
PACKAGES="systemd systemd-sysv dbus udev procps libuv1 libprotobuf-c1
libseccomp2 libinih1 pkgconf libprotobuf-c-dev gcc libc6-dev"

# Removed once installed: nothing in the guest reads them, and each MB
# here is unpacked by the guest's kernel at every boot.  (dpkg's
# path-exclude would be neater, but breaks mmdebstrap's merged-usr hook,
# whose usr-is-merged package then cannot unpack its changelog.)
EXCLUDES="usr/share/doc usr/share/man usr/share/info usr/share/locale
usr/share/i18n"

say() {
	printf '%s\n' "vm-systemd-setup: $*"
}

die() {
	printf '%s\n' "vm-systemd-setup: error: $*" >&2
	exit 1
}

is_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
	    grep -q 'install ok installed'
}

# The suite: the host's own, so that the guest's libraries are those the
# build linked against.
suite() {
	s=
	if [ -r /etc/os-release ]; then
		# shellcheck disable=SC1091
		s=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
	fi
	[ -n "$s" ] || die "cannot tell the Debian suite from /etc/os-release"
	printf '%s\n' "$s"
}

# The archive: what apt on this machine uses for the suite and its
# updates, one "deb URI SUITE main" line each, so that no mirror name is
# written into this script or into the cache's name.
sources() {
	# shellcheck disable=SC2016  # apt's own $(...) fields
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' \
	    'Identifier: Packages' 'Component: main' 'Target-Of: deb' \
	    2>/dev/null | sort -u | while read -r uri rel; do
		case $rel in
		"$1" | "$1"-*) printf 'deb %s %s main\n' "$uri" "$rel" ;;
		esac
	done
}

need_mmdebstrap() {
	command -v mmdebstrap >/dev/null 2>&1 && return 0
	[ "$(id -u)" -eq 0 ] ||
	    die "mmdebstrap is not installed (as root: apt-get install --no-install-recommends mmdebstrap)"
	say "packages: apt-get install --no-install-recommends mmdebstrap"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends mmdebstrap >/dev/null; then
		apt-get update -q >/dev/null || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		    --no-install-recommends mmdebstrap >/dev/null ||
		    die "apt-get could not install mmdebstrap"
	fi
}

# customize ROOT: what the test wants different from a fresh minbase.
# (The units the guest need not start are masked by run.sh, in each
# run's archive: that list can change without making a new root.)
customize() {
	r=$1
	# The host's name and resolver come along with mmdebstrap; the
	# guest has no network and a name of its own.
	echo mmapd-vm >"$r/etc/hostname"
	rm -f "$r/etc/resolv.conf"
	: >"$r/etc/apt/sources.list"
	for x in $EXCLUDES; do
		rm -rf "${r:?}/$x"
	done
	# A fixed machine id: no first-boot set-up, the same journal every
	# run.
	echo 6d6d617064766d73797374656d640001 >"$r/etc/machine-id"
}

# dirlinks ROOT: the root's symbolic links to folders, as "LINK TARGET",
# both relative to the root (bin usr/bin, var/run run, ...).  run.sh
# moves what its overlay put in such a folder under its target: as a
# folder in the run's cpio archive, it would replace the link.
dirlinks() {
	(cd "$1" && find . -xdev -type l -printf '%P %l\n') |
	while read -r l t; do
		case $t in
		/*) t=${t#/} ;;
		*) case $l in
		   */*) t=${l%/*}/$t ;;
		   esac ;;
		esac
		[ -d "$1/$t" ] && [ ! -L "$1/$t" ] && printf '%s %s\n' "$l" "$t"
	done
	return 0
}

tmp=
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# QEMU and the kernel first: its 77 (QEMU cannot be had) is ours.
status=0
sh "$SRCDIR/tests/vm/setup.sh" || status=$?
[ "$status" -eq 0 ] || exit "$status"

SUITE=$(suite)
# shellcheck disable=SC2086
PKGS=$(printf '%s\n' $PACKAGES | sort | tr '\n' ',' | sed 's/,$//')
# shellcheck disable=SC2086
KEY=$(printf '%s\n' "$FORMAT" "$SUITE" "$PKGS" $EXCLUDES | sha256sum |
    cut -c 1-12)
DIR=$CACHE/systemd-root-$KEY
if [ -s "$DIR/root.cpio" ] && [ -f "$DIR/dirlinks" ]; then
	say "root: $DIR ($(cat "$DIR/size" 2>/dev/null || echo '?'))"
	say "ready"
	exit 0
fi

[ "$(id -u)" -eq 0 ] ||
    die "no root file system in $DIR, and making one needs root (run sh tests/vm-systemd/setup.sh as root once)"
need_mmdebstrap
SOURCES=$(sources "$SUITE")
[ -n "$SOURCES" ] ||
    die "apt has no '$SUITE' main in its lists (apt-get indextargets); run apt-get update"

mkdir -p "$CACHE"
tmp=$(mktemp -d "$CACHE/systemd-root.tmp.XXXXXX")
say "root: mmdebstrap --variant=minbase $SUITE with $PKGS (a few minutes, once)"
start=$(date +%s)
if ! printf '%s\n' "$SOURCES" | mmdebstrap --quiet --variant=minbase \
    --include="$PKGS" \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    "$SUITE" "$tmp/root" - >"$tmp/mmdebstrap.log" 2>&1; then
	tail -n 30 "$tmp/mmdebstrap.log" >&2
	die "mmdebstrap failed"
fi
customize "$tmp/root"
dirlinks "$tmp/root" >"$tmp/dirlinks"
# shellcheck disable=SC2016  # dpkg-query's own ${...} fields
chroot "$tmp/root" dpkg-query -W -f='${Package} ${Version}\n' \
    >"$tmp/packages" || die "cannot list the packages of the new root"
# Owners and modes as they are: the root is packed by root.
(cd "$tmp/root" && find . -xdev | LC_ALL=C sort |
    cpio -o -H newc --quiet) >"$tmp/root.cpio" || die "cannot pack the root"
du -sh "$tmp/root.cpio" | cut -f 1 >"$tmp/size"
rm -rf "$tmp/root"
# Renamed into place last: an interrupted set-up leaves nothing that a
# later run would take for complete.
rm -rf "$DIR"
mv "$tmp" "$DIR"
tmp=
for old in "$CACHE"/systemd-root-*; do
	[ "$old" = "$DIR" ] || [ ! -d "$old" ] || rm -rf "$old"
done
say "root: $DIR ($(cat "$DIR/size"), $(wc -l <"$DIR/packages") packages, $(($(date +%s) - start)) s)"
say "ready"
