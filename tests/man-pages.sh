#!/bin/sh
# The manual pages (man/): free of warnings, and not behind the code.
#
# 1. Lint: mandoc -T lint -W warning, and groff -mandoc -ww, on every
#    page; any message fails it, and so does having neither installed.
# 2. Drift: what the code offers is read from the code itself, so that a
#    new option, key, command, function or errno fails here until its
#    page says it:
#    - mmapd(8): every option of `mmapd --help` and of main.c's option
#      table (.Fl); every errno a request can be refused with, as
#      session.c, policy_check(), the engine and the drivers set it (an
#      .It Bq Er item);
#    - mmapd.conf(5): every key of policy-keys.c's tables (an .It Ic
#      item, and a line of daemon/mmapd.conf.example) and every section
#      (policy-read.c);
#    - mmapctl(1): every command (.It Cm) and option (.Fl) of mmapctl's
#      --help and of its sources;
#    - libmmapclient(3): every function of <mmapclient.h> and of the
#      version script (.Nm and .Fn) and every MMAPCLIENT_ constant.
#
# make check runs it with srcdir, MMAPD_BIN and MMAPCTL_BIN set.  It ends
# with "man-pages: N passed, M failed".
set -u

srcdir=${srcdir:-.}
MMAPD_BIN=${MMAPD_BIN:-./daemon/mmapd}
MMAPCTL_BIN=${MMAPCTL_BIN:-./client/mmapctl}
MAN=$srcdir/man
PAGES="mmapd.8 mmapd.conf.5 mmapctl.1 libmmapclient.3"

passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/man-pages.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

pass() {
	passed=$((passed + 1))
}

fail() {
	failed=$((failed + 1))
	printf 'man-pages: FAIL: %s\n' "$*"
}

# has FILE ERE: FILE has a line matching ERE.
has() {
	grep -E -q -- "$2" "$1"
}

# check FILE ERE WHAT: one check, named by WHAT when it fails.
check() {
	if has "$1" "$2"; then
		pass
	else
		fail "$3"
	fi
}

# Regular-expression specials in a name (keys hold _, options -).
quote() {
	printf '%s\n' "$1" | sed 's/[.[\*^$+?(){}|]/\\&/g'
}

# ---------------------------------------------------------------------------
# Lint
# ---------------------------------------------------------------------------
lint_tool=
command -v mandoc >/dev/null 2>&1 && lint_tool="$lint_tool mandoc"
command -v groff >/dev/null 2>&1 && lint_tool="$lint_tool groff"
for p in $PAGES; do
	if [ ! -f "$MAN/$p" ]; then
		fail "$MAN/$p is missing"
		continue
	fi
	case $lint_tool in
	*mandoc*)
		status=0
		mandoc -T lint -W warning "$MAN/$p" >"$tmp/out" 2>&1 || status=$?
		if [ "$status" -ne 0 ] || [ -s "$tmp/out" ]; then
			fail "mandoc -T lint -W warning $p (status $status):"
			sed 's/^/    /' "$tmp/out"
		else
			pass
		fi
		;;
	esac
	case $lint_tool in
	*groff*)
		status=0
		groff -mandoc -Tutf8 -ww -z "$MAN/$p" >"$tmp/out" 2>&1 || status=$?
		if [ "$status" -ne 0 ] || [ -s "$tmp/out" ]; then
			fail "groff -mandoc -ww $p (status $status):"
			sed 's/^/    /' "$tmp/out"
		else
			pass
		fi
		;;
	esac
done
# The set-up installs mandoc: a page not linted is a failure, not a skip.
if [ -z "$lint_tool" ]; then
	fail "neither mandoc nor groff is installed: the pages cannot be" \
	    "linted (sh scripts/dev.sh deps installs mandoc)"
fi

# ---------------------------------------------------------------------------
# mmapd(8): options
# ---------------------------------------------------------------------------
page=$MAN/mmapd.8
status=0
"$MMAPD_BIN" --help >"$tmp/help" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
	fail "$MMAPD_BIN --help exited $status:"
	sed 's/^/    /' "$tmp/help"
fi

