#!/bin/sh
# Boot Debian's stock kernel under QEMU with this build of mmapd in a
# busybox initramfs, run the guest test against a real /dev/mem and
# QEMU's edu and ivshmem PCI devices, and say how it went.
#
#	sh tests/vm/run.sh BUILDDIR [GUEST-TEST]
#
# BUILDDIR is a configured and built tree (make, plus make
# tests/vm/devmem-probe tests/vm/regs-probe tests/vm/run-as
# tests/vm/reach-probe, which make
# check-vm does).  GUEST-TEST is the script the guest runs,
# tests/vm/guest-test.sh by default.  The kernel
# comes from tests/vm/setup.sh, in $MMAPD_VM_CACHE (default
# $HOME/.cache/mmapd-vm).  MMAPD_VM_TIMEOUT (default 120) limits the
# whole boot in seconds; MMAPD_VM_KEEP=1 keeps the work folder (the
# initramfs, the console log, the status log, the ivshmem file);
# MMAPD_VM_TRACE=1 ends each line of the guest test with the guest's
# uptime.  The accelerator is KVM only when a probe boot proves it works
# (tests/vm/boot.sh; MMAPD_VM_ACCEL=tcg|kvm forces one); a guest that
# dies or hangs under KVM is booted once more under TCG.
#
# Exit status:
#	0	the guest tests and the host's checks passed
#	1	some failed (the guest said so on its status port, or the
#		host found a guest's ivshmem pattern missing)
#	2	the VM crashed or hung: no status line, or the time limit hit;
#		the console's tail is shown
#	3	set-up failed: a file or tool missing, QEMU would not start
#	77	QEMU is not installed (automake's SKIP), said loudly
set -eu

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${MMAPD_VM_CACHE:-${HOME:-/root}/.cache/mmapd-vm}
TIMEOUT=${MMAPD_VM_TIMEOUT:-120}
# The guest stops its test a little before the host stops QEMU, so a hung
# test is reported with its output rather than as a hung VM.
GUEST_TIMEOUT=$((TIMEOUT > 60 ? TIMEOUT - 30 : TIMEOUT / 2))

# The ivshmem patterns, 32-bit words in the guest's (little-endian) order,
# 4 KiB of each.  The host writes its own in the shared file before boot;
# the guest reads it and writes its own in the next 4 KiB, once through a
# region of /dev/mem (mem) and once through the sysfs BAR (pci):
#	0x0000	HOST_PATTERN		read through mem
#	0x1000	GUEST_PATTERN		written through mem
#	0x2000	HOST_PATTERN_PCI	read through pci
#	0x3000	GUEST_PATTERN_PCI	written through pci
HOST_PATTERN=0xa5c3f00d
GUEST_PATTERN=0x5a17e5d3
HOST_PATTERN_PCI=0x3c0ffee3
GUEST_PATTERN_PCI=0xc1a55e5b

# Where the guest finds our programs and the libraries of the build.
GUEST_BIN=/opt/mmapd/bin
GUEST_LIB=/opt/mmapd/lib

say() {
	printf '%s\n' "vm: $*"
}

setup_fail() {
	printf '%s\n' "vm: set-up failed: $*" >&2
	exit 3
}

