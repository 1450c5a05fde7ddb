#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The POSIX AIO fuzzer (fuzz_api.c, libFuzzer).
#
#   run-fuzz.sh [SECONDS [ENGINE]]      build with clang into build-fuzz/ (meson,
#                                       ASan+UBSan) and fuzz for SECONDS (default 60) on
#                                       ENGINE (uring, kaio; default uring)
#   run-fuzz.sh --run FUZZER NAME SECONDS CORPUS WORKDIR
#                                       fuzz with an existing binary (what meson test runs)
#   run-fuzz.sh --regress FUZZER CORPUS run every stored input once
#
# New inputs go to WORKDIR (or build-fuzz/tests/fuzz/work), never into CORPUS; a crash is
# written as crash-* there: copy it into tests/fuzz/corpus/ as a regression input.
# FUZZ_WRAPPER, if set, is a command put in front of the fuzzer (tools/no-uring).
set -eu

fuzz_run() {
	exe=$1 name=$2 secs=$3 corpus=$4 work=$5
	mkdir -p "$work/$name"
	# -timeout: one input hanging 20 s is a hang; -rss_limit_mb: ASan's overhead.
	${FUZZ_WRAPPER:-} "$exe" -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 \
		-error_exitcode=1 -timeout_exitcode=1 		-artifact_prefix="$work/$name/" -print_final_stats=1 "$work/$name" "$corpus"
}

case "${1:-}" in
--run)
	shift
	fuzz_run "$@"
	;;
--regress)
	exe=$2 corpus=$3
	# shellcheck disable=SC2086
	${FUZZ_WRAPPER:-} "$exe" -timeout=20 -error_exitcode=1 -timeout_exitcode=1 "$corpus"/*
	;;
*)
	secs=${1:-60} engine=${2:-uring}
	root=$(cd "$(dirname "$0")/../.." && pwd)
	cd "$root"
	if [ ! -d build-fuzz ]; then
		CC=clang meson setup build-fuzz -Dwerror=true -Db_sanitize=address,undefined \
			-Db_lundef=false -Dopts=disabled --buildtype=debug
	fi
	ninja -C build-fuzz tests/fuzz/fuzz_api
	POSIXAIO_ENGINE=$engine fuzz_run build-fuzz/tests/fuzz/fuzz_api "$engine" "$secs" \
		tests/fuzz/corpus build-fuzz/tests/fuzz/work
	;;
esac
