#!/bin/sh
# The guest side of the VM tests: run by /init (tests/vm/init) in a
# busybox guest booted by tests/vm/run.sh, as root, on Debian's stock
# kernel with a real /dev/mem (STRICT_DEVMEM and IO_STRICT_DEVMEM) and
# QEMU's edu and ivshmem PCI devices.
#
# It starts this build's mmapd on a policy written here, with regions at
# the BARs found in sysfs (the firmware assigns the addresses: they move
# when devices are added), and checks what a user of mmapd would see:
# root and alice (uid 1000, run through run-as), with mmapctl, with
# libmmapclient mappings (regs-probe, devmem-probe) and with the daemon's
# own register access (mmapctl read/write).  One line per check,
# "ok - ..." or "FAIL - ...", then "N passed, M failed" alone on the last
# line.  Exit status: 0 when nothing failed.
#
# The ivshmem pattern checks work with the host (see run.sh): before
# boot the host puts MMAPD_VM_HOST_PATTERN in the 4 KiB at 0x0 of the
# file behind BAR2 and MMAPD_VM_HOST_PATTERN_PCI at 0x2000; this reads
# them and writes MMAPD_VM_GUEST_PATTERN at 0x1000 through a region of
# /dev/mem and MMAPD_VM_GUEST_PATTERN_PCI at 0x3000 through the sysfs
# BAR, which the host looks for after the VM is gone.
set -eu

: "${MMAPD_VM_HOST_PATTERN:=0xa5c3f00d}"
: "${MMAPD_VM_GUEST_PATTERN:=0x5a17e5d3}"
: "${MMAPD_VM_HOST_PATTERN_PCI:=0x3c0ffee3}"
: "${MMAPD_VM_GUEST_PATTERN_PCI:=0xc1a55e5b}"
# Words of each pattern: 4 KiB.
WORDS=1024

T=/tmp/guest-test
CONF=$T/mmapd.conf
SOCK=$T/mmapd.sock
LOG=$T/mmapd.log
OUT=$T/out
mkdir -p "$T"
chmod 0755 "$T"
MMAPD_SOCKET=$SOCK
export MMAPD_SOCKET

PASSED=0
FAILED=0

# MMAPD_VM_TRACE=1 (passed on by run.sh): each line ends with the
# guest's uptime, to see where the time goes.
stamp() {
	[ -n "${MMAPD_VM_TRACE:-}" ] || return 0
	printf ' [%s]' "$(cut -d' ' -f1 /proc/uptime)"
}

ok() {
	PASSED=$((PASSED + 1))
	echo "ok - $*$(stamp)"
}

fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL - $*$(stamp)"
}

# run CMD...: runs CMD with a time limit (one hung request must not take
# the whole run with it), output and errors in $OUT, status in $RC.
run() {
	RC=0
	timeout 20 "$@" >"$OUT" 2>&1 || RC=$?
}

# as_alice CMD...: run CMD... as alice (uid 1000), unprivileged.
as_alice() {
	run run-as alice "$@"
}

# What the last run printed, on one line, for a FAIL message.
said() {
	tr '\n' ' ' <"$OUT" | cut -c 1-400
}

# expect_out WHAT STRING: the last run exited 0 and printed exactly STRING.
expect_out() {
	if [ "$RC" -eq 0 ] && [ "$(cat "$OUT")" = "$2" ]; then
		ok "$1: $2"
	else
		fail "$1: wanted '$2', got status $RC: $(said)"
	fi
}

# expect_grep WHAT REGEX...: the last run exited 0 and printed a line
# matching each REGEX.
expect_grep() {
	what=$1
	shift
	if [ "$RC" -ne 0 ]; then
		fail "$what: status $RC: $(said)"
		return
	fi
	for re in "$@"; do
		if ! grep -q -e "$re" "$OUT"; then
			fail "$what: no line matches '$re': $(said)"
			return
		fi
	done
	ok "$what"
}

# expect_lines WHAT LINE...: the last run exited 0 and printed each LINE
# as a whole line.
expect_lines() {
	what=$1
	shift
	if [ "$RC" -ne 0 ]; then
		fail "$what: status $RC: $(said)"
		return
	fi
	for l in "$@"; do
		if ! grep -q -x -F -e "$l" "$OUT"; then
			fail "$what: no line '$l': $(said)"
			return
		fi
	done
	ok "$what"
}

# expect_errno WHAT ENAME [STRING...]: the last run exited 1 and said
# ENAME the way mmapctl and the probes do ("(EPERM, errno 1)"), and each
# STRING.
expect_errno() {
	what=$1
	ename=$2
	shift 2
	if [ "$RC" -ne 1 ] || ! grep -q -F "($ename, errno" "$OUT"; then
		fail "$what: wanted status 1 and $ename, got status $RC: $(said)"
		return
	fi
	for s in "$@"; do
		if ! grep -q -F -e "$s" "$OUT"; then
			fail "$what: $ename, but no '$s' in: $(said)"
			return
		fi
	done
	ok "$what: $ename"
}

# expect_refused WHAT ENAME [STRING...]: reach-probe's Map was refused
# with ENAME, no fd came with the refusal, and it said each STRING.
expect_refused() {
	what=$1
	ename=$2
	shift 2
	if [ "$RC" -ne 1 ] || ! grep -q "^refused: $ename: " "$OUT"; then
		fail "$what: wanted a refusal with $ename, got status $RC: $(said)"
		return
	fi
	for s in "$@"; do
		if ! grep -q -F -e "$s" "$OUT"; then
			fail "$what: $ename, but no '$s' in: $(said)"
			return
		fi
	done
	ok "$what: $ename, no fd"
}

