#!/usr/bin/env bash
# kafka.sh: real Apache Kafka brokers (KRaft) on free 127.0.0.1 ports, from Maven Central's
# artifacts, for tests and benchmarks. One broker:
#   start    fetches the broker into $QSPLIT_CACHE once, formats a fresh storage directory,
#            starts it with a small heap, waits until it serves, prints the env lines (also
#            the class path of the tests' Kafka Streams app, compiled here)
#   stop     stops the broker started here, by its PID, and removes its data
#   restart  stops it and starts it again on the same port and data (fault tests)
#   env      prints QSPLIT_KAFKA_BOOTSTRAP=... of the running broker
# Three brokers (each also a controller; topics replicated three times, two in sync):
#   start-cluster, stop-cluster, env-cluster (QSPLIT_KAFKA_CLUSTER_BOOTSTRAP=a,b,c)
#   kill-node N    kill -9 of node N (1-3), as a crash would
#   start-node N   starts node N again on its port and data, and waits until it serves
set -euo pipefail
source "$(dirname "$0")/lib.sh"

VERSION=4.3.1
LIBS=$QSPLIT_CACHE/kafka-$VERSION
DIR=$QSPLIT_RUN/kafka
CLUSTER=$QSPLIT_RUN/kafka-cluster

fetch() {
  maven_fetch "Apache Kafka $VERSION" kafka-pom.xml "$LIBS"
}

# streams_app DIR: compiles the e2e tests' Kafka Streams app (tests/e2e/streams) into DIR and
# prints its class path, which the tests run it with.
streams_app() {
  local streams=$QSPLIT_CACHE/kafka-streams-$VERSION
  maven_fetch "Kafka Streams $VERSION" kafka-streams-pom.xml "$streams"
  mkdir -p "$1"
  javac -nowarn -d "$1" -cp "$LIBS/*:$streams/*" "$QSPLIT_ROOT/tests/e2e/streams/SplitReader.java"
  echo "$1:$LIBS/*:$streams/*"
}

# write_config NODE_DIR ID PORT CONTROLLER_PORT VOTERS REPLICAS
write_config() {
  local replicas=$6 in_sync=$(( $6 > 1 ? 2 : 1 ))
  mkdir -p "$1/data"
  cat > "$1/server.properties" <<PROPS
process.roles=broker,controller
node.id=$2
controller.quorum.voters=$5
listeners=PLAINTEXT://127.0.0.1:$3,CONTROLLER://127.0.0.1:$4
advertised.listeners=PLAINTEXT://127.0.0.1:$3
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$1/data
num.partitions=1
default.replication.factor=$replicas
min.insync.replicas=$in_sync
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$in_sync
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=$replicas
share.coordinator.state.topic.min.isr=$in_sync
group.initial.rebalance.delay.ms=0
log.cleaner.dedupe.buffer.size=1048577
num.network.threads=2
num.io.threads=2
auto.create.topics.enable=false
PROPS
}

# A random cluster id (16 bytes, URL-safe base64). One in 64 starts with '-', which the
# storage tool would read as an option: drawn again.
new_cluster_id() {
  python3 -c '
import base64, os
while True:
    id = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not id.startswith("-"):
        print(id)
        break'
}

# format NODE_DIR CLUSTER_ID
format() {
  java -cp "$LIBS/*" kafka.tools.StorageTool format -t "$2" -c "$1/server.properties" \
    > "$1/format.log" 2>&1
}

report_format_failure() {
  echo "kafka.sh: could not format the broker's storage with $(command -v java || echo 'no java');" \
    "its output:" >&2
  tail -20 "$1/format.log" >&2
}

# format_all CLUSTER_ID NODE_DIR...: a cache left broken by an interrupted copy is fetched
# again once.
format_all() {
  local id=$1 node
  shift
  for node in "$@"; do
    format "$node" "$id" && continue
    echo "kafka.sh: formatting the storage failed; fetching the broker again" >&2
    rm -rf "$LIBS"
    fetch
    format "$node" "$id" || { report_format_failure "$node"; return 1; }
  done
}

