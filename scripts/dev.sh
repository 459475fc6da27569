#!/bin/sh
# Developer entry point for mmapd on Debian 12: install what the build
# needs, build, run the demo, run every test.  See usage() or README.md.
set -eu

# The source tree: the parent of this script's folder.
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$SRCDIR/_build"
BUILD_ASAN="$SRCDIR/_build-asan"
BUILD_FUZZ="$SRCDIR/_build-fuzz"
BUILD_COV="$SRCDIR/_build-cov"

# Debian packages the build and the tests need.  gcc and make are on most
# machines already; libc6-dev is listed because installing without
# recommends would otherwise not pull it in on every path.
PACKAGES="gcc make libc6-dev autoconf automake libtool pkg-config \
libuv1-dev libprotobuf-c-dev protobuf-c-compiler libseccomp-dev \
libinih-dev libcriterion-dev mandoc libsystemd-dev systemd python3-dev \
dpkg-dev debhelper dh-python lintian"
# What make fuzz needs (clang's libFuzzer): installed by deps too, but a
# machine without them still builds and tests; its fuzzing is SKIPPED.
FUZZ_PACKAGES="clang libclang-rt-14-dev"

if command -v nproc >/dev/null 2>&1; then
	JOBS=$(nproc)
else
	JOBS=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
fi

# Totals over the criterion Synthesis lines of the check runs.
PASSED=0
FAILED=0