# no_raw_fd WHAT: regs-probe said no /dev/mem reached it.
no_raw_fd() {
	if grep -q -x 'raw /dev/mem: no' "$OUT"; then
		ok "$1: no raw /dev/mem fd reached the client"
	else
		fail "$1: the client got /dev/mem: $(said)"
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

# far_page: a page above 4 GiB, below the CPU's physical address bits
# and in no range /proc/iomem lists: nothing there, so the pre-check
# lets it through, and the firmware's MTRRs leave it write-back, so a
# cached mapping of it reserves the page write-back (x86 PAT).
far_page() {
	bits=$(sed -n 's/^address sizes.*: \([0-9]*\) bits physical.*/\1/p' \
	    /proc/cpuinfo | head -n 1)
	[ -n "$bits" ] && [ "$bits" -gt 36 ] && [ "$bits" -lt 63 ] || return 0
	ranges=$(sed -n 's/^ *\([0-9a-f]*\)-\([0-9a-f]*\) : .*/\1:\2/p' \
	    /proc/iomem)
	for c in 0x1000000000 0x2000000000 0x4000000000 0x8000000000; do
		[ $((c + 0x1000 <= (1 << bits))) -eq 1 ] || continue
		hit=0
		for r in $ranges; do
			if [ $((c <= 0x${r##*:} && c + 0xfff >= 0x${r%%:*})) \
			    -eq 1 ]; then
				hit=1
				break
			fi
		done
		if [ "$hit" -eq 0 ]; then
			printf '0x%x\n' "$((c))"
			return 0
		fi
	done
}

echo "guest: $(uname -sr), $(grep -c ^processor /proc/cpuinfo) cpu"

# ---------------------------------------------------------------------------
# The devices, as the firmware placed them
# ---------------------------------------------------------------------------
EDU=
EDU_BASE=
EDU_PCI=
IVSHMEM=
IVSHMEM_BASE=
IVSHMEM_PCI=
if EDU=$(pci_find 0x1234 0x11e8) && EDU_BAR=$(bar "$EDU" 0); then
	# shellcheck disable=SC2086  # start and size
	set -- $EDU_BAR
	EDU_BASE=$1
	EDU_PCI=${EDU##*/}
	if [ "$(($2))" -eq $((1 << 20)) ]; then
		ok "edu found: $EDU_PCI BAR0 at $EDU_BASE, 1 MiB"
	else
		fail "edu found: $EDU_PCI BAR0 at $EDU_BASE is $2 bytes, not 1 MiB"
	fi
else
	EDU=
	fail "edu (1234:11e8) with BAR0 not found in /sys/bus/pci/devices"
fi
if IVSHMEM=$(pci_find 0x1af4 0x1110) && IVSHMEM_BAR=$(bar "$IVSHMEM" 2); then
	# shellcheck disable=SC2086  # start and size
	set -- $IVSHMEM_BAR
	IVSHMEM_BASE=$1
	IVSHMEM_PCI=${IVSHMEM##*/}
	if [ "$(($2))" -eq $((1 << 20)) ]; then
		ok "ivshmem found: $IVSHMEM_PCI BAR2 at $IVSHMEM_BASE, 1 MiB"
	else
		fail "ivshmem found: $IVSHMEM_PCI BAR2 at $IVSHMEM_BASE is $2 bytes, not 1 MiB"
	fi
else
	IVSHMEM=
	fail "ivshmem (1af4:1110) with BAR2 not found in /sys/bus/pci/devices"
fi
RAM=$(ram_page)
if [ -n "$RAM" ]; then
	ok "System RAM above 1 MiB found in /proc/iomem: page $RAM"
else
	fail "no System RAM page above 1 MiB in /proc/iomem"
fi
FAR=$(far_page)
if [ -n "$FAR" ]; then
	ok "a page in no /proc/iomem range, above 4 GiB and within the CPU's physical address bits: $FAR"
else
	fail "no free page above 4 GiB within the CPU's physical address bits: $(grep -m 1 'address sizes' /proc/cpuinfo)"
fi
# A range the kernel marks busy: the local APIC, with the name
# /proc/iomem gives it (the claimant mmapd must name).
BUSY=
BUSY_NAME=
line=$(grep -i ' : Local APIC$' /proc/iomem | head -n 1) || true
if [ -n "$line" ]; then
	BUSY=0x${line%%-*}
	BUSY=$(printf '0x%x' "$((BUSY))")
	BUSY_NAME=${line#* : }
	ok "a busy range in /proc/iomem: '$BUSY_NAME' at $BUSY"
else
	fail "no Local APIC in /proc/iomem"
fi
# The path behind a mapping of a sysfs BAR, as /proc/self/maps shows it.
EDU_RES=
IVSHMEM_RES=
[ -n "$EDU" ] && EDU_RES=$(readlink -f "$EDU")/resource0
[ -n "$IVSHMEM" ] && IVSHMEM_RES=$(readlink -f "$IVSHMEM")/resource2

# ---------------------------------------------------------------------------
# The policy and the daemon
# ---------------------------------------------------------------------------
# alice may map zero and the pci region edu, and use edu-mem's registers
# through the daemon (Read/Write) but not map it: its raw_fd_users is
# root alone.  edu-id, ivshmem, ivshmem-pci and mem are root's; edu-regs
# too, but with no raw_fd_users even root may not map it.  bob gets zero
# only.
#
# A region whose BAR was not found is left out rather than given a
# made-up address: its checks then fail with ENODEV, which says why.
{
	echo "[zero]"
	echo "users = *"
	echo
	echo "[shm cam0]"
	echo "size = 1M"
	echo "writers = camera"
	echo "reader_groups = video"
	echo
	if [ -n "$EDU" ]; then
		echo "[region edu]"
		echo "device = pci"
		echo "pci = $EDU_PCI"
		echo "bar = 0"
		echo "protection = rw"
		echo "users = root, alice"
		echo "shared = yes"
		echo "cache = uncached"
		echo
		echo "[region edu-id]"
		echo "device = pci"
		echo "pci = 1234:11e8"
		echo "index = 0"
		echo "bar = 0"
		echo "protection = rw"
		echo "users = root"
		echo "shared = yes"
		echo
		# Parts of edu's BAR: a page (refused for Map), the same page
		# with whole_bar (granted as the whole BAR), the BAR from
		# 0x10000 on, and the whole BAR with map = no.
		echo "[region edu-page]"
		echo "device = pci"
		echo "pci = $EDU_PCI"
		echo "bar = 0"
		echo "base = 0x1000"
		echo "size = 4K"
		echo "protection = rw"
		echo "users = root, alice"
		echo "shared = yes"
		echo
		echo "[region edu-page-wide]"
		echo "device = pci"
		echo "pci = $EDU_PCI"
		echo "bar = 0"
		echo "base = 0x1000"
		echo "size = 4K"
		echo "whole_bar = yes"
		echo "users = root, alice"
		echo "shared = yes"
		echo
		echo "[region edu-tail]"
		echo "device = pci"
		echo "pci = $EDU_PCI"
		echo "bar = 0"
		echo "base = 0x10000"
		echo "users = root, alice"
		echo "shared = yes"
		echo
		echo "[region edu-regs-pci]"
		echo "device = pci"
		echo "pci = $EDU_PCI"
		echo "bar = 0"
		echo "map = no"
		echo "users = root, alice"
		echo "shared = yes"
		echo
		echo "[region edu-mem]"
		echo "device = mem"
		echo "base = $EDU_BASE"
		echo "size = 1M"
		echo "protection = rw"
		echo "users = root, alice"
		echo "raw_fd_users = root"
		echo "shared = yes"
		echo "cache = uncached"
		echo
		echo "[region edu-regs]"
		echo "device = mem"
		echo "base = $EDU_BASE"
		echo "size = 4K"
		echo "protection = rw"
		echo "users = root"
		echo "shared = yes"
		echo
	fi
	if [ -n "$IVSHMEM" ]; then
		echo "[region ivshmem]"
		echo "device = mem"
		echo "base = $IVSHMEM_BASE"
		echo "size = 1M"
		echo "protection = rw"
		echo "users = root"
		echo "raw_fd_users = root"
		echo "shared = yes"
		echo
		echo "[region ivshmem-pci]"
		echo "device = pci"
		echo "pci = $IVSHMEM_PCI"
		echo "bar = 2"
		echo "protection = rw"
		echo "users = root"
		echo "shared = yes"
		echo
		# BAR0: ivshmem's registers, 256 bytes, less than the page
		# its fd maps: Read and Write stop at the BAR's last byte.
		echo "[region ivshmem-regs]"
		echo "device = pci"
		echo "pci = $IVSHMEM_PCI"
		echo "bar = 0"
		echo "map = no"
		echo "users = root"
		echo "shared = yes"
		echo
	fi
	# The free page far up, cached: a Map of it holds a write-back
	# reservation that [mem]'s uncached Maps then conflict with.
	if [ -n "$FAR" ]; then
		echo "[region far-cached]"
		echo "device = mem"
		echo "base = $FAR"
		echo "size = 4K"
		echo "protection = rw"
		echo "users = root"
		echo "raw_fd_users = root"
		echo "shared = yes"
		echo "cache = cached"
		echo
	fi
	echo "[mem]"
	echo "users = root"
	echo "raw_fd_users = root"
	echo "max_size = 16M"
	echo "protection = rw"
	echo "shared = yes"
} >"$CONF"

run mmapd --check-config "$CONF"
expect_grep "mmapd --check-config accepts the policy" ": ok"
if [ -n "$EDU" ]; then
	expect_grep "mmapd --check-config warns about regions whose Map reaches beyond them" \
	    'warning: \[region edu-page\]: base 0x1000 size 0x1000 is part of BAR 0: its Maps are refused' \
	    'warning: \[region edu-page-wide\]: whole_bar = yes: a Map hands out all of BAR 0, not only base 0x1000 size 0x1000' \
	    'warning: \[region edu-tail\]: base 0x10000 to the end of the BAR is part of BAR 0' \
	    'warning: \[region edu-mem\]: a Map hands raw_fd_users and raw_fd_groups /dev/mem itself'
	if grep -q -e '\[region edu\]' -e 'edu-regs-pci' -e 'edu-regs\]' "$OUT"; then
		fail "mmapd --check-config warns about a region whose Map reaches no further: $(said)"
	else
		ok "mmapd --check-config: no warning for the whole BAR, map = no, or a mem region without raw_fd_users"
	fi
fi

# mmapd opens /dev/mem and the BARs at start-up because the policy names
# them.
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
	fail "mmapd did not come up: $(tr '\n' ' ' <"$LOG" | cut -c 1-400)"
fi
if grep -q 'mem: /dev/mem opened' "$LOG"; then
	ok "mmapd opened /dev/mem"
else
	fail "mmapd did not open /dev/mem: $(grep -i 'mem' "$LOG" | tr '\n' ' ' | cut -c 1-400)"
fi
if grep -q 'STRICT_DEVMEM): raw fds may go out' "$LOG"; then
	ok "mmapd found the kernel refuses System RAM through /dev/mem (STRICT_DEVMEM)"
else
	fail "mmapd did not confirm STRICT_DEVMEM: $(grep -i 'strict' "$LOG" | tr '\n' ' ' | cut -c 1-400)"
fi

# Two processes: the monitor (mmapd's pid) keeps root with CAP_SYS_RAWIO
# and CAP_KILL alone under its own filter; the worker, its child, which
# serves, dropped to mmapd's own user (mmapd, uid 999, the default) with
# nothing left: everything below runs through the descriptors opened as
# root, under seccomp.
WORKER_PID=$(cut -d' ' -f1 "/proc/$MMAPD_PID/task/$MMAPD_PID/children" 2>/dev/null)
STATUS_OF=/proc/${WORKER_PID:-0}/status
sandboxed=1
for want in 'Uid:	999	999	999	999' 'Gid:	999	999	999	999' \
    'CapPrm:	0000000000000000' 'CapEff:	0000000000000000' \
    'CapBnd:	0000000000000000' 'NoNewPrivs:	1' 'Seccomp:	2'; do
	grep -q -x "$want" "$STATUS_OF" || sandboxed=0
done
if [ "$sandboxed" -eq 1 ]; then
	ok "mmapd's worker runs as user mmapd with no capabilities, no_new_privs and its seccomp filter"
else
	fail "mmapd's worker is not sandboxed: $(grep -E '^(Uid|Gid|Cap|NoNewPrivs|Seccomp)' "$STATUS_OF" 2>&1 | tr '\n' ' ')"
fi
sandboxed=1
for want in 'Uid:	0	0	0	0' 'CapPrm:	0000000000020020' \
    'CapEff:	0000000000020020' 'CapBnd:	0000000000020020' \
    'NoNewPrivs:	1' 'Seccomp:	2'; do
	grep -q -x "$want" "/proc/$MMAPD_PID/status" || sandboxed=0
done
if [ "$sandboxed" -eq 1 ]; then
	ok "mmapd's monitor keeps CAP_SYS_RAWIO and CAP_KILL only, no_new_privs and its own filter"
else
	fail "mmapd's monitor: $(grep -E '^(Uid|Cap|NoNewPrivs|Seccomp)' "/proc/$MMAPD_PID/status" | tr '\n' ' ')"
fi

run mmapctl status
expect_grep "mmapctl status offers zero, the six regions and mem" \
    ' zero (device)' ' edu (region)' ' edu-id (region)' ' edu-mem (region)' \
    ' edu-regs (region)' \
    ' ivshmem (region)' ' ivshmem-pci (region)' ' mem (device)'

# ---------------------------------------------------------------------------
# /dev/zero, private and shared, and a named region between two processes
# ---------------------------------------------------------------------------
run mmapctl map --dev zero --size 1M
expect_grep "mmapctl map --dev zero --size 1M: private anonymous memory, written and read back" \
    'kind anon.*private'
run mmapctl map --dev zero --size 1M --shared
expect_grep "mmapctl map --dev zero --size 1M --shared: a shared memfd, written and read back" \
    'kind shmem.*shared'
run regs-probe --size 0x10000 zero 0:64 0x8000=0x0123456789abcdef:64 0x8000:64 0xfff8:64
expect_lines "regs-probe zero --size 0x10000: shared zero memory through the library's accessors" \
    '0x0: 0x0000000000000000' '0x8000: 0x0123456789abcdef' '0xfff8: 0x0000000000000000'

# A named region no [shm] section declares: the first process fills it
# and holds it, a second one of the same user attaches and sees the
# bytes; another user (alice) has no such region, and her own of the
# same name is other memory.
HOLD_OUT=$T/holder.out
timeout 30 mmapctl map --dev zero --size 64K --shared --name vmshare \
    --fill 0xab --hold >"$HOLD_OUT" 2>&1 &
HOLD_PID=$!
i=0
while ! grep -q 'holding lease' "$HOLD_OUT" && [ "$i" -lt 100 ] &&
    kill -0 "$HOLD_PID" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if grep -q 'holding lease' "$HOLD_OUT"; then
	ok "named region vmshare: the first process filled it with 0xab and holds it"
else
	fail "named region vmshare: the holder did not get there: $(tr '\n' ' ' <"$HOLD_OUT" | cut -c 1-400)"
fi
run mmapctl map --dev zero --size 64K --shared --name vmshare --expect 0xab
expect_grep "named region vmshare: a second process sees the first one's bytes" \
    'all 65536 bytes are 0xab'
as_alice mmapctl map --dev zero --size 64K --shared --name vmshare --attach
expect_errno "named region vmshare: root's, so alice has none to attach to" ENOENT "for this uid"
as_alice mmapctl map --dev zero --size 64K --shared --name vmshare
expect_grep "named region vmshare: alice's own of that name is other memory" 'all zero'
kill -INT "$HOLD_PID" 2>/dev/null || true
RC=0
wait "$HOLD_PID" || RC=$?
if [ "$RC" -eq 0 ] && grep -q 'released lease' "$HOLD_OUT"; then
	ok "named region vmshare: the holder releases it on SIGINT"
else
	fail "named region vmshare: the holder exited $RC: $(tr '\n' ' ' <"$HOLD_OUT" | cut -c 1-400)"
fi
run mmapctl map --dev zero --size 128K --shared --name vmshare
expect_grep "named region vmshare: gone with its last lease, made anew all zero" 'all zero'

# The camera scenario: cam0, 1 MiB, written by camera, read by the group
# video (alice), made by the writer alone; bob and root are refused.
as_alice mmapctl map --dev zero --size 1M --shared --name cam0 --read-only
expect_errno "cam0: alice before the camera waits, makes no memory" ENOENT "may not create"
run run-as camera mmapctl map --dev zero --size 4K --shared --name cam0 --create
expect_errno "cam0: its size is fixed" EINVAL "cam0 is 1 MiB" "asks 4 KiB"
CAM_OUT=$T/camera.out
timeout 30 run-as camera mmapctl map --dev zero --size 1M --shared \
    --name cam0 --create --fill 0xc3 --hold >"$CAM_OUT" 2>&1 &
CAM_PID=$!
i=0
while ! grep -q 'holding lease' "$CAM_OUT" && [ "$i" -lt 100 ] &&
    kill -0 "$CAM_PID" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if grep -q 'holding lease' "$CAM_OUT"; then
	ok "cam0: camera made it, filled it with 0xc3 and holds it"
else
	fail "cam0: camera did not get there: $(tr '\n' ' ' <"$CAM_OUT" | cut -c 1-400)"
fi
as_alice mmapctl map --dev zero --size 1M --shared --name cam0 --attach \
    --read-only --expect 0xc3
expect_grep "cam0: alice (video) reads the camera's bytes, read-only" \
    'prot r,' 'all 1048576 bytes are 0xc3'
as_alice mmapctl map --dev zero --size 1M --shared --name cam0 --attach
expect_errno "cam0: alice may not write it" EACCES "reader only"
run run-as bob mmapctl map --dev zero --size 1M --shared --name cam0 --read-only
expect_errno "cam0: bob (no writer, no reader) is refused" EPERM "[shm] section"
run mmapctl map --dev zero --size 1M --shared --name cam0 --read-only
expect_errno "cam0: root, named nowhere, is refused" EPERM
run run-as camera mmapctl map --dev zero --size 1M --shared --name cam0 --create
expect_errno "cam0: a second create" EEXIST "exists (1 MiB"
run mmapctl list
expect_grep "cam0: mmapctl list names the region of camera's lease" ' 1002 .* cam0$'
kill -INT "$CAM_PID" 2>/dev/null || true
RC=0
wait "$CAM_PID" || RC=$?
if [ "$RC" -eq 0 ] && grep -q 'released lease' "$CAM_OUT"; then
	ok "cam0: camera releases it on SIGINT"
else
	fail "cam0: camera exited $RC: $(tr '\n' ' ' <"$CAM_OUT" | cut -c 1-400)"
fi
as_alice mmapctl map --dev zero --size 1M --shared --name cam0 --attach --read-only
expect_errno "cam0: gone with its last lease (persist = no)" ENOENT

# ---------------------------------------------------------------------------
# edu's registers as root: the pci regions (by address and by id), the
# mem region, and mem itself
# ---------------------------------------------------------------------------
for R in edu edu-id edu-mem; do
	run mmapctl read "$R" 0
	expect_out "mmapctl read $R 0: edu's identification register" 0x010000ed
	run mmapctl write "$R" 4 0x12345678
	expect_out "mmapctl write $R 4 0x12345678" ""
	run mmapctl read "$R" 4
	expect_out "mmapctl read $R 4: the inverse of 0x12345678" 0xedcba987
	run mmapctl read "$R" 0 64
	# A 64-bit read of edu's 32-bit register: whatever edu answers, the
	# daemon did a 64-bit access and printed 16 digits.
	if [ "$RC" -eq 0 ] && grep -q -x '0x[0-9a-f]\{16\}' "$OUT"; then
		ok "mmapctl read $R 0 64: a 64-bit access, printed as 16 hex digits: $(cat "$OUT")"
	else
		fail "mmapctl read $R 0 64: status $RC: $(said)"
	fi
done

# The same through libmmapclient mappings and its accessors.
run regs-probe edu 0 4=0x0f0f0f0f 4
expect_lines "regs-probe edu (pci by address): id, and the inverse of 0x0f0f0f0f" \
    '0x0: 0x010000ed' '0x4: 0xf0f0f0f0'
expect_grep "regs-probe edu: device memory, uncached, shared, from the sysfs BAR ${EDU_RES:-?}" \
    "^map edu: kind device, cache uncached, shared, rw, 4096 bytes, from ${EDU_RES:-?}\$"
no_raw_fd "regs-probe edu as root"
run regs-probe edu-id 0 4=0x76543210 4
expect_lines "regs-probe edu-id (pci by 1234:11e8 index 0): id, and the inverse of 0x76543210" \
    '0x0: 0x010000ed' '0x4: 0x89abcdef'
expect_grep "regs-probe edu-id: mapped from the same sysfs BAR" \
    "^map edu-id: kind device, cache uncached, shared, rw, 4096 bytes, from ${EDU_RES:-?}\$"
run regs-probe edu-mem 0 4=0xa5a5a5a5 4
expect_lines "regs-probe edu-mem (mem, raw fd granted to root): id, and the inverse of 0xa5a5a5a5" \
    '0x0: 0x010000ed' '0x4: 0x5a5a5a5a'
expect_grep "regs-probe edu-mem: root was handed /dev/mem itself, as raw_fd_users says" \
    '^map edu-mem: kind device, cache uncached, shared, rw, 4096 bytes, from /dev/mem$' \
    '^raw /dev/mem: YES'

# A mem region without raw_fd_users: registers through the daemon, and
# no map, not even for root.
run mmapctl read edu-regs 0
expect_out "mmapctl read edu-regs 0 (mem, no raw_fd_users)" 0x010000ed
run regs-probe edu-regs 0
expect_errno "regs-probe edu-regs: no raw_fd_users, so no map of /dev/mem for root either" \
    EPERM raw_fd_users "region edu-regs is base ${EDU_BASE:-?} size 0x1000 of /dev/mem" \
    "all non-RAM physical memory" "Read and Write serve the region"
no_raw_fd "regs-probe edu-regs refused"

# mmapctl map with accessors, in command-line order.
run mmapctl map --dev edu --size 4096 --read 0 --write 4=0x12345678 --read 4
expect_lines "mmapctl map --dev edu --read 0 --write 4=0x12345678 --read 4" \
    '0x0: 0x010000ed' '0x4: 0xedcba987'
run mmapctl map --dev edu-mem --size 4096 --read 0 --write 4=0x0:32 --read 4:32
expect_lines "mmapctl map --dev edu-mem --read 0 --write 4=0x0:32 --read 4:32" \
    '0x0: 0x010000ed' '0x4: 0xffffffff'

# The existing 32-bit probe, through the mem region and mem itself.
run devmem-probe edu-mem read32 0
expect_out "devmem-probe edu-mem: identification register 0x00" 0x010000ed
run devmem-probe edu-mem write32 0x4 0xffffffff
expect_out "devmem-probe edu-mem: 0x04 after writing 0xffffffff" 0x00000000
if [ -n "$EDU_BASE" ]; then
	run devmem-probe mem read32 "$EDU_BASE"
	expect_out "devmem-probe mem at $EDU_BASE: edu's identification register" 0x010000ed
	run mmapctl read mem "$EDU_BASE"
	expect_out "mmapctl read mem $EDU_BASE: edu's identification register" 0x010000ed
else
	fail "edu through mem: no edu BAR0"
fi

# The rules of the registers and of device maps.
run mmapctl read edu 0x3
expect_errno "mmapctl read edu 0x3: unaligned" EINVAL
run mmapctl read edu 0 12
if [ "$RC" -eq 2 ] && grep -q -F "'12' is not a width" "$OUT"; then
	ok "mmapctl read edu 0 12: no such width, a usage error (status 2)"
else
	fail "mmapctl read edu 0 12: wanted a usage error, got status $RC: $(said)"
fi

# ---------------------------------------------------------------------------
# mmapctl as a register tool on edu (issue 14): modify, dump, watch,
# devmem's widths, and the factorial register
# ---------------------------------------------------------------------------
run mmapctl write edu 4 0x12345678
run mmapctl modify edu 4 --clear 0xff --set 0x1
# edu's liveness register reads back the inverse of what was written:
# the daemon read 0xedcba987 and wrote 0xedcba901.
expect_out "mmapctl modify edu 4 --clear 0xff --set 0x1: one read, one write" \
    "0xedcba987 -> 0xedcba901"
run mmapctl read edu 4
expect_out "mmapctl read edu 4 after the modify: the inverse of 0xedcba901" 0x123456fe
run mmapctl rmw edu 4 w --mask 0xffff0000 --value 0x12340000
expect_out "mmapctl rmw edu 4 w --mask --value" "0x123456fe -> 0x123456fe"
run mmapctl read edu 4
expect_out "mmapctl read edu 4: the inverse again" 0xedcba901
run mmapctl read edu 0 w
expect_out "mmapctl read edu 0 w: busybox's width letters" 0x010000ed
# (edu answers 32-bit accesses to its registers only: no h or b here.)
run mmapctl dump edu 0 w*2
expect_out "mmapctl dump edu 0 w*2: identification and liveness, with the address" \
    "0x00000000: 010000ed edcba901"
run mmapctl --json dump edu 0 8
expect_grep "mmapctl --json dump edu 0 8: values as hex strings" \
    '"registers":\[{"offset":"0x0","value":"0x010000ed"},{"offset":"0x4","value":"0xedcba901"}\],"ok":true'
run mmapctl watch edu 0 --interval 0.1 --count 2
if [ "$RC" -eq 0 ] && [ "$(grep -c ': 0x010000ed$' "$OUT")" -eq 2 ]; then
	ok "mmapctl watch edu 0 --count 2: two values, then exit 0"
else
	fail "mmapctl watch edu 0 --count 2: status $RC: $(said)"
fi
# The factorial register: write n, edu computes n! there.
run mmapctl write edu 8 5
i=0
while [ $i -lt 50 ]; do
	run mmapctl read edu 8
	[ "$(cat "$OUT")" = 0x00000078 ] && break
	i=$((i + 1))
	sleep 0.1
done
expect_out "mmapctl write edu 8 5, read edu 8: edu computed 5! = 120" 0x00000078
run mmapctl watch edu 8 --changes --count 1 --interval 0.05
expect_grep "mmapctl watch edu 8 --changes --count 1: the first value alone" ': 0x00000078$'
if [ -n "$EDU_BASE" ]; then
	run mmapctl "$EDU_BASE" 32
	if [ "$RC" -eq 2 ] && grep -q -F "mmapctl read mem $EDU_BASE 32" "$OUT"; then
		ok "mmapctl $EDU_BASE 32 (devmem's way): a usage error naming mmapctl read mem"
	else
		fail "mmapctl $EDU_BASE 32: status $RC: $(said)"
	fi
fi
run mmapctl read edu 0x100000
expect_errno "mmapctl read edu 0x100000: past the 1 MiB BAR" EINVAL
run mmapctl write edu 4 0x100 8
expect_errno "mmapctl write edu 4 0x100 8: a value wider than 8 bits" EINVAL
run mmapctl read zero 0
expect_errno "mmapctl read zero 0: zero has no registers" EINVAL
# A writable map of device memory is shared, --shared or not (issue 14);
# the daemon still refuses a private one, which would be copy-on-write.
run mmapctl map --dev edu-mem --size 4K
expect_grep "mmapctl map --dev edu-mem (writable): mapped shared, not copy-on-write" \
    'kind device, prot rw, shared,'
run mmapctl map --dev edu --size 4K
expect_grep "mmapctl map --dev edu (writable): mapped shared, not copy-on-write" \
    'kind device, prot rw, shared,'
run regs-probe --private edu-mem 4=0x1
expect_errno "regs-probe --private edu-mem 4=0x1: a private writable map of device memory" EINVAL
run regs-probe --private edu 4=0x1
expect_errno "regs-probe --private edu 4=0x1: a private writable map of a BAR" EINVAL
run regs-probe edu 0x2
expect_errno "regs-probe edu 0x2: the library refuses an unaligned access" EINVAL
run regs-probe edu 0:24
expect_errno "regs-probe edu 0:24: the library refuses a width of 24" EINVAL
run regs-probe edu 0x1000
expect_errno "regs-probe edu 0x1000: outside the 4 KiB mapping" ERANGE
run regs-probe --read-only edu 4=1
expect_errno "regs-probe --read-only edu 4=1: a write to a read-only mapping" EACCES

# ---------------------------------------------------------------------------
# ivshmem: memory shared with the host through BAR2, by mem and by pci
# ---------------------------------------------------------------------------
run devmem-probe ivshmem expect32 0 "$WORDS" "$MMAPD_VM_HOST_PATTERN"
expect_grep "ivshmem (mem): the host's pattern $MMAPD_VM_HOST_PATTERN is at 0x0" 'read$'
run devmem-probe ivshmem fill32 0x1000 "$WORDS" "$MMAPD_VM_GUEST_PATTERN"
expect_grep "ivshmem (mem): the guest's pattern $MMAPD_VM_GUEST_PATTERN written at 0x1000" 'read back$'
# A new process and a new lease: the words are in the device, not in a
# cache of the first mapping.
run devmem-probe ivshmem expect32 0x1000 "$WORDS" "$MMAPD_VM_GUEST_PATTERN"
expect_grep "ivshmem (mem): the guest's pattern reads back through a new mapping" 'read$'

run devmem-probe ivshmem-pci expect32 0x2000 "$WORDS" "$MMAPD_VM_HOST_PATTERN_PCI"
expect_grep "ivshmem-pci: the host's pattern $MMAPD_VM_HOST_PATTERN_PCI is at 0x2000" 'read$'
run devmem-probe ivshmem-pci fill32 0x3000 "$WORDS" "$MMAPD_VM_GUEST_PATTERN_PCI"
expect_grep "ivshmem-pci: the guest's pattern $MMAPD_VM_GUEST_PATTERN_PCI written at 0x3000" 'read back$'
run devmem-probe ivshmem expect32 0x3000 "$WORDS" "$MMAPD_VM_GUEST_PATTERN_PCI"
expect_grep "ivshmem: what was written through pci reads back through mem" 'read$'
run mmapctl read ivshmem-pci 0x2ffc
expect_out "mmapctl read ivshmem-pci 0x2ffc: the daemon reads the host's pattern" \
    "$(printf '0x%08x' "$((MMAPD_VM_HOST_PATTERN_PCI))")"
run regs-probe --offset 0x2000 ivshmem-pci 0 0xffc
expect_lines "regs-probe --offset 0x2000 ivshmem-pci: the host's pattern through the library" \
    "$(printf '0x0: 0x%08x' "$((MMAPD_VM_HOST_PATTERN_PCI))")" \
    "$(printf '0xffc: 0x%08x' "$((MMAPD_VM_HOST_PATTERN_PCI))")"
expect_grep "regs-probe ivshmem-pci: mapped from the sysfs BAR ${IVSHMEM_RES:-?}" \
    "^map ivshmem-pci: kind device, cache uncached, shared, r, 4096 bytes, from ${IVSHMEM_RES:-?}\$"

# A BAR smaller than a page (ivshmem's registers, 256 bytes): its page
# maps, but Read and Write end at the BAR's last byte, not the page's.
if [ -n "$IVSHMEM" ] &&
    [ "$(($(sed -n 1p "$IVSHMEM/resource" | cut -d' ' -f2) -
    $(sed -n 1p "$IVSHMEM/resource" | cut -d' ' -f1) + 1))" -eq 256 ]; then
	ok "ivshmem's BAR0 is 256 bytes"
else
	fail "ivshmem's BAR0 is not 256 bytes: $(sed -n 1p "${IVSHMEM:-/nonexistent}/resource" 2>&1)"
fi
run mmapctl read ivshmem-regs 0xfc
if [ "$RC" -eq 0 ]; then
	ok "mmapctl read ivshmem-regs 0xfc: the BAR's last register reads"
else
	fail "mmapctl read ivshmem-regs 0xfc: status $RC: $(said)"
fi
run mmapctl read ivshmem-regs 0x100
expect_errno "mmapctl read ivshmem-regs 0x100: past the 256-byte BAR, in its page" EINVAL \
    "outside ivshmem-regs (0x100 bytes from base 0)"
run mmapctl read ivshmem-regs 0xff8 64
expect_errno "mmapctl read ivshmem-regs 0xff8 64: the page's last word, past the BAR" EINVAL
run mmapctl read ivshmem-regs 0x1000
expect_errno "mmapctl read ivshmem-regs 0x1000: past the page" EINVAL

# Write-combining: the prefetchable BAR2 through its resource2_wc; edu's
# BAR0 is not prefetchable, and no BAR is mapped cached.
run regs-probe --cache wc --offset 0x2000 ivshmem-pci 0
expect_lines "regs-probe --cache wc ivshmem-pci: the host's pattern, write-combined" \
    "$(printf '0x0: 0x%08x' "$((MMAPD_VM_HOST_PATTERN_PCI))")"
expect_grep "regs-probe --cache wc ivshmem-pci: mapped from ${IVSHMEM_RES:-?}_wc" \
    "^map ivshmem-pci: kind device, cache wc, shared, r, 4096 bytes, from ${IVSHMEM_RES:-?}_wc\$"
run regs-probe --cache wc edu-id 0
expect_errno "regs-probe --cache wc edu-id: BAR0 is not prefetchable" EINVAL prefetchable
run regs-probe --cache cached edu-id 0
expect_errno "regs-probe --cache cached edu-id: device registers are never cached" EINVAL

# Every width, in memory that keeps what it is given (edu's registers
# answer 32-bit accesses only), at 0x8000, past the host's pages.
run mmapctl write ivshmem-pci 0x8000 0x1122334455667788 64
expect_out "mmapctl write ivshmem-pci 0x8000 0x1122334455667788 64" ""
run mmapctl read ivshmem-pci 0x8000 8
expect_out "mmapctl read ivshmem-pci 0x8000 8" 0x88
run mmapctl read ivshmem-pci 0x8002 16
expect_out "mmapctl read ivshmem-pci 0x8002 16" 0x5566
run mmapctl read ivshmem-pci 0x8004 32
expect_out "mmapctl read ivshmem-pci 0x8004 32" 0x11223344
run mmapctl read ivshmem-pci 0x8000 64
expect_out "mmapctl read ivshmem-pci 0x8000 64" 0x1122334455667788
run regs-probe --offset 0x8000 ivshmem-pci 1=0xa1:8 2=0xb2c3:16 4=0xd4e5f607:32 0:8 0:64 8=0xfedcba9876543210:64 8:64 0xc:32
expect_lines "regs-probe ivshmem-pci: 8-, 16-, 32- and 64-bit accessors" \
    '0x0: 0x88' '0x0: 0xd4e5f607b2c3a188' '0x8: 0xfedcba9876543210' '0xc: 0xfedcba98'

# ---------------------------------------------------------------------------
# What mem refuses: System RAM (the pre-check, EPERM) and a busy range
# (EBUSY, naming the claimant)
# ---------------------------------------------------------------------------
if [ -n "$RAM" ]; then
	run mmapctl map --dev mem --offset "$RAM" --size 4K --read-only
	expect_errno "mmapctl map --dev mem --offset $RAM: System RAM" EPERM "System RAM"
	run mmapctl read mem "$RAM"
	expect_errno "mmapctl read mem $RAM: System RAM" EPERM "System RAM"
	run regs-probe --offset "$RAM" mem
	expect_errno "regs-probe mem at $RAM: System RAM" EPERM "System RAM"
else
	fail "System RAM through mem: no page to ask for"
fi
if [ -n "$BUSY" ]; then
	run mmapctl map --dev mem --offset "$BUSY" --size 4K --read-only
	expect_errno "mmapctl map --dev mem --offset $BUSY: busy" EBUSY "$BUSY_NAME"
	run mmapctl read mem "$BUSY"
	expect_errno "mmapctl read mem $BUSY: busy" EBUSY "$BUSY_NAME"
else
	fail "a busy range through mem: none to ask for"
fi

# ---------------------------------------------------------------------------
# What the kernel refuses though every check of mmapd let it through: a
# cache-type conflict.  While a cached (write-back) mapping of the far
# page is held, x86 PAT refuses an uncached one of it: the memtype
# reservation fails (EINVAL, and the kernel logs the two types), and
# this kernel's mmap_mem() itself turns any remap failure into EAGAIN,
# as mem's error_filter does.  So the daemon's probe gets EAGAIN, the
# client gets EAGAIN with the daemon's reason, and the audit line shows
# no raw_errno (it does when the kernel's error differs: test_mem).
# ---------------------------------------------------------------------------
if [ -n "$FAR" ]; then
	FAR_OUT=$T/far.out
	: >"$FAR_OUT"
	mmapctl map --dev far-cached --size 4K --shared --hold \
	    >"$FAR_OUT" 2>&1 &
	FAR_PID=$!
	i=0
	while ! grep -q 'holding lease' "$FAR_OUT" && [ "$i" -lt 100 ] &&
	    kill -0 "$FAR_PID" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	if grep -q 'holding lease' "$FAR_OUT" &&
	    grep -q 'kind device.*cache cached' "$FAR_OUT"; then
		ok "far-cached: a cached mapping of $FAR is held"
	else
		fail "far-cached: no cached mapping of $FAR held: $(tr '\n' ' ' <"$FAR_OUT" | cut -c 1-400)"
	fi
	run mmapctl map --dev mem --offset "$FAR" --size 4K --shared
	expect_errno "mmapctl map --dev mem --offset $FAR uncached, against the held cached mapping: the kernel's refusal, filtered" \
	    EAGAIN "the kernel refused to map the device range"
	if grep "event=deny .*device=mem .*offset=$((FAR)) " "$LOG" |
	    grep -q 'errno=EAGAIN msg="the kernel refused to map the device range"'; then
		ok "mmapd's log: the kernel's refusal of $FAR, EAGAIN as the kernel said it"
	else
		fail "mmapd's log has no kernel refusal of $FAR with errno=EAGAIN: $(grep "offset=$((FAR)) " "$LOG" | tr '\n' ' ' | cut -c 1-400)"
	fi
	if dmesg | grep -q 'x86/PAT: .*expected mapping type uncached-minus .*got write-back'; then
		ok "the kernel says why: PAT wanted uncached-minus, the page is write-back"
	else
		fail "no x86/PAT conflict in the kernel's log: $(dmesg | grep 'x86/PAT' | tail -n 2 | tr '\n' ' ')"
	fi
	run mmapctl read mem "$FAR"
	expect_errno "mmapctl read mem $FAR uncached, against the held cached mapping" \
	    EAGAIN "the kernel refused to map the device range"
	kill -INT "$FAR_PID" 2>/dev/null || true
	wait "$FAR_PID" 2>/dev/null || true
	run mmapctl map --dev mem --offset "$FAR" --size 4K --shared
	expect_grep "mmapctl map --dev mem --offset $FAR once the cached mapping is gone" \
	    'kind device.*cache uncached'
else
	fail "a kernel refusal through mem: no far page to ask for"
fi

# ---------------------------------------------------------------------------
# alice, unprivileged
# ---------------------------------------------------------------------------
as_alice id -u
expect_out "run-as alice: uid" 1000
as_alice dd if=/dev/mem of=/dev/null bs=4 count=1
if [ "$RC" -ne 0 ]; then
	ok "alice cannot open /dev/mem herself"
else
	fail "alice opened /dev/mem herself: the unprivileged checks prove nothing"
fi

as_alice mmapctl map --dev zero --size 1M
expect_grep "alice: mmapctl map --dev zero: private anonymous memory" 'kind anon.*private'
as_alice mmapctl map --dev zero --size 1M --shared
expect_grep "alice: mmapctl map --dev zero --shared: a shared memfd" 'kind shmem.*shared'

# The pci region her policy names: registers, a mapping, the accessors.
as_alice mmapctl read edu 0
expect_out "alice: mmapctl read edu 0" 0x010000ed
as_alice mmapctl write edu 4 0x0badf00d
expect_out "alice: mmapctl write edu 4 0x0badf00d" ""
as_alice mmapctl read edu 4
expect_out "alice: mmapctl read edu 4: the inverse of 0x0badf00d" 0xf4520ff2
as_alice regs-probe edu 0 4=0x13572468 4
expect_lines "alice: regs-probe edu: id, and the inverse of 0x13572468" \
    '0x0: 0x010000ed' '0x4: 0xeca8db97'
expect_grep "alice: regs-probe edu: mapped from the sysfs BAR ${EDU_RES:-?}, not /dev/mem" \
    "^map edu: kind device, cache uncached, shared, rw, 4096 bytes, from ${EDU_RES:-?}\$"
no_raw_fd "alice: regs-probe edu"
as_alice mmapctl map --dev edu --size 4096 --read 0 --write 4=0x12345678 --read 4
expect_lines "alice: mmapctl map --dev edu --read 0 --write 4=0x12345678 --read 4" \
    '0x0: 0x010000ed' '0x4: 0xedcba987'

# edu-mem: hers to Read and Write, not to map (the map would hand out
# /dev/mem, and its raw_fd_users is root alone).
as_alice mmapctl read edu-mem 0
expect_out "alice: mmapctl read edu-mem 0 (the daemon reads for her)" 0x010000ed
as_alice mmapctl write edu-mem 4 0x55aa55aa
expect_out "alice: mmapctl write edu-mem 4 0x55aa55aa (the daemon writes for her)" ""
as_alice mmapctl read edu-mem 4
expect_out "alice: mmapctl read edu-mem 4: the inverse of 0x55aa55aa" 0xaa55aa55
as_alice regs-probe edu-mem 0
expect_errno "alice: regs-probe edu-mem: a map that would hand out /dev/mem" EPERM raw_fd_users
no_raw_fd "alice: regs-probe edu-mem refused"
as_alice mmapctl map --dev edu-mem --size 4K --read-only
expect_errno "alice: mmapctl map --dev edu-mem --read-only" EPERM

# mem and what is not hers.
if [ -n "$EDU_BASE" ]; then
	as_alice mmapctl map --dev mem --offset "$EDU_BASE" --size 4K --read-only
	expect_errno "alice: mmapctl map --dev mem" EPERM
	as_alice mmapctl read mem "$EDU_BASE"
	expect_errno "alice: mmapctl read mem $EDU_BASE" EPERM
	as_alice regs-probe --offset "$EDU_BASE" mem 0
	expect_errno "alice: regs-probe mem" EPERM
	no_raw_fd "alice: regs-probe mem refused"
fi
for R in edu-id ivshmem ivshmem-pci; do
	as_alice regs-probe "$R" 0
	expect_errno "alice: regs-probe $R (not hers)" EPERM
	as_alice mmapctl read "$R" 0
	expect_errno "alice: mmapctl read $R 0 (not hers)" EPERM
done
run run-as bob mmapctl read edu 0
expect_errno "bob: mmapctl read edu 0 (edu is not his)" EPERM
run run-as bob mmapctl map --dev zero --size 64K --shared
expect_grep "bob: mmapctl map --dev zero --shared" 'kind shmem.*shared'

# ---------------------------------------------------------------------------
# Parts of a BAR: no fd a user receives reaches BAR bytes outside her
# region.  A sysfs resource0 fd reaches the whole BAR whatever offset a
# Grant names (the kernel bounds a mapping by the BAR), so reach-probe
# keeps the fd of each Map and maps it at other offsets.
# ---------------------------------------------------------------------------
as_alice reach-probe edu-page 0 4096 0 0x2000 0x80000 0xff000
expect_refused "alice: reach-probe edu-page (BAR0's page at 0x1000): Map refused" \
    EPERM "region edu-page is base 0x1000 size 0x1000 of BAR 0 of $EDU_PCI" \
    "the whole BAR (0x100000 bytes)" "Read and Write serve the region"
run reach-probe edu-page 0 4096 0
expect_refused "root: reach-probe edu-page: Map refused to root too" EPERM "whole_bar = yes"
# Read and Write serve the page, within it: its 0 is the BAR's 0x1000
# (no register: edu answers all ones), its 4 is not edu's register 4.
as_alice mmapctl write edu 4 0x11111111
expect_out "alice: mmapctl write edu 4 0x11111111" ""
as_alice mmapctl write edu-page 4 0x22222222
expect_out "alice: mmapctl write edu-page 4 0x22222222 (BAR 0x1004)" ""
as_alice mmapctl read edu 4
expect_out "alice: mmapctl read edu 4: still the inverse of 0x11111111, edu-page's write did not reach it" 0xeeeeeeee
as_alice mmapctl read edu-page 0
expect_out "alice: mmapctl read edu-page 0: BAR 0x1000, not the identification register" 0xffffffff
as_alice mmapctl read edu-page 0x1000
expect_errno "alice: mmapctl read edu-page 0x1000: past the page" EINVAL \
    "offset 0x1000 size 0x4 is outside edu-page (0x1000 bytes from base 0x1000)"

# whole_bar = yes: granted at the page, and the fd reaches the whole
# BAR, as the key says (and the log tells); not past the BAR.
as_alice reach-probe edu-page-wide 0 4096 0x1000 0 0xff000 0x100000
expect_lines "alice: reach-probe edu-page-wide (whole_bar = yes): the fd reaches the whole BAR" \
    'granted: mmap_offset 0x1000, size 0x1000' 'reach 0x1000: 0xffffffff' \
    'reach 0: 0x010000ed' 'reach 0xff000: 0xffffffff'
if grep -q '^reach 0x100000: E[A-Z]*$' "$OUT"; then
	ok "alice: edu-page-wide's fd does not map past the BAR: $(grep '^reach 0x100000' "$OUT")"
else
	fail "alice: edu-page-wide's fd mapped past the BAR: $(said)"
fi
# The whole BAR's region: the BAR is hers, and the kernel stops its fd
# at the BAR's end.
as_alice reach-probe edu 0 4096 0 0xff000 0x100000
expect_lines "alice: reach-probe edu (the whole BAR): granted" \
    'granted: mmap_offset 0, size 0x1000' 'reach 0: 0x010000ed'
if grep -q '^reach 0x100000: E[A-Z]*$' "$OUT"; then
	ok "alice: edu's fd does not map past the BAR: $(grep '^reach 0x100000' "$OUT")"
else
	fail "alice: edu's fd mapped past the BAR: $(said)"
fi

# Offsets that wrap: edu-tail starts at 0x10000 and runs to the BAR's
# end; 2^64 - 0x10000 would be BAR offset 0.
as_alice reach-probe edu-tail 0xffffffffffff0000 4096 0
expect_refused "alice: reach-probe edu-tail at 2^64 - 0x10000: no wrap to BAR offset 0" \
    EINVAL "is outside edu-tail (0xf0000 bytes from base 0x10000)"
as_alice mmapctl read edu-tail 0xffffffffffff0000
expect_errno "alice: mmapctl read edu-tail 0xffffffffffff0000: no wrap to the identification register" \
    EINVAL "is outside edu-tail"
as_alice mmapctl read edu-tail 0xefffc
expect_out "alice: mmapctl read edu-tail 0xefffc: the BAR's last register" 0xffffffff
as_alice mmapctl read edu-tail 0xf0000
expect_errno "alice: mmapctl read edu-tail 0xf0000: past the BAR" EINVAL \
    "offset 0xf0000 size 0x4 is outside edu-tail (0xf0000 bytes from base 0x10000)"
as_alice mmapctl read edu-tail 0
expect_out "alice: mmapctl read edu-tail 0: BAR 0x10000" 0xffffffff
as_alice reach-probe edu-tail 0 4096 0
expect_refused "alice: reach-probe edu-tail 0: part of the BAR, Map refused" \
    EPERM "region edu-tail is base 0x10000 size 0xf0000 of BAR 0"

# map = no: registers only, even for the whole BAR.
as_alice reach-probe edu-regs-pci 0 4096 0
expect_refused "alice: reach-probe edu-regs-pci (map = no)" EPERM \
    "edu-regs-pci serves Read and Write only (map = no)"
as_alice mmapctl read edu-regs-pci 0
expect_out "alice: mmapctl read edu-regs-pci 0 (map = no): the registers still" 0x010000ed

# ---------------------------------------------------------------------------
# A reload that names a pci region start-up did not open: the monitor
# opens its BAR and the worker serves it, no restart.
# ---------------------------------------------------------------------------
if [ -n "$IVSHMEM" ]; then
	before=$(grep -c 'SIGHUP: policy reloaded' "$LOG" || true)
	{
		cat "$CONF"
		echo
		echo "[region ivshmem-late]"
		echo "device = pci"
		echo "pci = $IVSHMEM_PCI"
		echo "bar = 2"
		echo "users = root"
		echo "shared = yes"
	} >"$CONF.new"
	mv "$CONF.new" "$CONF"
	run mmapctl read ivshmem-late 0x2ffc
	expect_errno "before the reload, ivshmem-late is not offered" ENODEV
	kill -HUP "$MMAPD_PID"
	i=0
	while [ "$(grep -c 'SIGHUP: policy reloaded' "$LOG")" -le "$before" ] &&
	    [ "$i" -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if grep -q 'region ivshmem-late: pci' "$LOG"; then
		ok "SIGHUP: the monitor opened ivshmem-late's BAR"
	else
		fail "SIGHUP: ivshmem-late's BAR was not opened: $(grep -i -e sighup -e ivshmem-late "$LOG" | tr '\n' ' ' | cut -c 1-400)"
	fi
	run mmapctl read ivshmem-late 0x2ffc
	expect_out "mmapctl read ivshmem-late 0x2ffc after SIGHUP: the host's pattern, no restart" \
	    "$(printf '0x%08x' "$((MMAPD_VM_HOST_PATTERN_PCI))")"
	s=$(cut -d' ' -f1 "/proc/$MMAPD_PID/task/$MMAPD_PID/children" 2>/dev/null || true)
	if [ "$s" = "$WORKER_PID" ]; then
		ok "SIGHUP: the same worker serves"
	else
		fail "SIGHUP: the worker is $s, was $WORKER_PID"
	fi
	if grep -q 'restart' "$LOG"; then
		fail "mmapd's log says restart: $(grep restart "$LOG" | head -n 2 | tr '\n' ' ')"
	else
		ok "mmapd's log never says restart"
	fi
fi

# ---------------------------------------------------------------------------
# A reload that takes edu away from alice while she holds a mapping of
# it and will not let go.  Her holder (regs-probe --hold) reads edu's
# identification register through the mapping every 100 ms and reads no
# event.  The new policy leaves her out of edu's users and gives edu
# revoke_seconds = 2; on_revoke is left to its default for regions,
# kill.  At the deadline the monitor sends her process SIGKILL, her
# lease ends with her connection, and nothing of hers reaches the BAR.
# ---------------------------------------------------------------------------
if [ -n "$EDU" ]; then
	REV_OUT=$T/revoke-holder.out
	: >"$REV_OUT"
	# The holder lets go by itself after 15 s: a kill that never
	# comes is a failure below, not a hang.
	run-as alice regs-probe --hold 15 edu 0 >"$REV_OUT" 2>&1 &
	REV_PID=$!
	i=0
	while ! grep -q '^pass 2: ' "$REV_OUT" && [ "$i" -lt 100 ] &&
	    kill -0 "$REV_PID" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	REV_LEASE=$(sed -n 's/^holding lease \([0-9]*\), pid .*/\1/p' "$REV_OUT")
	if [ -n "$REV_LEASE" ] &&
	    grep -q -x 'pass 2: 0x0: 0x010000ed' "$REV_OUT"; then
		ok "revocation: alice holds edu (lease $REV_LEASE, pid $REV_PID) and reads its id through the mapping"
	else
		fail "revocation: alice's holder did not get there: $(tr '\n' ' ' <"$REV_OUT" | cut -c 1-400)"
		REV_LEASE=none
	fi
	run mmapctl list
	expect_grep "revocation: mmapctl list shows alice's lease $REV_LEASE of edu, held" \
	    "^$REV_LEASE  *1000  *alice  *$REV_PID  *edu .* held "

	# edu without alice, with a grace of 2 s.
	before=$(grep -c 'SIGHUP: policy reloaded' "$LOG" || true)
	awk '
	/^\[/ { in_edu = ($0 == "[region edu]") }
	in_edu && $0 == "users = root, alice" {
		print "users = root"
		print "revoke_seconds = 2"
		next
	}
	{ print }' "$CONF" >"$CONF.new"
	mv "$CONF.new" "$CONF"
	T0=$(cut -d' ' -f1 /proc/uptime)
	kill -HUP "$MMAPD_PID"
	RC=0
	wait "$REV_PID" || RC=$?
	T1=$(cut -d' ' -f1 /proc/uptime)
	# Hundredths of a second from SIGHUP to the holder's end.
	cs=$((${T1%.*}${T1#*.} - ${T0%.*}${T0#*.}))
	took=$((cs / 100)).$(printf '%02d' $((cs % 100)))
	passes=$(grep -c '^pass [0-9]*: 0x0: 0x010000ed$' "$REV_OUT" || true)
	if [ "$RC" -eq 137 ] && [ "$cs" -ge 150 ] && [ "$cs" -le 1000 ]; then
		ok "revocation: alice's holder was killed (SIGKILL, status 137) ${took}s after SIGHUP: after the 2 s grace, well before its own 15 s; it had read edu's id $passes times"
	else
		fail "revocation: alice's holder ended with status $RC ${took}s after SIGHUP, wanted 137 (SIGKILL) within 1.5 to 10 s: $(tail -n 3 "$REV_OUT" | tr '\n' ' ')"
	fi
	if grep -q 'releasing' "$REV_OUT"; then
		fail "revocation: alice's holder let go by itself: $(tail -n 2 "$REV_OUT" | tr '\n' ' ')"
	else
		ok "revocation: alice's holder never let go: its last line is '$(tail -n 1 "$REV_OUT")'"
	fi
	# The release follows the connection's end, which follows the kill.
	i=0
	while ! grep -q "event=release lease=$REV_LEASE " "$LOG" &&
	    [ "$i" -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ "$(grep -c 'SIGHUP: policy reloaded' "$LOG")" -gt "$before" ]; then
		ok "revocation: SIGHUP reloaded the policy"
	else
		fail "revocation: no reload in mmapd's log: $(grep -i sighup "$LOG" | tail -n 2 | tr '\n' ' ')"
	fi
	for re in \
	    "event=revoke lease=$REV_LEASE uid=1000 .* pid=$REV_PID .* device=edu .* by=reload reason=\"policy reload: user not allowed: not in the entry's users or groups\" seconds=2 .* on_revoke=kill" \
	    "event=revoke-kill lease=$REV_LEASE uid=1000 .* pid=$REV_PID .* result=ok errno=0" \
	    "event=release lease=$REV_LEASE uid=1000 .* pid=$REV_PID .* device=edu .* reason=disconnect revoke=revoked"; do
		line=$(grep -e "$re" "$LOG" | head -n 1) || true
		if [ -n "$line" ]; then
			ok "revocation: mmapd's log: ${line#*audit: }"
		else
			fail "revocation: mmapd's log has no line matching '$re': $(grep "lease=$REV_LEASE " "$LOG" | tr '\n' ' ' | cut -c 1-600)"
		fi
	done
	run mmapctl list
	if [ "$RC" -eq 0 ] && ! grep -q "^$REV_LEASE  *1000 " "$OUT" &&
	    ! grep -q '^[0-9][0-9]*  *1000 ' "$OUT"; then
		ok "revocation: mmapctl list shows no lease of alice's any more"
	else
		fail "revocation: mmapctl list, status $RC: $(said)"
	fi
	if [ -e "/proc/$REV_PID" ]; then
		fail "revocation: /proc/$REV_PID is still there: $(tr '\0' ' ' <"/proc/$REV_PID/cmdline" 2>&1)"
	else
		ok "revocation: the holder's /proc/$REV_PID is gone, its fds and mapping with it"
	fi
	# No process of alice's maps edu's BAR or has it open.
	reach=
	for p in /proc/[0-9]*; do
		grep -q -x 'Uid:	1000	1000	1000	1000' "$p/status" 2>/dev/null ||
		    continue
		hit=0
		grep -q -F "${EDU_RES:-?}" "$p/maps" 2>/dev/null && hit=1
		for f in "$p"/fd/*; do
			[ "$(readlink "$f" 2>/dev/null)" = "${EDU_RES:-?}" ] &&
			    hit=1
		done
		[ "$hit" -eq 0 ] || reach="$reach ${p#/proc/}"
	done
	if [ -z "$reach" ]; then
		ok "revocation: no process of alice's maps or holds ${EDU_RES:-?}"
	else
		fail "revocation: alice's processes$reach still reach ${EDU_RES:-?}"
	fi
	as_alice mmapctl map --dev edu --size 4096 --shared --read 0
	expect_errno "revocation: alice's new mmapctl map --dev edu is refused" \
	    EPERM "not in the entry's users or groups"
	as_alice regs-probe edu 0
	expect_errno "revocation: alice's new regs-probe edu is refused" \
	    EPERM "not in the entry's users or groups"
	no_raw_fd "revocation: alice's regs-probe edu refused"
	as_alice mmapctl read edu 0
	expect_errno "revocation: alice's mmapctl read edu 0 through the daemon is refused" \
	    EPERM
	run mmapctl read edu 0
	expect_out "revocation: root still reads edu 0 after the reload" 0x010000ed
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
# Raw /dev/mem fds went to root (edu-mem, ivshmem, mem), to no one else.
if grep -q 'event=raw-fd .*uid=0 .*root-equivalent' "$LOG"; then
	ok "mmapd's log marks root's raw /dev/mem grants root-equivalent"
else
	fail "mmapd's log has no event=raw-fd line for root"
fi
if grep 'event=raw-fd' "$LOG" | grep -v -q 'uid=0 '; then
	fail "mmapd's log shows a raw /dev/mem fd given to someone else than root: $(grep 'event=raw-fd' "$LOG" | grep -v 'uid=0 ' | head -n 2 | tr '\n' ' ')"
else
	ok "mmapd's log shows no raw /dev/mem fd given to anyone but root"
fi

# Device grants of a pci region to alice: the whole BAR's region, or the
# one that says whole_bar = yes, logged so.
if grep 'event=grant .*uid=1000 .*kind=device' "$LOG" |
    grep -v -e ' device=edu ' -e ' device=edu-page-wide ' | grep -q .; then
	fail "alice was granted a part of a BAR: $(grep 'event=grant .*uid=1000 .*kind=device' "$LOG" | grep -v -e ' device=edu ' -e ' device=edu-page-wide ' | head -n 2 | tr '\n' ' ')"
else
	ok "mmapd's log: alice's device fds were the whole BAR's (edu) or whole_bar's (edu-page-wide) only"
fi
if grep -q "event=whole-bar .*uid=1000 .*region edu-page-wide (base 0x1000 size 0x1000) went out as all of BAR 0 of ${EDU_PCI:-?} (0x100000 bytes)" "$LOG"; then
	ok "mmapd's log marks alice's whole_bar grant with the numbers"
else
	fail "mmapd's log has no event=whole-bar line for alice: $(grep 'whole-bar' "$LOG" | head -n 2 | tr '\n' ' ')"
fi

echo "mmapd's log:"
sed 's/^/  | /' "$LOG"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
