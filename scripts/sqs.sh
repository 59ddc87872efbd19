#!/usr/bin/env bash
# sqs.sh start|stop|env: real SQS-compatible servers on free 127.0.0.1 ports, for tests and
# benchmarks:
#   ElasticMQ (Maven Central), fast; accepts any credentials
#   a second ElasticMQ keeping queues and messages in H2 files, for the server-restart test
#   moto (PyPI) checking every SigV4 signature and IAM permission, with two users made at
#     start: one allowed every SQS action, one allowed nothing
#   a second moto without checks, as the STS endpoint for web identity credentials (STS's
#     AssumeRoleWithWebIdentity is unsigned, which the checking moto refuses)
#   start  fetches ElasticMQ into $QSPLIT_CACHE once, starts all three, waits until each
#          answers, prints the env lines (QSPLIT_ELASTICMQ_ENDPOINT, QSPLIT_MOTO_*, ...)
#   stop   stops them by PID
#   restart-elasticmq  stops the persistent ElasticMQ and starts it again on the same port and
#          files, as an outage would (fault tests)
#   env    prints the env lines of the running servers
set -euo pipefail
source "$(dirname "$0")/lib.sh"

EMQ_VERSION=1.7.1
EMQ_LIBS=$QSPLIT_CACHE/elasticmq-$EMQ_VERSION
DIR=$QSPLIT_RUN/sqs

fetch() {
  maven_fetch "ElasticMQ $EMQ_VERSION" elasticmq-pom.xml "$EMQ_LIBS"
}

# launch_elasticmq NAME PORT [EXTRA_CONFIG_LINE]
launch_elasticmq() {
  local name=$1 port=$2 extra=${3:-}
  cat > "$DIR/$name.conf" <<CONF
include classpath("application.conf")
node-address { protocol = http, host = "127.0.0.1", port = $port, context-path = "" }
rest-sqs { enabled = true, bind-port = $port, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
generate-node-address = false
aws { region = "us-east-1", accountId = "000000000000" }
$extra
CONF
  nohup java -Xms64m -Xmx256m -Dconfig.file="$DIR/$name.conf" -Dlogback.configurationFile=/dev/null \
    -cp "$EMQ_LIBS/*" org.elasticmq.server.Main >> "$DIR/$name.log" 2>&1 &
  echo $! > "$DIR/$name.pid"
  wait_for 60 "$name on port $port" curl -fs "http://127.0.0.1:$port/health"
}

PERSISTENT='messages-storage { enabled = true, uri = "jdbc:h2:'"$DIR"'/elasticmq-h2" }'

launch_moto() {
  local name=$1 port=$2
  shift 2
  env "$@" nohup python3 -m moto.server -H 127.0.0.1 -p "$port" >> "$DIR/$name.log" 2>&1 &
  echo $! > "$DIR/$name.pid"
  wait_for 60 "$name on port $port" curl -fs "http://127.0.0.1:$port/moto-api/"
}

start() {
  running_env "$DIR/elasticmq.pid" "$DIR/env" && return 0
  fetch
  rm -rf "$DIR"
  mkdir -p "$DIR"
  local emq persistent moto sts
  emq=$(free_port)
  persistent=$(free_port)
  moto=$(free_port)
  sts=$(free_port)
  # The checking moto answers 5 calls unchecked: sqs_users.py spends exactly those.
  if ! launch_elasticmq elasticmq "$emq" ||
     ! launch_elasticmq elasticmq-persistent "$persistent" "$PERSISTENT" || ! launch_moto moto "$moto" INITIAL_NO_AUTH_ACTION_COUNT=5 ||
     ! launch_moto moto-sts "$sts"; then
    tail -20 "$DIR"/*.log >&2
    stop
    return 1
  fi
  {
    echo "QSPLIT_ELASTICMQ_ENDPOINT=http://127.0.0.1:$emq"
    echo "QSPLIT_ELASTICMQ_PERSISTENT_ENDPOINT=http://127.0.0.1:$persistent"
    echo "QSPLIT_MOTO_ENDPOINT=http://127.0.0.1:$moto"
    python3 "$QSPLIT_ROOT/scripts/sqs_users.py" "http://127.0.0.1:$moto"
    echo "QSPLIT_STS_ENDPOINT=http://127.0.0.1:$sts"
  } > "$DIR/env.tmp"
  mv "$DIR/env.tmp" "$DIR/env"
  cat "$DIR/env"
}

restart_elasticmq() {
  local port
  port=$(sed -n 's#^QSPLIT_ELASTICMQ_PERSISTENT_ENDPOINT=http://127.0.0.1:##p' "$DIR/env")
  stop_pid "$DIR/elasticmq-persistent.pid"
  launch_elasticmq elasticmq-persistent "$port" "$PERSISTENT"
}

stop() {
  for server in elasticmq elasticmq-persistent moto moto-sts; do stop_pid "$DIR/$server.pid"; done
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart-elasticmq) restart_elasticmq ;;
  env) cat "$DIR/env" ;;
  *) echo "usage: $0 start|stop|restart-elasticmq|env" >&2; exit 2 ;;
esac