skip() {
	{
		echo "vm: ##################################################"
		echo "vm: SKIP: $*"
		echo "vm: the VM tests did NOT run"
		echo "vm: ##################################################"
	} >&2
	exit 77
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	setup_fail "usage: sh tests/vm/run.sh BUILDDIR [GUEST-TEST]"
fi
[ -d "$1" ] || setup_fail "no build folder $1"
BUILDDIR=$(cd "$1" && pwd)
GUEST_TEST=${2:-$SRCDIR/tests/vm/guest-test.sh}
[ -f "$GUEST_TEST" ] || setup_fail "no guest test $GUEST_TEST"
# The host's ivshmem checks go with the guest test that writes the pattern.
HOST_CHECKS=yes
[ $# -eq 2 ] && HOST_CHECKS=no

command -v qemu-system-x86_64 >/dev/null 2>&1 ||
    skip "qemu-system-x86_64 not found: run sh tests/vm/setup.sh (as root) first"
for tool in busybox cpio gzip ldd timeout od cmp dd; do
	command -v "$tool" >/dev/null 2>&1 ||
	    setup_fail "$tool not found (sh tests/vm/setup.sh installs busybox-static and cpio)"
done
# vmlinux, the decompressed image setup.sh makes when the kernel can boot
# through PVH, saves the guest about 4 s of XZ decompression under TCG;
# MMAPD_VM_KERNEL=vmlinuz boots the image as Debian ships it.
KERNEL=$CACHE/vmlinuz
[ -s "$KERNEL" ] || setup_fail "no kernel at $KERNEL: run sh tests/vm/setup.sh first"
case ${MMAPD_VM_KERNEL:-auto} in
auto) [ -s "$CACHE/vmlinux" ] && KERNEL=$CACHE/vmlinux ;;
vmlinuz) ;;
*) setup_fail "MMAPD_VM_KERNEL is auto or vmlinuz, not '$MMAPD_VM_KERNEL'" ;;
esac
# The static busybox: the guest has no libraries of its own but ours.
BUSYBOX=$(command -v busybox)
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	setup_fail "$BUSYBOX is dynamically linked: install busybox-static"
fi

