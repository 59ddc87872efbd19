#!/usr/bin/env bash
# bench.sh [BUILD_DIR [SECTION...]]: builds the benchmarks with optimizations, starts the
# real brokers they need (stopped on exit), and writes their results, each with its ratio
# against the baseline measured in the same run, to bench/results/. SECTIONs (router,
# sessions, kafka, sqs, rabbitmq, redis, pubsub, jq) pick some; none runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
dir=${1:-build-bench}
sections=("${@:2}")
# Whether section $1 is to run.
wanted() { [[ ${#sections[@]} -eq 0 || " ${sections[*]} " == *" $1 "* ]]; }
# Starts broker $1 for a section (stopped on exit) and exports its variables.
start() {
  start_server "$1" "$json.$1"
  rm -f "$json.$1"
}
scripts/build.sh "$dir" -DCMAKE_BUILD_TYPE=Release -DQSPLIT_BENCH=ON -DQSPLIT_TESTS=OFF
mkdir -p bench/results
json=$(mktemp)
trap 'rm -f "$json"; scripts/kafka.sh stop; scripts/sqs.sh stop; scripts/rabbitmq.sh stop; scripts/redis.sh stop; scripts/pubsub.sh stop' EXIT

if wanted router; then
  echo "== router (bench/results/router.md)"
  "$dir/bench/router_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_min_time=0.3 --benchmark_format=json --benchmark_out="$json" \
    --benchmark_out_format=json >/dev/null
  python3 bench/report_router.py "$json" > bench/results/router.md
  cat bench/results/router.md
fi

if wanted sessions; then
  echo "== sessions (bench/results/sessions.md)"
  for run in 1 2 3; do  # three processes per N, interleaved; the report takes the median
    for sessions in 1 10 100 1000; do
      "$dir/bench/sessions_bench" --sessions "$sessions" --messages 100000 --dir "$json.sessions"
    done
  done > "$json.lines"
  rm -rf "$json.sessions"
  python3 bench/report_sessions.py "$json.lines" > bench/results/sessions.md
  rm -f "$json.lines"
  cat bench/results/sessions.md
fi

if wanted kafka; then
  echo "== Kafka forwarding (bench/results/kafka.md)"
  start kafka
  # 400,000 records of 1 KiB; each clock starts after the first 40,000; every consumer may
  # prefetch 1 GiB (librdkafka 2.0 pauses a consumer whose prefetch is full for a second).
  kafka=("$dir/bench/kafka_bench" --bootstrap "$QSPLIT_KAFKA_BOOTSTRAP" --records 400000 --size 1024
    --warmup 40000)
  # Each run's figures go to stderr, kept for the report: the medians hide how far runs spread.
  table=$("${kafka[@]}" --prefetch-kbytes 1048576 2> >(tee "$json.kafka-runs" >&2))
  # The same 100 sessions: with one producer, with librdkafka's default prefetch, with
  # batches of 5,000 (qsplit's default for Kafka until 2026-11-27), and with each batch
  # settled before the next is received (likewise).
  producers=$("${kafka[@]}" --prefetch-kbytes 1048576 --sessions 100 --producers 1)
  prefetch=$("${kafka[@]}" --sessions 100)
  small=$("${kafka[@]}" --prefetch-kbytes 1048576 --sessions 100 --batch 5000)
  serial=$("${kafka[@]}" --prefetch-kbytes 1048576 --sessions 100 --one-batch-at-a-time)
  latency=""
  for sessions in 1 100; do
    latency+="$("$dir/bench/kafka_latency" --bootstrap "$QSPLIT_KAFKA_BOOTSTRAP" --rate 1000 \
      --seconds 8 --sessions "$sessions")"$'\n\n'
  done
  python3 bench/report_kafka.py "$table" "$latency" "$small" "$(cat "$json.kafka-runs")" \
    "$producers" "$prefetch" "$serial" > bench/results/kafka.md
  rm -f "$json.kafka-runs"
  cat bench/results/kafka.md
fi

if wanted sqs; then
  echo "== SQS forwarding (bench/results/sqs.md)"
  start sqs
  table=$("$dir/bench/sqs_bench" --endpoint "$QSPLIT_ELASTICMQ_ENDPOINT" --messages 10000 \
    --size 1024)
  python3 bench/report_sqs.py "$table" > bench/results/sqs.md
  cat bench/results/sqs.md
fi

if wanted rabbitmq; then
  echo "== RabbitMQ forwarding (bench/results/rabbitmq.md)"
  start rabbitmq
  table=$("$dir/bench/rabbitmq_bench" --url "$QSPLIT_RABBITMQ_URL" --messages 50000 --size 256)
  python3 bench/report_rabbitmq.py "$table" 50000 > bench/results/rabbitmq.md
  cat bench/results/rabbitmq.md
fi

if wanted redis; then
  echo "== Redis Streams forwarding (bench/results/redis.md)"
  start redis
  table=$("$dir/bench/redis_bench" --url "$QSPLIT_REDIS_URL" --messages 200000 --size 256 --repeat 3)
  python3 bench/report_redis.py "$table" 200000 > bench/results/redis.md
  cat bench/results/redis.md
  echo "== Redis Pub/Sub latency (bench/results/redis-pubsub.md)"
  table=$("$dir/bench/redis_pubsub_bench" --url "$QSPLIT_REDIS_URL" --samples 2000)
  python3 bench/report_redis_pubsub.py "$table" 2000 > bench/results/redis-pubsub.md
  cat bench/results/redis-pubsub.md
  echo "== BullMQ forwarding (bench/results/bullmq.md)"
  table=$("$dir/bench/bullmq_bench" --url "$QSPLIT_REDIS_URL" --jobs 20000 --repeat 3)
  python3 bench/report_bullmq.py "$table" 20000 > bench/results/bullmq.md
  cat bench/results/bullmq.md
fi

if wanted pubsub; then
  echo "== Pub/Sub forwarding (bench/results/pubsub.md)"
  start pubsub
  # Every subscription of the benchmark is made like this one, as a team's would be.
  PUBSUB_EMULATOR_HOST=$QSPLIT_PUBSUB_EMULATOR_HOST python3 tests/support/pubsub_client.py qsplit-bench \
    setup bench-model bench-model 60
  table=$("$dir/bench/pubsub_bench" --emulator "$QSPLIT_PUBSUB_EMULATOR_HOST" --project qsplit-bench \
    --model bench-model --messages 50000 --repeat 3)
  python3 bench/report_pubsub.py "$table" 50000 > bench/results/pubsub.md
  cat bench/results/pubsub.md
fi

if wanted jq; then
  echo "== jq filters (bench/results/jq.md)"
  worker="$dir/apps/qsplitd/qsplitd"  # qsplitd --jq-worker
  for run in 1 2 3; do
    "$dir/bench/jq_bench" "$worker" 1 20000
    "$dir/bench/jq_bench" "$worker" 10 5000
    "$dir/bench/jq_bench" "$worker" 100 1000
    "$dir/bench/jq_bench" "$worker" 1 20000 protobuf bench/tenant.proto
    "$dir/bench/jq_bench" "$worker" 10 5000 protobuf bench/tenant.proto
  done > "$json.jq"
  start kafka
  kafka_jq=$("$dir/bench/kafka_bench" --bootstrap "$QSPLIT_KAFKA_BOOTSTRAP" --records 200000 \
    --size 1024 --warmup 20000 --prefetch-kbytes 1048576 --sessions 1 10 --repeat 3 --jq "$worker")
  python3 bench/report_jq.py "$json.jq" "$kafka_jq" > bench/results/jq.md
  rm -f "$json.jq"
  cat bench/results/jq.md
fi
