#!/bin/sh
# The guest side of the systemd VM test: run by guest-run (from
# mmapd-vm-test.service) as root in a minimal Debian booted with systemd
# as PID 1, into which tests/vm-systemd/run.sh put the Debian packages
# built from this tree (scripts/deb.sh), installed here with dpkg -i as
# an administrator would.  Nothing here starts mmapd by hand: systemd
# does, through the packaged units.
#
# One line per check, "ok NAME" or "FAIL NAME: detail"; "info ..." lines
# are not counted; then "N passed, M failed" alone on a line.  Exit
# status: 0 when nothing failed.
#
# The users alice (in group mmap) and bob (not) are made here, in the
# guest only.  The policy in /etc/mmapd/mmapd.conf is written here too:
# [zero] for group mmap, max_size 1M, raised to 4M for the reload check.
set -u

DIR=/usr/local/lib/mmapd-vm
MMAPD_VM_VERSION=
MMAPD_VM_TRACE=
# shellcheck disable=SC1091  # written by run.sh
. "$DIR/env"

SOCK=/run/mmapd/mmapd.sock
CONF=/etc/mmapd/mmapd.conf
T=$(mktemp -d)
OUT=$T/out
CLIENT=$DIR/client-test

PASSED=0
FAILED=0

# MMAPD_VM_TRACE=1: each line ends with the guest's uptime.
stamp() {
	[ -n "$MMAPD_VM_TRACE" ] || return 0
	printf ' [%s]' "$(cut -d' ' -f1 /proc/uptime)"
}

ok() {
	PASSED=$((PASSED + 1))
	echo "ok $1$(stamp)"
}

# fail NAME DETAIL
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL $1: $2$(stamp)"
}

info() {
	echo "info $*"
}

# check NAME DETAIL CONDITION...: ok when CONDITION (a command) succeeds.
check() {
	name=$1
	detail=$2
	shift 2
	if "$@"; then
		ok "$name"
	else
		fail "$name" "$detail"
	fi
}

# run CMD...: with a time limit, output and errors in $OUT, status in $RC.
run() {
	RC=0
	timeout 30 "$@" >"$OUT" 2>&1 </dev/null || RC=$?
}

# as USER CMD...: run CMD as USER with USER's groups, a clean
# environment and no way back (setpriv, not su: no PAM, no session).
as() {
	u=$1
	shift
	run setpriv --reuid="$u" --regid="$u" --init-groups --reset-env "$@"
}

# What the last run printed, on one line.
said() {
	tr '\n' ' ' <"$OUT" | cut -c 1-300
}

# expect NAME STRING...: the last run exited 0 and printed each STRING.
expect() {
	name=$1
	shift
	if [ "$RC" -ne 0 ]; then
		fail "$name" "status $RC: $(said)"
		return
	fi
	for s in "$@"; do
		if ! grep -q -F -e "$s" "$OUT"; then
			fail "$name" "no '$s' in: $(said)"
			return
		fi
	done
	ok "$name"
}

# expect_errno NAME ENAME: the last run failed and said ENAME the way
# mmapctl does ("(EACCES, errno 13)").
expect_errno() {
	if [ "$RC" -ne 0 ] && grep -q -F "($2, errno" "$OUT"; then
		ok "$1"
	else
		fail "$1" "wanted a failure with $2, got status $RC: $(said)"
	fi
}

# prop UNIT PROPERTY: a property of a unit as systemd has it.
prop() {
	systemctl show -p "$2" --value "$1" 2>/dev/null
}

# state UNIT: its active state (active, inactive, activating, ...) when
# it is loaded, else its load state (not-found, masked, error, ...): a
# unit that does not exist is never taken for one that stopped.  (show
# loads a unit that systemd let go of once it stopped; list-units would
# not see it.)
state() {
	systemctl show -p LoadState -p ActiveState "$1" 2>/dev/null |
	    awk -F= '$1 == "LoadState" { l = $2 } $1 == "ActiveState" { a = $2 }
		END { print (l == "loaded") ? a : (l == "" ? "unknown" : l) }'
}

