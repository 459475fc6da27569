#!/bin/sh
# The guest side of the VM tests: run by /init (tests/vm/init) in a
# busybox guest booted by tests/vm/run.sh, as root, on Debian's stock
# kernel with a real /dev/mem (STRICT_DEVMEM and IO_STRICT_DEVMEM) and
# QEMU's edu and ivshmem PCI devices.
#
# It starts this build's mmapd on a policy written here, with regions at
# the BARs found in sysfs (the firmware assigns the addresses: they move
# when devices are added), and checks what a user of mmapd would see.
# One line per check, "ok - ..." or "FAIL - ...", then "N passed, M
# failed" alone on the last line.  Exit status: 0 when nothing failed.
#
# The ivshmem pattern checks work with the host: run.sh puts
# MMAPD_VM_HOST_PATTERN in the first 4 KiB of the file behind BAR2 before
# boot, and checks after the VM is gone that the 4 KiB at 0x1000 hold
# MMAPD_VM_GUEST_PATTERN, written here through an mmapd mapping.
set -eu

: "${MMAPD_VM_HOST_PATTERN:=0xa5c3f00d}"
: "${MMAPD_VM_GUEST_PATTERN:=0x5a17e5d3}"
# Words of each pattern: 4 KiB.
WORDS=1024

T=/tmp/guest-test
CONF=$T/mmapd.conf
SOCK=$T/mmapd.sock
LOG=$T/mmapd.log
OUT=$T/out
mkdir -p "$T"
MMAPD_SOCKET=$SOCK
export MMAPD_SOCKET

PASSED=0
FAILED=0

ok() {
	PASSED=$((PASSED + 1))
	echo "ok - $*"
}

fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL - $*"
}

# run CMD...: runs CMD with a time limit (one hung request must not take
# the whole run with it), output and errors in $OUT, status in $RC.
run() {
	RC=0
	timeout 20 "$@" >"$OUT" 2>&1 || RC=$?
}

# What the last run printed, on one line, for a FAIL message.
said() {
	tr '\n' ' ' <"$OUT" | cut -c 1-300
}

# expect_out WHAT STRING: the last run exited 0 and printed exactly STRING.
expect_out() {
	if [ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = "$2" ]; then
		ok "$1: $2"
	else
		fail "$1: wanted '$2', got status $RC: $(said)"
	fi
}

# expect_grep WHAT REGEX: the last run exited 0 and printed REGEX.
expect_grep() {
	if [ "$RC" -eq 0 ] && grep -q -e "$2" "$OUT"; then
		ok "$1"
	else
		fail "$1: status $RC: $(said)"
	fi
}

# pci_find VENDOR DEVICE: the sysfs folder of the first such function.
pci_find() {
	for d in /sys/bus/pci/devices/*; do
		[ -r "$d/vendor" ] || continue
		if [ "$(cat "$d/vendor")" = "$1" ] &&
		    [ "$(cat "$d/device")" = "$2" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# bar DIR N: "START SIZE" of BAR N from line N (from 0) of DIR/resource,
# in hex; nothing when the BAR is not assigned.
bar() {
	line=$(sed -n "$(($2 + 1))p" "$1/resource")
	# shellcheck disable=SC2086  # the three fields
	set -- $line
	[ $# -ge 2 ] || return 1
	[ "$(($1))" -ne 0 ] || return 1
	printf '0x%x 0x%x\n' "$(($1))" "$(($2 - $1 + 1))"
}

# A page of System RAM above the first MiB: mmapd, like STRICT_DEVMEM,
# must refuse it.  0x2000000 when it is RAM, else the first page of the
# first top-level System RAM range above 1 MiB.
ram_page() {
	sed -n 's/^\([0-9a-f]*\)-\([0-9a-f]*\) : System RAM$/\1 \2/p' \
	    /proc/iomem | while read -r s e; do
		s=$((0x$s))
		e=$((0x$e))
		if [ "$s" -le $((0x2000000)) ] &&
		    [ "$e" -ge $((0x2000fff)) ]; then
			echo 0x2000000
			break
		fi
		p=$(((s + 0xfff) & ~0xfff))
		if [ "$p" -ge $((0x100000)) ] && [ $((p + 0xfff)) -le "$e" ]; then
			printf '0x%x\n' "$p"
			break
		fi
	done
}

echo "guest: $(uname -sr), $(grep -c ^processor /proc/cpuinfo) cpu"

# ---------------------------------------------------------------------------
# The devices, as the firmware placed them
# ---------------------------------------------------------------------------
EDU_BASE=
IVSHMEM_BASE=
if EDU=$(pci_find 0x1234 0x11e8) && EDU_BAR=$(bar "$EDU" 0); then
	# shellcheck disable=SC2086  # start and size
	set -- $EDU_BAR
	EDU_BASE=$1
	if [ "$(($2))" -eq $((1 << 20)) ]; then
		ok "edu found: ${EDU##*/} BAR0 at $EDU_BASE, 1 MiB"
	else
		fail "edu found: ${EDU##*/} BAR0 at $EDU_BASE is $2 bytes, not 1 MiB"
	fi
