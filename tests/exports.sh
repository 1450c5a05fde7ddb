#!/bin/sh
# The library exports exactly the names of src/libposixaio.map's global list, none of them
# with a symbol version (a versioned aio_read would be passed over for glibc's by programs
# that ask for aio_read@GLIBC_2.34, and so would a versioned _exit).
# Usage: exports.sh MAP LIBRARY
set -u
map=$1 lib=$2
fail() { echo "FAIL exports: $*" >&2; exit 1; }
command -v nm >/dev/null || { echo "*** SKIP exports: no nm here ***" >&2; exit 77; }

# The map's global names: after "global:" and before "local:", comments left out.
want=$(sed -e 's|/\*.*\*/||' "$map" | sed -n '/global:/,/local:/p' | sed -e '/global:/d' -e '/local:/d' |
	tr ';' '\n' | tr -d ' \t' | sed '/^$/d' | sort)
got=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWDBVRi]$/ { print $3 }' | sort)
[ -n "$want" ] || fail "no global names read from $map"
[ "$got" = "$want" ] || {
	echo "map:      " $want >&2
	echo "exported: " $got >&2
	fail "the exported names differ from the map's global list"
}
case $got in
*@*) fail "versioned exports: $(echo "$got" | grep @)" ;;
esac
echo "PASS exports ($(echo "$got" | wc -l) names)"
