#!/usr/bin/env bash
# pubsub.sh start|stop|env|protos OUT: Google Cloud Pub/Sub for the build, tests and benchmarks.
#   protos OUT  writes Google's published .proto files for google.pubsub.v1 and the google.api
#               protos they import under OUT (from Maven Central's proto-google-cloud-pubsub-v1
#               and proto-google-common-protos jars, fetched once into the cache); the build
#               generates qsplit's gRPC client from them
#   start       builds pstest-server once (scripts/pstest: Google's own Pub/Sub test server,
#               cloud.google.com/go/pubsub/v2/pstest, from the Go module proxy), serves it on a
#               free 127.0.0.1 port, prints the env (QSPLIT_PUBSUB_EMULATOR_HOST)
#   stop        stops it by PID (it keeps everything in memory: nothing to remove)
#   env         prints the env lines of the running server
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# Go from the machine (/usr/local/go on these machines) or from Debian.
[ -x /usr/local/go/bin/go ] && PATH=/usr/local/go/bin:$PATH

PROTOS_VERSION=1.160.0
PSTEST_VERSION=$(awk '$1 == "require" && $2 ~ /pubsub/ {print $3}' "$QSPLIT_ROOT/scripts/pstest/go.mod")
SERVER=$QSPLIT_CACHE/pstest-$PSTEST_VERSION/pstest-server
DIR=$QSPLIT_RUN/pubsub

protos() {
  local out=$1 jars=$QSPLIT_CACHE/pubsub-protos-$PROTOS_VERSION
  maven_fetch "the Pub/Sub protos $PROTOS_VERSION" pubsub-protos-pom.xml "$jars"
  python3 - "$jars" "$out" <<'PY'
import glob, os, sys, zipfile
jars, out = sys.argv[1:]
found = 0
for jar in glob.glob(os.path.join(jars, "proto-google-*.jar")):
    with zipfile.ZipFile(jar) as z:
        for name in z.namelist():
            if name.endswith(".proto") and name.startswith(("google/pubsub/", "google/api/")):
                path = os.path.join(out, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path + ".tmp", "wb") as f:
                    f.write(z.read(name))
                os.replace(path + ".tmp", path)
                found += 1
if not os.path.exists(os.path.join(out, "google/pubsub/v1/pubsub.proto")):
    sys.exit(f"pubsub.sh: no google/pubsub/v1/pubsub.proto in {jars}")
PY
}

build() {
  [ -x "$SERVER" ] && return 0
  command -v go >/dev/null || { echo "pubsub.sh: go is missing (scripts/install-deps.sh installs it)" >&2; return 1; }
  echo "pubsub.sh: building pstest-server ($PSTEST_VERSION) from the Go module proxy" >&2
  mkdir -p "$(dirname "$SERVER")"
  if ! (cd "$QSPLIT_ROOT/scripts/pstest" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
      go build -p 2 -trimpath -ldflags "-s -w" -o "$SERVER.tmp" .) > "$(dirname "$SERVER")/build.log" 2>&1; then
    tail -30 "$(dirname "$SERVER")/build.log" >&2
    return 1
  fi
  mv "$SERVER.tmp" "$SERVER"
}

start() {
  running_env "$DIR/server.pid" "$DIR/env" && return 0
  build
  rm -rf "$DIR"
  mkdir -p "$DIR"
  local port
  port=$(free_port)
  # The shortest ack deadline Pub/Sub accepts is 10 s; the test server may take 1 s, so the
  # tests of a lapsed lease do not wait for 10.
  nohup "$SERVER" -address "127.0.0.1:$port" -min-ack-deadline 1s > "$DIR/server.log" 2>&1 &
  echo $! > "$DIR/server.pid"
  if ! wait_for 30 "pstest-server on port $port" grep -q "^listening on" "$DIR/server.log"; then
    tail -30 "$DIR/server.log" >&2 || true
    stop
    return 1
  fi
  echo "QSPLIT_PUBSUB_EMULATOR_HOST=127.0.0.1:$port" > "$DIR/env"
  cat "$DIR/env"
}

stop() {
  stop_pid "$DIR/server.pid"
}

case "${1:-}" in
  protos) protos "$2" ;;
  start) start ;;
  stop) stop ;;
  env) running_env "$DIR/server.pid" "$DIR/env" ;;
  *) echo "usage: $0 start|stop|env|protos OUT" >&2; exit 2 ;;
esac
