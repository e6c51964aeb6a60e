# The front door: every target drives the one CMake build (see docs/BUILDING.md).
#   make demo   the main job: a live migration of kvd, narrated (docs/MIGRATION.md)
#   make test   every test: ctest (C, boundary, parity, conformance, ...) and cargo test
SHELL := /bin/bash
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
CARGO := cargo
CTEST_ARGS ?=

.PHONY: all deps configure build test test-c test-rust demo bench lint asan tsan fuzz headers install clean profile

all: build

deps:
	@tools/deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	@set -o pipefail; status=0; \
	echo "== ctest"; \
	(cd $(BUILD) && ctest -LE bench --output-on-failure -j $(JOBS) $(CTEST_ARGS)) || status=1; \
	echo "== cargo test"; \
	$(CARGO) test --offline --locked --workspace 2>&1 | tee $(BUILD)/cargo-test.log | grep -E '^(test result|running|error|failures|---- )' || true; \
	grep -q '^error' $(BUILD)/cargo-test.log && status=1; \
	grep -q 'test result: FAILED' $(BUILD)/cargo-test.log && status=1; \
	[ $$status -eq 0 ] && echo "make test: all passed" || echo "make test: FAILED"; \
	exit $$status

demo: build
	@tools/demo.sh $(BUILD)
	@tools/demo/demo_store.sh $(BUILD)

# Every benchmark prints `bench <name>: <value> <unit> (<ratio>x <baseline>)`.
bench: build
	@cd $(BUILD) && ctest -L bench -V -j 1 $(CTEST_ARGS) > bench.log 2>&1; rc=$$?; \
	sed -n 's/^[0-9]*: \(bench .*\)/\1/p' bench.log; \
	[ $$rc -eq 0 ] || { echo "make bench: a benchmark failed, see $(BUILD)/bench.log"; exit 1; }

# kvd under kvload, `perf record -g`, one flame graph with C and Rust frames
# (docs/OPERATING.md, "Profiles"): $(BUILD)/profile/kvd.svg. PROFILE_SECONDS=30 make profile
profile: build
	@tools/profile/profile.sh $(BUILD) $${PROFILE_SECONDS:-10}

lint: deps
	@tools/lint.sh

asan: deps
	cmake -S . -B $(BUILD)-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DGRAFT_SANITIZE=address -DGRAFT_VALIDATE=ON
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest -LE 'bench|no-asan' --output-on-failure -j $(JOBS) $(CTEST_ARGS)

tsan: deps
	cmake -S . -B $(BUILD)-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DGRAFT_SANITIZE=thread
	cmake --build $(BUILD)-tsan -j $(JOBS)
	cd $(BUILD)-tsan && TSAN_OPTIONS=halt_on_error=1:suppressions=$(CURDIR)/tests/tsan.supp ctest -L tsan --output-on-failure $(CTEST_ARGS)

# FUZZ_SECONDS=600 make fuzz
fuzz: deps
	@fuzz/run.sh $${FUZZ_SECONDS:-300}

# Regenerate the committed cbindgen headers from the Rust sources (which crate owns which
# header: cmake/GraftCrateHeaders.cmake).
headers: deps
	@cmake -DROOT=. -P cmake/GraftCrateHeaders.cmake | while read -r d h; do \
	  echo "cbindgen $$d -> $$h"; cbindgen --quiet --config $$d/cbindgen.toml --output $$h $$d || exit 1; \
	done

# PREFIX=/opt/graft make install
install: build
	cmake --install $(BUILD) --prefix $${PREFIX:-/usr/local}

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan $(BUILD)-fuzz target

# graft plan against real codebases (Debian source packages fetched through a private apt
# configuration into $(BUILD)/plan-eval, or PLAN_EVAL_EXT): recall of CVE-fixing files,
# beside lines-of-code and complexity baselines, with floors (docs/PLAN.md, "Evaluation").
# Not part of `make test`: it downloads sources and builds them.
.PHONY: plan-eval
plan-eval: build
	python3 tools/plan/eval/eval.py --graft $(BUILD)/tools/plan/graft --ext $${PLAN_EVAL_EXT:-$(BUILD)/plan-eval}
