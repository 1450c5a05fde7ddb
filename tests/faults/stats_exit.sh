#!/bin/sh
# POSIXAIO_STATS=1 prints one line for each process that used AIO, however it ended (exit(),
# _exit(), _Exit()), and none for a child that made no request or a vfork child; without it
# the program's exit status and output are the same as with glibc alone.
# Usage: stats_exit.sh PRELOAD COMMAND... (PRELOAD: the library to preload, or - when the
# program is linked with it; COMMAND: tests/faults/stats_exit, maybe behind tools/no-uring).
set -u
preload=$1; shift
fail() { echo "FAIL stats_exit: $*" >&2; exit 1; }
err=$(mktemp) || exit 1
trap 'rm -f "$err"' EXIT

run() { # STATS COMMAND...: runs it with that POSIXAIO_STATS (unset if empty), sets $status
	stats=$1; shift
	if [ "$preload" = - ]; then
		env -u POSIXAIO_STATS ${stats:+POSIXAIO_STATS=$stats} "$@" 2>"$err"
	else
		env -u POSIXAIO_STATS ${stats:+POSIXAIO_STATS=$stats} LD_PRELOAD="$preload" "$@" 2>"$err"
	fi
	status=$?
}

run 1 "$@"
[ "$status" = 3 ] || { cat "$err" >&2; fail "exit status $status with POSIXAIO_STATS=1, expected 3"; }
lines=$(grep -c '^libposixaio: engine=' "$err")
[ "$lines" = 4 ] || { cat "$err" >&2; fail "$lines stats lines, expected 4 (one per process that read)"; }
grep -v '^libposixaio: engine=' "$err" >&2 && fail "more than the stats lines on stderr"
grep -q 'engine=none' "$err" && { cat "$err" >&2; fail "a process had no engine"; }
got=$(sed -n 's/.* submitted=\([0-9]*\) completed=\([0-9]*\) .*/\1=\2/p' "$err" | sort | tr '\n' ' ')
[ "$got" = "1=1 2=2 3=3 4=4 " ] ||
	{ cat "$err" >&2; fail "submitted=completed per line: '$got', expected '1=1 2=2 3=3 4=4 '"; }

for value in '' 0; do
	run "$value" "$@"
	[ "$status" = 3 ] || { cat "$err" >&2; fail "exit status $status with POSIXAIO_STATS='$value', expected 3"; }
	[ -s "$err" ] && { cat "$err" >&2; fail "output on stderr with POSIXAIO_STATS='$value'"; }
done
echo "PASS stats_exit"
