# evrouter — the two commands a newcomer needs on a fresh Debian 12 machine:
#   make demo   installs what is missing, builds, and runs the backtest demo for every organization
#   make test   installs what is missing, builds, and runs every test (ctest)
# Other targets: deps, build, bench, install (PREFIX=/usr/local), clean.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Warnings are errors in CI (CI=true) and whenever EVR_WERROR=ON is given; otherwise the build
# directory keeps what it was configured with (switching would rebuild everything).
EVR_WERROR ?= $(if $(filter true,$(CI)),ON,)

.PHONY: all deps configure build test demo bench install clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  $(if $(EVR_WERROR),-DEVR_WERROR=$(EVR_WERROR)) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j 1

# The backtest demo (docs/demo.md): all four organizations of configs/demo/, results in results/.
demo: build
	@scripts/demo.sh --build $(BUILD_DIR) --all

# Benchmarks (speed is measured here, never asserted in tests): the micro benchmarks (medians of 3
# repetitions), then the end-to-end benchmark against direct ZeroMQ, the bare relay and nats-server
# (table on stdout, results in bench/results/latest.json; BENCH_ARGS e.g. "--only evrouterd,nats-server").
BENCH_ARGS ?=
bench: build
	@$(BUILD_DIR)/bench/evr_micro_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
	@$(BUILD_DIR)/bench/evr_e2e_bench --out bench/results/latest.json $(BENCH_ARGS)

install: build
	@cmake --install $(BUILD_DIR)

clean:
	@rm -rf $(BUILD_DIR)
