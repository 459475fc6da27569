#!/bin/sh
# make fuzz: run each libFuzzer harness for FUZZ_SECONDS (default 60) on
# a copy of its seed corpus, in a temporary folder (the source tree and
# the build's corpus are never written), and fail on any crash, leak,
# sanitizer report or broken contract.  One summary line a harness
# (executions, exec/s, coverage), then "fuzz: N passed, M failed".
# An input that failed is kept in BUILDDIR/tests/fuzz/artifacts/NAME/:
# fix the bug, then add the input to tests/fuzz/crashes/NAME/, where
# make check replays it for good.
#
#	run.sh BUILDDIR CORPUSDIR HARNESS...
set -u

builddir=$1
corpus=$2
shift 2
seconds=${FUZZ_SECONDS:-60}
case $seconds in
''|*[!0-9]*)
	echo "fuzz: FUZZ_SECONDS='$seconds' is not a number of seconds" >&2
	exit 2 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/mmapd-fuzz.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT HUP INT TERM

passed=0
failed=0
for name in "$@"; do
	bin=$builddir/tests/fuzz/fuzz-$name
	if [ ! -x "$bin" ]; then
		echo "fuzz: $name: $bin was not built" >&2
		failed=$((failed + 1))
		continue
	fi
	rm -rf "$work/$name"
	mkdir -p "$work/$name/corpus" "$work/$name/artifacts"
	cp "$corpus/$name"/* "$work/$name/corpus/"
	log=$work/$name/log
	# The request path takes packets a little over 4096 bytes, so the
	# size check is reached; the policy and iomem inputs are files.
	case $name in
	request|reply)	maxlen=4200 ;;
	*)		maxlen=16384 ;;
	esac
	status=0
	# -timeout: no input may take a second; -rss_limit_mb: memory kept
	# bounded.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	    -malloc_limit_mb=1024 -max_len="$maxlen" -print_final_stats=1 \
	    -artifact_prefix="$work/$name/artifacts/" \
	    "$work/$name/corpus" >"$log" 2>&1 || status=$?
	# The last status line: "#N DONE cov: C ft: F corp: ... exec/s: E".
	last=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -n 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" |
	    tail -n 1)
	cov=$(printf '%s\n' "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	report=
	if grep -E -q 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' \
	    "$log" || grep -E -q 'runtime error:|contract broken|SUMMARY: ' \
	    "$log"; then
		report=yes
	fi
	if [ "$status" -eq 0 ] && [ -z "$report" ] && [ -n "$execs" ]; then
		passed=$((passed + 1))
		printf 'fuzz: %-8s PASS %ss: %s execs, %s exec/s, cov: %s ft: %s, corpus %s\n' \
		    "$name" "$seconds" "$execs" "$rate" "${cov:-?}" "${ft:-?}" "${corp:-?}"
		continue
	fi
	failed=$((failed + 1))
	printf 'fuzz: %-8s FAIL (status %s) after %s execs, cov: %s ft: %s\n' \
	    "$name" "$status" "${execs:-?}" "${cov:-?}" "${ft:-?}"
	echo "----- the end of its log ($log) -----"
	tail -n 60 "$log"
	echo "-----"
	keep=$builddir/tests/fuzz/artifacts/$name
	mkdir -p "$keep"
	cp "$log" "$keep/log"
	for a in "$work/$name/artifacts"/*; do
		[ -f "$a" ] || continue
		cp "$a" "$keep/"
		echo "fuzz: $name: input kept: $keep/${a##*/}"
		echo "fuzz: fix the bug, then add it to tests/fuzz/crashes/$name/"
	done
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
