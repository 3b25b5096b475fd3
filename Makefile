# evrouter — the two commands a newcomer needs on a fresh Debian 12 machine:
#   make demo   installs what is missing, builds, and runs the backtest demo for every organization
#   make test   installs what is missing, builds, and runs every test (ctest)
# Other targets: deps, build, sweep (the optimization sweep), bench, soak and soak-quick (the fault battery), fuzz, install (PREFIX=/usr/local),
# package and test-package (the Debian packages, docs/packaging.md), clean, and the checks that start
# what we ship: test-systemd (the unit under a real systemd, also part of `make test`), image and
# test-image (the Docker image built with buildah, and its programs run inside it); for the release
# checklist, not `make test`: test-asan (every suite under ASan + UBSan) and test-tsan (the threaded
# suites under TSan), each in its own build directory (docs/sanitizers.md).

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Warnings are errors in CI (CI=true) and whenever EVR_WERROR=ON is given; otherwise the build
# directory keeps what it was configured with (switching would rebuild everything).
EVR_WERROR ?= $(if $(filter true,$(CI)),ON,)

.PHONY: all deps configure build test test-systemd test-asan test-tsan image test-image package test-package demo sweep bench bench-instructions soak soak-quick fuzz install clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  $(if $(EVR_WERROR),-DEVR_WERROR=$(EVR_WERROR)) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Every suite but the `package` label: those test the .debs of `make package` (test-package builds
# them first), and would otherwise test whatever stale .debs lie in build-package/.
test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j 1 -LE package

# The unit under a real systemd (tests/systemd/check.sh): start, status, send/recv, reload good and
# bad, the watchdog, the socket group, stop. Exit 77 = could not boot a container here (skipped).
SHARED_TOOLS ?= $(abspath ../shared/tools)
test-systemd: build
	@TOOLS=$(SHARED_TOOLS) tests/systemd/run.sh $(BUILD_DIR)

# Sanitizers (scripts/sanitize.sh, docs/sanitizers.md): every target built with -fsanitize in its own
# build directory, the suites run with the sanitizers' options set; any report (from a test binary
# or from a program a test started) fails the target. Not part of `make test` (time); the release
# checklist runs both. test-asan: AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer,
# every suite but systemd.unit; test-tsan: ThreadSanitizer, the suites that run threads (TSAN_TESTS).
ASAN_BUILD_DIR ?= build-asan
TSAN_BUILD_DIR ?= build-tsan
test-asan: deps
	@JOBS=$(JOBS) EVR_WERROR=$(EVR_WERROR) scripts/sanitize.sh asan $(ASAN_BUILD_DIR)
test-tsan: deps
	@JOBS=$(JOBS) EVR_WERROR=$(EVR_WERROR) scripts/sanitize.sh tsan $(TSAN_BUILD_DIR)

# The Debian packages (docs/packaging.md): evrouter, evrouter-dev and python3-evrouter, built with
# CPack in $(PACKAGE_BUILD_DIR) (prefix /usr, sysconfdir /etc, the unit in /lib/systemd/system where
# Debian 12's packages put units, programs stripped) into $(PACKAGE_BUILD_DIR)/packages/.
# test-package: the ctest label `package` of $(BUILD_DIR) (configured, not built: the tests need only
# the .debs): their contents, lintian, an apt install into a Debian 12 chroot with evrouterd --check
# (tests/package/check-debs.sh), and apt install, enable, reload, remove and purge under a real
# systemd (tests/package/run-systemd.sh). Root and Debian's archive needed; exit 77 = skipped.
PACKAGE_BUILD_DIR ?= build-package
package: deps
	@cmake -S . -B $(PACKAGE_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
	  -DEVR_DEB=ON -DEVR_SYSTEMD_UNIT_DIR=/lib/systemd/system -DEVR_BUILD_TESTS=OFF -DEVR_BUILD_BENCH=OFF $(if $(EVR_WERROR),-DEVR_WERROR=$(EVR_WERROR)) \
	  $(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache) >/dev/null
	@cmake --build $(PACKAGE_BUILD_DIR) -j $(JOBS)
	@cd $(PACKAGE_BUILD_DIR) && cpack
test-package: package configure
	@cd $(BUILD_DIR) && EVR_PACKAGES=$(abspath $(PACKAGE_BUILD_DIR))/packages TOOLS=$(SHARED_TOOLS) \
	  ctest --output-on-failure -j 1 -L package

# The Docker image, built without a Docker engine (buildah; a full Release build, ~7 min here), and
# the checks run inside it (tests/image/run.sh): --check, daemon + evrctl, the compose backtest.
IMAGE_TAG ?= evrouter:latest
image:
	@$(SHARED_TOOLS)/container-build.sh $(IMAGE_TAG)
test-image:
	@TOOLS=$(SHARED_TOOLS) tests/image/run.sh $(IMAGE_TAG)

# The backtest demo (docs/demo.md): all four organizations of configs/demo/, results in results/.
demo: build
	@scripts/demo.sh --build $(BUILD_DIR) --all

# The optimization sweep (docs/optimization.md): 64 SMA strategies (fast x slow) on one data feed
# through one evrouterd, each with its own book, then the same 64 one at a time for the time
# comparison; table, heat map and report in results/sweep/. SWEEP_ARGS e.g. "--no-sequential",
# "--slice 250" or "--slurm --shards 8" (a Slurm job array; needs sbatch and SLURM_CONF).
SWEEP_ARGS ?=
sweep: build
	@scripts/sweep.sh --build $(BUILD_DIR) $(SWEEP_ARGS)

# Benchmarks (speed is measured here, never asserted in tests): the micro benchmarks (medians of 3
# repetitions), then the end-to-end benchmark against direct ZeroMQ, a plain ZeroMQ relay, the bare relay and nats-server
# (table on stdout, results in bench/results/latest.json; BENCH_ARGS e.g. "--only evrouterd,nats-server"),
# then the Python package's publisher and consumer next to pyzmq and the C++ client
# (bench/python/python_bench.py, results in bench/results/python.json; PYBENCH_ARGS e.g. "--events 100000"),
# then the cost curves (fan-out, selective rules, lockstep, event size: bench/results/<curve>.json
# and .svg, bench/e2e/README.md "Cost curves"; BENCH_CURVES=0 skips them, CURVES_ARGS e.g. "--runs 1").
BENCH_ARGS ?=
PYBENCH_ARGS ?=
BENCH_CURVES ?= 1
CURVES_ARGS ?=
bench: build
	@$(BUILD_DIR)/bench/evr_micro_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
	@$(BUILD_DIR)/bench/evr_e2e_bench --out bench/results/latest.json $(BENCH_ARGS)
	@/usr/bin/python3 bench/python/python_bench.py --build $(BUILD_DIR) $(PYBENCH_ARGS)
	@if [ "$(BENCH_CURVES)" != 0 ]; then $(BUILD_DIR)/bench/evr_e2e_bench --curves all --curves-dir bench/results $(CURVES_ARGS); fi

# Instructions per event in the publisher, evrouterd and the consumer of a pipeline, one process
# at a time under valgrind's callgrind (bench/e2e/count-instructions.sh; installs valgrind and
# linux-perf, for its --times, if missing): deterministic where timings on a shared machine are
# not. INSTR_EVENTS: events per run.
INSTR_EVENTS ?= 200000
bench-instructions: build
	@scripts/install-deps.sh --profile
	@bench/e2e/count-instructions.sh $(BUILD_DIR) $(INSTR_EVENTS)

# The fault battery (scripts/fault_battery.py, docs/delivery.md "Proof"): consumer crashes (with and
# without a position file), daemon crashes (journal on and off), a stopped consumer under each
# delivery policy, reloads under load, a killed publisher; a table of sent / delivered /
# duplicates / drops / silent loss per fault. It exits 1 while any fault loses an event silently
# or a handler sees a duplicate, which today's consumer and daemon crashes do (issue 12). Faults
# needing what this build lacks show as n/a. soak-quick: the short forms (about a minute).
# SOAK_ARGS e.g. "--seed 7 --only SIGSTOP".
SOAK_ARGS ?=
soak: build
	@/usr/bin/python3 scripts/fault_battery.py --build $(BUILD_DIR) $(SOAK_ARGS)
soak-quick: build
	@/usr/bin/python3 scripts/fault_battery.py --build $(BUILD_DIR) --quick $(SOAK_ARGS)

# libFuzzer (docs/fuzzing.md): installs clang-14 and libfuzzer-14-dev if missing, builds the
# targets in $(FUZZ_BUILD_DIR) (-DEVR_FUZZ=ON: clang, ASan, UBSan) and runs each for FUZZ_SECONDS
# from its corpus in fuzz/corpus/; new inputs and findings go to $(FUZZ_BUILD_DIR)/fuzz-out/, never
# to the repository. FUZZ_TARGETS picks some, e.g. FUZZ_TARGETS="message control".
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= message config condition control capnp
fuzz:
	@scripts/install-deps.sh --fuzz
	@cmake -S . -B $(FUZZ_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
	  -DCMAKE_CXX_COMPILER=clang++-14 -DEVR_FUZZ=ON -DEVR_BUILD_TESTS=OFF -DEVR_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target evr_fuzz_all
	@scripts/run-fuzz.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

install: build
	@cmake --install $(BUILD_DIR)

clean:
	@rm -rf $(BUILD_DIR)
