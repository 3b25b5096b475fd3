#!/usr/bin/python3
"""The Python package's speed (make bench, docs/python.md "Speed"): in one run, side by side,

  evrouter (Python)   a Python publisher and a Python consumer of typed BAR events (evr.Bar built
                      per event, e.payload read per event) through evrouterd
  C++ client          the same with evr::Bus / evr::Connection (build/bench/evr_client_peer)
  pyzmq               PUSH -> PULL over ipc carrying the same bytes (one serialized BAR event a
                      message): the raw rate of a Python ZeroMQ program

Each side is measured alone: the publisher publishes every event while no consumer reads (its
time: first publish until evrouterd has acked the last; pyzmq: the send loop), then the consumer
takes them (its time: first event to last). Medians of --runs. Prints a table and the ratios the
issue sets targets for (Python consumer / pyzmq PULL >= 1/2, Python publisher / pyzmq PUSH >=
1/3); writes JSON (default bench/results/python.json).

  /usr/bin/python3 bench/python/python_bench.py --build build [--events 200000] [--runs 3]
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
BATCH = 1000


def make_bar(evr, i):
    p = 100.0 + (i % 100)
    return evr.Bar(symbol="ACME", time_ns=i + 1, open=p, high=p + 1, low=p - 1, close=p + 0.5,
                   volume=1000.0, period_seconds=60)


# ---- roles (each a process of its own) ---------------------------------------------------------

def role_evr_pub(args):
    import evrouter as evr
    bus = evr.Bus(args.name)
    with evr.Connection(bus, args.name, endpoint=args.endpoint) as link:
        assert link.wait_joined(10), "could not join evrouterd"
        start = time.perf_counter()
        for first in range(0, args.events, BATCH):
            with evr.PublishBatch(link):
                for i in range(first, min(first + BATCH, args.events)):
                    bus.publish(make_bar(evr, i))
        assert link.flush(120), "not every event was acked"
        seconds = time.perf_counter() - start
    return seconds


def role_evr_sub(args):
    import evrouter as evr
    bus = evr.Bus(args.name)
    state = {"n": 0, "sum": 0.0, "start": 0.0, "end": 0.0}

    with evr.Connection(bus, args.name, endpoint=args.endpoint) as link:
        @bus.on(evr.EventType.BAR)
        def on_bar(e):
            if state["n"] == 0:
                state["start"] = time.perf_counter()
            state["sum"] += e.payload.close
            state["n"] += 1
            if state["n"] == args.events:
                state["end"] = time.perf_counter()
                link.stop()

        deadline = time.monotonic() + args.timeout
        while state["n"] < args.events:
            assert time.monotonic() < deadline, f"timed out at {state['n']} of {args.events}"
            link.poll(0.1)
    assert state["sum"] > 0
    return state["end"] - state["start"]


def event_bytes():
    """One serialized BAR event as evrouterd carries it (what the pyzmq rows send)."""
    import evrouter as evr
    h = evr.testing.Harness("pub")
    return h.feed(make_bar(evr, 1)).to_bytes()


def role_zmq_push(args):
    import zmq
    ctx = zmq.Context()
    s = ctx.socket(zmq.PUSH)
    s.setsockopt(zmq.SNDHWM, 0)
    s.connect(args.endpoint)
    payload = event_bytes()
    time.sleep(0.2)  # the connect completes (bench only: no test waits like this)
    send = s.send
    start = time.perf_counter()
    for _ in range(args.events):
        send(payload, copy=False)
    seconds = time.perf_counter() - start
    s.close(linger=-1)
    ctx.term()
    return seconds


def role_zmq_pull(args):
    import zmq
    ctx = zmq.Context()
    s = ctx.socket(zmq.PULL)
    s.setsockopt(zmq.RCVHWM, 0)
    s.bind(args.endpoint)
    print("ready", flush=True)
    sys.stdin.readline()  # the sender has sent every message: now read them
    recv = s.recv
    start = time.perf_counter()
    n = 0
    for _ in range(args.events):
        recv(copy=False)
        n += 1
    seconds = time.perf_counter() - start
    s.close(linger=0)
    ctx.term()
    return seconds


ROLES = {"evr-pub": role_evr_pub, "evr-sub": role_evr_sub, "zmq-push": role_zmq_push,
         "zmq-pull": role_zmq_pull}

# ---- the driver --------------------------------------------------------------------------------

CONFIG = """
router:
  listen: ["ipc://evrouterd.sock"]
  queue_limit: {limit}
  queue_bytes_limit: 1099511627776
event_communication:
  pattern: "flexible"
  adapters:
    - type: "pipeline"
      name: "python"
      containers: ["py_pub", "py_sub"]
    - type: "pipeline"
      name: "cpp"
      containers: ["cpp_pub", "cpp_sub"]
