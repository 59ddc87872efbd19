#!/usr/bin/env bash
# kafka.sh start|stop|env: a real Apache Kafka broker (KRaft, one node) on a free
# 127.0.0.1 port, from Maven Central's artifacts, for tests and benchmarks.
#   start  fetches the broker into $QSPLIT_CACHE once, formats a fresh storage directory,
#          starts it with a small heap, waits until it serves, prints the env line
#   stop   stops the broker started here, by its PID, and removes its data
#   restart  stops it and starts it again on the same port and data (fault tests)
#   env    prints QSPLIT_KAFKA_BOOTSTRAP=... of the running broker
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VERSION=4.3.1
LIBS=$QSPLIT_CACHE/kafka-$VERSION
DIR=$QSPLIT_RUN/kafka

fetch() {
  maven_fetch "Apache Kafka $VERSION" kafka-pom.xml "$LIBS"
}

start() {
  running_env "$DIR/pid" "$DIR/env" && return 0
  fetch
  rm -rf "$DIR"
  mkdir -p "$DIR/data"
  local port controller
  port=$(free_port)
  controller=$(free_port)
  cat > "$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DIR/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.cleaner.dedupe.buffer.size=1048577
num.network.threads=2
num.io.threads=2
auto.create.topics.enable=false
PROPS
  local cluster_id
  cluster_id=$(python3 -c 'import base64,os; print(base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("="))')
  if ! format "$cluster_id"; then
    # A cache left broken by an interrupted copy is fetched again once.
    echo "kafka.sh: formatting the storage failed; fetching the broker again" >&2
    rm -rf "$LIBS"
    fetch
    format "$cluster_id" || { report_format_failure; return 1; }
  fi
  echo "QSPLIT_KAFKA_BOOTSTRAP=127.0.0.1:$port" > "$DIR/env"
  if ! launch; then
    stop
    return 1
  fi
  cat "$DIR/env"
}

format() {
  java -cp "$LIBS/*" kafka.tools.StorageTool format -t "$1" -c "$DIR/server.properties" \
    > "$DIR/format.log" 2>&1
}

report_format_failure() {
  echo "kafka.sh: could not format the broker's storage with $(command -v java || echo 'no java');" \
    "its output:" >&2
  tail -20 "$DIR/format.log" >&2
}

# Runs the broker on the prepared directory and waits until it serves.
launch() {
  : > "$DIR/broker.log"
  nohup java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info \
    -cp "$LIBS/*" kafka.Kafka "$DIR/server.properties" >> "$DIR/broker.log" 2>&1 &
  echo $! > "$DIR/pid"
  if ! wait_for 180 "the Kafka broker ($(cat "$DIR/env"))" grep -q "Kafka Server started" "$DIR/broker.log"; then
    tail -20 "$DIR/broker.log" >&2
    return 1
  fi
}

# Stops the broker and starts it again on the same port and data, as an outage would.
restart() {
  [ -f "$DIR/env" ] || { echo "kafka.sh: no broker to restart" >&2; return 1; }
  stop_pid "$DIR/pid"
  launch
}

stop() {
  stop_pid "$DIR/pid"
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  env) cat "$DIR/env" ;;
  *) echo "usage: $0 start|stop|restart|env" >&2; exit 2 ;;
esac
