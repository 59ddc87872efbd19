#!/usr/bin/env bash
# test.sh: builds and runs every test against the real brokers it starts here (and stops
# on exit, by PID), then the same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export QSPLIT_REQUIRE_BROKERS=1

# Line tables only (-g1): enough for file:line in backtraces and sanitizer reports, and it
# cuts a clean build's time by about a third against full debug information.
echo "== build ($(date +%T))"
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"

echo "== brokers ($(date +%T))"
trap 'scripts/kafka.sh stop; scripts/kafka.sh stop-cluster; scripts/sqs.sh stop; scripts/kube.sh stop; scripts/rabbitmq.sh stop; scripts/redis.sh stop; scripts/pubsub.sh stop' EXIT
mkdir -p build/run
start_server kafka build/run/kafka.env
echo "Kafka at $QSPLIT_KAFKA_BOOTSTRAP"
start_server kafka build/run/kafka-cluster.env start-cluster
echo "Kafka cluster (three brokers) at $QSPLIT_KAFKA_CLUSTER_BOOTSTRAP"
start_server sqs build/run/sqs.env
echo "ElasticMQ at $QSPLIT_ELASTICMQ_ENDPOINT, moto at $QSPLIT_MOTO_ENDPOINT (signatures checked)"
start_server rabbitmq build/run/rabbitmq.env
echo "RabbitMQ at $QSPLIT_RABBITMQ_URL"
start_server redis build/run/redis.env
echo "Redis at $QSPLIT_REDIS_URL"
start_server pubsub build/run/pubsub.env
echo "Pub/Sub test server (pstest) at $QSPLIT_PUBSUB_EMULATOR_HOST"
start_server kube build/run/kube.env
echo "kube-apiserver: $QSPLIT_KUBECONFIG"

# Four tests at a time on two cores: most of a test's time is spent waiting for brokers,
# pods and processes (the load stays near 1 at -j2), so this halves the wall time.
TEST_JOBS=${QSPLIT_TEST_JOBS:-4}
# Runs the tests of build folder $1. Their temporary files go to $1/tmp, emptied first: a
# run leaves nothing in /tmp, and the last run's files (the e2e tests' logs) stay to read.
run_tests() {
  rm -rf "$1/tmp"
  mkdir -p "$1/tmp" "$1/Testing/Temporary"
  # What each test took last time, so ctest starts the long ones first instead of finding
  # them at the end of the list (on a fresh clone: the times in tests/ctest-costs.txt).
  [ -f "$1/Testing/Temporary/CTestCostData.txt" ] ||
    cp tests/ctest-costs.txt "$1/Testing/Temporary/CTestCostData.txt"
  (cd "$1" && TMPDIR="$PWD/tmp" ctest --output-on-failure -j"$TEST_JOBS")
}
echo "== tests ($(date +%T))"
run_tests build

echo "== sanitizers (ASan + UBSan) ($(date +%T))"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g1" -DQSPLIT_SANITIZE=ON \
  -DQSPLIT_BENCH=OFF
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_tests build-asan
echo "== done ($(date +%T))"