"""


def last_json(out):
    return json.loads(out.strip().splitlines()[-1])


def run_role(command, env, timeout):
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr}")
    return last_json(done.stdout)["seconds"]


def one_run(build, events, directory, env, timeout):
    me = [sys.executable, str(pathlib.Path(__file__).resolve())]
    peer = [str(build / "bench" / "evr_client_peer")]
    rates = {}

    # pyzmq PUSH -> PULL: everything sent while the PULL side does not read, then read.
    endpoint = f"ipc://{directory}/zmq.sock"
    pull = subprocess.Popen(me + ["--role", "zmq-pull", "--endpoint", endpoint, "--events", str(events)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert pull.stdout.readline().strip() == "ready"
        push = run_role(me + ["--role", "zmq-push", "--endpoint", endpoint, "--events", str(events)],
                        env, timeout)
        pull.stdin.write("go\n")
        pull.stdin.flush()
        out, _ = pull.communicate(timeout=timeout)
        assert pull.returncode == 0
    finally:
        if pull.poll() is None:
            pull.kill()
    rates["pyzmq PUSH"] = events / push
    rates["pyzmq PULL"] = events / last_json(out)["seconds"]

    # evrouterd: the publisher alone (the consumer not joined: evrouterd queues), then the consumer.
    (directory / "evrouter.yaml").write_text(CONFIG.format(limit=max(4 * events, 100000) * 4))
    daemon = subprocess.Popen([str(build / "daemon" / "evrouterd"), "-c", str(directory / "evrouter.yaml"),
                               "--runtime-dir", str(directory), "--metrics", "off", "--log-level", "warn"],
                              stdout=subprocess.DEVNULL, stderr=open(directory / "evrouterd.log", "w"))
    endpoint = f"ipc://{directory}/evrouterd.sock"
    try:
        deadline = time.monotonic() + 20
        while not (directory / "evrouterd.sock").exists():
            if time.monotonic() > deadline or daemon.poll() is not None:
                raise RuntimeError("evrouterd did not start")
            time.sleep(0.05)
        common = ["--endpoint", endpoint, "--events", str(events)]
        pub = run_role(me + ["--role", "evr-pub", "--name", "py_pub"] + common, env, timeout)
        sub = run_role(me + ["--role", "evr-sub", "--name", "py_sub"] + common, env, timeout)
        rates["evrouter (Python) publisher"] = events / pub
        rates["evrouter (Python) consumer"] = events / sub
        pub = run_role(peer + ["--role", "pub", "--as", "cpp_pub"] + common, env, timeout)
        sub = run_role(peer + ["--role", "sub", "--as", "cpp_sub"] + common, env, timeout)
        rates["C++ client publisher"] = events / pub
        rates["C++ client consumer"] = events / sub
    except Exception:
        daemon.terminate()
        daemon.wait(timeout=10)
        print("evrouterd's log:\n" + (directory / "evrouterd.log").read_text(), file=sys.stderr)
        raise
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--events", type=int, default=200000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "python.json"))
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--role", choices=sorted(ROLES), help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.role:
        seconds = ROLES[args.role](args)
        print(json.dumps({"role": args.role, "events": args.events, "seconds": seconds}), flush=True)
        return 0

    build = pathlib.Path(args.build).resolve()
    sys.path.insert(0, str(build / "python"))
    env = dict(os.environ, PYTHONPATH=str(build / "python") + (
        ":" + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else ""))
    runs = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="evr-pybench-") as directory:
            runs.append(one_run(build, args.events, pathlib.Path(directory), env, args.timeout))
        print(f"run {run + 1}/{args.runs}: " + ", ".join(f"{k} {v:,.0f}/s" for k, v in runs[-1].items()),
              flush=True)
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    ratios = {
        "python consumer / pyzmq PULL": median["evrouter (Python) consumer"] / median["pyzmq PULL"],
        "python publisher / pyzmq PUSH": median["evrouter (Python) publisher"] / median["pyzmq PUSH"],
        "python consumer / C++ consumer": median["evrouter (Python) consumer"] / median["C++ client consumer"],
        "python publisher / C++ publisher": median["evrouter (Python) publisher"] / median["C++ client publisher"],
    }
    targets = {"python consumer / pyzmq PULL": 0.5, "python publisher / pyzmq PUSH": 1 / 3}
    print(f"\n{args.events:,} BAR events a side, median of {args.runs} runs ({len(event_bytes_cached())} bytes an event)")
    print(f"{'':34}{'events/s':>14}")
    for k, v in median.items():
        print(f"{k:34}{v:>14,.0f}")
    print()
    for k, v in ratios.items():
        target = f"  (target >= {targets[k]:.2f}: {'met' if v >= targets[k] else 'NOT met'})" if k in targets else ""
        print(f"{k:34}{v:>14.2f}{target}")
    result = {
        "benchmark": "python", "events": args.events, "runs": args.runs, "event_bytes": len(event_bytes_cached()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "median_events_per_s": median, "ratios": ratios, "targets": targets, "all_runs": runs,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out}")
    return 0


_bytes = []


def event_bytes_cached():
    if not _bytes:
        _bytes.append(event_bytes())
    return _bytes[0]


if __name__ == "__main__":
    sys.exit(main())
