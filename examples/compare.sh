#!/bin/sh
# Throughput of the two file servers under the same load: fileserver (one epoll loop,
# aio_read through libposixaio, on each engine asked for) against fileserver-threads (one
# blocking thread per connection, pread). The files are page-cached (read once beforehand),
# so this measures the cost of the serving machinery, not the disk.
#
# Two sets of files: "small" (200 files of 0 to 64 KiB: requests per second matter) and
# "large" (16 files of 1 to 4 MiB: bytes per second matter). For each set and each client
# count, every server runs the same fileclient load (the same seed, so the same requests);
# the runs are interleaved over the repetitions and the median is printed. Every answer is
# verified by the client, whose checking competes with the server for the same CPUs: the
# figures compare the servers with each other, they are not the servers' limits. Beside
# MiB/s and requests/s it prints the server's CPU time (user + system, as it reports at
# exit) per request: fileserver runs one thread, fileserver-threads may use every CPU.
#
# Usage: examples/compare.sh [-b bindir] [-e engines] [-c clients] [-n reps] [-P depth]
#   -b bindir   where fileserver, fileserver-threads and fileclient are (default
#               build/examples)
#   -e engines  POSIXAIO_ENGINE values for fileserver (default "uring kaio")
#   -c clients  client counts (default "16 64")
#   -n reps     repetitions (default 3)
#   -P depth    requests in flight per connection (default 4)
set -u
bindir=build/examples engines="uring kaio" client_counts="16 64" reps=3 depth=4
while getopts b:e:c:n:P: opt; do
	case $opt in
	b) bindir=$OPTARG ;;
	e) engines=$OPTARG ;;
	c) client_counts=$OPTARG ;;
	n) reps=$OPTARG ;;
	P) depth=$OPTARG ;;
	*) sed -n 's/^# Usage: /usage: /p' "$0" >&2; exit 2 ;;
	esac
done
for p in fileserver fileserver-threads fileclient; do
	[ -x "$bindir/$p" ] || { echo "compare.sh: no $bindir/$p (use -b)" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fileserver-compare.XXXXXX") || exit 1
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# Total requests per run for each set, whatever the client count: about a second of work.
mkdir "$tmp/small" "$tmp/large"
awk 'BEGIN { srand(11); for (i = 0; i < 200; i++) print i, int(rand() * 65537) }' |
	while read -r i size; do head -c "$size" /dev/urandom >"$tmp/small/s$i"; done
awk 'BEGIN { srand(12); for (i = 0; i < 16; i++) print i, 1048576 + int(rand() * 3145729) }' |
	while read -r i size; do head -c "$size" /dev/urandom >"$tmp/large/l$i"; done
cat "$tmp"/small/* "$tmp"/large/* >/dev/null
total_small=96000 total_large=2560

# run SET CLIENTS SERVER-LABEL: one measurement, appended to $tmp/results as
# "set clients label MiB/s req/s".
run() {
	set_=$1 clients=$2 label=$3
	case $label in
	threads) env= prog=fileserver-threads ;;
	*) env="POSIXAIO_ENGINE=$label" prog=fileserver ;;
	esac
	eval total=\$total_$set_
	: >"$tmp/out" # not the previous server's port
	env $env timeout -s KILL 300 "$bindir/$prog" -d "$tmp/$set_" >"$tmp/out" 2>"$tmp/err" &
	server_pid=$!
	port=
	for _ in $(seq 50); do
		port=$(sed -n 's/^port //p' "$tmp/out")
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || { echo "compare.sh: $prog did not start: $(cat "$tmp/err")" >&2; exit 1; }
	line=$(timeout -s KILL 300 "$bindir/fileclient" -p "$port" -d "$tmp/$set_" -c "$clients" \
		-r $((total / clients)) -P "$depth" -s 42)
	status=$?
	kill -TERM "$server_pid"
	wait "$server_pid"
	server_status=$?
	server_pid=
	if [ $status -ne 0 ] || [ $server_status -ne 0 ]; then
		echo "compare.sh: $label, $set_ files, $clients clients: client $status," \
			"server $server_status" >&2
		cat "$tmp/err" >&2
		exit 1
	fi
	# The engine actually serving, as the server reports it, and the server's CPU time.
	engine=$(sed -n 's/^fileserver: engine //p' "$tmp/err")
	cpu=$(sed -n 's/^fileserver[-a-z]*: served .*cpu \([0-9.]*\) s$/\1/p' "$tmp/err")
	echo "$set_ $clients ${engine:-threads} $cpu $line" | awk '{
		for (i = 5; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print $1, $2, $3, v["MiB/s"], v["req/s"], $4 * 1e6 / v["requests"]
	}' >>"$tmp/results"
}

for rep in $(seq "$reps"); do
	for set_ in small large; do
		for clients in $client_counts; do
			for label in threads $engines; do
				run "$set_" "$clients" "$label"
			done
		done
	done
	echo "repetition $rep of $reps done" >&2
done

echo "fileserver vs fileserver-threads: median of $reps, pipeline depth $depth," \
	"$(nproc) CPUs, Linux $(uname -r)"
printf '%-6s %7s  %-20s %10s %10s %16s\n' files clients server MiB/s req/s \
	"server CPU us/req"
for set_ in small large; do
	for clients in $client_counts; do
		for label in threads $(sed -n "s/^$set_ $clients \([^ ]*\) .*/\1/p" \
			"$tmp/results" | grep -v '^threads$' | sort -u); do
			awk -v s="$set_" -v c="$clients" -v l="$label" '
				$1 == s && $2 == c && $3 == l {
					m[n + 0] = $4; r[n + 0] = $5; u[n + 0] = $6; n++
				}
				function median(a, n,   i, j, t) {
					for (i = 0; i < n; i++)
						for (j = i + 1; j < n; j++)
							if (a[j] < a[i]) {
								t = a[i]; a[i] = a[j]; a[j] = t
							}
					return a[int(n / 2)]
				}
				END {
					name = l == "threads" ? "threads (pread)" : "epoll+aio " l
					printf "%-6s %7s  %-20s %10.1f %10.0f %16.1f\n", s, c, name,
						median(m, n), median(r, n), median(u, n)
				}' "$tmp/results"
		done
	done
done
