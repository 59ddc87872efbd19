#!/usr/bin/env bash
# demo.sh [ARGS...]: what `make demo` runs. Installs only what the `qsplit` program needs,
# builds only that program (into build-demo/, without qsplitd, the brokers' clients, tests or
# benchmarks), runs `qsplit demo ARGS...`, and says how long each stage took.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${QSPLIT_DEMO_BUILD:-build-demo}
times=()
last=$(date +%s)
# Records how long the stage named $1 took since the last one.
took() {
  local now
  now=$(date +%s)
  times+=("$1 $((now - last)) s")
  echo "== $1 took $((now - last)) s"
  last=$now
}

echo "== packages"
scripts/install-deps.sh demo
took packages
echo "== configure"
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DQSPLIT_DAEMON=OFF -DQSPLIT_TESTS=OFF -DQSPLIT_BENCH=OFF >/dev/null
fi
took configure
echo "== build"
# Ninja prints a [done/total] line per step when its output is not a terminal.
cmake --build "$dir" -j"${JOBS:-2}" --target qsplit
took build
echo "== run"
status=0
"$dir/apps/qsplit/qsplit" demo "$@" || status=$?
took run
( IFS=,; echo "make demo: ${times[*]}" | sed 's/,/, /g' )
exit $status
