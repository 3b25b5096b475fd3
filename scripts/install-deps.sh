#!/usr/bin/env bash
# Installs every Debian 12 package evrouter needs to build, test and run its demo.
# Idempotent and non-interactive: installs only what is missing, runs `apt-get update`
# first only when something is missing, uses sudo when not root.
# `--fuzz`: only the fuzzing toolchain (`make fuzz`, docs/fuzzing.md), which `make test` does not need.
# `--profile`: only valgrind and linux-perf, for `make bench-instructions` and its `--times`
# (bench/e2e/count-instructions.sh).
set -euo pipefail

packages=(
  # toolchain
  g++ make cmake pkg-config
  # libraries
  libzmq3-dev cppzmq-dev capnproto libcapnp-dev libyaml-cpp-dev libspdlog-dev
  libfmt-dev libboost-test-dev libsystemd-dev libcli11-dev nlohmann-json3-dev
  libbenchmark-dev libcpp-httplib-dev
  zlib1g-dev  # crc32 for the journal's records
  libfccp-dev  # the demo's CSV reader (Fast C++ CSV Parser)
  # end-to-end benchmark (bench/e2e): the NATS server and its C client, compared against
  nats-server libnats-dev
  # tests and demo tools (the demo draws its charts with gnuplot and Graphviz)
  python3 python3-prometheus-client python3-yaml python3-zmq graphviz gnuplot-nox
  # operations: promtool (alert rules, tests/ops) and help2man (the man pages, built from --help)
  prometheus help2man
  # the Debian packages (make package, make test-package): dpkg-shlibdeps and Debian's package checker
  dpkg-dev lintian
  # the Python package evrouter (client/python) and its tests
  pybind11-dev python3-dev python3-pytest
)

if [ "${1:-}" = "--fuzz" ]; then
  packages=(clang-14 libfuzzer-14-dev)
elif [ "${1:-}" = "--profile" ]; then
  packages=(valgrind linux-perf)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "deps: missing packages (${missing[*]}) and not root, and no sudo" >&2
    exit 1
  fi
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

# Debian's nats-server package enables and starts a system-wide nats-server (127.0.0.1:4222). The
# benchmark starts its own on a random loopback port; a running service is not something
# `make test` should leave behind, so stop and disable it if this run installed it.
if printf '%s\n' "${missing[@]}" | grep -qx nats-server && command -v systemctl >/dev/null 2>&1 \
   && [ -d /run/systemd/system ]; then
  "${sudo_cmd[@]}" systemctl disable --now nats-server.service >/dev/null 2>&1 || true
  echo "deps: disabled the nats-server system service (the benchmark runs its own)"
fi

# Debian's prometheus package (installed for promtool) enables and starts a Prometheus server
# (:9090). The tests only run promtool; stop and disable the service if this run installed it.
if printf '%s\n' "${missing[@]}" | grep -qx prometheus && command -v systemctl >/dev/null 2>&1 \
   && [ -d /run/systemd/system ]; then
  "${sudo_cmd[@]}" systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  echo "deps: disabled the prometheus system service (only promtool is used)"
fi
