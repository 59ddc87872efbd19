#!/usr/bin/env bash
# install-deps.sh [demo]: installs every Debian package qsplit's build and tests need; with
# `demo`, only what the `qsplit` program needs to build and run (what `make demo` builds).
# Idempotent: quiet and quick when everything is present. Needs root (CI and the dev
# machines run as root).
set -euo pipefail

# What the qsplit program (the CLI and its embedded demo broker) builds with.
packages=(
  build-essential cmake ninja-build pkg-config
  libre2-dev nlohmann-json3-dev libyaml-cpp-dev
  libspdlog-dev libfmt-dev libcli11-dev libcurl4-openssl-dev
  libjq-dev libprotobuf-dev libprotoc-dev zlib1g-dev
)

# Installs the Debian packages in $@ that are missing, printing a line per package as apt
# sets it up (so a long install does not look hung).
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "install-deps: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" |
    awk '/^Get:/ { if (++got % 20 == 1) print "install-deps: downloading package " got; fflush() }
         /^Setting up/ { print "install-deps: set up " ++done ": " $3; fflush() }'
}

if [ "${1:-}" = demo ]; then
  apt_install "${packages[@]}"
  exit 0
fi

# Everything else: the daemon's broker clients, the tests and the benchmarks.
packages+=(
  git libhyperscan-dev libssl-dev libsqlite3-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  librdkafka-dev kcat
  rabbitmq-server librabbitmq-dev amqp-tools
  redis-server redis-tools libhiredis-dev
  etcd-server openssl jq
  protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
)

# The test brokers run on Java (Apache Kafka from Maven Central), and javac builds the tests'
# Kafka Streams app (tests/e2e/streams); most machines have a JDK and Maven already, so they
# are only installed when the commands are missing.
command -v javac >/dev/null 2>&1 || packages+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || packages+=(maven)
# kube-apiserver is built from the Go module proxy (scripts/kube.sh): Go comes with the machine,
# or from Debian when it is missing (Debian's may be too old for the pinned release).
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || packages+=(golang-go)
python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
# The build takes BullMQ's Lua scripts from the npm package, and the tests run its Queue and
# Worker (scripts/bullmq.sh).
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

apt_install "${packages[@]}"

# From PyPI: botocore is the reference the SigV4 tests compare qsplit's signatures with; boto3 is
# the tests' independent SQS client; moto is one of the two SQS servers (scripts/sqs.sh).
python_packages=()
python3 -c 'import boto3' >/dev/null 2>&1 || python_packages+=(boto3)
python3 -c 'import yaml' >/dev/null 2>&1 || python_packages+=(pyyaml)  # reads helm's output
python3 -c 'import pika' >/dev/null 2>&1 || python_packages+=(pika)  # the tests' RabbitMQ client
# Encodes the protobuf test records; 4.21 is the Python release of Debian's protoc 3.21.
python3 -c 'import google.protobuf' >/dev/null 2>&1 || python_packages+=('protobuf>=4.21,<5')
python3 -c 'import moto.server, flask, flask_cors' >/dev/null 2>&1 || python_packages+=('moto[server]')
# Google's Pub/Sub client: the tests' independent publisher and subscriber (tests/support/pubsub_client.py).
# Google's Pub/Sub client: the tests' independent publisher and subscriber
# (tests/support/pubsub_client.py), with protobuf held to the release above.
if ! python3 -c 'import google.cloud.pubsub_v1' >/dev/null 2>&1; then
  python_packages+=(google-cloud-pubsub)
  [[ " ${python_packages[*]} " == *" protobuf>=4.21,<5 "* ]] || python_packages+=('protobuf>=4.21,<5')
fi
if [ ${#python_packages[@]} -gt 0 ]; then
  echo "install-deps: installing ${python_packages[*]} from PyPI"
  python3 -m pip install -q "${python_packages[@]}" 2>/dev/null ||
    python3 -m pip install -q --break-system-packages "${python_packages[@]}"
fi

