#!/usr/bin/env bash
# rabbitmq.sh start|stop|restart|env: a real RabbitMQ (Debian's rabbitmq-server) for tests and
# benchmarks, run as a plain process with its own data, logs, Erlang cookie and epmd, on free
# 127.0.0.1 ports (AMQP, AMQP over TLS with a CA made here, management HTTP API, Erlang
# distribution, epmd).
#   start    starts epmd and the node, waits until the management API answers, prints the env
#            lines (QSPLIT_RABBITMQ_URL, QSPLIT_RABBITMQ_MANAGEMENT, ...)
#   stop     stops the node and epmd by PID
#   restart  stops the node and starts it again on the same ports and data, as an outage would
#   env      prints the env lines of the running node
# The user guest/guest may connect from 127.0.0.1 (loopback_users = none); it is the only user.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DIR=$QSPLIT_RUN/rabbitmq
SERVER=/usr/lib/rabbitmq/bin/rabbitmq-server

# The node's environment: everything it writes stays under $DIR.
node_env() {
  # shellcheck disable=SC1091
  source "$DIR/ports"
  export HOME=$DIR/home RABBITMQ_NODENAME=qsplit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$AMQP_PORT RABBITMQ_DIST_PORT=$DIST_PORT ERL_EPMD_PORT=$EPMD_PORT
  export RABBITMQ_MNESIA_BASE=$DIR/mnesia RABBITMQ_LOG_BASE=$DIR/log
  export RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/enabled_plugins RABBITMQ_CONFIG_FILE=$DIR/rabbitmq
  export RABBITMQ_PLUGINS_EXPAND_DIR=$DIR/plugins-expand
}

launch() {
  node_env
  nohup "$SERVER" >> "$DIR/server.out" 2>&1 &
  echo $! > "$DIR/server.pid"
  wait_for 120 "RabbitMQ on port $AMQP_PORT" \
    curl -fs -u guest:guest "http://127.0.0.1:$MGMT_PORT/api/overview"
}

start() {
  running_env "$DIR/server.pid" "$DIR/env" && return 0
  [ -x "$SERVER" ] || { echo "rabbitmq.sh: $SERVER is missing (scripts/install-deps.sh installs it)" >&2; return 1; }
  rm -rf "$DIR"
  mkdir -p "$DIR/home" "$DIR/log"
  {
    echo "AMQP_PORT=$(free_port)"
    echo "MGMT_PORT=$(free_port)"
    echo "DIST_PORT=$(free_port)"
    echo "EPMD_PORT=$(free_port)"
    echo "TLS_PORT=$(free_port)"
  } > "$DIR/ports"
  # shellcheck disable=SC1091
  source "$DIR/ports"
  echo '[rabbitmq_management].' > "$DIR/enabled_plugins"
  # A TLS listener too, with a certificate for 127.0.0.1 from a CA made here.
  make_server_cert "$DIR/tls" 127.0.0.1 "IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost"
  cat > "$DIR/rabbitmq.conf" <<CONF
loopback_users = none
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
listeners.ssl.default = 127.0.0.1:$TLS_PORT
ssl_options.cacertfile = $DIR/tls/ca.crt
ssl_options.certfile = $DIR/tls/server.crt
ssl_options.keyfile = $DIR/tls/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
management.tcp.ip = 127.0.0.1
management.tcp.port = $MGMT_PORT
log.console = false
log.file.level = warning
CONF
  # Our own epmd, so its PID is known and no other node shares it.
  nohup epmd -port "$EPMD_PORT" -address 127.0.0.1 >> "$DIR/epmd.out" 2>&1 &
  echo $! > "$DIR/epmd.pid"
  if ! launch; then
    tail -30 "$DIR/server.out" "$DIR"/log/*.log >&2 || true
    stop
    return 1
  fi
  {
    echo "QSPLIT_RABBITMQ_URL=amqp://guest:guest@127.0.0.1:$AMQP_PORT/%2f"
    echo "QSPLIT_RABBITMQ_MANAGEMENT=http://127.0.0.1:$MGMT_PORT"
    echo "QSPLIT_RABBITMQ_TLS_URL=amqps://guest:guest@127.0.0.1:$TLS_PORT/%2f"
    echo "QSPLIT_RABBITMQ_CA=$DIR/tls/ca.crt"
    echo "QSPLIT_RABBITMQ_RUN=$QSPLIT_RUN"  # for "QSPLIT_RUN=... scripts/rabbitmq.sh restart"
  } > "$DIR/env.tmp"
  mv "$DIR/env.tmp" "$DIR/env"
  cat "$DIR/env"
}

stop() {
  stop_pid "$DIR/server.pid"
  stop_pid "$DIR/epmd.pid"
}

restart() {
  [ -f "$DIR/server.pid" ] || { echo "rabbitmq.sh: not running" >&2; return 1; }
  stop_pid "$DIR/server.pid"
  launch
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  env) running_env "$DIR/server.pid" "$DIR/env" ;;
  *) echo "usage: $0 start|stop|restart|env" >&2; exit 2 ;;
esac
