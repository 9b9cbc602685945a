#!/usr/bin/env bash
# Runs the whole test suite twice: a normal build, then under ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
# Two runs in one tree would build into the same directories: take turns.
exec 9>"${TMPDIR:-/tmp}/ctca-test-$(pwd | cksum | cut -d' ' -f1).lock"
flock 9

# The test builds have the crash tests' pause points; a release build has
# none, which build-release (the libraries and ctca only) shows.
scripts/bootstrap.sh --test --build-dir build -DCTCA_FAILPOINTS=ON
scripts/bootstrap.sh --test --build-dir build-asan -DCTCA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
    -DCTCA_FAILPOINTS=ON
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCTCA_FAILPOINTS=OFF \
    -DCTCA_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target ctca_cli >/dev/null

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
echo "== pause points"
scripts/check-failpoints.sh build present || status=1
scripts/check-failpoints.sh build-release absent || status=1
echo "== tests (RelWithDebInfo build)"
(cd build && ctest -j2 --output-on-failure) || status=1
echo "== tests (ASan+UBSan build)"
(cd build-asan && ctest -j2 --output-on-failure) || status=1
# Criterion's worker processes can print a sanitizer report without failing
# their test, so any report in the full log fails the run.
if grep -nE "ERROR: (Address|Leak)Sanitizer|runtime error:" \
        build-asan/Testing/Temporary/LastTest.log; then
    echo "sanitizer reports found (above, in build-asan/Testing/Temporary/LastTest.log)"
    status=1
fi
exit $status