# expect_state NAME UNIT STATE
expect_state() {
	s=$(state "$2")
	check "$1" "$2 is '$s', not '$3'" [ "$s" = "$3" ]
}

# status_field PID FIELD: a line of /proc/PID/status, tabs as spaces,
# without its name.
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null |
	    tr '\t' ' '
}

# map_zero USER SIZE: mmapctl map of zero as USER, private, at the
# installed library's default socket.
map_zero() {
	as "$1" mmapctl map --dev zero --size "$2"
}

journal_has() {
	journalctl -b -u mmapd.service -o cat --no-pager 2>/dev/null |
	    grep -q -F -e "$1"
}

# wait_journal STRING: up to 10 s for the daemon's log to say STRING
# (journald takes it from a stream, a moment after it was written).
wait_journal() {
	i=0
	while ! journal_has "$1"; do
		i=$((i + 1))
		[ "$i" -le 100 ] || return 1
		sleep 0.1
	done
	return 0
}

policy() {
	mkdir -p "${CONF%/*}"
	printf '# written by the systemd VM test\n[zero]\ngroups = mmap\nmax_size = %s\n' \
	    "$1" >"$CONF.new"
	chmod 0644 "$CONF.new"
	mv "$CONF.new" "$CONF"
}

# journal_count MATCH...: how many entries of this boot match.
journal_count() {
	journalctl -b -o cat --no-pager "$@" 2>/dev/null | grep -c '^audit: '
}

# wait_count WANT MATCH...: up to 30 s for WANT entries (journald may
# still be reading its socket when the client is done); prints the last
# count.
wait_count() {
	want=$1
	shift
	i=0
	while n=$(journal_count "$@"); [ "$n" -lt "$want" ] && [ "$i" -lt 60 ]; do
		i=$((i + 1))
		sleep 0.5
	done
	echo "$n"
}

