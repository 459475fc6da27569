#!/bin/sh
# Boot a minimal Debian with systemd as PID 1 under QEMU, with the
# Debian packages of this source tree, and run
# tests/vm-systemd/guest-test.sh there: the packages installed with
# dpkg -i (their postinst makes the user and group, /run/mmapd, enables
# and starts mmapd.socket), then mmapd started by its own units,
# unprivileged clients, reload, stop, activation.
#
#	sh tests/vm-systemd/run.sh BUILDDIR
#
# BUILDDIR is a build tree of this source (make check-systemd passes its
# own); nothing is taken from it.  The packages are those scripts/deb.sh puts in SRCDIR/_deb (or
# $MMAPD_DEB_DIR): run.sh runs it with --if-needed first, so they are
# built when missing or made from another state of the tree.  They go
# into the guest, with the test's own files, as a second cpio archive
# after the root's, unpacked over it.
#
# The kernel and the root come from tests/vm-systemd/setup.sh, in
# $MMAPD_VM_CACHE (default $HOME/.cache/mmapd-vm).  MMAPD_VM_TIMEOUT
# (default 240) limits the whole boot in seconds; MMAPD_VM_KEEP=1 keeps
# the work folder (console log, status log, staging folder);
# MMAPD_VM_TRACE=1 ends each line of the guest test with the guest's
# uptime.  MMAPD_VM_APPEND adds kernel arguments (systemd.log_level=debug,
# ...).  MMAPD_VM_OVERLAY=DIR copies DIR over the installed tree before
# it is packed (to try units by hand: never set by make check-systemd).
# The accelerator is chosen as for tests/vm/run.sh (tests/vm/boot.sh:
# KVM only when a probe boot proves it; MMAPD_VM_ACCEL=tcg|kvm forces
# one; a guest that dies or hangs under KVM is booted again under TCG).
#
# Exit status:
#	0	every check passed
#	1	some failed (the guest said so on its status port)
#	2	the VM crashed or hung: no status line, or the time limit hit;
#		the console's tail is shown
#	3	set-up failed: a file or tool missing, the build or the
#		install failed, QEMU would not start
#	77	QEMU is not installed (automake's SKIP), said loudly
set -eu

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$SRCDIR/tests/vm-systemd
CACHE=${MMAPD_VM_CACHE:-${HOME:-/root}/.cache/mmapd-vm}
TIMEOUT=${MMAPD_VM_TIMEOUT:-240}
# The guest's test stops a while before the host stops QEMU (the boot
# comes first), so a hung test is reported with its output rather than
# as a hung VM.
GUEST_TIMEOUT=$((TIMEOUT > 120 ? TIMEOUT - 90 : TIMEOUT / 2))
# Where the test's own files go in the guest (guest-run and the units
# name it too).
GUEST_DIR=/usr/local/lib/mmapd-vm
DEBS=${MMAPD_DEB_DIR:-$SRCDIR/_deb}

say() {
	printf '%s\n' "vm-systemd: $*"
}

setup_fail() {
	printf '%s\n' "vm-systemd: set-up failed: $*" >&2
	echo "check-systemd: 0 passed, 1 failed"
	exit 3
}

skip() {
	{
		echo "vm-systemd: ##################################################"
		echo "vm-systemd: SKIP: $*"
		echo "vm-systemd: the systemd VM test did NOT run"
		echo "vm-systemd: ##################################################"
	} >&2
	exit 77
}

[ $# -eq 1 ] || setup_fail "usage: sh tests/vm-systemd/run.sh BUILDDIR"
[ -d "$1" ] || setup_fail "no build folder $1"

command -v qemu-system-x86_64 >/dev/null 2>&1 ||
    skip "qemu-system-x86_64 not found: run sh tests/vm-systemd/setup.sh (as root) first"
for tool in cpio timeout dpkg-deb; do
	command -v "$tool" >/dev/null 2>&1 || setup_fail "$tool not found"
done
KERNEL=$CACHE/vmlinuz
[ -s "$KERNEL" ] ||
    setup_fail "no kernel at $KERNEL: run sh tests/vm-systemd/setup.sh first"
[ -s "$CACHE/vmlinux" ] && KERNEL=$CACHE/vmlinux
ROOTDIR=
for d in "$CACHE"/systemd-root-*; do
	if [ ! -s "$d/root.cpio" ] || [ ! -f "$d/dirlinks" ]; then
		continue
	fi
	[ -z "$ROOTDIR" ] ||
	    setup_fail "more than one root in $CACHE: run sh tests/vm-systemd/setup.sh"
	ROOTDIR=$d
done
[ -n "$ROOTDIR" ] ||
    setup_fail "no root file system in $CACHE: run sh tests/vm-systemd/setup.sh (as root) first"

WORK=$(mktemp -d)
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
	if [ "${MMAPD_VM_KEEP:-0}" = 1 ]; then
		say "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
case $WORK in
*,* | *:*)
	# QEMU takes these paths inside option strings.
	setup_fail "the work folder $WORK has a comma or colon in its name: set TMPDIR" ;;
