#!/bin/sh
# Line coverage of daemon/, client/ and proto/ from make check (gcov).
#
# usage: coverage.sh SRCDIR BUILDDIR    (make coverage runs it)
#
# BUILDDIR is configured with --enable-coverage.  mmapd drops to nobody
# in the tests and clients run as uid 65534, so neither could write its
# counts (.gcda) into a build tree that is root's: libgcov writes them
# under coverage-data/ instead (GCOV_PREFIX), made beforehand with every
# folder and an empty .gcda per object, writable by all.  No process has
# to make a file or folder at exit: the sandbox's coverage rules let
# libgcov open an existing file, never mkdir.  The counts are then copied
# next to the objects and read with gcov; a line counts once however
# many objects (a header's inline function) hold it.
#
# Prints the lines run of each file, each folder's total, and the lines
# run of the functions named in COVERAGE_FUNCS (those that make the
# security decisions), also into BUILDDIR/coverage.txt; exits with make
# check's status.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 SRCDIR BUILDDIR" >&2; exit 2; }
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
GCOV=${GCOV:-gcov}
MAKE=${MAKE:-make}
data=$build/coverage-data
# map_named of issue 15 is shm_create and shm_map now (daemon/shm.c);
# reg_limit became region_locate and session_reg's own range checks;
# region_locate is session_region_locate since session.c was split.
: "${COVERAGE_FUNCS:=policy_check raw_check shm_create shm_map
session_region_locate session_reg reg_do sandbox_user_find sandbox_drop
drop_verify sandbox_filter rule_args}"

cd "$build"

