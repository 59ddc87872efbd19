#!/usr/bin/env bash
# test.sh: builds and runs every test against the real brokers it starts here (and stops
# on exit, by PID), then the same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export QSPLIT_REQUIRE_BROKERS=1

echo "== build"
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo

echo "== brokers"
trap 'scripts/kafka.sh stop; scripts/kafka.sh stop-cluster; scripts/sqs.sh stop; scripts/kube.sh stop; scripts/rabbitmq.sh stop' EXIT
mkdir -p build/run
start_server kafka build/run/kafka.env
echo "Kafka at $QSPLIT_KAFKA_BOOTSTRAP"
start_server kafka build/run/kafka-cluster.env start-cluster
echo "Kafka cluster (three brokers) at $QSPLIT_KAFKA_CLUSTER_BOOTSTRAP"
start_server sqs build/run/sqs.env
echo "ElasticMQ at $QSPLIT_ELASTICMQ_ENDPOINT, moto at $QSPLIT_MOTO_ENDPOINT (signatures checked)"
start_server rabbitmq build/run/rabbitmq.env
echo "RabbitMQ at $QSPLIT_RABBITMQ_URL"
start_server kube build/run/kube.env
echo "kube-apiserver: $QSPLIT_KUBECONFIG"

echo "== tests"
(cd build && ctest --output-on-failure -j2)

echo "== sanitizers (ASan + UBSan)"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DQSPLIT_SANITIZE=ON -DQSPLIT_BENCH=OFF
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j2)