# spawn NODE_DIR MIN_HEAP MAX_HEAP: runs a broker on its prepared directory, without waiting.
spawn() {
  : > "$1/broker.log"
  nohup java -Xms"$2" -Xmx"$3" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info \
    -cp "$LIBS/*" kafka.Kafka "$1/server.properties" >> "$1/broker.log" 2>&1 &
  echo $! > "$1/pid"
}

# await NODE_DIR WHAT: waits until the broker serves.
await() {
  if ! wait_for 180 "$2" grep -q "Kafka Server started" "$1/broker.log"; then
    tail -20 "$1/broker.log" >&2
    return 1
  fi
}

start() {
  running_env "$DIR/pid" "$DIR/env" && return 0
  fetch
  rm -rf "$DIR"
  local port controller
  port=$(free_port)
  controller=$(free_port)
  write_config "$DIR" 1 "$port" "$controller" "1@127.0.0.1:$controller" 1
  format_all "$(new_cluster_id)" "$DIR"
  local app
  app=$(streams_app "$DIR/streams-app")
  printf 'QSPLIT_KAFKA_BOOTSTRAP=127.0.0.1:%s\nQSPLIT_KAFKA_STREAMS_CLASSPATH=%s\n' "$port" "$app" > "$DIR/env"
  if ! launch; then
    stop
    return 1
  fi
  cat "$DIR/env"
}

launch() {
  spawn "$DIR" 256m 512m
  await "$DIR" "the Kafka broker ($(cat "$DIR/env"))"
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

start_cluster() {
  running_env "$CLUSTER/node1/pid" "$CLUSTER/env" && return 0
  fetch
  rm -rf "$CLUSTER"
  local n ports=() controllers=() voters="" bootstrap=""
  for n in 1 2 3; do
    ports[n]=$(free_port)
    controllers[n]=$(free_port)
    voters+="${voters:+,}$n@127.0.0.1:${controllers[n]}"
    bootstrap+="${bootstrap:+,}127.0.0.1:${ports[n]}"
  done
  for n in 1 2 3; do
    write_config "$CLUSTER/node$n" "$n" "${ports[n]}" "${controllers[n]}" "$voters" 3
  done
  format_all "$(new_cluster_id)" "$CLUSTER"/node{1,2,3}
  echo "QSPLIT_KAFKA_CLUSTER_BOOTSTRAP=$bootstrap" > "$CLUSTER/env"
  # The nodes elect a controller among themselves: all run before any can serve.
  for n in 1 2 3; do spawn "$CLUSTER/node$n" 128m 384m; done
  for n in 1 2 3; do
    if ! await "$CLUSTER/node$n" "Kafka node $n of the cluster"; then
      stop_cluster
      return 1
    fi
  done
  cat "$CLUSTER/env"
}

node_dir() {
  case "${1:-}" in
    1|2|3) [ -f "$CLUSTER/env" ] && { echo "$CLUSTER/node$1"; return 0; } ;;
  esac
  echo "kafka.sh: no cluster node '${1:-}' (start-cluster first; nodes are 1, 2 and 3)" >&2
  return 1
}

kill_node() {
  local node
  node=$(node_dir "$1")
  [ -f "$node/pid" ] && kill -9 "$(cat "$node/pid")" 2>/dev/null || true
  rm -f "$node/pid"
}

start_node() {
  local node
  node=$(node_dir "$1")
  running_env "$node/pid" /dev/null && return 0
  spawn "$node" 128m 384m
  await "$node" "Kafka node $1 of the cluster"
}

stop_cluster() {
  local n
  for n in 1 2 3; do stop_pid "$CLUSTER/node$n/pid"; done
  rm -rf "$CLUSTER"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  env) cat "$DIR/env" ;;
  start-cluster) start_cluster ;;
  stop-cluster) stop_cluster ;;
  env-cluster) cat "$CLUSTER/env" ;;
  kill-node) kill_node "${2:-}" ;;
  start-node) start_node "${2:-}" ;;
  *) echo "usage: $0 start|stop|restart|env|start-cluster|stop-cluster|env-cluster|kill-node N|start-node N" >&2
     exit 2 ;;
esac
