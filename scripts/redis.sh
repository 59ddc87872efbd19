#!/usr/bin/env bash
# redis.sh start|stop|restart|env: a real Redis (Debian's redis-server 7) for tests and
# benchmarks, on a free 127.0.0.1 port, with its data (an append-only file) under build/run.
#   start    starts the server, waits until it answers PING, prints the env lines
#            (QSPLIT_REDIS_URL, QSPLIT_REDIS_PORT; and QSPLIT_REDIS_TLS_PORT with the test CA that
#            signed its certificate, QSPLIT_REDIS_TLS_CA, for the same server over TLS)
#   stop     stops the server by PID
#   restart  stops the server and starts it again on the same port and data, as an outage would
#   env      prints the env lines of the running server
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DIR=$QSPLIT_RUN/redis

launch() {
  # shellcheck disable=SC1091
  source "$DIR/ports"
  nohup redis-server --port "$PORT" --bind 127.0.0.1 --dir "$DIR/data" --appendonly yes \
    --tls-port "$TLS_PORT" --tls-cert-file "$DIR/tls/server.crt" --tls-key-file "$DIR/tls/server.key" \
    --tls-ca-cert-file "$DIR/tls/ca.crt" --tls-auth-clients no \
    --appendfsync everysec --save '' --daemonize no --logfile "$DIR/server.log" >> "$DIR/server.out" 2>&1 &
  echo $! > "$DIR/server.pid"
  wait_for 30 "Redis on port $PORT" redis-cli -p "$PORT" ping
}

start() {
  running_env "$DIR/server.pid" "$DIR/env" && return 0
  command -v redis-server >/dev/null || { echo "redis.sh: redis-server is missing (scripts/install-deps.sh installs it)" >&2; return 1; }
  rm -rf "$DIR"
  mkdir -p "$DIR/data"
  local port tls_port
  port=$(free_port)
  tls_port=$(free_port)
  while [ "$tls_port" = "$port" ]; do tls_port=$(free_port); done
  { echo "PORT=$port"; echo "TLS_PORT=$tls_port"; } > "$DIR/ports"
  make_server_cert "$DIR/tls" localhost "IP:127.0.0.1,DNS:localhost"
  if ! launch; then
    tail -30 "$DIR/server.log" "$DIR/server.out" >&2 || true
    stop
    return 1
  fi
  {
    echo "QSPLIT_REDIS_URL=redis://127.0.0.1:$PORT"
    echo "QSPLIT_REDIS_PORT=$PORT"
    echo "QSPLIT_REDIS_TLS_PORT=$TLS_PORT"
    echo "QSPLIT_REDIS_TLS_CA=$DIR/tls/ca.crt"
    echo "QSPLIT_REDIS_RUN=$QSPLIT_RUN"  # for "QSPLIT_RUN=... scripts/redis.sh restart"
  } > "$DIR/env.tmp"
  mv "$DIR/env.tmp" "$DIR/env"
  cat "$DIR/env"
}

stop() {
  stop_pid "$DIR/server.pid"
}

restart() {
  [ -f "$DIR/server.pid" ] || { echo "redis.sh: not running" >&2; return 1; }
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