is_elf() {
	[ -f "$1" ] &&
	    [ "$(dd if="$1" bs=4 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]
}

# real_elf DIR NAME: the program itself, not libtool's wrapper script:
# DIR/NAME when it is one (mmapd, which links only static convenience
# libraries; -no-install programs), else what libtool keeps in .libs/.
real_elf() {
	for f in "$1/$2" "$1/.libs/$2" "$1/.libs/lt-$2"; do
		if is_elf "$f"; then
			echo "$f"
			return 0
		fi
	done
	return 1
}

MMAPD=$(real_elf "$BUILDDIR/daemon" mmapd) ||
    setup_fail "no daemon/mmapd in $BUILDDIR: build it (make)"
MMAPCTL=$(real_elf "$BUILDDIR/client" mmapctl) ||
    setup_fail "no client/mmapctl in $BUILDDIR: build it (make)"
PROBE=$(real_elf "$BUILDDIR/tests/vm" devmem-probe) ||
    setup_fail "no tests/vm/devmem-probe in $BUILDDIR: make tests/vm/devmem-probe (make check-vm does)"
REGS=$(real_elf "$BUILDDIR/tests/vm" regs-probe) ||
    setup_fail "no tests/vm/regs-probe in $BUILDDIR: make tests/vm/regs-probe (make check-vm does)"
RUNAS=$(real_elf "$BUILDDIR/tests/vm" run-as) ||
    setup_fail "no tests/vm/run-as in $BUILDDIR: make tests/vm/run-as (make check-vm does)"
REACH=$(real_elf "$BUILDDIR/tests/vm" reach-probe) ||
    setup_fail "no tests/vm/reach-probe in $BUILDDIR: make tests/vm/reach-probe (make check-vm does)"

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

ROOT=$WORK/root
CONSOLE=$WORK/console.log
STATUS=$WORK/status.log
HOSTFILE=$WORK/ivshmem.bin
INITRD=$WORK/initrd.gz
QEMU_ERR=$WORK/qemu.err

START=$(date +%s)

# ---------------------------------------------------------------------------
# The initramfs
# ---------------------------------------------------------------------------
mkdir -p "$ROOT/bin" "$ROOT/etc" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" \
    "$ROOT/tmp" "$ROOT/root" "$ROOT/run" "$ROOT$GUEST_BIN"
# The applet links (sh, mount, poweroff, ...), all in /bin, made by
# busybox itself in one process: a shell loop of ln -s is 540 forks,
# seconds on these machines.  The links point to busybox's real path
# on the host, so that is where its copy goes.
"$BUSYBOX" --install -s "$ROOT/bin" ||
    setup_fail "$BUSYBOX --install -s failed"
BB_PATH=$(readlink "$ROOT/bin/sh") || setup_fail "busybox made no /bin/sh"
case $BB_PATH in
/*) ;;
*) setup_fail "busybox links to '$BB_PATH', not an absolute path" ;;
esac
mkdir -p "$ROOT${BB_PATH%/*}"
cp "$BUSYBOX" "$ROOT$BB_PATH"
cp "$SRCDIR/tests/vm/init" "$ROOT/init"
cp "$GUEST_TEST" "$ROOT/guest-test"
chmod 0755 "$ROOT/init" "$ROOT/guest-test"

cp "$MMAPD" "$ROOT$GUEST_BIN/mmapd"
cp "$MMAPCTL" "$ROOT$GUEST_BIN/mmapctl"
cp "$PROBE" "$ROOT$GUEST_BIN/devmem-probe"
cp "$REGS" "$ROOT$GUEST_BIN/regs-probe"
cp "$RUNAS" "$ROOT$GUEST_BIN/run-as"
cp "$REACH" "$ROOT$GUEST_BIN/reach-probe"

# The libraries each program needs, with the ELF interpreter, at the
# paths ldd finds them; those of the build tree (libmmapclient) in
# $GUEST_LIB instead, because the build may sit under /tmp, which the
# guest mounts a tmpfs over.  libtool's .libs/mmapctl has no run path to
# the uninstalled libmmapclient, so ldd is told where it is, and the
# guest gets LD_LIBRARY_PATH.
LIBPATH=$BUILDDIR/client/.libs
LIBDIRS=$GUEST_LIB
mkdir -p "$ROOT$GUEST_LIB"
for prog in "$MMAPD" "$MMAPCTL" "$PROBE" "$REGS" "$RUNAS" "$REACH"; do
	deps=$(LD_LIBRARY_PATH=$LIBPATH ldd "$prog") ||
	    setup_fail "ldd $prog failed"
	case $deps in
	*"not found"*)
		setup_fail "ldd $prog: a library is not found:
$deps" ;;
	esac
	for lib in $(printf '%s\n' "$deps" |
	    sed -n -e 's/.*=> \(\/[^ ]*\) .*/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
		case $lib in
		"$BUILDDIR"/*) dest=$GUEST_LIB/${lib##*/} ;;
		*) dest=$lib ;;
		esac
		[ -e "$ROOT$dest" ] && continue
		mkdir -p "$ROOT${dest%/*}"
		cp -L "$lib" "$ROOT$dest"
		case " $LIBDIRS " in
		*" ${dest%/*} "*) ;;
		*) LIBDIRS="$LIBDIRS ${dest%/*}" ;;
		esac
	done
done

# getpwnam("root") for the policy's users: glibc's files lookup is built
# into libc, but it needs the files.  alice is the unprivileged client
# (run-as alice ...), bob one the policy names nowhere but [zero].  mmapd
# is the system user mmapd drops to once set up, as systemd-sysusers
# would make it.  camera writes the shared memory cam0, which the group
# video (alice) reads.
cat >"$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
mmapd:x:999:999:mmapd:/nonexistent:/bin/false
alice:x:1000:1000:alice:/tmp:/bin/sh
bob:x:1001:1001:bob:/tmp:/bin/sh
camera:x:1002:1002:camera:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$ROOT/etc/group" <<'EOF'
root:x:0:
video:x:44:alice
mmapd:x:999:
alice:x:1000:
bob:x:1001:
camera:x:1002:
nogroup:x:65534:
EOF
cat >"$ROOT/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
EOF
# shellcheck disable=SC2086  # one word per folder
LD_LIBRARY_PATH=$(echo $LIBDIRS | tr ' ' ':')
TRACE=
case ${MMAPD_VM_TRACE:-0} in
0) ;;
*) TRACE=1 ;;
esac
cat >"$ROOT/etc/mmapd-vm.env" <<EOF
LD_LIBRARY_PATH='$LD_LIBRARY_PATH'
export LD_LIBRARY_PATH
MMAPD_VM_HOST_PATTERN=$HOST_PATTERN
MMAPD_VM_GUEST_PATTERN=$GUEST_PATTERN
MMAPD_VM_HOST_PATTERN_PCI=$HOST_PATTERN_PCI
MMAPD_VM_GUEST_PATTERN_PCI=$GUEST_PATTERN_PCI
MMAPD_VM_GUEST_TIMEOUT=$GUEST_TIMEOUT
MMAPD_VM_TRACE=$TRACE
export MMAPD_VM_HOST_PATTERN MMAPD_VM_GUEST_PATTERN
export MMAPD_VM_HOST_PATTERN_PCI MMAPD_VM_GUEST_PATTERN_PCI MMAPD_VM_TRACE
EOF