esac

STAGE=$WORK/stage
CONSOLE=$WORK/console.log
STATUS=$WORK/status.log
INITRD=$WORK/initrd.cpio
QEMU_ERR=$WORK/qemu.err
START=$(date +%s)

# ---------------------------------------------------------------------------
# The install: the packages of this tree, for dpkg -i in the guest
# ---------------------------------------------------------------------------
# Built now when _deb/ does not hold those of the tree as it is: what
# the guest installs is what this source makes, never an older build.
say "packages: sh scripts/deb.sh --if-needed"
MMAPD_DEB_DIR=$DEBS sh "$SRCDIR/scripts/deb.sh" --if-needed >&2 ||
    setup_fail "scripts/deb.sh could not build the packages"
mkdir -p "$STAGE$GUEST_DIR/debs"
for p in mmapd libmmapclient0 libmmapclient-dev; do
	set -- "$DEBS/${p}_"*.deb
	if [ $# -ne 1 ] || [ ! -f "$1" ]; then
		setup_fail "not one package $p in $DEBS: $*"
	fi
	cp "$1" "$STAGE$GUEST_DIR/debs/"
done
# python3-mmapclient (when built) needs python3, which the guest has
# not: its tests run on the host, against a real mmapd there.
for f in "$DEBS"/python3-mmapclient_*.deb; do
	if [ -f "$f" ]; then
		say "packages: ${f##*/} is not installed in the guest (no python3 there)"
	fi
done
VERSION=$(dpkg-deb -f "$STAGE$GUEST_DIR/debs/mmapd_"*.deb Version)
VERSION=${VERSION%-*}
[ -n "$VERSION" ] || setup_fail "cannot tell the package version"
say "packages: $(cd "$STAGE$GUEST_DIR/debs" && echo *.deb) (source $(cut -c 1-12 "$DEBS/source.sha256" 2>/dev/null))"

# ---------------------------------------------------------------------------
# The test's own files, and the overlay
# ---------------------------------------------------------------------------
mkdir -p "$STAGE$GUEST_DIR" "$STAGE/etc/systemd/system/multi-user.target.wants" \
    "$STAGE/etc/systemd/system/emergency.service.d" \
    "$STAGE/etc/systemd/system/rescue.service.d"
cp "$HERE/guest-run" "$HERE/guest-test.sh" "$HERE/client-test.c" \
    "$HERE/burst.c" "$STAGE$GUEST_DIR/"
chmod 0755 "$STAGE$GUEST_DIR/guest-run" "$STAGE$GUEST_DIR/guest-test.sh"
TRACE=
case ${MMAPD_VM_TRACE:-0} in
0) ;;
*) TRACE=1 ;;
esac
cat >"$STAGE$GUEST_DIR/env" <<EOF
MMAPD_VM_VERSION='$VERSION'
MMAPD_VM_GUEST_TIMEOUT=$GUEST_TIMEOUT
MMAPD_VM_TRACE=$TRACE
EOF
cp "$HERE/mmapd-vm-test.service" "$STAGE/etc/systemd/system/"
ln -s ../mmapd-vm-test.service \
    "$STAGE/etc/systemd/system/multi-user.target.wants/mmapd-vm-test.service"
# Masked: what a headless guest that lives a minute has no use for
# (timers, logins, consoles, kernel modules it does not have, debugging
# file systems).  Each unit costs a second or more of emulated CPU at
# boot; none of them is something mmapd's units may rely on.
for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
    e2scrub_all.timer fstrim.timer e2scrub_reap.service getty.target \
    modprobe@.service systemd-modules-load.service \
    sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
    sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount \
    systemd-random-seed.service systemd-update-utmp.service \
    systemd-update-utmp-runlevel.service systemd-user-sessions.service \
    systemd-logind.service systemd-pstore.service \
    systemd-journal-flush.service proc-sys-fs-binfmt_misc.automount; do
	ln -s /dev/null "$STAGE/etc/systemd/system/$u"
done
cp "$HERE/stop-on-failure.conf" \
    "$STAGE/etc/systemd/system/emergency.service.d/mmapd-vm.conf"
cp "$HERE/stop-on-failure.conf" \
    "$STAGE/etc/systemd/system/rescue.service.d/mmapd-vm.conf"

if [ -n "${MMAPD_VM_OVERLAY:-}" ]; then
	[ -d "$MMAPD_VM_OVERLAY" ] || setup_fail "MMAPD_VM_OVERLAY: no folder $MMAPD_VM_OVERLAY"
	{
		echo "vm-systemd: ##################################################"
		echo "vm-systemd: MMAPD_VM_OVERLAY: $MMAPD_VM_OVERLAY copied over the install:"
		(cd "$MMAPD_VM_OVERLAY" && find . ! -type d | sed 's/^\./vm-systemd:   /')
		echo "vm-systemd: this run does NOT test what the packages install"
		echo "vm-systemd: ##################################################"
	} >&2
	cp -a "$MMAPD_VM_OVERLAY/." "$STAGE/"
