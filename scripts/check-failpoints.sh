#!/usr/bin/env bash
# Checks whether the built libraries and the ctca binary hold the crash
# tests' pause points (core/base/failpoint_int.h): none in a build
# configured without -DCTCA_FAILPOINTS=ON, which is what is released.
#   scripts/check-failpoints.sh BUILD_DIR absent|present
# "present" checks a test build, so that the patterns are known to find them.
set -euo pipefail
build=${1:?usage: check-failpoints.sh BUILD_DIR absent|present}
want=${2:?usage: check-failpoints.sh BUILD_DIR absent|present}
shopt -s nullglob
files=("$build"/libctca_*.a)
[ -x "$build/ctca" ] && files+=("$build/ctca")
[ ${#files[@]} -gt 0 ] || { echo "check-failpoints: nothing built in $build" >&2; exit 2; }
# The function, its environment variable, its message and the steps named
# only by pause points.
found=$( { nm -A "${files[@]}" 2>/dev/null | grep -E ' [TtWw] ctca_test_pause$' || true
           for f in "${files[@]}"; do
               strings -a "$f" | grep -E 'CTCA_TEST_PAUSE_AT|paused at|^(queue-leased|queue-sct|queue-done|batch-claimed)$' |
                   sed "s|^|$f: |" || true
           done; } | sort -u)
case "$want" in
absent)
    if [ -n "$found" ]; then
        echo "check-failpoints: a build without CTCA_FAILPOINTS holds pause points:"
        echo "$found"
        exit 1
    fi
    echo "check-failpoints: no pause point in $build" ;;
present)
    if [ -z "$found" ]; then
        echo "check-failpoints: no pause point found in the test build $build (a stale pattern?)"
        exit 1
    fi
    echo "check-failpoints: the test build $build has its pause points" ;;
*) echo "usage: check-failpoints.sh BUILD_DIR absent|present" >&2; exit 2 ;;
esac