# options FILE...: every -x and --long-name the files mention, one a line.
options() {
	cat "$@" | tr -c 'A-Za-z0-9-' '\n' | grep -E '^(-[A-Za-z]|--[a-z][a-z0-9-]*)$'
}

# The option table and getopt's short options, as the source has them.
source_options() {
	sed -n 's/.*{ *"\([a-z][a-z0-9-]*\)", *\(no\|required\|optional\)_argument.*/--\1/p' "$@"
	sed -n 's/.*getopt_long([^"]*"\([^"]*\)".*/\1/p' "$@" |
	    tr -d '+:' | sed 's/./-&\n/g' | grep -E '^-[A-Za-z]$'
}

# check_options PAGE FILE...: every option of FILEs is an .Fl of PAGE.
check_options() {
	cpage=$1
	shift
	for opt in $({ options "$tmp/help"; source_options "$@"; } | sort -u); do
		name=$(quote "${opt#-}")
		check "$cpage" "Fl $name([^A-Za-z0-9-]|\$)" \
		    "${cpage##*/}: option $opt is not documented (.Fl ${opt#-})"
	done
}

check_options "$page" "$srcdir/daemon/main.c"

# ---------------------------------------------------------------------------
# mmapd(8): what a request can be refused with
# ---------------------------------------------------------------------------
{
	# session.c answers every request, with session-map.c (Map) and
	# session-reg.c (Read, Write).
	grep -hoE -- '-E[A-Z]+' "$srcdir"/daemon/session*.c
	# Any reply_error() elsewhere (the server, limits).
	grep -hoE 'reply_error\([^;]*-E[A-Z]+' "$srcdir"/daemon/*.c |
	    grep -oE -- '-E[A-Z]+'
	# The policy's verdicts.
	sed -n '/^policy_check(/,/^}/p' "$srcdir/daemon/policy-check.c" |
	    grep -oE -- '-E[A-Z]+'
	# The engine and the drivers: an errno returned with its reason, and
	# the error filters of the actions.
	for f in "$srcdir/daemon/engine.c" "$srcdir"/daemon/devices/*.c; do
		awk '/(\*msg|desc->reason) = /{ m = 3 }
		    m > 0 && /return -E[A-Z]+/ {
			match($0, /-E[A-Z]+/); print substr($0, RSTART, RLENGTH)
		    }
		    { if (m > 0) m-- }' "$f"
		grep -oE 'error_filter = -E[A-Z]+' "$f" | grep -oE -- '-E[A-Z]+'
	done
} | sed 's/^-//' | sort -u >"$tmp/errnos"
if [ ! -s "$tmp/errnos" ]; then
	fail "found no errno in daemon/session.c and friends: has the code moved?"
fi
for e in $(cat "$tmp/errnos"); do
	check "$page" "^\\.It Bq Er (.* )?$e( |,|\$)" \
	    "mmapd.8: errno $e, which a request can get, is not under REQUEST ERRORS (.It Bq Er $e)"
done

# ---------------------------------------------------------------------------
# mmapd.conf(5): keys and sections
# ---------------------------------------------------------------------------
page=$MAN/mmapd.conf.5
example=$srcdir/daemon/mmapd.conf.example
policy=$srcdir/daemon/policy-keys.c
{
	# Key tables: [KEY_X] = { "name", ... } or { "name", ... }.
	sed -n 's/^[[:space:]]*\(\[[A-Z_]*\][[:space:]]*=[[:space:]]*\)\{0,1\}{[[:space:]]*"\([a-z_][a-z_0-9]*\)",.*/\2/p' "$policy"
	# Keys told apart by name.
	sed -n 's/.*strcmp(key, "\([a-z_][a-z_0-9]*\)").*/\1/p' "$policy"
	# The keys the example names (set or commented out).
	sed -n 's/^#\{0,1\}[[:space:]]*\([a-z_][a-z_0-9]*\)[[:space:]]*=.*/\1/p' "$example"
} | sort -u >"$tmp/keys"
if [ "$(wc -l <"$tmp/keys")" -lt 10 ]; then
	fail "found only $(wc -l <"$tmp/keys") policy keys in $policy: has the key table moved?"
