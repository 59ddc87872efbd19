#!/usr/bin/env bash
# pubsub.sh start|stop|env|protos OUT: Google Cloud Pub/Sub for the build, tests and benchmarks.
#   protos OUT  writes Google's published .proto files for google.pubsub.v1 and the google.api
#               protos they import under OUT (from Maven Central's proto-google-cloud-pubsub-v1
#               and proto-google-common-protos jars, fetched once into the cache); the build
#               generates qsplit's gRPC client from them
#   start       builds pstest-server once (scripts/pstest: Google's own Pub/Sub test server,
#               cloud.google.com/go/pubsub/v2/pstest, from the Go module proxy), serves it on a
#               free 127.0.0.1 port in plaintext and on another over TLS asking for tokens of
#               the service-account keys copied into a directory; prints the env
#               (QSPLIT_PUBSUB_EMULATOR_HOST; QSPLIT_PUBSUB_TLS_ENDPOINT, its CA certificate
#               QSPLIT_PUBSUB_TLS_CA, the keys directory QSPLIT_PUBSUB_KEYS)
#   stop        stops it by PID (it keeps everything in memory: nothing to remove)
#   env         prints the env lines of the running server
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# Go from the machine (/usr/local/go on these machines) or from Debian.
[ -x /usr/local/go/bin/go ] && PATH=/usr/local/go/bin:$PATH

PROTOS_VERSION=1.160.0
PSTEST=$QSPLIT_ROOT/scripts/pstest
PSTEST_VERSION=$(awk '$1 == "cloud.google.com/go/pubsub/v2" {print $2}' "$PSTEST/go.mod")
# Built again whenever the program changes, not only pstest's version.
SERVER=$QSPLIT_CACHE/pstest-$PSTEST_VERSION/pstest-server-$(cat "$PSTEST"/*.go "$PSTEST/go.sum" | sha256sum | cut -c1-12)
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
  rm -f "$(dirname "$SERVER")"/pstest-server-*  # an earlier program's
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
  mkdir -p "$DIR/keys"
  local port tls_port
  port=$(free_port)
  tls_port=$(free_port)
  # The shortest ack deadline Pub/Sub accepts is 10 s; the test server may take 1 s, so the
  # tests of a lapsed lease do not wait for 10.
  nohup "$SERVER" -address "127.0.0.1:$port" -min-ack-deadline 1s -tls-address "127.0.0.1:$tls_port" \
    -ca "$DIR/ca.pem" -keys "$DIR/keys" > "$DIR/server.log" 2>&1 &
  echo $! > "$DIR/server.pid"
  if ! wait_for 30 "pstest-server on port $port" grep -q "^tls listening on" "$DIR/server.log"; then
    tail -30 "$DIR/server.log" >&2 || true
    stop
    return 1
  fi
  printf '%s\n' "QSPLIT_PUBSUB_EMULATOR_HOST=127.0.0.1:$port" "QSPLIT_PUBSUB_TLS_ENDPOINT=127.0.0.1:$tls_port" \
    "QSPLIT_PUBSUB_TLS_CA=$DIR/ca.pem" "QSPLIT_PUBSUB_KEYS=$DIR/keys" > "$DIR/env"
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