fi

# A folder the root has as a symbolic link (bin -> usr/bin, var/run ->
# run, ...) must not be a folder in the archive: the kernel would
# replace the link with it.  What the overlay put there goes where the
# link points, as on the installed system.
while read -r link target; do
	if [ -d "$STAGE/$link" ] && [ ! -L "$STAGE/$link" ]; then
		say "overlay: /$link is a link to /$target in the guest: moving what is there"
		mkdir -p "$STAGE/$target"
		cp -a "$STAGE/$link/." "$STAGE/$target/"
		rm -rf "${STAGE:?}/$link"
	fi
done <"$ROOTDIR/dirlinks"

# The kernel unpacks one archive after the other into the same root:
# the cached root, then this run's files.  Uncompressed: decompressing
# in the emulated CPU costs more than reading more.  Owned by root
# whoever builds it; no entry for the top folder, whose mode would go
# to the guest's /.
cp "$ROOTDIR/root.cpio" "$INITRD"
(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort |
    cpio -o -H newc -R 0:0 --quiet) >>"$INITRD" ||
    setup_fail "cannot pack the install into the initramfs"

# ---------------------------------------------------------------------------
# The boot
# ---------------------------------------------------------------------------
VM_NAME=vm-systemd
# shellcheck source=tests/vm/boot.sh
. "$SRCDIR/tests/vm/boot.sh"
accel_pick "$KERNEL" "$WORK"
say "accelerator: $VM_ACCEL: $VM_ACCEL_WHY"


# boot ACCEL-ARGS: one boot of the guest; sets QEMU_RC, ELAPSED,
# STATUS_LINE, SUMMARY, GPASS and GFAIL.
boot() {
	: >"$CONSOLE"
	: >"$STATUS"
	BOOT=$(date +%s)
	QEMU_RC=0
	# rdinit: systemd itself is the first process, on the unpacked
	# archives as its root (no disk, no switch_root).  norandmaps: TCG
	# translates code per virtual address, so with the libraries and
	# programs at the same addresses in every process, each process
	# reuses what the last one had translated (a sixth less CPU time for
	# the whole run, measured).  The second serial port carries the
	# test's output and status, without the console's noise.
	# shellcheck disable=SC2086
	timeout --foreground -k 5 "$TIMEOUT" qemu-system-x86_64 \
		-machine q35 $1 -m 1G -smp 2 \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial "file:$CONSOLE" -serial "file:$STATUS" \
		-kernel "$KERNEL" -initrd "$INITRD" \
		-append "console=ttyS0 rdinit=/sbin/init systemd.unit=multi-user.target panic=-1 quiet systemd.show_status=error norandmaps ${MMAPD_VM_APPEND:-}" \
		</dev/null >"$QEMU_ERR" 2>&1 || QEMU_RC=$?
	ELAPSED=$(($(date +%s) - BOOT))

	tr -d '\r' <"$STATUS" >"$STATUS.txt"
	STATUS_LINE=$(grep '^mmapd-vm: status [0-9][0-9]*$' "$STATUS.txt" | tail -n 1) || true
	# The guest's count, or when it was cut short, the checks it
	# printed.
	SUMMARY=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$STATUS.txt" | tail -n 1) || true
	if [ -n "$SUMMARY" ]; then
		GPASS=${SUMMARY%% *}
		GFAIL=${SUMMARY#*, }
		GFAIL=${GFAIL%% *}
	else
		GPASS=$(grep -c '^ok ' "$STATUS.txt") || true
		GFAIL=$(grep -c '^FAIL ' "$STATUS.txt") || true
	fi
}

PREP=$(($(date +%s) - START))
say "kernel $(cat "$CACHE/kernel-package" 2>/dev/null || echo unknown) (${KERNEL##*/}), root ${ROOTDIR##*/} ($(cat "$ROOTDIR/size" 2>/dev/null)), $VM_ACCEL, limit ${TIMEOUT}s"
if ! boot_run; then
	# The crash counts as one more failure.
	echo "check-systemd: $GPASS passed, $((GFAIL + 1)) failed"
	exit 2
fi

grep -v '^mmapd-vm: status ' "$STATUS.txt" || true
GUEST_RC=${STATUS_LINE##* }
# A guest test that did not get to its count (a failed boot, a test
# stopped by its time limit) is one more failure; so is a failed one
# that counted none.
if [ "$GUEST_RC" -ne 0 ] && { [ -z "$SUMMARY" ] || [ "$GFAIL" -eq 0 ]; }; then
	GFAIL=$((GFAIL + 1))
	[ -n "$SUMMARY" ] || boot_show_console
fi
say "boot to power-off ${ELAPSED}s under $VM_ACCEL (set-up ${PREP}s)"
echo "check-systemd: $GPASS passed, $GFAIL failed"
if [ "$GUEST_RC" -ne 0 ]; then
	say "FAILED: guest test status $GUEST_RC"
	exit 1
fi
exit 0
