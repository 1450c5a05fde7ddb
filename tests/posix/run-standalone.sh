#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build every test of this folder against the C library alone and run it, without meson.
#
#   tests/posix/run-standalone.sh [-k] [/path/to/libposixaio.so] [test-name ...]
#
# With a library path the tests run with it in LD_PRELOAD (prepended to any existing
# LD_PRELOAD); without one they run on the plain C library. Test names (file names without .c)
# select a subset. -k keeps the build directory. CC and CFLAGS (added to the usual flags) choose
# the compiler; environment such as POSIXAIO_ENGINE or TEST_TIMEOUT_SCALE is passed through.
# Prints PASS/FAIL/SKIP per test, the output of failures, and a summary line.
set -u

here=$(cd "$(dirname "$0")" && pwd)
keep=0
if [ "${1:-}" = "-k" ]; then
	keep=1
	shift
fi
preload=
case "${1:-}" in
*.so | *.so.*)
	preload=$(realpath "$1")
	shift
	[ -f "$preload" ] || { echo "no such library: $preload" >&2; exit 2; }
	;;
esac

cc=${CC:-cc}
cflags="-O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread ${CFLAGS:-}"
out=$(mktemp -d "${TMPDIR:-/tmp}/posixaio-posix.XXXXXX") || exit 2
if [ "$keep" = 0 ]; then
	trap 'rm -rf "$out"' EXIT
else
	echo "build directory: $out"
fi

if [ $# -gt 0 ]; then
	tests="$*"
else
	tests=$(cd "$here" && ls *.c | sed 's/\.c$//')
fi

pass=0 fail=0 skipped=0 failed_names=
for t in $tests; do
	if ! $cc $cflags -o "$out/$t" "$here/$t.c" -lrt -ldl 2>"$out/$t.build"; then
		echo "FAIL $t (does not build)"
		sed 's/^/    /' "$out/$t.build"
		fail=$((fail + 1))
		failed_names="$failed_names $t"
		continue
	fi
	if [ -n "$preload" ]; then
		LD_PRELOAD="$preload${LD_PRELOAD:+:$LD_PRELOAD}" timeout 60 "$out/$t" \
			>"$out/$t.log" 2>&1
	else
		timeout 60 "$out/$t" >"$out/$t.log" 2>&1
	fi
	rc=$?
	case $rc in
	0)
		echo "PASS $t"
		pass=$((pass + 1))
		;;
	77)
		echo "SKIP $t: $(grep -m1 'SKIP' "$out/$t.log" | sed 's/.*cannot run here: //')"
		skipped=$((skipped + 1))
		;;
	*)
		echo "FAIL $t (exit $rc)"
		sed 's/^/    /' "$out/$t.log"
		fail=$((fail + 1))
		failed_names="$failed_names $t"
		;;
	esac
done
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" = 0 ]
