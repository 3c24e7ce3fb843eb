#!/bin/sh
# Install the build and test dependencies (deps.sh test; as root, or with
# sudo), build three times (plain; ASan+UBSan with clang; the
# libFuzzer targets), run the whole ctest suite on the first two and the
# bounded fuzz runs on the third. The last line is the verdict.
set -eu
cd "$(dirname "$0")/../.."
contrib/scripts/deps.sh test
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DDUNDID_SANITIZE=ON
cmake --build build-asan -j"$jobs"
# libFuzzer targets: each runs over its seed corpus plus a short bounded
# search, then 5 s from an empty corpus (fuzz_NAME_empty).
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DDUNDID_FUZZ=ON
cmake --build build-fuzz -j"$jobs"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
ctest --test-dir build --output-on-failure -j"$jobs" >build/ctest.log 2>&1 || status=1
cat build/ctest.log
ctest --test-dir build-asan --output-on-failure -j"$jobs" >build-asan/ctest.log 2>&1 || status=1
cat build-asan/ctest.log
ctest --test-dir build-fuzz -R '^fuzz_' --output-on-failure -j"$jobs" >build-fuzz/ctest.log 2>&1 || status=1
cat build-fuzz/ctest.log

# One closing line over both runs: "N passed, M failed".
total() { sed -n 's/.*tests passed, \([0-9]*\) tests\{0,1\} failed out of \([0-9]*\).*/\1 \2/p' "$1"; }
set -- $(total build/ctest.log) $(total build-asan/ctest.log) $(total build-fuzz/ctest.log)
if [ $# -ne 6 ]; then
    echo "test.sh: a ctest run did not finish"
    echo "0 passed, 1 failed"
    exit 1
fi
failed=$(($1 + $3 + $5))
passed=$(($2 + $4 + $6 - failed))
[ "$failed" -eq 0 ] || status=1
echo "total: $passed passed, $failed failed"
exit $status