# newc is the format the kernel unpacks; gzip -1 because packing time
# matters more here than a few MB.  -R 0:0: everything owned by root
# whoever builds it.
(cd "$ROOT" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$INITRD" ||
    setup_fail "cannot pack the initramfs"

# ---------------------------------------------------------------------------
# The ivshmem file: zeros, the host's patterns at 0x0 and 0x2000
# ---------------------------------------------------------------------------
# le32 VALUE: the four bytes of a 32-bit word, little-endian.
le32() {
	for shift in 0 8 16 24; do
		# shellcheck disable=SC2059
		printf "\\$(printf '%03o' $((($1 >> shift) & 255)))"
	done
}

# pattern_file FILE VALUE: 4 KiB of VALUE.
pattern_file() {
	le32 "$2" >"$1"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		cat "$1" "$1" >"$1.2"
		mv "$1.2" "$1"
	done
}

pattern_file "$WORK/host.pat" "$HOST_PATTERN"
pattern_file "$WORK/guest.pat" "$GUEST_PATTERN"
pattern_file "$WORK/host-pci.pat" "$HOST_PATTERN_PCI"
pattern_file "$WORK/guest-pci.pat" "$GUEST_PATTERN_PCI"
# ivshmem_fill: the file as the guest must find it (again, before a
# second boot).
ivshmem_fill() {
	dd if=/dev/zero of="$HOSTFILE" bs=1024 count=1024 2>/dev/null
	dd if="$WORK/host.pat" of="$HOSTFILE" conv=notrunc 2>/dev/null
	dd if="$WORK/host-pci.pat" of="$HOSTFILE" bs=4096 seek=2 conv=notrunc 2>/dev/null
	[ "$(wc -c <"$HOSTFILE")" -eq 1048576 ] ||
	    setup_fail "cannot write $HOSTFILE"
}

# ---------------------------------------------------------------------------
# The boot
# ---------------------------------------------------------------------------
VM_NAME=vm
# shellcheck source=tests/vm/boot.sh
. "$SRCDIR/tests/vm/boot.sh"
accel_pick "$KERNEL" "$WORK"
say "accelerator: $VM_ACCEL: $VM_ACCEL_WHY"


# boot ACCEL-ARGS: one boot of the guest; sets QEMU_RC, ELAPSED,
# STATUS_LINE, GPASS and GFAIL.
boot() {
	ivshmem_fill
	: >"$CONSOLE"
	: >"$STATUS"
	BOOT=$(date +%s)
	QEMU_RC=0
	# The second serial port carries the guest test's output and status
	# without the kernel's messages; the first is the console.
	# --foreground: timeout stays in our process group, so ^C reaches
	# QEMU too instead of leaving it running after this script is gone.
	# shellcheck disable=SC2086
	timeout --foreground -k 5 "$TIMEOUT" qemu-system-x86_64 \
		-machine q35 $1 -m 512M -smp 1 \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial "file:$CONSOLE" -serial "file:$STATUS" \
		-kernel "$KERNEL" -initrd "$INITRD" \
		-append "console=ttyS0 panic=-1 quiet" \
		-device edu \
		-object "memory-backend-file,id=hostmem,size=1M,share=on,mem-path=$HOSTFILE" \
		-device ivshmem-plain,memdev=hostmem \
		</dev/null >"$QEMU_ERR" 2>&1 || QEMU_RC=$?
	ELAPSED=$(($(date +%s) - BOOT))

	# The status port as text: \r from a port left in cooked mode goes.
	tr -d '\r' <"$STATUS" >"$STATUS.txt"
	STATUS_LINE=$(grep '^mmapd-vm: status [0-9][0-9]*$' "$STATUS.txt" | tail -n 1) || true

	# What the guest counted, if it got that far.
	GPASS=0
	GFAIL=0
	SUMMARY=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$STATUS.txt" | tail -n 1) || true
	if [ -n "$SUMMARY" ]; then
		GPASS=${SUMMARY%% *}
		GFAIL=${SUMMARY#*, }
		GFAIL=${GFAIL%% *}
	fi
}

PREP=$(($(date +%s) - START))
say "kernel $(cat "$CACHE/kernel-package" 2>/dev/null || echo unknown) (${KERNEL##*/}), initramfs $(($(wc -c <"$INITRD") / 1024)) KiB, $VM_ACCEL, limit ${TIMEOUT}s"
if ! boot_run; then
	# The crash counts as one more failure.
	echo "check-vm: $GPASS passed, $((GFAIL + 1)) failed"
	exit 2
fi

grep -v '^mmapd-vm: status ' "$STATUS.txt" || true
GUEST_RC=${STATUS_LINE##* }

# ---------------------------------------------------------------------------
# The host's checks: what the guest wrote through its mapping is in the
# file behind the device, and what the host put there is untouched.
# ---------------------------------------------------------------------------
HPASS=0
HFAIL=0

# host_check PAGE FILE PATTERN WHAT: the 4 KiB page PAGE of the ivshmem
# file holds FILE, 4 KiB of PATTERN.
host_check() {
	at=$(printf '0x%x' $(($1 * 4096)))
	if dd if="$HOSTFILE" bs=4096 skip="$1" count=1 2>/dev/null |
	    cmp -s - "$2"; then
		HPASS=$((HPASS + 1))
		echo "ok - host: $4 $3 is in the ivshmem file at $at"
	else
		HFAIL=$((HFAIL + 1))
		echo "FAIL - host: the ivshmem file at $at does not hold $4 $3:"
		dd if="$HOSTFILE" bs=4096 skip="$1" count=1 2>/dev/null |
		    od -An -tx4 | head -n 4
	fi
}

if [ "$HOST_CHECKS" = yes ]; then
	host_check 0 "$WORK/host.pat" "$HOST_PATTERN" "the host's own pattern"
	host_check 1 "$WORK/guest.pat" "$GUEST_PATTERN" \
	    "the pattern the guest wrote through a mem region,"
	host_check 2 "$WORK/host-pci.pat" "$HOST_PATTERN_PCI" \
	    "the host's own second pattern"
	host_check 3 "$WORK/guest-pci.pat" "$GUEST_PATTERN_PCI" \
	    "the pattern the guest wrote through a pci region,"
else
	say "a guest test was named: the host's ivshmem checks are left out"
fi

# The guest's "N passed, M failed" and the host's checks, together; a
# failed guest test that counted no failure counts as one.
if [ "$GUEST_RC" -ne 0 ] && [ "$GFAIL" -eq 0 ]; then
	GFAIL=1
fi
say "boot to power-off ${ELAPSED}s under $VM_ACCEL (set-up ${PREP}s)"
echo "check-vm: $((GPASS + HPASS)) passed, $((GFAIL + HFAIL)) failed"
if [ "$GUEST_RC" -ne 0 ] || [ "$HFAIL" -ne 0 ]; then
	say "FAILED: guest test status $GUEST_RC, $HFAIL host check(s) failed"
	exit 1
fi
exit 0