# ---------------------------------------------------------------------
# Fresh counts
# ---------------------------------------------------------------------
find . -path ./coverage-data -prune -o -name '*.gcda' -exec rm -f {} +
rm -rf "$data" coverage.txt
mkdir -p "$data"
find . -path ./coverage-data -prune -o -name '*.gcno' -print |
while IFS= read -r f; do
	f=${f#./}
	case $f in */*) mkdir -p "$data/${f%/*}" ;; esac
	: >"$data/${f%.gcno}.gcda"
done
find "$data" -type d -exec chmod 0777 {} +
find "$data" -type f -exec chmod 0666 {} +
objects=$(find "$data" -type f | wc -l)
[ "$objects" -gt 0 ] || {
	echo "coverage.sh: no .gcno in $build:" \
	    "not configured with --enable-coverage?" >&2
	exit 1
}

# libgcov writes PREFIX/<the object's path less STRIP leading parts>.
strip=$(printf '%s' "$build" | tr -cd / | wc -c)
GCOV_PREFIX=$data
GCOV_PREFIX_STRIP=$strip
export GCOV_PREFIX GCOV_PREFIX_STRIP
status=0
$MAKE check || status=$?
unset GCOV_PREFIX GCOV_PREFIX_STRIP

# ---------------------------------------------------------------------
# The counts, next to their objects
# ---------------------------------------------------------------------
(cd "$data" && find . -type f -size +0c) | while IFS= read -r f; do
	cp "$data/${f#./}" "$build/${f#./}"
done
written=$(cd "$data" && find . -type f -size +0c | wc -l)
echo "coverage: counts of $written of $objects objects (the others did not run)"
if [ "$written" -eq 0 ]; then
	echo "coverage.sh: no counts were written under $data" >&2
	exit 1
fi

# ---------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------
# gcov -t -b: each object's sources, annotated, on stdout, with a
# "function NAME called ..." line before each function (branch and call
# lines are skipped).  Run in the build folder: the sources' paths are
# relative to it.
# The report goes to coverage.txt too (scripts/dev.sh repeats its totals).
find . -path ./coverage-data -prune -o -name '*.gcda' -print |
while IFS= read -r f; do
	"$GCOV" -t -b -o "$f" "${f%.gcda}" 2>/dev/null || true
done |
awk -v src="$src" -v build="$build" -v funcs="$COVERAGE_FUNCS" '
# a/b/../c -> a/c, a/./b -> a/b
function canon(p,	n, i, k, part, out) {
	if (p !~ /^\//)
		p = build "/" p
	n = split(p, part, "/")
	k = 0
	for (i = 1; i <= n; i++) {
		if (part[i] == "" || part[i] == ".")
			continue
		if (part[i] == "..") {
			if (k > 0)
				k--
			continue
		}
		out[++k] = part[i]
	}
	p = ""
	for (i = 1; i <= k; i++)
		p = p "/" out[i]
	return p
}
function pct(hit, n) {
	return n > 0 ? sprintf("%6.1f%%", 100 * hit / n) : "     -"
}
BEGIN {
	nf = split(funcs, want, /[ \t\n]+/)
}
/^ *-: *0:Source:/ {
	p = $0
	sub(/^ *-: *0:Source:/, "", p)
	p = canon(p)
	file = ""
	fn = ""
	if (index(p, build "/") == 1)
		rel = substr(p, length(build) + 2)	# generated
	else if (index(p, src "/") == 1)
		rel = substr(p, length(src) + 2)
	else
		next
	if (rel ~ /^(daemon|client|proto)\//)
		file = rel
	next
}
/^function / {
	fn = $2
	next
}
file != "" && /^ *[^ :]+: *[0-9]+:/ {
	split($0, col, ":")
	count = col[1]
	line = col[2]
	gsub(/ /, "", count)
	gsub(/ /, "", line)
	if (count == "-" || line == 0)
		next
	k = file SUBSEP line
	if (!(k in exe)) {
		exe[k] = 1
		files[file] = 1
		lines[file]++
		if (fn != "") {
			fkey = file SUBSEP fn
			of[k] = fkey
			flines[fkey]++
		}
	}
	if (count ~ /^[0-9]/ && !(k in hit)) {
		hit[k] = 1
		hits[file]++
		if (k in of)
			fhits[of[k]]++
	}
}
END {
	n = 0
	for (f in files)
		list[++n] = f
	# Sorted by name (insertion sort: a few dozen files).
	for (i = 2; i <= n; i++) {
		v = list[i]
		for (j = i - 1; j >= 1 && list[j] > v; j--)
			list[j + 1] = list[j]
		list[j + 1] = v
	}
	printf "coverage: lines run by make check, per file\n"
	printf "  %-32s %6s %6s %7s\n", "file", "lines", "run", "cover"
	for (i = 1; i <= n; i++) {
		f = list[i]
		d = f
		sub(/\/.*/, "", d)
		gen = (f ~ /\.pb-c\.[ch]$/)
		printf "  %-32s %6d %6d %7s%s\n", f, lines[f], hits[f] + 0,
		    pct(hits[f], lines[f]),
		    gen ? "  (generated: not in totals)" : ""
		if (gen)
			continue
		dl[d] += lines[f]
		dh[d] += hits[f]
		tl += lines[f]
		th += hits[f]
	}
	printf "coverage: totals (hand-written code)\n"
	split("daemon client proto", dirs, " ")
	for (i = 1; i <= 3; i++)
		printf "  %-32s %6d %6d %7s\n", dirs[i] "/", dl[dirs[i]],
		    dh[dirs[i]], pct(dh[dirs[i]], dl[dirs[i]])
	printf "  %-32s %6d %6d %7s\n", "all", tl, th, pct(th, tl)
	printf "coverage: security-decision functions\n"
	printf "  %-20s %-22s %6s %6s %7s\n", "function", "file", "lines",
	    "run", "cover"
	for (i = 1; i <= nf; i++) {
		w = want[i]
		if (w == "")
			continue
		found = 0
		for (k in flines) {
			split(k, kf, SUBSEP)
			if (kf[2] != w)
				continue
			found = 1
			printf "  %-20s %-22s %6d %6d %7s\n", w "()", kf[1],
			    flines[k], fhits[k] + 0, pct(fhits[k], flines[k])
		}
		if (!found)
			printf "  %-32s not found\n", w "()"
	}
}' | tee coverage.txt

exit "$status"
