#!/bin/sh
# The benchmark still builds and runs: tests/bench/bench-grant --smoke
# against this build's mmapd and the floor broker, a few runs of 0.2 s at
# 1 and 3 clients and 50 idle connections.  It fails when a run fails or
# its figures cannot be (none, zero, a p99 below the median, no audit
# line in mmapd's log); how fast anything is, it never judges.
#
# Environment (set by make check): MMAPD_BUILDDIR, MMAPD_BIN.
set -u

build=${MMAPD_BUILDDIR:?MMAPD_BUILDDIR is not set: run this through make check}
bin=${MMAPD_BIN:?MMAPD_BIN is not set: run this through make check}
bench=$build/tests/bench/bench-grant

[ -x "$bench" ] || { echo "smoke.sh: FAIL: $bench was not built" >&2; exit 1; }
out=$(mktemp "${TMPDIR:-/tmp}/mmapd-smoke.XXXXXX") || exit 99
trap 'rm -f "$out"' EXIT HUP INT TERM

status=0
"$bench" --mmapd "$bin" --smoke >"$out" || status=$?
cat "$out"
if [ "$status" -ne 0 ]; then
	echo "smoke.sh: FAIL: bench-grant exited $status" >&2
	exit 1
fi
# The tables are there, with a row per case and client count.
for want in '| cycle | 1 |' '| cycle | 3 |' '| pipe8 | 3 | floor |' \
    '| pipe8 | 3 | mmapd |' \
    '| batch16 | 3 | mmapd |' 'cycle over batch16' 'bytes (RSS)'; do
	grep -F -q -- "$want" "$out" ||
	    { echo "smoke.sh: FAIL: no '$want' in the output" >&2; exit 1; }
done
echo "smoke.sh: PASS"
