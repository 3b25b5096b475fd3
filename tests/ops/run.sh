#!/usr/bin/env bash
# ctest ops.rules: the Prometheus alert rules and the Grafana dashboard (docs/prometheus/,
# docs/grafana/; docs/operations.md, "Dashboard and alerts").
#   1. `promtool check rules` and `promtool test rules` (one test per alert, firing and quiet);
#   2. every evrouter_* metric a rule or a dashboard query names is one a real evrouterd serves:
#      starts EVROUTERD with a tiny config (metrics on 127.0.0.1, port 0) in a temporary
#      directory, scrapes /metrics, and compares. A query of a metric that does not exist fails.
# Exit 77 (skipped, never a pass) when promtool is absent (Debian package prometheus,
# scripts/install-deps.sh).
#
#   tests/ops/run.sh EVROUTERD
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
evrouterd=$(realpath "${1:?EVROUTERD}")
python=${PYTHON:-/usr/bin/python3}

if ! command -v promtool >/dev/null 2>&1; then
  echo "ops test: no promtool (Debian package prometheus); skipped" >&2
  exit 77
fi

rules=$src/docs/prometheus/evrouter-rules.yml
dashboard=$src/docs/grafana/evrouter.json
echo "== promtool check rules"
promtool check rules "$rules"
echo "== promtool test rules"
(cd "$(dirname "$rules")" && promtool test rules evrouter-rules.test.yml)

dir=$(mktemp -d -t evr-ops.XXXX)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

cat >"$dir/evrouter.yaml" <<'YAML'
router:
  listen: ["ipc://evrouterd.sock"]
  control: "ipc://evrouterd.ctl"
  metrics: "127.0.0.1:0"
  shutdown_grace_ms: 0
event_communication:
  pattern: "flexible"
  adapters:
    - type: "pipeline"
      name: "flow"
      containers: ["a", "b"]
YAML

echo "== evrouterd with metrics on 127.0.0.1 (port 0)"
"$evrouterd" -c "$dir/evrouter.yaml" --runtime-dir "$dir" >"$dir/daemon.log" 2>&1 &
pid=$!
# Wait (bounded: 10 s) for the log line that names the bound port.
url=
for _ in $(seq 100); do
  url=$(grep -o 'metrics on http://[^ ]*' "$dir/daemon.log" | head -n1 | sed 's/^metrics on //') || true
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "ops test: evrouterd did not report its metrics address:" >&2
  cat "$dir/daemon.log" >&2
  exit 1
fi

echo "== metric names: rules and dashboard against $url/metrics"
"$python" - "$url/metrics" "$rules" "$dashboard" <<'PY'
import json, re, sys, urllib.request
import yaml

url, rules_path, dashboard_path = sys.argv[1:]
with urllib.request.urlopen(url, timeout=10) as answer:
    text = answer.read().decode()

# Served names: every family's # TYPE line (a family with no sample yet, e.g.
# evrouter_route_events_total before traffic, still counts), a histogram's series too.
served = set()
for line in text.splitlines():
    m = re.match(r"# TYPE (\S+) (\S+)", line)
    if m:
        served.add(m.group(1))
        if m.group(2) == "histogram":
            served.update(m.group(1) + s for s in ("_bucket", "_sum", "_count"))
    elif line and not line.startswith("#"):
        served.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
if len(served) < 20:
    sys.exit(f"ops test: only {len(served)} metric names served, expected the full set")

name = re.compile(r"\bevrouter_[a-z0-9_]+")

def exprs_of_rules(path):
    for group in yaml.safe_load(open(path))["groups"]:
        for rule in group["rules"]:
            yield rule.get("alert") or rule.get("record"), rule["expr"]

def exprs_of_dashboard(path):
    def walk(node, where):
        if isinstance(node, dict):
            title = node.get("title", where)
            for key, value in node.items():
                if key in ("expr", "definition") and isinstance(value, str):
                    yield title, value
                elif key == "query" and isinstance(value, str) and node.get("type") != "datasource":
                    yield title, value
                else:
                    yield from walk(value, title)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item, where)
    yield from walk(json.load(open(path)), "dashboard")

def check(label, exprs):
    missing, names, count = [], set(), 0
    for where, expr in exprs:
        count += 1
        for n in name.findall(expr):
            names.add(n)
            if n not in served:
                missing.append(f"{label}: {where!r} queries {n}, which evrouterd does not serve")
    return count, names, missing

# Negative control: the check must catch a name that does not exist.
assert check("control", [("control", "rate(evrouter_no_such_metric_total[1m])")])[2], "check is blind"

failures = []
for label, exprs in (("rules", exprs_of_rules(rules_path)), ("dashboard", exprs_of_dashboard(dashboard_path))):
    count, names, missing = check(label, exprs)
    if count == 0 or not names:
        failures.append(f"{label}: no queries found")
    print(f"{label}: {count} queries, {len(names)} evrouter metric names, {len(missing)} unknown")
    failures += missing
for f in failures:
    print(f, file=sys.stderr)
sys.exit(1 if failures else 0)
PY
echo "ops test: OK"
