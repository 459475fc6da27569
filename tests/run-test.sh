#!/bin/sh
# Run one test binary for automake's test harness (LOG_COMPILER).
#
# Criterion runs every test in a worker process and does not look at how
# the worker exits after the test has reported, so a sanitizer report
# printed at a worker's exit (LeakSanitizer's, typically) would leave the
# run green.  This runs the binary, passes its output and exit status on,
# and fails the run when the output holds a sanitizer report.
set -u

out=$(mktemp "${TMPDIR:-/tmp}/mmapd-test.XXXXXX") || exit 99
trap 'rm -f "$out"' EXIT HUP INT TERM

status=0
"$@" >"$out" 2>&1 || status=$?
cat "$out"

if grep -E -q 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer' "$out"; then
	echo "run-test.sh: $1: sanitizer report in the output above: failing this test" >&2
	[ "$status" -ne 0 ] || status=1
fi
exit "$status"