else
	fail "edu (1234:11e8) with BAR0 not found in /sys/bus/pci/devices"
fi
if IVSHMEM=$(pci_find 0x1af4 0x1110) && IVSHMEM_BAR=$(bar "$IVSHMEM" 2); then
	# shellcheck disable=SC2086  # start and size
	set -- $IVSHMEM_BAR
	IVSHMEM_BASE=$1
	if [ "$(($2))" -eq $((1 << 20)) ]; then
		ok "ivshmem found: ${IVSHMEM##*/} BAR2 at $IVSHMEM_BASE, 1 MiB"
	else
		fail "ivshmem found: ${IVSHMEM##*/} BAR2 at $IVSHMEM_BASE is $2 bytes, not 1 MiB"
	fi
else
	fail "ivshmem (1af4:1110) with BAR2 not found in /sys/bus/pci/devices"
fi
RAM=$(ram_page)
if [ -n "$RAM" ]; then
	ok "System RAM above 1 MiB found in /proc/iomem: page $RAM"
else
	fail "no System RAM page above 1 MiB in /proc/iomem"
fi

# ---------------------------------------------------------------------------
# The policy and the daemon
# ---------------------------------------------------------------------------
# A region whose BAR was not found is left out rather than given a
# made-up base: its checks then fail with ENODEV, which says why.
{
	echo "[zero]"
	echo "users = *"
	echo
	if [ -n "$EDU_BASE" ]; then
		echo "[region edu]"
		echo "device = mem"
		echo "base = $EDU_BASE"
		echo "size = 1M"
		echo "protection = rw"
		echo "users = root"
		echo "shared = yes"
		echo "cache = uncached"
		echo
	fi
	if [ -n "$IVSHMEM_BASE" ]; then
		echo "[region ivshmem]"
		echo "device = mem"
		echo "base = $IVSHMEM_BASE"
		echo "size = 1M"
		echo "protection = rw"
		echo "users = root"
		echo "shared = yes"
		echo
	fi
	echo "[mem]"
	echo "users = root"
	echo "max_size = 16M"
	echo "protection = rw"
	echo "shared = yes"
} >"$CONF"

run mmapd --check-config "$CONF"
expect_grep "mmapd --check-config accepts the policy" ": ok"

# mmapd opens /dev/mem at start-up because the policy names mem.
mmapd -c "$CONF" -s "$SOCK" >"$LOG" 2>&1 &
MMAPD_PID=$!
i=0
while [ ! -S "$SOCK" ] && [ "$i" -lt 100 ] &&
    kill -0 "$MMAPD_PID" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if [ -S "$SOCK" ]; then
	ok "mmapd listens on $SOCK"
else
	fail "mmapd did not come up: $(tr '\n' ' ' <"$LOG" | cut -c 1-300)"
fi
if grep -q 'mem: /dev/mem opened' "$LOG"; then
	ok "mmapd opened /dev/mem"
