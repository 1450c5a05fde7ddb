#!/bin/sh
# The example file server (examples/fileserver.c: one epoll loop, aio_read, posixaio_fd and
# aio_waitcomplete) under load from examples/fileclient, which checks every byte:
#   1. 32 clients x 50 pipelined requests over ~40 files from 0 bytes to a few MiB;
#   2. clients that reset their connection in the middle of answers, so the server cancels
#      reads in flight and frees a connection only once its reads are claimed (the client
#      drops the files from the page cache first, so that more reads are still in flight);
#      then a normal run again, to show the server is still sound;
#   3. SIGTERM: the server must exit 0 (it claims every read before exiting, and exits 1 if
#      one never comes back);
#   4. SIGTERM while 16 clients are loading it: the server must exit 0 all the same;
#   5. -n N: a fresh server must exit 0 by itself after answering N requests.
# The engine comes from POSIXAIO_ENGINE in the environment, as for every test. The server's
# stderr may hold only its "engine" and "served" lines. Every step is bounded by a timeout.
# Usage: fileserver-test.sh SERVER CLIENT   (SERVER may also be examples/fileserver-threads)
set -u
server=$1 client=$2
scale=${TEST_TIMEOUT_SCALE:-1}
step_timeout=$((60 * scale))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fileserver-test.XXXXXX") || exit 1
# server_pid and client_pid are timeout(1) processes: a TERM sent to them reaches the
# program, and a KILL follows a few seconds later if it did not end. They run with
# --foreground so that timeout sends the TERM to the program alone: without it, it also
# sends a SIGCONT, which can land while a LeakSanitizer build is exiting and cancel the
# SIGSTOP its leak check stops the threads with (PTRACE_ATTACH), hanging it for good.
server_pid= client_pid=
cleanup() {
	for pid in $server_pid $client_pid; do
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail() {
	echo "FAIL fileserver (${POSIXAIO_ENGINE:-auto}, $(basename "$server")): $*" >&2
	for f in "$tmp"/server.err "$tmp"/client.err; do
		[ -s "$f" ] && sed "s|^|  $(basename "$f"): |" "$f" >&2
	done
	exit 1
}

# ~40 files of pseudo-random content: the edges of a page and of the server's 64 KiB
# chunks, a few MiB, and sizes in between.
mkdir "$tmp/files"
i=0
for size in 0 1 2 511 4095 4096 4097 65535 65536 65537 131071 131072 131073 200000 \
	1048575 1048576 1048577 2097152 3145733 4194304 5242893; do
	head -c "$size" /dev/urandom >"$tmp/files/f$i.$size" || fail "cannot make test files"
	i=$((i + 1))
done
for size in $(awk 'BEGIN { srand(7); for (i = 0; i < 19; i++) print int(rand() * 300000) }'); do
	head -c "$size" /dev/urandom >"$tmp/files/r$i.$size" || fail "cannot make test files"
	i=$((i + 1))
done

# Start the server with the given extra options; sets server_pid and port.
start_server() {
	: >"$tmp/server.out"
	timeout --foreground -k 5 $((4 * step_timeout)) "$server" -p 0 -d "$tmp/files" "$@" \
		>"$tmp/server.out" 2>"$tmp/server.err" &
	server_pid=$!
	port=
	n=0
	while [ -z "$port" ] && [ $n -lt $((100 * scale)) ]; do
		port=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$tmp/server.out")
		kill -0 "$server_pid" 2>/dev/null || break
		[ -n "$port" ] || sleep 0.1
		n=$((n + 1))
	done
	[ -n "$port" ] || fail "the server did not print its port"
}

# Wait for the server to end by itself within the step timeout; sets status.
wait_server() {
	n=0
	while kill -0 "$server_pid" 2>/dev/null && [ $n -lt $((10 * step_timeout)) ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -0 "$server_pid" 2>/dev/null &&
		fail "the server did not exit within ${step_timeout}s $1"
	wait "$server_pid"
	status=$?
	server_pid=
}

run_client() {
	timeout -s KILL "$step_timeout" "$client" -p "$port" -d "$tmp/files" -t "$step_timeout" \
		"$@" >"$tmp/client.out" 2>"$tmp/client.err"
	status=$?
	[ $status -eq 0 ] || fail "client $* exited with $status"
	grep -q '^ok clients=' "$tmp/client.out" || fail "client $* printed no ok line"
	echo "  client $*: $(cat "$tmp/client.out")"
}

check_server_stderr() {
	if grep -v -e '^fileserver: engine ' -e '^fileserver[-a-z]*: served ' "$tmp/server.err" |
		grep -q .; then
		fail "the server complained"
	fi
}

echo "fileserver test: $(basename "$server"), POSIXAIO_ENGINE=${POSIXAIO_ENGINE:-unset}," \
	"$(ls "$tmp/files" | wc -l) files"

start_server
sed -n 's/^fileserver: /  server: /p' "$tmp/server.err"
run_client -c 32 -r 50 -P 4 -s 1
run_client -c 1 -r 200 -P 1 -s 2
run_client -c 16 -r 50 -P 8 -x 20 -s 3 -C
grep -q ' aborted=0 ' "$tmp/client.out" && fail "no request was aborted with -x 20"
run_client -c 8 -r 40 -P 4 -x 100 -s 4 -C
run_client -c 32 -r 20 -P 4 -s 5
kill -TERM "$server_pid"
wait_server "after SIGTERM"
[ $status -eq 0 ] || fail "the server exited with $status after SIGTERM"
check_server_stderr
sed -n 's/^fileserver[-a-z]*: served/  server: served/p' "$tmp/server.err"

# SIGTERM in the middle of a load, with reads in flight: the server must still claim them all
# and exit 0. The client then fails, as it should, since its server went away.
start_server
timeout --foreground -k 5 "$step_timeout" "$client" -p "$port" -d "$tmp/files" -t "$step_timeout" \
	-c 16 -r 100000 -P 8 -C -s 7 >/dev/null 2>&1 &
client_pid=$!
sleep 0.5
kill -TERM "$server_pid"
wait_server "after SIGTERM under load"
[ $status -eq 0 ] || fail "the server exited with $status after SIGTERM under load"
check_server_stderr
wait "$client_pid"
status=$?
client_pid=
[ $status -eq 1 ] || fail "the client did not fail when its server stopped under it"
sed -n 's/^fileserver[-a-z]*: served/  server stopped under load: served/p' "$tmp/server.err"

start_server -n 200
run_client -c 4 -r 50 -P 2 -s 6
wait_server "after answering the 200 requests of -n 200"
[ $status -eq 0 ] || fail "the server exited with $status after -n 200"
check_server_stderr
grep -q '^fileserver[-a-z]*: served 200 requests' "$tmp/server.err" ||
	fail "the server did not report 200 requests served"

echo "PASS fileserver (${POSIXAIO_ENGINE:-auto}, $(basename "$server"))"
