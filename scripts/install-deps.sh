#!/usr/bin/env bash
# Installs every Debian package qsplit's build and tests need. Idempotent: quiet
# and quick when everything is present. Needs root (CI and the dev machines run as root).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libre2-dev libhyperscan-dev
  nlohmann-json3-dev libyaml-cpp-dev
  libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcurl4-openssl-dev libssl-dev libsqlite3-dev libcpp-httplib-dev
  librdkafka-dev kcat
  rabbitmq-server librabbitmq-dev amqp-tools
  etcd-server openssl jq libjq-dev
  libprotobuf-dev libprotoc-dev protobuf-compiler
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

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# From PyPI: botocore is the reference the SigV4 tests compare qsplit's signatures with; boto3 is
# the tests' independent SQS client; moto is one of the two SQS servers (scripts/sqs.sh).
python_packages=()
python3 -c 'import boto3' >/dev/null 2>&1 || python_packages+=(boto3)
python3 -c 'import yaml' >/dev/null 2>&1 || python_packages+=(pyyaml)  # reads helm's output
python3 -c 'import pika' >/dev/null 2>&1 || python_packages+=(pika)  # the tests' RabbitMQ client
# Encodes the protobuf test records; 4.21 is the Python release of Debian's protoc 3.21.
python3 -c 'import google.protobuf' >/dev/null 2>&1 || python_packages+=('protobuf>=4.21,<5')
python3 -c 'import moto.server, flask, flask_cors' >/dev/null 2>&1 || python_packages+=('moto[server]')
if [ ${#python_packages[@]} -gt 0 ]; then
  echo "install-deps: installing ${python_packages[*]} from PyPI"
  python3 -m pip install -q "${python_packages[@]}" 2>/dev/null ||
    python3 -m pip install -q --break-system-packages "${python_packages[@]}"
fi

