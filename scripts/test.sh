#!/usr/bin/env bash
# test.sh: builds and runs every test, then again under AddressSanitizer and
# UndefinedBehaviorSanitizer. Brokers that tests need are started here and stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export QSPLIT_REQUIRE_BROKERS=1

echo "== build"
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== tests"
(cd build && ctest --output-on-failure -j2)

echo "== sanitizers (ASan + UBSan)"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DQSPLIT_SANITIZE=ON -DQSPLIT_BENCH=OFF
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j2)
