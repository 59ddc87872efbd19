#!/usr/bin/env bash
# kube.sh start|stop|env: a real kube-apiserver with etcd on free 127.0.0.1 ports, for tests,
# with kubectl and helm as the tests' independent clients.
#   start  builds kube-apiserver from the published Go modules into $QSPLIT_CACHE once (no
#          prebuilt binary can be fetched here), starts Debian's etcd and the API server with
#          certificates made here, waits until it is ready, writes kubeconfigs, prints the env
#   stop   stops both by PID and removes their data
#   env    prints the env lines of the running server
# There is no controller manager and no kubelet: Deployments get no pods. Tests that need a
# rollout to finish write the Deployment's status themselves with kubectl, as its controller
# would.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# Go from the machine (/usr/local/go on these machines) or from Debian.
[ -x /usr/local/go/bin/go ] && PATH=/usr/local/go/bin:$PATH

VERSION=1.36.3
STAGING=v0.36.3
HELM_VERSION=v3.22.0
KUBE=$QSPLIT_CACHE/kube-$VERSION
DIR=$QSPLIT_RUN/kube

# kube-apiserver (and kubectl when the machine has none) from k8s.io/kubernetes at $VERSION.
# Its go.mod points the staging modules at ./staging; a wrapper module points them at their
# published versions instead.
build() {
  local targets=()
  [ -x "$KUBE/bin/kube-apiserver" ] || targets+=(kube-apiserver)
  command -v kubectl >/dev/null 2>&1 || [ -x "$KUBE/bin/kubectl" ] || targets+=(kubectl)
  local helm=0
  command -v helm >/dev/null 2>&1 || [ -x "$KUBE/bin/helm" ] || helm=1
  [ ${#targets[@]} -eq 0 ] && [ $helm -eq 0 ] && return 0
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
  mkdir -p "$KUBE/src" "$KUBE/bin"
  if [ ${#targets[@]} -gt 0 ]; then
    echo "kube.sh: building ${targets[*]} $VERSION from the Go module proxy into $KUBE" >&2
    if ! (go_build "${targets[@]}") > "$KUBE/build.log" 2>&1; then
      tail -30 "$KUBE/build.log" >&2
      echo "kube.sh: the build failed (log: $KUBE/build.log)" >&2
      return 1
    fi
  fi
  if [ $helm -eq 1 ]; then
    # Helm renders the chart in the tests; its module builds with a plain `go install`.
    echo "kube.sh: building helm $HELM_VERSION from the Go module proxy into $KUBE" >&2
    if ! GOBIN="$KUBE/bin" go install -trimpath -ldflags "-s -w" \
        "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" > "$KUBE/helm-build.log" 2>&1; then
      tail -30 "$KUBE/helm-build.log" >&2
      return 1
    fi
  fi
}

# Every step checks its own status: `set -e` does not apply inside an `if` condition.
go_build() {
  cd "$KUBE/src" || return 1
  [ -f go.mod ] || go mod init local/kube || return 1
  local modfile m t
  modfile=$(go mod download -json "k8s.io/kubernetes@v$VERSION" |
    sed -n 's/.*"GoMod": "\([^"]*\)".*/\1/p')
  [ -f "$modfile" ] || { echo "no go.mod for k8s.io/kubernetes@v$VERSION"; return 1; }
  for m in $(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "$modfile"); do
    go mod edit "-replace=$m=$m@$STAGING" || return 1
  done
  for t in "$@"; do
    go get "k8s.io/kubernetes/cmd/$t@v$VERSION" || return 1
    go build -p 2 -trimpath -o "$KUBE/bin/$t.tmp" -ldflags "-s -w \
      -X k8s.io/component-base/version.gitVersion=v$VERSION \
      -X k8s.io/component-base/version.gitMajor=1 \
      -X k8s.io/component-base/version.gitMinor=$(echo $VERSION | cut -d. -f2)" \
      "k8s.io/kubernetes/cmd/$t" || return 1
    mv "$KUBE/bin/$t.tmp" "$KUBE/bin/$t" || return 1
  done
}

# A tool built here, else the machine's.
tool_path() {
  if [ -x "$KUBE/bin/$1" ]; then echo "$KUBE/bin/$1"; else command -v "$1"; fi
}

# A CA, the server's certificate for 127.0.0.1, and a client certificate for an admin.
make_certs() {
  local c=$DIR/certs
  make_server_cert "$c" kube-apiserver "IP:127.0.0.1,DNS:localhost"
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=cert-admin" \
    -keyout "$c/admin.key" -out "$c/admin.csr" 2>/dev/null
  openssl x509 -req -in "$c/admin.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial \
    -days 2 -out "$c/admin.crt" 2>/dev/null
  openssl genrsa -out "$c/sa.key" 2048 2>/dev/null
}

# kubeconfig FILE USER-LINES: a kubeconfig for the server with the given user credentials.
kubeconfig() {
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$(cat "$DIR/port")
    certificate-authority: $DIR/certs/ca.crt
users:
- name: user
  user:
$2
contexts:
- name: test
  context: {cluster: test, user: user, namespace: default}
current-context: test
EOF
}

start() {
  running_env "$DIR/apiserver.pid" "$DIR/env" && return 0
  build
  rm -rf "$DIR"
  mkdir -p "$DIR"
  make_certs
  local etcd_port peer_port port
  etcd_port=$(free_port)
  peer_port=$(free_port)
  port=$(free_port)
  echo "$port" > "$DIR/port"
  nohup etcd --name qsplit --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "qsplit=http://127.0.0.1:$peer_port" > "$DIR/etcd.log" 2>&1 &
  echo $! > "$DIR/etcd.pid"
  if ! wait_for 30 "etcd" curl -fs "http://127.0.0.1:$etcd_port/health"; then
    tail -20 "$DIR/etcd.log" >&2
    stop
    return 1
  fi
  # The admin token, and one for a user with no permissions (RBAC denial tests).
  printf 'admin-token,admin,admin-uid,"system:masters"\nnobody-token,nobody,nobody-uid\n' \
    > "$DIR/tokens.csv"
  nohup "$KUBE/bin/kube-apiserver" --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$port" \
    --tls-cert-file="$DIR/certs/server.crt" --tls-private-key-file="$DIR/certs/server.key" \
    --client-ca-file="$DIR/certs/ca.crt" \
    --service-cluster-ip-range=10.0.0.0/24 --allow-privileged=true \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$DIR/certs/sa.key" \
    --service-account-signing-key-file="$DIR/certs/sa.key" \
    --token-auth-file="$DIR/tokens.csv" --authorization-mode=RBAC \
    --disable-admission-plugins=ServiceAccount > "$DIR/apiserver.log" 2>&1 &
  echo $! > "$DIR/apiserver.pid"
  if ! wait_for 120 "kube-apiserver" curl -fs --cacert "$DIR/certs/ca.crt" \
      -H "Authorization: Bearer admin-token" "https://127.0.0.1:$port/readyz"; then
    tail -30 "$DIR/apiserver.log" >&2
    stop
    return 1
  fi
  kubeconfig "$DIR/admin.kubeconfig" "    token: admin-token"
  kubeconfig "$DIR/cert.kubeconfig" "    client-certificate: $DIR/certs/admin.crt
    client-key: $DIR/certs/admin.key"
  kubeconfig "$DIR/nobody.kubeconfig" "    token: nobody-token"
  {
    echo "QSPLIT_KUBECONFIG=$DIR/admin.kubeconfig"
    echo "QSPLIT_KUBECTL=$(tool_path kubectl)"
    echo "QSPLIT_HELM=$(tool_path helm)"
  } > "$DIR/env"
  cat "$DIR/env"
}

stop() {
  stop_pid "$DIR/apiserver.pid"
  stop_pid "$DIR/etcd.pid"
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  build) build ;;
  env) cat "$DIR/env" ;;
  *) echo "usage: $0 start|stop|build|env" >&2; exit 2 ;;
esac