# The audit trail as journal entries (mmapd(8), JOURNAL ENTRIES): found
# by MESSAGE_ID and MMAPD_ fields, and not one lost to journald's rate
# limit in a burst of grants at full speed (mmapd.service has
# LogRateLimitIntervalSec=0): BURST grants, or as many as 20 s allow
# (QEMU without KVM is slow).  alice has been granted and refused by now.
ID_GRANT=c50662e097124f5b8a04d291cb86af5b
ID_RELEASE=f58e9732f8c24999a7e85262268a45ed
ID_DENY=bb37d1bd0ce844cfbab8f46990600459
BURST=20000
audit_journal() {
	uid=$(id -u alice)
	n=$(wait_count 1 MESSAGE_ID=$ID_GRANT MMAPD_UID="$uid")
	check "journal: journalctl MESSAGE_ID=<grant> MMAPD_UID=$uid finds alice's grants" \
	    "$n entries" [ "$n" -ge 1 ]
	n=$(wait_count 1 MESSAGE_ID=$ID_DENY MMAPD_UID="$uid" MMAPD_ERRNO=EFBIG)
	check "journal: MESSAGE_ID=<denial> MMAPD_ERRNO=EFBIG finds alice's refusal" \
	    "$n entries" [ "$n" -ge 1 ]
	s=$(journalctl -b -o cat --no-pager MESSAGE_ID=$ID_GRANT \
	    MMAPD_UID="$uid" 2>/dev/null | head -n 1)
	case $s in
	"audit: event=grant lease="*" uid=$uid user=alice "*) ok "journal: its MESSAGE is the audit line" ;;
	*) fail "journal: its MESSAGE is the audit line" "'$s'" ;;
	esac
	n=$(journalctl -b -o cat --no-pager _SYSTEMD_UNIT=mmapd.service \
	    _TRANSPORT=stdout 2>/dev/null | grep -c '^audit: event=grant')
	check "journal: audit records are entries, not stderr lines" \
	    "$n grant lines came by stderr" [ "$n" -eq 0 ]

	# journald must keep 2 entries a grant: room for them in /run.  Its
	# rate limit for every service, far below the burst (even once
	# scaled by the free space): only mmapd.service's own
	# LogRateLimitBurst= can keep every entry.
	mkdir -p /etc/systemd/journald.conf.d
	printf '[Journal]\nRuntimeMaxUse=300M\nRuntimeMaxFileSize=64M\nRateLimitIntervalSec=30s\nRateLimitBurst=50\n' \
	    >/etc/systemd/journald.conf.d/mmapd-vm.conf
	run systemctl restart systemd-journald
	# shellcheck disable=SC2046  # the flags are words
	run cc -std=c11 -O2 -Wall -Wextra -Werror -o "$DIR/burst" \
	    "$DIR/burst.c" $(pkg-config --cflags --libs mmapclient)
	check "burst: cc burst.c" "status $RC: $(said)" [ "$RC" -eq 0 ]
	as alice "$DIR/burst" "$BURST" 100 20
	expect "burst: alice maps and releases up to $BURST times, 100 refused" \
	    "granted and released"
	info "$(cat "$OUT")"
	bpid=$(sed -n 's/^burst: pid \([0-9]*\):.*/\1/p' "$OUT")
	made=$(sed -n 's/^burst: pid [0-9]*: \([0-9]*\) granted.*/\1/p' "$OUT")
	[ -n "$bpid" ] || bpid=none
	[ -n "$made" ] || made=1
	n=$(wait_count "$made" MESSAGE_ID=$ID_GRANT MMAPD_PID="$bpid")
	check "burst: the journal holds every grant" "$n of $made" \
	    [ "$n" -eq "$made" ]
	n=$(wait_count "$made" MESSAGE_ID=$ID_RELEASE MMAPD_PID="$bpid")
	check "burst: the journal holds every release" "$n of $made" \
	    [ "$n" -eq "$made" ]
	n=$(wait_count 100 MESSAGE_ID=$ID_DENY MMAPD_PID="$bpid")
	check "burst: the journal holds every denial" "$n of 100" \
	    [ "$n" -eq 100 ]
	# The counts above are the proof (with LogRateLimitIntervalSec=0
	# in the unit they were 69, 68 and 0 of 2304, 2304 and 100 under
	# TCG); journald's own note of what it dropped is only shown.
	info "burst: journald's notes of suppressed messages: $(journalctl -b \
	    -o cat --no-pager 2>/dev/null | grep -c 'Suppressed')"
	info "burst: journal usage $(journalctl --disk-usage 2>/dev/null)"
}

# ---------------------------------------------------------------------------
# The boot, then dpkg -i of the packages, and what they put in place
# ---------------------------------------------------------------------------
s=$(timeout 90 systemctl is-system-running --wait 2>&1)
if [ "$s" = running ]; then
	ok "boot: the system is running, no unit failed"
else
	fail "boot" "the system is '$s'; failed: $(systemctl --failed --no-legend --plain | cut -d' ' -f1 | tr '\n' ' ')"
fi
info "boot: $(systemd-analyze time 2>/dev/null | head -n 1)"
if [ -n "$MMAPD_VM_TRACE" ]; then
	systemd-analyze blame --no-pager 2>&1 | head -n 80 | sed 's/^ */info blame: /'
fi