else
	fail "mmapd did not open /dev/mem: $(grep -i 'mem' "$LOG" | tr '\n' ' ' | cut -c 1-300)"
fi

run mmapctl status
expect_grep "mmapctl status offers edu, ivshmem and mem" \
    'edu (region).*ivshmem (region).*mem (device)'

# ---------------------------------------------------------------------------
# /dev/zero, private and shared
# ---------------------------------------------------------------------------
run mmapctl map --dev zero --size 1M
expect_grep "mmapctl map --dev zero --size 1M: private anonymous memory, written and read back" \
    'kind anon.*private'
run mmapctl map --dev zero --size 1M --shared
expect_grep "mmapctl map --dev zero --size 1M --shared: a shared memfd, written and read back" \
    'kind shmem.*shared'

# ---------------------------------------------------------------------------
# edu's registers through the edu region (a /dev/mem range)
# ---------------------------------------------------------------------------
run devmem-probe edu read32 0
expect_out "edu identification register 0x00" 0x010000ed
run devmem-probe edu write32 0x4 0x12345678
expect_out "edu liveness register 0x04 after writing 0x12345678 reads the inverse" 0xedcba987
run devmem-probe edu write32 0x4 0xffffffff
expect_out "edu liveness register 0x04 after writing 0xffffffff" 0x00000000

# The same register through [mem], at its physical address.
if [ -n "$EDU_BASE" ]; then
	run devmem-probe mem read32 "$EDU_BASE"
	expect_out "edu register 0x00 through mem at $EDU_BASE" 0x010000ed
else
	fail "edu register 0x00 through mem: no edu BAR0"
fi

run mmapctl map --dev edu --size 4K
expect_grep "mmapctl map --dev edu: granted as device memory, uncached" \
    'kind device.*cache uncached'

# ---------------------------------------------------------------------------
# ivshmem: memory shared with the host through BAR2
# ---------------------------------------------------------------------------
run devmem-probe ivshmem expect32 0 "$WORDS" "$MMAPD_VM_HOST_PATTERN"
expect_grep "ivshmem: the host's pattern $MMAPD_VM_HOST_PATTERN is at 0x0" 'read$'
run devmem-probe ivshmem fill32 0x1000 "$WORDS" "$MMAPD_VM_GUEST_PATTERN"
expect_grep "ivshmem: the guest's pattern $MMAPD_VM_GUEST_PATTERN written at 0x1000" 'read back$'
# A new process and a new lease: the words are in the device, not in a
# cache of the first mapping.
run devmem-probe ivshmem expect32 0x1000 "$WORDS" "$MMAPD_VM_GUEST_PATTERN"
expect_grep "ivshmem: the guest's pattern reads back through a new mapping" 'read$'

# ---------------------------------------------------------------------------
# System RAM through mem: refused
# ---------------------------------------------------------------------------
if [ -n "$RAM" ]; then
	run mmapctl map --dev mem --offset "$RAM" --size 4K --read-only
	if [ "$RC" -eq 1 ] && grep -q '(EPERM, errno 1)' "$OUT"; then
		ok "System RAM at $RAM through mem is refused with EPERM"
	else
		fail "System RAM at $RAM through mem: wanted status 1 and EPERM, got status $RC: $(said)"
	fi
else
	fail "System RAM through mem: no page to ask for"
fi

# ---------------------------------------------------------------------------
# The daemon's end
# ---------------------------------------------------------------------------
kill -TERM "$MMAPD_PID" 2>/dev/null || true
RC=0
wait "$MMAPD_PID" || RC=$?
if [ "$RC" -eq 0 ]; then
	ok "mmapd exits 0 on SIGTERM"
else
	fail "mmapd exited $RC on SIGTERM"
fi
if grep -q -e 'Sanitizer' -e 'runtime error:' "$LOG"; then
	fail "mmapd's log holds a sanitizer report"
else
	ok "mmapd's log holds no sanitizer report"
fi

echo "mmapd's log:"
sed 's/^/  | /' "$LOG"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
