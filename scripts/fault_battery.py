#!/usr/bin/python3
"""The fault battery (issue 12): what a crash, a stop or a restart costs in delivered events.

Each run starts its own evrouterd on a pipeline src -> dst in a temporary runtime directory,
publishes N BARs from `evrctl send --as src` at a fixed rate, consumes them with
`evrctl recv --as dst --json`, injects one fault, and reports:

  sent        events the publisher had acknowledged (it exits 0 only when all are)
  delivered   distinct source seqs printed by any incarnation of the consumer
  duplicates  lines printed for a seq already printed (what handlers would have seen twice)
  drops       final drops evrouterd counted (`evrctl stats --json`, summed over reasons,
              not_joined left out: the source resends those)
  silent      sent - delivered - drops: events that vanished without a trace

Faults: consumer SIGKILL at 1/3 restarted at once / after a delay, consumer SIGSTOP then SIGCONT,
evrouterd SIGKILL at 1/3 restarted. Run from the repository root after `make build`:

  /usr/bin/python3 scripts/fault_battery.py [--count 40000] [--rate 20000] [--runs 3] [--build build]

No speed is measured here; the figures are counts. Sleeps only pace the fault injection.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

CONFIG = """router:
  listen: ["ipc://evrouterd.sock"]
event_communication:
  adapters:
    - type: pipeline
      name: battery
      containers: [src, dst]
"""


class Run:
    def __init__(self, build, workdir, count, rate):
        self.build, self.dir, self.count, self.rate = build, workdir, count, rate
        self.runtime = os.path.join(workdir, "run")
        self.config = os.path.join(workdir, "battery.yaml")
        with open(self.config, "w") as f:
            f.write(CONFIG)
        self.env = dict(os.environ, RUNTIME_DIRECTORY=self.runtime)
        self.outputs = []
        self.daemon = None
        self.consumer = None
        self.final_drops = 0

    def tool(self, name):
        return os.path.join(self.build, "daemon" if name == "evrouterd" else "client", name)

    def start_daemon(self):
        log = open(os.path.join(self.dir, "evrouterd.log"), "a")
        self.daemon = subprocess.Popen([self.tool("evrouterd"), "-c", self.config, "--runtime-dir", self.runtime],
                                       stderr=log, stdout=log, env=self.env)
        subprocess.run([self.tool("evrctl"), "status", "--timeout", "10"], env=self.env,
                       stdout=subprocess.DEVNULL, check=True)

    def start_consumer(self):
        out = os.path.join(self.dir, f"recv.{len(self.outputs)}.jsonl")
        self.outputs.append(out)
        self.consumer = subprocess.Popen([self.tool("evrctl"), "recv", "--as", "dst", "--json", "--timeout", "0"],
                                         stdout=open(out, "w"), stderr=subprocess.DEVNULL, env=self.env)

    def start_sender(self):
        return subprocess.Popen([self.tool("evrctl"), "send", "--as", "src", "--type", "BAR", "--set", "symbol=ACME",
                                 "--count", str(self.count), "--rate", str(self.rate), "--timeout", "600"],
                                stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "send.log"), "w"),
                                env=self.env)

    def lines(self):
        total = 0
        for out in self.outputs:
            with open(out) as f:
                total += sum(1 for _ in f)
        return total

    def wait_lines(self, n, limit=120):
        end = time.monotonic() + limit
        while self.lines() < n and time.monotonic() < end:
            time.sleep(0.01)

    def drops(self):
        stats = subprocess.run([self.tool("evrctl"), "stats", "--json", "--timeout", "10"], env=self.env,
                               capture_output=True, text=True, check=True)
        drops = json.loads(stats.stdout).get("drops", {})
        return sum(v for k, v in drops.items() if k != "not_joined")

    def settle(self, sender):
        """Waits for the sender, then until the consumer has printed nothing new for 2 s."""
        code = sender.wait(timeout=900)
        last, still = -1, time.monotonic()
        while time.monotonic() - still < 2.0:
            n = self.lines()
            if n != last:
                last, still = n, time.monotonic()
            time.sleep(0.1)
        return code

    def finish(self, sender_code):
        self.final_drops += self.drops()
        for p in (self.consumer, self.daemon):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
        seqs, lines = set(), 0
        for out in self.outputs:
            with open(out) as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    lines += 1
                    seqs.add(json.loads(line)["seq"])
        sent = self.count if sender_code == 0 else None
        silent = None if sent is None else sent - len(seqs) - self.final_drops
        return dict(sent=sent, delivered=len(seqs), duplicates=lines - len(seqs), drops=self.final_drops,
                    silent=silent)


def consumer_kill(run, delay):
    run.start_daemon()
    run.start_consumer()
    sender = run.start_sender()
    run.wait_lines(run.count // 3)
    run.consumer.send_signal(signal.SIGKILL)
    run.consumer.wait()
    time.sleep(delay)
    run.start_consumer()
    return run.finish(run.settle(sender))


def consumer_stop(run, seconds=3.0):
    run.start_daemon()
    run.start_consumer()
    sender = run.start_sender()
    run.wait_lines(run.count // 3)
    run.consumer.send_signal(signal.SIGSTOP)
    time.sleep(seconds)
    run.consumer.send_signal(signal.SIGCONT)
    return run.finish(run.settle(sender))


def daemon_kill(run):
    run.start_daemon()
    run.start_consumer()
    sender = run.start_sender()
    run.wait_lines(run.count // 3)
    run.final_drops += run.drops()
    run.daemon.send_signal(signal.SIGKILL)
    run.daemon.wait()
    run.start_daemon()
    return run.finish(run.settle(sender))


FAULTS = [
    ("consumer SIGKILL at 1/3, restarted at once", lambda r: consumer_kill(r, 0.0)),
    ("consumer SIGKILL at 1/3, restarted 2 s later", lambda r: consumer_kill(r, 2.0)),
    ("consumer SIGSTOP 3 s, then SIGCONT", consumer_stop),
    ("evrouterd SIGKILL at 1/3, restarted", daemon_kill),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--count", type=int, default=40000)
    ap.add_argument("--rate", type=float, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", help="run only faults whose name contains this text")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    print(f"| fault | run | sent | delivered | duplicates | counted drops | silent loss |")
    print(f"|---|---|---|---|---|---|---|")
    worst = 0
    for name, fault in FAULTS:
        if args.only and args.only not in name:
            continue
        for i in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="evr-fault.") as d:
                r = fault(Run(build, d, args.count, args.rate))
            sent = "failed" if r["sent"] is None else f"{r['sent']:,}"
            silent = "?" if r["silent"] is None else f"{r['silent']:,}"
            print(f"| {name} | {i + 1} | {sent} | {r['delivered']:,} | {r['duplicates']:,} | {r['drops']:,} | {silent} |",
                  flush=True)
            worst = max(worst, r["silent"] or 0)
    return 1 if worst > 0 else 0


if __name__ == "__main__":
    sys.exit(main())
