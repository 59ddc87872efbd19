#!/usr/bin/env bash
# build.sh DIR [CMAKE_ARGS...]: configures (once) and builds qsplit into DIR with 2 jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
fi
cmake --build "$dir" -j"${JOBS:-2}"