usage() {
	cat <<EOF
usage: sh scripts/dev.sh COMMAND

Commands (run as root on a fresh Debian 12 machine; each does what the
ones before it in this list do, as far as it needs):
  deps    install the missing build dependencies with apt-get:
          $PACKAGES;
          then, where it can, $FUZZ_PACKAGES (for make fuzz)
  build   deps, autoreconf -fi (when configure is out of date), configure
          in _build/ with --enable-werror, make -j$JOBS
  demo    build, then run the demo: mmapd in a private run directory
          (the built-in policy and [shm board]), mmapctl map --dev zero
          (private, shared), status, text root writes into board and
          uid 65534 reads, three requests the policy refuses (a device
          it does not offer; uid 65534 writing board; uid 65534 asking
          for root's undeclared name), --explain of one, list, then
          mmapd stopped and its log shown
  check   build; make check in _build/; again under ASan+UBSan in
          _build-asan/; again with gcov in _build-cov/ (make coverage:
          the lines run per file of daemon/, client/, proto/); make
          distcheck; tests/install-prefix.sh (configure --prefix=DIR
          without criterion, make install as uid 65534: nothing outside
          DIR); make fuzz in _build-fuzz (the libFuzzer harnesses,
          FUZZ_SECONDS=60 each, clang; SKIPPED like the VM tests without
          libFuzzer); make check-vm (mmapd on a real
          /dev/mem in QEMU; tests/vm/setup.sh installs QEMU and fetches a
          kernel once; where QEMU cannot be installed it is SKIPPED, said
          loudly and never counted as passed); deb (above); make
          check-systemd (those packages installed with dpkg -i into a
          Debian booted with systemd, in QEMU;
          tests/vm-systemd/setup.sh makes its root once, as root, with
          mmdebstrap; SKIPPED like check-vm); ends with
          'check: N passed, M failed', the fuzz and VM tests' counts
          included
  deb     deps, then build the Debian packages (scripts/deb.sh:
          dpkg-buildpackage -us -uc -b in a copy of the tree, lintian
          with no error or warning) into _deb/
  bench   build, then measure a grant through a private mmapd against
          the floor broker in alternating runs, and mmapd's memory per
          idle connection (tests/bench/bench-grant: markdown tables, about
          a minute; BENCH_ROUNDS=N, BENCH_SECONDS=S per run,
          BENCH_IDLE=N connections); then map/release, connect and
          register reads one at a time (tests/bench/bench-map;
          BENCH_COUNT=N sets the runs)
  help    this text
EOF
}

say() {
	printf '%s\n' "dev.sh: $*"
}

die() {
	printf '%s\n' "dev.sh: error: $*" >&2
	exit 1
}

# ---------------------------------------------------------------------------
# deps
# ---------------------------------------------------------------------------
is_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

cmd_deps() {
	cmd_deps_build
	if command -v dpkg-query >/dev/null 2>&1; then
		fuzz_deps || true
	fi
}

cmd_deps_build() {
	command -v dpkg-query >/dev/null 2>&1 ||
		die "dpkg-query not found: this script expects Debian 12; install by hand: $PACKAGES"
	missing=
	for p in $PACKAGES; do
		is_installed "$p" || missing="$missing $p"
	done
	if [ -z "$missing" ]; then
		say "deps: all installed ($(echo "$PACKAGES" | wc -w) packages)"
		return 0
	fi
	say "deps: missing:$missing"
	if [ "$(id -u)" -ne 0 ]; then
		die "deps: not root, cannot install; run as root, or: apt-get install$missing"
	fi
	say "deps: apt-get update"
	apt-get update
	say "deps: apt-get install -y --no-install-recommends$missing"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
}

# The fuzzing packages: a failure is said, and make fuzz is then SKIPPED.
fuzz_deps() {
	missing=
	for p in $FUZZ_PACKAGES; do
		is_installed "$p" || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" -ne 0 ]; then
		say "deps: not root, cannot install$missing (make fuzz needs them)"
		return 1
	fi
	say "deps: apt-get install -y --no-install-recommends$missing"
	# The package lists may be stale: once more after an update.
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	    install -y --no-install-recommends $missing ||
	{ apt-get -o DPkg::Lock::Timeout=600 update &&
	  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	    install -y --no-install-recommends $missing; } ||
	    { say "deps: could not install$missing"; return 1; }
}

# ---------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------

# newer A B: A exists and was modified after B (test -nt is not POSIX).
newer() {
	[ -e "$1" ] && [ -e "$2" ] &&
	    [ -n "$(find "$1" -prune -newer "$2" 2>/dev/null)" ]
}

autoreconf_if_needed() {
	cd "$SRCDIR"
	if [ -f configure ] && [ -f Makefile.in ] &&
	    newer configure configure.ac && newer configure Makefile.am &&
	    newer Makefile.in Makefile.am; then
		say "build: configure is up to date, skipping autoreconf"
	else
		say "build: autoreconf -fi"
		autoreconf -fi
	fi
	if [ -f "$SRCDIR/config.status" ]; then
		die "the source tree is configured in place; run 'make distclean' in $SRCDIR first (out-of-tree builds need a clean source tree)"
	fi
}

# configure_in DIR ARGS...: configure DIR when it is not configured yet,
# or when configure or its arguments changed.
configure_in() {
	dir=$1
	shift
	mkdir -p "$dir"
	cd "$dir"
	want="$*"
	have=
	if [ -f config.status ]; then
		have=$(./config.status --config 2>/dev/null | tr -d "'")
	fi
	if [ -f Makefile ] && newer config.status "$SRCDIR/configure" &&
	    [ "$have" = "$want" ]; then
		say "configure: $dir is configured ($want)"
	else
		say "configure: in $dir: ../configure $want"
		# shellcheck disable=SC2068
		../configure $@
	fi
}

cmd_build() {
	cmd_deps
	autoreconf_if_needed
	configure_in "$BUILD" --enable-werror
	say "build: make -j$JOBS in $BUILD"
	make -j"$JOBS"
}

# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------

# The demo: mmapd with DEMO_POLICY on a socket in a private run
# directory, `mmapctl map --dev zero` against it (private, then shared),
# `mmapctl status`, the policy at work (run_demo), then the daemon is
# stopped with SIGTERM and its log shown.  The daemon is stopped and the
# directory removed however the demo ends.
demo_stop() {
	if [ -n "${DEMO_PID:-}" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
		kill -TERM "$DEMO_PID" 2>/dev/null || true
		wait "$DEMO_PID" 2>/dev/null || true
	fi
	DEMO_PID=
	[ -n "${DEMO_DIR:-}" ] && rm -rf "$DEMO_DIR"
	DEMO_DIR=
}

# daemon_start: mmapd --no-config on a socket in a fresh private folder;
# sets DEMO_DIR, DEMO_PID and SOCK.
daemon_start() {
	mmapd="$BUILD/daemon/mmapd"
	[ -x "$mmapd" ] || die "$mmapd was not built"
	DEMO_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mmapd-demo.XXXXXX")
	trap demo_stop EXIT
	trap 'demo_stop; exit 130' INT TERM
	SOCK="$DEMO_DIR/mmapd.sock"
	if [ -n "${1:-}" ]; then
		# The caller's policy, written into the private run directory.
		printf '%s' "$1" >"$DEMO_DIR/mmapd.conf"
		set -- -c "$DEMO_DIR/mmapd.conf"
	else
		set -- --no-config
	fi
	# As root, mmapd drops to the user mmapd once set up; a build
	# machine has none, so it runs as nobody here.
	if [ "$(id -u)" -eq 0 ]; then
		set -- "$@" --user nobody
	fi
	say "starting: $mmapd $* -s $SOCK"
	"$mmapd" "$@" -s "$SOCK" 2>"$DEMO_DIR/mmapd.log" &
	DEMO_PID=$!
	i=0
	while [ ! -S "$SOCK" ]; do
		i=$((i + 1))
		if [ "$i" -gt 50 ] || ! kill -0 "$DEMO_PID" 2>/dev/null; then
			cat "$DEMO_DIR/mmapd.log" >&2
			die "mmapd did not start"
		fi
		sleep 0.1
	done
}

# daemon_finish [LINES]: SIGTERM, wait, show the log (its last LINES
# lines when given); fails when mmapd did not exit 0.
daemon_finish() {
	say "stopping mmapd (SIGTERM); its log${1:+ (last $1 lines)}:"
	kill -TERM "$DEMO_PID"
	rc=0
	wait "$DEMO_PID" || rc=$?
	DEMO_PID=
	if [ -n "${1:-}" ]; then
		tail -n "$1" "$DEMO_DIR/mmapd.log" | sed 's/^/  /'
	else
		sed 's/^/  /' "$DEMO_DIR/mmapd.log"
	fi
	demo_stop
	trap - EXIT INT TERM
	[ "$rc" -eq 0 ] || die "mmapd exited with status $rc"
}

# demo_refused WHY ARGS...: mmapctl ARGS must be refused (the policy at
# work); its message is shown.
demo_refused() {
	why=$1
	shift
	say "demo: $why: $*"
	if "$@"; then
		say "demo: that should have been refused"
		status=1
	else
		say "demo: refused, as the policy says"
	fi
}

# The demo's policy: the built-in one (zero for everyone up to 64 MiB,
# shared allowed), and a named region root writes and uid 65534 reads.
DEMO_POLICY='[zero]
users = *
max_size = 64M
shared = yes

[shm board]
size = 4K
writers = root
readers = nobody
'

# demo_words TEXT: --write arguments that store TEXT (NUL-padded) in
# 64-bit words from offset 0, as od reads it: in this machine's order.
demo_words() {
	off=0
	pad=$((8 - ${#1} % 8))
	for w in $({ printf '%s' "$1"; head -c "$pad" /dev/zero; } |
	    od -An -tx8 -v); do
		printf ' --write %s=0x%s:64' "$off" "$w"
		off=$((off + 8))
	done
}

# demo_text: mmapctl's "0xOFF: 0xVALUE" lines on stdin back into text
# (little-endian, as demo_words stored it), up to the first NUL.
demo_text() {
	while read -r _ v; do
		v=$((v))
		while [ "$v" -ne 0 ]; do
			printf "\\$(printf %03o $((v & 255)))"
			v=$((v >> 8))
		done
	done
}

# demo_wait_lease NAME: until mmapctl list shows NAME (5 s at most).
demo_wait_lease() {
	i=0
	until "$mmapctl" --socket "$SOCK" list 2>/dev/null | grep -q "$1"; do
		i=$((i + 1))
		if [ "$i" -gt 50 ] || ! kill -0 "$holder" 2>/dev/null; then
			status=1
			return
		fi
		sleep 0.1
	done
}

run_demo() {
	mmapctl="$BUILD/client/mmapctl"
	[ -x "$mmapctl" ] || die "demo: $mmapctl was not built"
	say "demo: the policy:"
	printf '%s' "$DEMO_POLICY" | sed 's/^/  /'
	daemon_start "$DEMO_POLICY"
	status=0
	for args in "map --dev zero --size 1M" "map --dev zero --size 1M --shared" \
	    "status"; do
		say "demo: mmapctl $args"
		# shellcheck disable=SC2086
		"$mmapctl" --socket "$SOCK" $args || status=1
	done

	# The policy at work: it offers /dev/zero only, [shm board] is
	# root's to write and uid 65534's to read, and a name nobody
	# declared belongs to the uid that made it.
	demo_refused "not offered by the policy" \
	    "$mmapctl" --socket "$SOCK" map --dev mem --size 4K
	chmod 0755 "$DEMO_DIR"
	if ! command -v setpriv >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
		say "demo: not root or no setpriv: the second user is left out"
		daemon_finish
		[ "$status" -eq 0 ] || die "demo: failed"
		return
	fi
	as_nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	board="map --dev zero --size 4K --shared --name board"
	words=$(demo_words "hello from root")
	say "demo: root writes \"hello from root\" into board and holds it:"
	say "demo:   mmapctl $board --create$words --hold"
	# shellcheck disable=SC2086
	timeout 30 "$mmapctl" --socket "$SOCK" $board --create $words --hold &
	holder=$!
	demo_wait_lease board
	say "demo: uid 65534 reads it: mmapctl $board --attach --read-only --read 0:64 --read 8:64"
	# shellcheck disable=SC2086
	if out=$(timeout 10 $as_nobody "$mmapctl" --socket "$SOCK" $board \
	    --attach --read-only --read 0:64 --read 8:64); then
		printf '%s\n' "$out" | sed 's/^/  /'
		text=$(printf '%s\n' "$out" | grep '^0x' | demo_text)
		say "demo: uid 65534 read: \"$text\""
		[ "$text" = "hello from root" ] || status=1
	else
		status=1
	fi
	# shellcheck disable=SC2086
	demo_refused "uid 65534 asks to write board, which it may only read" \
	    timeout 10 $as_nobody "$mmapctl" --socket "$SOCK" $board --attach
	say "demo: the same question, offline: mmapd --check-config --explain 'nobody map zero size 4K shared region board exists'"
	"$BUILD/daemon/mmapd" --check-config "$DEMO_DIR/mmapd.conf" \
	    --explain 'nobody map zero size 4K shared region board exists' |
	    grep -E '^(shm|rule|decision|message):' | sed 's/^/  /'
	kill -TERM "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true

	say "demo: root: mmapctl map --dev zero --size 64K --shared --name demo --create --fill 0x5a --hold"
	timeout 30 "$mmapctl" --socket "$SOCK" map --dev zero --size 64K \
	    --shared --name demo --create --fill 0x5a --hold &
	holder=$!
	demo_wait_lease demo
	# shellcheck disable=SC2086
	demo_refused "uid 65534 asks for root's undeclared name" \
	    timeout 10 $as_nobody "$mmapctl" --socket "$SOCK" map --dev zero \
	    --size 64K --shared --name demo --attach
	say "demo: mmapctl list"
	"$mmapctl" --socket "$SOCK" list || status=1
	kill -TERM "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
	daemon_finish
	[ "$status" -eq 0 ] || die "demo: failed"
	say "demo: done"
}

# The benchmark, against a daemon of the plain (not sanitizer) build.
cmd_bench() {
	cmd_build
	grant="$BUILD/tests/bench/bench-grant"
	[ -x "$grant" ] || die "bench: $grant was not built"
	# It starts its own mmapd and floor broker, and stops them.
	say "bench: $grant (mmapd against the floor)"
	"$grant" --mmapd "$BUILD/daemon/mmapd" \
	    ${BENCH_ROUNDS:+--rounds "$BENCH_ROUNDS"} \
	    ${BENCH_SECONDS:+--seconds "$BENCH_SECONDS"} \
	    ${BENCH_IDLE:+--idle "$BENCH_IDLE"} || die "bench: bench-grant failed"
	bench="$BUILD/tests/bench/bench-map"
	[ -x "$bench" ] || die "bench: $bench was not built"
	# Register reads go to a sparse file standing in for /dev/mem (these
	# machines have none), judged against a recorded q35 /proc/iomem:
	# what is measured is the daemon's path, not the device.
	conf=$(printf '[zero]\nusers = *\n\n[mem]\npath = %s\niomem = %s\nusers = root\nmax_size = 1M\n' \
	    "${TMPDIR:-/tmp}/mmapd-bench-devmem" "$SRCDIR/tests/unit/data/iomem-q35.txt")
	truncate -s 8G "${TMPDIR:-/tmp}/mmapd-bench-devmem"
	daemon_start "$conf"
	"$bench" --socket "$SOCK" ${BENCH_COUNT:+--count "$BENCH_COUNT"} \
	    --read mem:0xfe900000
	rm -f "${TMPDIR:-/tmp}/mmapd-bench-devmem"
	daemon_finish 3
}

# The Debian packages of this tree into _deb/ (scripts/deb.sh); with
# --if-needed, only when _deb/ does not hold those of the tree as it is.
cmd_deb() {
	cmd_deps
	say "deb: sh scripts/deb.sh $*"
	sh "$SRCDIR/scripts/deb.sh" "$@"
}

cmd_demo() {
	cmd_build
	run_demo
}

# ---------------------------------------------------------------------------
# check
# ---------------------------------------------------------------------------
ESC=$(printf '\033')

# synthesis DIR LABEL: print each test binary's Synthesis line and add the
# counts to PASSED and FAILED.
synthesis() {
	dir=$1
	label=$2
	found=0
	for log in "$dir"/tests/unit/*.log "$dir"/tests/integration/*.log \
	    "$dir"/tests/fuzz/*.log; do
		[ -f "$log" ] || continue
		line=$(sed "s/$ESC\\[[0-9;]*m//g" "$log" | grep 'Synthesis:' | tail -n 1) || true
		name=$(basename "$log" .log)
		trs=${log%.log}.trs
		if [ -z "$line" ]; then
			if [ -f "$trs" ] && grep -E -q '^:test-result: (PASS|SKIP)' "$trs"; then
				printf '  %-6s %-12s no Synthesis line (%s)\n' "$label" "$name" \
				    "$(sed -n 's/^:test-result: //p' "$trs")"
			else
				# It died before Criterion could sum up: one failure.
				printf '  %-6s %-12s no Synthesis line: counted as 1 failed\n' "$label" "$name"
				FAILED=$((FAILED + 1))
			fi
			continue
		fi
		found=$((found + 1))
		printf '  %-6s %-12s %s\n' "$label" "$name" "${line#*Synthesis: }"
		p=$(printf '%s\n' "$line" | sed -n 's/.*Passing: *\([0-9]*\).*/\1/p')
		f=$(printf '%s\n' "$line" | sed -n 's/.*Failing: *\([0-9]*\).*/\1/p')
		# Criterion 2.4 counts a crashed test under Failing as well as
		# under Crashing (Tested = Passing + Failing), so Failing alone
		# is the number of tests that did not pass.
		PASSED=$((PASSED + ${p:-0}))
		FAILED=$((FAILED + ${f:-0}))
		# A binary that failed with every test passing (a sanitizer
		# report at a worker's exit, see tests/run-test.sh) counts once.
		if [ "${f:-0}" -eq 0 ] && [ -f "$trs" ] &&
		    ! grep -q '^:test-result: PASS' "$trs"; then
			printf '  %-6s %-12s failed with no failing test: counted as 1 failed\n' "$label" "$name"
			FAILED=$((FAILED + 1))
		fi
	done
	[ "$found" -gt 0 ] || say "check: $label: no test logs with a Synthesis line in $dir/tests"
}

# show_failures DIR: print test-suite.log and the log of each test that
# did not pass.
show_failures() {
	dir=$1
	if [ -f "$dir/test-suite.log" ]; then
		printf '\n===== %s =====\n' "$dir/test-suite.log"
		cat "$dir/test-suite.log"
	fi
	for trs in "$dir"/tests/unit/*.trs "$dir"/tests/integration/*.trs \
	    "$dir"/tests/fuzz/*.trs; do
		[ -f "$trs" ] || continue
		if ! grep -q '^:test-result: PASS' "$trs"; then
			log=${trs%.trs}.log
			printf '\n===== %s =====\n' "$log"
			cat "$log" 2>/dev/null || true
		fi
	done
}

# What each VM test came to: empty before it ran, else its
# "check-vm: N passed, M failed" line, or SKIPPED and why.
VM_RESULT=
VM_SKIPPED=
FUZZ_RESULT=
FUZZ_SKIPPED=
SYSTEMD_RESULT=
SYSTEMD_SKIPPED=

# skip_banner WHAT TARGET WHY LOST: a VM test did not run, on stdout and
# on stderr, so neither a log of one nor a terminal showing the other can
# miss it.
skip_banner() {
	for fd in 1 2; do
		{
			echo "dev.sh: ##################################################"
			echo "dev.sh: check: $1 SKIPPED: $3"
			echo "dev.sh: make $2 did NOT run: $4"
			echo "dev.sh: ##################################################"
		} >&"$fd"
	done
}

vm_skip_banner() {
	skip_banner "VM tests" check-vm "$VM_SKIPPED" \
	    "mmapd was not tested on a real /dev/mem"
}

fuzz_skip_banner() {
	skip_banner "fuzz tests" fuzz "$FUZZ_SKIPPED" \
	    "the request path, policy loader, iomem parser and client were not fuzzed"
}

systemd_skip_banner() {
	skip_banner "systemd VM test" check-systemd "$SYSTEMD_SKIPPED" \
	    "mmapd was not tested under systemd"
}

summary() {
	if [ -n "$FUZZ_SKIPPED" ]; then
		fuzz_skip_banner
		echo "fuzz: SKIPPED (not counted below)"
	elif [ -n "$FUZZ_RESULT" ]; then
		echo "$FUZZ_RESULT (counted below)"
	fi
	if [ -n "$VM_SKIPPED" ]; then
		vm_skip_banner
		echo "check-vm: SKIPPED (not counted below)"
	elif [ -n "$VM_RESULT" ]; then
		echo "$VM_RESULT (counted below)"
	fi
	if [ -n "$SYSTEMD_SKIPPED" ]; then
		systemd_skip_banner
		echo "check-systemd: SKIPPED (not counted below)"
	elif [ -n "$SYSTEMD_RESULT" ]; then
		echo "$SYSTEMD_RESULT (counted below)"
	fi
	if [ -f "$BUILD_COV/coverage.txt" ] && [ -n "${COV_RAN:-}" ]; then
		sed -n '/^coverage: totals/,/^  all /p' "$BUILD_COV/coverage.txt"
	fi
	echo "check: $PASSED passed, $FAILED failed"
}

# make_check DIR LABEL [TARGET]: make TARGET (check by default) in DIR
make_check() {
	dir=$1
	label=$2
	target=${3:-check}
	say "check: make $target in $dir ($label)"
	# No stale logs: only this run's are read.
	rm -f "$dir"/tests/unit/*.log "$dir"/tests/unit/*.trs \
	    "$dir"/tests/integration/*.log "$dir"/tests/integration/*.trs \
	    "$dir"/tests/fuzz/*.log "$dir"/tests/fuzz/*.trs
	status=0
	(cd "$dir" && make -j"$JOBS" "$target") || status=$?
	say "check: $label results:"
	synthesis "$dir" "$label"
	if [ "$status" -ne 0 ]; then
		show_failures "$dir"
		say "check: make check failed in $dir ($label)"
		summary
		exit 1
	fi
}

# vm_target TARGET SETUP WHAT VAR: sh SETUP (installs and builds what the
# VM needs, at once when done before), then make TARGET in _build/; its
# counts go into the totals.  Sets VAR_RESULT to its "TARGET: N passed, M
# failed" line, or VAR_SKIPPED to why it did not run: SETUP's 77 means
# QEMU cannot be installed here (SKIPPED, loudly, by the caller).  Any
# other failure fails the check.
vm_target() {
	target=$1
	setup=$2
	what=$3
	var=$4
	say "check: $what: sh $setup"
	vmerr=$(mktemp "${TMPDIR:-/tmp}/dev-$target.XXXXXX")
	status=0
	sh "$SRCDIR/$setup" 2>"$vmerr" || status=$?
	cat "$vmerr" >&2
	T_SKIPPED=$(sed -n 's/^vm-setup: SKIP: //p' "$vmerr" | head -n 1)
	rm -f "$vmerr"
	if [ "$status" -eq 77 ]; then
		T_SKIPPED="QEMU cannot be installed here: ${T_SKIPPED:-see the message of $setup above}"
		eval "${var}_SKIPPED=\$T_SKIPPED"
		return 0
	fi
	if [ "$status" -ne 0 ]; then
		say "check: $setup failed (status $status): the $what could not run"
		FAILED=$((FAILED + 1))
		summary
		exit 1
	fi
	say "check: make -C $BUILD $target"
	vmlog=$(mktemp "${TMPDIR:-/tmp}/dev-$target.XXXXXX")
	status=0
	# tee shows the run as it goes; the status comes back in a file.
	{ make -C "$BUILD" "$target" 2>&1 || echo "$?" >"$vmlog.rc"; } | tee "$vmlog"
	[ -f "$vmlog.rc" ] && status=$(cat "$vmlog.rc")
	T_RESULT=$(grep -E "^$target: [0-9]+ passed, [0-9]+ failed\$" "$vmlog" |
	    tail -n 1) || true
	rm -f "$vmlog" "$vmlog.rc"
	eval "${var}_RESULT=\$T_RESULT"
	f=0
	if [ -n "$T_RESULT" ]; then
		p=${T_RESULT#"$target: "}
		p=${p%% *}
		f=${T_RESULT#*, }
		f=${f%% *}
		PASSED=$((PASSED + p))
		FAILED=$((FAILED + f))
	fi
	if [ "$status" -ne 0 ]; then
		# A failure with nothing counted (set-up, a build error) is one.
		if [ -z "$T_RESULT" ] || [ "$f" -eq 0 ]; then
			FAILED=$((FAILED + 1))
		fi
		say "check: make $target failed (status $status)"
		summary
		exit 1
	fi
	if [ -z "$T_RESULT" ]; then
		say "check: make $target passed but printed no '$target: N passed, M failed': counted as 1 failed"
		FAILED=$((FAILED + 1))
		summary
		exit 1
	fi
}

# Can clang build and link a libFuzzer harness here?
fuzz_toolchain() {
	command -v clang >/dev/null 2>&1 || return 1
	probe=$(mktemp -d "${TMPDIR:-/tmp}/dev-fuzz.XXXXXX")
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
	    '{ (void)d; (void)n; return 0; }' >"$probe/p.c"
	rc=0
	clang -fsanitize=fuzzer,address,undefined "$probe/p.c" \
	    -o "$probe/p" >/dev/null 2>&1 || rc=1
	rm -rf "$probe"
	return "$rc"
}

# The libFuzzer harnesses (tests/fuzz), FUZZ_SECONDS each (60 by
# default), in a clang build of their own; "fuzz: N passed, M failed"
# goes into the totals.  Without clang's libFuzzer, after deps tried to
# install it: SKIPPED, loudly, never counted as passed.
fuzz_check() {
	if ! fuzz_toolchain; then
		FUZZ_SKIPPED="clang cannot link -fsanitize=fuzzer ($FUZZ_PACKAGES not installed, and deps could not install them)"
		fuzz_skip_banner
		return 0
	fi
	# --enable-werror here too: clang's warnings are not all gcc's.
	configure_in "$BUILD_FUZZ" --enable-fuzz --enable-werror \
	    --with-libsystemd=no CC=clang
	say "check: make -j$JOBS in $BUILD_FUZZ (clang, libFuzzer, ASan+UBSan)"
	make -j"$JOBS"
	say "check: make fuzz in $BUILD_FUZZ (FUZZ_SECONDS=${FUZZ_SECONDS:-60} each)"
	fuzzlog=$(mktemp "${TMPDIR:-/tmp}/dev-fuzz.XXXXXX")
	status=0
	{ make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" 2>&1 ||
	    echo "$?" >"$fuzzlog.rc"; } | tee "$fuzzlog"
	[ -f "$fuzzlog.rc" ] && status=$(cat "$fuzzlog.rc")
	FUZZ_RESULT=$(grep -E '^fuzz: [0-9]+ passed, [0-9]+ failed$' "$fuzzlog" |
	    tail -n 1) || true
	rm -f "$fuzzlog" "$fuzzlog.rc"
	f=0
	if [ -n "$FUZZ_RESULT" ]; then
		p=${FUZZ_RESULT#fuzz: }
		p=${p%% *}
		f=${FUZZ_RESULT#*, }
		f=${f%% *}
		PASSED=$((PASSED + p))
		FAILED=$((FAILED + f))
	fi
	if [ "$status" -ne 0 ] || [ -z "$FUZZ_RESULT" ]; then
		if [ -z "$FUZZ_RESULT" ] || [ "$f" -eq 0 ]; then
			FAILED=$((FAILED + 1))
		fi
		say "check: make fuzz failed (status $status)"
		summary
		exit 1
	fi
}

# mmapd on a real /dev/mem and PCI devices (QEMU, busybox, a kernel).
vm_check() {
	vm_target check-vm tests/vm/setup.sh "VM tests" VM
	[ -z "$VM_SKIPPED" ] || vm_skip_banner
}

# The installed mmapd under systemd as PID 1 (a Debian root, made once).
systemd_check() {
	vm_target check-systemd tests/vm-systemd/setup.sh "systemd VM test" \
	    SYSTEMD
	[ -z "$SYSTEMD_SKIPPED" ] || systemd_skip_banner
}

cmd_check() {
	start=$(date +%s)
	cmd_build
	make_check "$BUILD" plain

	# Without libsystemd here, so that mmapd's own notify datagram is tested
	# too (the plain build uses sd_notify when libsystemd-dev is there).
	configure_in "$BUILD_ASAN" --enable-sanitizers --enable-werror --with-libsystemd=no
	say "check: make -j$JOBS in $BUILD_ASAN (ASan+UBSan)"
	make -j"$JOBS"
	make_check "$BUILD_ASAN" asan

	# Line coverage: make check once more in a gcov build (-O0), every
	# process's counts summed, mmapd's (as nobody, sandboxed) included;
	# tests/coverage.sh prints them per file.
	configure_in "$BUILD_COV" --enable-coverage --enable-werror --with-libsystemd=no
	say "check: make -j$JOBS in $BUILD_COV (gcov)"
	make -j"$JOBS"
	COV_RAN=yes
	make_check "$BUILD_COV" cov coverage

	say "check: make distcheck in $BUILD"
	status=0
	(cd "$BUILD" && make -j"$JOBS" distcheck) || status=$?
	if [ "$status" -ne 0 ]; then
		# The distcheck tree is left in place on failure.
		for d in "$BUILD"/mmapd-*/_build/sub; do
			[ -d "$d" ] && show_failures "$d"
		done
		say "check: make distcheck failed"
		summary
		exit 1
	fi

	# configure --prefix=DIR with criterion hidden, make install as uid
	# 65534: its "install-prefix: N passed, M failed" is counted.
	say "check: sh tests/install-prefix.sh"
	iplog=$(mktemp "${TMPDIR:-/tmp}/dev-prefix.XXXXXX")
	status=0
	{ JOBS=$JOBS sh "$SRCDIR/tests/install-prefix.sh" 2>&1 ||
	    echo "$?" >"$iplog.rc"; } | tee "$iplog"
	[ -f "$iplog.rc" ] && status=$(cat "$iplog.rc")
	ip=$(grep -E '^install-prefix: [0-9]+ passed, [0-9]+ failed$' "$iplog" |
	    tail -n 1) || true
	rm -f "$iplog" "$iplog.rc"
	p=$(printf '%s\n' "$ip" | sed -n 's/^install-prefix: \([0-9]*\) .*/\1/p')
	f=$(printf '%s\n' "$ip" | sed -n 's/.*, \([0-9]*\) failed$/\1/p')
	PASSED=$((PASSED + ${p:-0}))
	FAILED=$((FAILED + ${f:-0}))
	if [ "$status" -ne 0 ] || [ -z "$ip" ]; then
		[ "${f:-0}" -gt 0 ] || FAILED=$((FAILED + 1))
		say "check: tests/install-prefix.sh failed"
		summary
		exit 1
	fi

	fuzz_check
	vm_check
	# The packages check-systemd installs: built (and lintian-checked)
	# here, once, so that a failure is the build's, said as such.
	status=0
	cmd_deb --if-needed || status=$?
	if [ "$status" -ne 0 ]; then
		FAILED=$((FAILED + 1))
		say "check: the Debian packages did not build (scripts/deb.sh)"
		summary
		exit 1
	fi
	PASSED=$((PASSED + 1))
	systemd_check
	end=$(date +%s)
	if [ -n "$FUZZ_SKIPPED" ] || [ -n "$VM_SKIPPED" ] ||
	    [ -n "$SYSTEMD_SKIPPED" ]; then
		say "check: all that ran passed in $((end - start)) s; SKIPPED:${FUZZ_SKIPPED:+ fuzz tests}${VM_SKIPPED:+ VM tests}${SYSTEMD_SKIPPED:+ systemd VM test}"
	else
		say "check: all passed in $((end - start)) s (unit tests plain, under ASan+UBSan and with gcov, distcheck, fuzz tests, VM tests, systemd VM test)"
	fi
	summary
}

# ---------------------------------------------------------------------------
case ${1:-} in
deps)		cmd_deps ;;
build)		cmd_build ;;
demo)		cmd_demo ;;
check)		cmd_check ;;
deb)		cmd_deb ;;
bench)		cmd_bench ;;
-h|--help|help)	usage ;;
'')		usage >&2; exit 2 ;;
*)		say "unknown command '$1'" >&2; usage >&2; exit 2 ;;
esac
