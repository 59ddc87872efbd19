# qsplit: every target installs what is missing first, so a fresh clone needs nothing else.
BUILD      ?= build
ASAN_BUILD ?= build-asan
BENCH_BUILD ?= build-bench
JOBS       ?= 2

.PHONY: deps build demo test test-fast asan bench clean

deps:
	@scripts/install-deps.sh

build: deps
	@scripts/build.sh $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

# Only what the qsplit program needs, built into build-demo/; prints each stage's time.
demo:
	@scripts/demo.sh $(ARGS)

# Every test: unit, conformance and end-to-end, then the same under ASan and UBSan.
test: deps
	@scripts/test.sh

test-fast: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

bench: deps
	@scripts/bench.sh $(BENCH_BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD) build-demo
