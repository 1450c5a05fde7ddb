#!/bin/sh
# The posixaio wrapper: it is executable as built, puts the library in front of an LD_PRELOAD
# already set (which it keeps), accepts --, and a glibc-built program run through it binds to
# the library.
# Usage: wrapper.sh WRAPPER LIBRARY GLIBC_BUILT_BINDING_TEST
set -u
wrapper=$1 lib=$2 prog=$3
fail() { echo "FAIL wrapper: $*" >&2; exit 1; }

# Run by its path, as a user would: it must be executable in the build tree.
[ -x "$wrapper" ] || fail "$wrapper is not executable"
got=$(POSIXAIO_LIBRARY=$lib LD_PRELOAD=/nonexistent/other.so "$wrapper" -- sh -c 'echo "$LD_PRELOAD"' 2>/dev/null)
[ "$got" = "$lib /nonexistent/other.so" ] || fail "LD_PRELOAD is '$got', expected '$lib /nonexistent/other.so'"
got=$(POSIXAIO_LIBRARY=$lib "$wrapper" sh -c 'echo "$LD_PRELOAD"')
[ "$got" = "$lib" ] || fail "LD_PRELOAD is '$got' without a previous one, expected '$lib'"
"$wrapper" >/dev/null 2>&1 && fail "no program given, yet it succeeded"
# --help names the library the wrapper would preload, which POSIXAIO_LIBRARY overrides.
got=$(POSIXAIO_LIBRARY=/nonexistent/chosen.so "$wrapper" --help 2>&1) || fail "--help failed"
case $got in
*"LD_PRELOAD=/nonexistent/chosen.so"*) ;;
*) fail "--help with POSIXAIO_LIBRARY=/nonexistent/chosen.so says: $got" ;;
esac
got=$(POSIXAIO_LIBRARY= "$wrapper" --help 2>&1) || fail "--help failed"
case $got in
*"LD_PRELOAD=/"*"/libposixaio.so.1)"*) ;;
*) fail "--help without POSIXAIO_LIBRARY does not name the installed library: $got" ;;
esac
POSIXAIO_LIBRARY=$lib "$wrapper" "$prog" || fail "$prog under the wrapper did not bind to the library"
echo "PASS wrapper"
