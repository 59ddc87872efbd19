# Shared helpers for the scripts that start test servers. Source it; do not run it.

# A free TCP port on 127.0.0.1, chosen by the kernel.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for SECONDS DESCRIPTION COMMAND...: runs COMMAND every 0.5 s until it succeeds.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "timed out after ${seconds}s waiting for $what" >&2
      return 1
    fi
    sleep 0.5
  done
}

# stop_pid FILE: ends the process whose PID is in FILE (TERM, then KILL after 20 s).
stop_pid() {
  local file=$1
  [ -f "$file" ] || return 0
  local pid
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

# running_env PIDFILE ENVFILE: when PIDFILE's process runs, prints ENVFILE and succeeds (a
# server started earlier is reused).
running_env() {
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null && cat "$2"
}

# maven_fetch NAME POM DEST: the runtime jars of scripts/maven/POM, copied once into DEST.
maven_fetch() {
  local name=$1 pom=$2 dest=$3
  [ -f "$dest/.complete" ] && return 0
  echo "fetching $name from Maven Central into $dest" >&2
  mkdir -p "$dest"
  mvn -B -q -f "$QSPLIT_ROOT/scripts/maven/$pom" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$dest" -DincludeScope=runtime >&2
  touch "$dest/.complete"
}

# start_server NAME ENVFILE [VERB]: runs scripts/NAME.sh VERB (start), keeps the variables it
# prints in ENVFILE and exports them; a server that does not start ends the run here, naming it.
start_server() {
  if ! "$QSPLIT_ROOT/scripts/$1.sh" "${3:-start}" > "$2"; then
    echo "the $1 test server ($1.sh ${3:-start}) did not start (its reasons are above)" >&2
    exit 1
  fi
  local line
  while IFS= read -r line; do export "$line"; done < "$2"
}

# make_server_cert DIR CN SAN: a test CA (DIR/ca.crt, DIR/ca.key) and a server certificate it
# signs (DIR/server.crt, DIR/server.key) for CN and the names in SAN ("IP:127.0.0.1,DNS:localhost").
make_server_cert() {
  local c=$1 cn=$2 san=$3
  mkdir -p "$c"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=qsplit-test-ca" \
    -keyout "$c/ca.key" -out "$c/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" \
    -keyout "$c/server.key" -out "$c/server.csr" 2>/dev/null
  printf 'subjectAltName=%s\n' "$san" > "$c/server.ext"
  openssl x509 -req -in "$c/server.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial \
    -days 2 -extfile "$c/server.ext" -out "$c/server.crt" 2>/dev/null
}

QSPLIT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QSPLIT_CACHE=${QSPLIT_CACHE:-$HOME/.cache/qsplit}
QSPLIT_RUN=${QSPLIT_RUN:-$QSPLIT_ROOT/build/run}