fi
for k in $(cat "$tmp/keys"); do
	q=$(quote "$k")
	check "$page" "^\\.It Ic $q( |\$)" \
	    "mmapd.conf.5: key '$k' has no entry (.It Ic $k)"
	check "$example" "^#?[[:space:]]*$q[[:space:]]*=" \
	    "mmapd.conf.example: key '$k' is not named"
done
for s in $(sed -n 's/.*strcmp(inner, "\([a-z_]*\)").*/\1/p' \
    "$srcdir/daemon/policy-read.c" | sort -u); do
	check "$page" "Ic .*\\[$s\\]" \
	    "mmapd.conf.5: section [$s] is not documented"
	check "$example" "^\\[$s\\]" \
	    "mmapd.conf.example: section [$s] is missing"
done

# ---------------------------------------------------------------------------
# mmapctl(1): commands and options
# ---------------------------------------------------------------------------
page=$MAN/mmapctl.1
status=0
"$MMAPCTL_BIN" --help >"$tmp/help" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
	fail "$MMAPCTL_BIN --help exited $status:"
	sed 's/^/    /' "$tmp/help"
fi
check_options "$page" "$srcdir"/client/mmapctl*.c
{
	sed -n 's/.*strcmp(cmd, "\([a-z][a-z-]*\)").*/\1/p' "$srcdir"/client/mmapctl*.c
	# --help: the first word of each "  command" line under Commands:.
	sed -n '/^Commands:/,/^Options:/s/^  \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p' "$tmp/help"
} | sort -u >"$tmp/cmds"
if [ "$(wc -l <"$tmp/cmds")" -lt 3 ]; then
	fail "found only $(wc -l <"$tmp/cmds") mmapctl commands: has the code moved?"
fi
for c in $(cat "$tmp/cmds"); do
	check "$page" "^\\.It Cm $c( |\$)" \
	    "mmapctl.1: command '$c' has no entry (.It Cm $c)"
done

# ---------------------------------------------------------------------------
# libmmapclient(3): functions and constants
# ---------------------------------------------------------------------------
page=$MAN/libmmapclient.3
header=$srcdir/include/mmapclient.h
{
	grep -oE '\<mmapclient_[a-z_]+ *\(' "$header" | tr -d ' ('
	grep -oE '^[[:space:]]*mmapclient_[a-z_]+;' "$srcdir/client/mmapclient.sym" |
	    tr -d ' \t;'
} | sort -u >"$tmp/funcs"
if [ "$(wc -l <"$tmp/funcs")" -lt 10 ]; then
	fail "found only $(wc -l <"$tmp/funcs") functions in $header"
fi
for f in $(cat "$tmp/funcs"); do
	check "$page" "^\\.Nm $f( |,|\$)" \
	    "libmmapclient.3: $f is not in NAME (.Nm $f)"
	check "$page" "^\\.Fn $f( |\$)" \
	    "libmmapclient.3: $f is not in SYNOPSIS (.Fn $f)"
done
for k in $(grep -oE '\<MMAPCLIENT_[A-Z0-9_]+' "$header" | grep -v '^MMAPCLIENT_H$' | sort -u); do
	check "$page" "(^|[^A-Z0-9_])$k([^A-Z0-9_]|\$)" \
	    "libmmapclient.3: constant $k is not mentioned"
done
env=$(sed -n 's/^#define[[:space:]]*MMAPCLIENT_SOCKET_ENV[[:space:]]*"\(.*\)"/\1/p' "$header")
sock=$(sed -n 's/^#define[[:space:]]*MMAPCLIENT_DEFAULT_SOCKET[[:space:]]*"\(.*\)"/\1/p' "$header")
for p in mmapctl.1 libmmapclient.3; do
	check "$MAN/$p" "Ev ${env:-MMAPCLIENT_SOCKET_ENV-not-found}( |\$)" \
	    "$p: the environment variable ${env:-?} is not documented"
	check "$MAN/$p" "Pa ${sock:-MMAPCLIENT_DEFAULT_SOCKET-not-found}( |\$)" \
	    "$p: the default socket ${sock:-?} is not documented"
done

echo "man-pages: linted with:${lint_tool:- nothing}"
echo "man-pages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