# The packages' postinst runs on the running system: systemd-sysusers,
# systemd-tmpfiles, then mmapd.socket enabled and started; mmapd.service
# is left to its first client.
run dpkg -i "$DIR"/debs/*.deb
check "package: dpkg -i $(cd "$DIR/debs" && echo *.deb)" \
    "status $RC: $(said)" [ "$RC" -eq 0 ]
s=
for p in mmapd libmmapclient0 libmmapclient-dev; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>&1)
	[ "$st" = "install ok installed" ] || s="$s $p: $st;"
done
check "package: mmapd, libmmapclient0, libmmapclient-dev installed" \
    "not installed:$s" [ -z "$s" ]
s=$(systemctl is-enabled mmapd.socket 2>&1)
check "package: mmapd.socket is enabled" "is-enabled: $s" [ "$s" = enabled ]
expect_state "package: postinst started mmapd.socket" mmapd.socket active
expect_state "package: mmapd.service is left to its first client" \
    mmapd.service inactive
MA=$(gcc -print-multiarch 2>/dev/null)
missing=
for f in /usr/sbin/mmapd /usr/bin/mmapctl /usr/include/mmapclient.h \
    "/usr/lib/$MA/pkgconfig/mmapclient.pc" "/usr/lib/$MA/libmmapclient.so"; do
	[ -e "$f" ] || missing="$missing $f"
done
check "install: mmapd, mmapctl, libmmapclient, its header and .pc" \
    "missing:$missing" [ -z "$missing" ]
run ldd /usr/sbin/mmapd /usr/bin/mmapctl
if [ "$RC" -eq 0 ] && ! grep -q 'not found' "$OUT"; then
	ok "install: every library of mmapd and mmapctl is found"
else
	fail "install: libraries" "ldd: $(grep 'not found' "$OUT" | tr '\n' ' ')"
fi

for f in /lib/systemd/system/mmapd.service \
    /lib/systemd/system/mmapd.socket /usr/lib/sysusers.d/mmapd.conf \
    /usr/lib/tmpfiles.d/mmapd.conf /usr/share/man/man8/mmapd.8.gz \
    /usr/share/man/man5/mmapd.conf.5.gz /usr/share/man/man1/mmapctl.1.gz \
    /usr/share/man/man3/libmmapclient.3.gz; do
	check "install: $f" "not installed" [ -f "$f" ]
done

# verify exits 0 even on unknown keys: any output is a finding.
# --man=no: the guest has no man; the pages are checked on the host
# (tests/man-pages.sh), their installation above.
run systemd-analyze verify --man=no mmapd.socket mmapd.service
if [ "$RC" -eq 0 ] && [ ! -s "$OUT" ]; then
	ok "units: systemd-analyze verify says nothing"
else
	fail "units: systemd-analyze verify" "status $RC: $(said)"
fi

# The packages' postinst ran systemd-sysusers and systemd-tmpfiles on
# the snippets: nothing here asks for it.
MMAPD_UID=$(getent passwd mmapd | cut -d: -f3)
check "sysusers: postinst made user mmapd" "getent passwd mmapd: nothing" \
    [ -n "$MMAPD_UID" ]
MMAP_GID=$(getent group mmap | cut -d: -f3)
check "sysusers: postinst made group mmap" "getent group mmap: nothing" \
    [ -n "$MMAP_GID" ]
check "tmpfiles: postinst made /run/mmapd" "$(ls -ld /run/mmapd 2>&1)" \
    [ -d /run/mmapd ]
run systemd-tmpfiles --create /usr/lib/tmpfiles.d/mmapd.conf
if [ "$RC" -eq 0 ] && [ ! -s "$OUT" ]; then
	ok "tmpfiles: the snippet applies cleanly"
else
	fail "tmpfiles: the snippet" "status $RC: $(said)"
fi

# ---------------------------------------------------------------------------
# Users, the policy, the socket
# ---------------------------------------------------------------------------
if [ -n "$MMAP_GID" ]; then
	useradd -U -G mmap alice
else
	useradd -U alice
fi
useradd -U bob
s=" $(id -nG alice 2>&1) / $(id -nG bob 2>&1) "
case $s in
*" mmap "*/*" mmap "*) fail "users" "bob is in group mmap: $s" ;;
*" mmap "*/*) ok "users: alice is in group mmap, bob is not" ;;
*) fail "users" "alice is not in group mmap: $s" ;;
esac

[ -e "$CONF" ] && info "config: replacing the installed $CONF"
policy 1M
run mmapd --check-config "$CONF"
check "config: mmapd --check-config accepts the test's policy" \
    "status $RC: $(said)" [ "$RC" -eq 0 ]

run systemctl start mmapd.socket
check "socket: systemctl start mmapd.socket" "status $RC: $(said)" \
    [ "$RC" -eq 0 ]
expect_state "socket: mmapd.socket is active" mmapd.socket active
s=$(stat -c '%F %a %G' "$SOCK" 2>&1)
check "socket: $SOCK is a socket, mode 660, group mmap" "$s" \
    [ "$s" = "socket 660 mmap" ]
INODE=$(stat -c %i "$SOCK" 2>/dev/null)
expect_state "socket: mmapd.service waits for a first client" \
    mmapd.service inactive

# ---------------------------------------------------------------------------
# An unprivileged client starts the daemon; what the daemon runs as
# ---------------------------------------------------------------------------
map_zero alice 1M
expect "client: alice (group mmap): mmapctl map --dev zero --size 1M" \
    "1048576 bytes of zero" \
    "write: wrote a pattern to all 1048576 bytes and read it back" \
    "released lease"
expect_state "activation: the first client started mmapd.service" \
    mmapd.service active
# A daemon that bound the path itself would have replaced the file.
s="$(state mmapd.service) $(stat -c %i "$SOCK" 2>/dev/null)"
check "activation: mmapd serves the socket systemd made (LISTEN_FDS)" \
    "mmapd.service and $SOCK's inode: '$s', 'active ${INODE:-none}' wanted" \
    [ "$s" = "active ${INODE:-none}" ]
s=$(prop mmapd.service Type)
check "readiness: mmapd.service is Type=notify (sd_notify)" "Type=$s" \
    [ "$s" = notify ]

PID=$(prop mmapd.service MainPID)
if [ -z "$PID" ] || [ "$PID" = 0 ] || [ ! -r "/proc/$PID/status" ]; then
	fail "daemon: MainPID" "systemd names no running process ('$PID')"
	PID=0
fi
# Two processes: MainPID is the monitor (root, CAP_SYS_RAWIO and CAP_KILL
# alone: bits 17 and 5), the worker its one child (user mmapd, nothing).
WPID=0
if [ "$PID" != 0 ]; then
	WPID=$(cut -d' ' -f1 "/proc/$PID/task/$PID/children" 2>/dev/null)
	[ -n "$WPID" ] && [ -r "/proc/$WPID/status" ] || WPID=0
	check "daemon: MainPID $PID has one child, the worker" \
	    "children: '$(cat "/proc/$PID/task/$PID/children" 2>&1)'" \
	    [ "$WPID" != 0 ]
	s=$(status_field "$PID" Uid)
	check "monitor: MainPID runs as root" "Uid: $s" [ "$s" = "0 0 0 0" ]
	for f in CapEff CapPrm CapBnd; do
		s=$(status_field "$PID" "$f")
		check "monitor: $f 0000000000020020 (CAP_SYS_RAWIO, CAP_KILL)" \
		    "$f: $s" [ "$s" = 0000000000020020 ]
	done
	for f in CapInh CapAmb; do
		s=$(status_field "$PID" "$f")
		check "monitor: $f 0000000000000000" "$f: $s" \
		    [ "$s" = 0000000000000000 ]
	done
	s=$(status_field "$PID" NoNewPrivs)
	check "monitor: NoNewPrivs 1" "NoNewPrivs: $s" [ "$s" = 1 ]
	s=$(status_field "$PID" Seccomp)
	check "monitor: Seccomp 2 (its own filter)" "Seccomp: $s" [ "$s" = 2 ]
fi
if [ "$WPID" != 0 ]; then
	s=$(status_field "$WPID" Uid)
	u=${MMAPD_UID:-none}
	check "worker: runs as user mmapd (Uid: real, effective, saved, fs)" \
	    "Uid: $s, mmapd is $u" [ "$s" = "$u $u $u $u" ]
	for f in CapEff CapPrm CapInh CapBnd CapAmb; do
		s=$(status_field "$WPID" "$f")
		check "worker: $f 0000000000000000" "$f: $s" \
		    [ "$s" = 0000000000000000 ]
	done
	s=$(status_field "$WPID" NoNewPrivs)
	check "worker: NoNewPrivs 1" "NoNewPrivs: $s" [ "$s" = 1 ]
	s=$(status_field "$WPID" Seccomp)
	check "worker: Seccomp 2 (a filter)" "Seccomp: $s" [ "$s" = 2 ]
	info "worker: pid $WPID, Gid: $(status_field "$WPID" Gid), Groups: $(status_field "$WPID" Groups), Seccomp_filters: $(status_field "$WPID" Seccomp_filters)"
fi

# ---------------------------------------------------------------------------
# A program built against the installed library through pkg-config
# ---------------------------------------------------------------------------
run pkg-config --modversion mmapclient
check "pkg-config: mmapclient is version $MMAPD_VM_VERSION" \
    "status $RC: $(said)" [ "$RC/$(cat "$OUT")" = "0/$MMAPD_VM_VERSION" ]
FLAGS=$(pkg-config --cflags --libs mmapclient 2>/dev/null)
info "pkg-config --cflags --libs mmapclient: $FLAGS"
# shellcheck disable=SC2086  # the flags are words
run cc -std=c11 -Wall -Wextra -Werror -o "$CLIENT" "$DIR/client-test.c" \
    $FLAGS
check "pkg-config: cc client-test.c \$(pkg-config --cflags --libs mmapclient)" \
    "status $RC: $(said)" [ "$RC" -eq 0 ]
run ldd "$CLIENT"
# /lib is /usr/lib (merged /usr): the loader may name either.
check "pkg-config: client-test loads the installed libmmapclient.so.0" \
    "ldd: $(said)" grep -q -E "=> (/usr)?/lib/$MA/libmmapclient\\.so\\.0 " \
    "$OUT"
as alice "$CLIENT"
expect "client: alice runs client-test (map, write, read back, status, release)" \
    "client-test: ok"

map_zero bob 1M
expect_errno "client: bob (not in group mmap) cannot connect" EACCES

# ---------------------------------------------------------------------------
# Reload: a new policy in force, the same process
# ---------------------------------------------------------------------------
map_zero alice 2M
expect_errno "policy: 2M is over max_size 1M" EFBIG
policy 4M
run systemctl reload mmapd
check "reload: systemctl reload mmapd" "status $RC: $(said)" [ "$RC" -eq 0 ]
check "reload: the daemon logged it" \
    "no 'policy reloaded' in journalctl -u mmapd" wait_journal "policy reloaded"
expect_state "reload: mmapd.service is still active" mmapd.service active
s=$(prop mmapd.service MainPID)
case $s in
0 | '' | *[!0-9]*) fail "reload: the same process" "MainPID '$s'" ;;
"$PID") ok "reload: the same process" ;;
*) fail "reload: the same process" "MainPID $s, was $PID" ;;
esac
map_zero alice 2M
expect "reload: the new policy is in force (2M under max_size 4M)" \
    "2097152 bytes of zero"

# A reload that names a device start-up did not open: /dev/mem, for a
# region of registers root may read (map = no).  The monitor opens it,
# the worker offers it; a reload without it closes it in the worker.
worker_has_mem() {
	ls -l "/proc/$WPID/fd" 2>/dev/null | grep -q ' -> /dev/mem$'
}
run mmapctl offers
if [ "$RC" -eq 0 ] && ! grep -q 'hpet' "$OUT"; then
	ok "reload: no region hpet before"
else
	fail "reload: no region hpet before" "status $RC: $(said)"
fi
policy 4M
{
	cat "$CONF"
	printf '\n[mem]\nusers = root\nmap = no\nmax_size = 4K\n'
	printf '\n[region hpet]\ndevice = mem\nbase = 0xfed00000\nsize = 4K\n'
	printf 'users = root\nmap = no\n'
} >"$CONF.new"
mv "$CONF.new" "$CONF"
run systemctl reload mmapd
check "reload: systemctl reload mmapd with a new [mem] region" \
    "status $RC: $(said)" [ "$RC" -eq 0 ]
check "reload: the monitor opened /dev/mem" \
    "no 'mem: /dev/mem opened' in journalctl -u mmapd" \
    wait_journal "mem: /dev/mem opened"
run mmapctl offers
expect "reload: root is offered region hpet without a restart" hpet
check "reload: the worker holds /dev/mem" "$(ls -l "/proc/$WPID/fd" 2>&1 | tr '\n' ' ' | cut -c 1-300)" \
    worker_has_mem
s=$(prop mmapd.service MainPID)
check "reload: still the same process" "MainPID $s, was $PID" [ "$s" = "$PID" ]
policy 4M
run systemctl reload mmapd
check "reload: back to a policy without mem" "status $RC: $(said)" \
    [ "$RC" -eq 0 ]
i=0
while worker_has_mem && [ "$i" -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "reload: the worker closed /dev/mem" "still open" eval '! worker_has_mem'
if journal_has "restart"; then
	fail "reload: the log never says restart" "$(journalctl -b -u mmapd.service -o cat --no-pager | grep restart | head -n 2 | tr '\n' ' ')"
else
	ok "reload: the log never says restart"
fi

audit_journal

# ---------------------------------------------------------------------------
# Stop, and the socket starts it again
# ---------------------------------------------------------------------------
run systemctl stop mmapd
check "stop: systemctl stop mmapd" "status $RC: $(said)" [ "$RC" -eq 0 ]
expect_state "stop: mmapd.service is inactive" mmapd.service inactive
s="$(state mmapd.service) $(systemctl show -p Result -p ExecMainStatus \
    mmapd.service | LC_ALL=C sort | paste -s -d ' ')"
check "stop: mmapd exited cleanly" "$s" \
    [ "$s" = "inactive ExecMainStatus=0 Result=success" ]
expect_state "stop: mmapd.socket is still listening" mmapd.socket active
check "stop: $SOCK is still there" "$(ls -l "$SOCK" 2>&1)" [ -S "$SOCK" ]
map_zero alice 1M
expect "activation: a client after the stop is served" "1048576 bytes of zero"
expect_state "activation: mmapd.service started again" mmapd.service active
s=$(prop mmapd.service MainPID)
case $s in
'' | 0 | "$PID") fail "activation: a new process" "MainPID '$s', was $PID" ;;
*) ok "activation: a new process" ;;
esac

run systemd-analyze security --no-pager mmapd.service
info "security: $(grep -i 'overall exposure' "$OUT" | sed 's/^[^A-Za-z]*//')"

run systemctl stop mmapd.socket mmapd.service
check "stop: systemctl stop mmapd.socket mmapd.service" "status $RC: $(said)" \
    [ "$RC" -eq 0 ]
s=$(state mmapd.socket)/$(state mmapd.service)
check "stop: both inactive" "mmapd.socket/mmapd.service: $s" \
    [ "$s" = inactive/inactive ]
# The socket file may stay (RemoveOnStop=no): nobody listens on it.
map_zero alice 1M
if [ "$RC" -ne 0 ] && grep -q -E '\((ECONNREFUSED|ENOENT), errno' "$OUT" &&
    [ "$s" = inactive/inactive ]; then
	ok "stop: nobody answers any more"
else
	fail "stop: nobody answers any more" "units $s; status $RC: $(said)"
fi

if [ "$FAILED" -ne 0 ]; then
	echo "info ---- journalctl -b -u mmapd.socket -u mmapd.service ----"
	journalctl -b -u mmapd.socket -u mmapd.service -o short-monotonic \
	    --no-pager 2>&1 | tail -n 40 | sed 's/^/info journal: /'
fi
rm -rf "$T"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
