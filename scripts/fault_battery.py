#!/usr/bin/python3
"""The fault battery (issue 12): what a crash, a stop, a reload or a restart costs in delivered events.

Each run starts its own evrouterd in a temporary runtime directory (ipc sockets only), publishes
BARs with `evrctl send`, consumes them with `evrctl recv --json --timeout 0`, injects its faults,
waits until everything has settled (conditions polled with timeouts, never a fixed sleep), and
counts:

  sent        events the publishers had sent, times the targets each reaches (a publisher exits 0
              only once evrouterd has acknowledged all of its events; for a killed publisher,
              what evrouterd counted in from it)
  delivered   distinct (source, source instance, source seq) printed by a consumer, per target
  duplicates  lines printed for a key that the same consumer process had already printed
              ("same process": a handler ran twice), and separately for a key that an earlier
              incarnation of that consumer had printed ("across crashes")
  drops       final drops evrouterd counted (`evrctl stats --json`, drops_to of each target,
              summed over reasons; not_joined and duplicate are left out: they are not final,
              the sender resends), added up over daemon lives
  silent      sent - delivered - drops: events that vanished without a trace

Faults (each with `--quick` short forms; the full form is `make soak`):
  consumer SIGKILL at random points (seeded; restarted at once, or after a delay)
  consumer SIGKILL with `evrctl recv --position-file` (at most one duplicate per crash: the event
    whose line was printed when the kill came, before its position was stored)
  evrouterd SIGKILL with the journal (new), and without it (loss reported, expected)
  SIGSTOP of one of three broadcast consumers for 3 s under each delivery policy
  reloads under load (evrctl reload and SIGHUP, alternating two configs that both route src->dst)
  a publisher SIGKILLed mid-batch, then a second publisher under the same name sends the rest

A fault that needs a config key or flag this build does not have is reported as
"n/a (not supported by this build)" (detected with `evrouterd --check` and `evrctl recv --help`).
Exit status 1 when any run loses an event silently (the journal-off daemon crash aside: reported,
not judged), when a handler saw a duplicate within one process, or when a consumer with a
position file saw one across its own crashes. Run from the repository root after `make build`:

  /usr/bin/python3 scripts/fault_battery.py [--quick] [--seed N] [--only TEXT] [--build build]

Throughput figures (the other consumers during a stop) are indicative; the counts are the result.
"""
import argparse
import json
import re
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

NOT_FINAL = {"not_joined", "duplicate"}  # drop reasons the sender recovers from by resending
POLICIES = ["lossless", "conflate", "drop_oldest", "drop_newest"]
NA = "n/a (not supported by this build)"


class Timeout(Exception):
    pass


def wait_until(condition, limit, what, step=0.02):
    """Polls `condition` until it holds; raises Timeout after `limit` seconds."""
    end = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise Timeout(f"timed out after {limit} s waiting for {what}")
        time.sleep(step)


def pipeline_config(router_extra="", delivery=""):
    return ("router:\n  listen: [\"ipc://evrouterd.sock\"]\n" + router_extra +
            "event_communication:\n" + delivery +
            "  adapters:\n    - {type: pipeline, name: battery, containers: [src, dst]}\n")


def broadcast_config(delivery=""):
    return ("router:\n  listen: [\"ipc://evrouterd.sock\"]\n"
            "event_communication:\n" + delivery +
            "  adapters:\n    - {type: broadcast, name: fanout, source: src, targets: [dst1, dst2, dst3]}\n")


def journal_router(journal_dir):
    return (f"  replay_limit: 100000\n  stall_timeout_ms: 5000\n"
            f"  journal: {{path: \"{journal_dir}\", fsync: batch, types: lossless}}\n")


def policy_delivery(policy):
    target = "{default: conflate}" if policy == "conflate" else f"{{default: {policy}, limit: 1000}}"
    return f"  delivery:\n    default: lossless\n    targets: {{dst2: {target}}}\n"


class Consumer:
    """One consumer name; each (re)start is a new incarnation with its own output file."""

    def __init__(self, bed, name, position_file=None, once=False):
        self.bed, self.name, self.position_file, self.once = bed, name, position_file, once
        self.outputs, self.errors, self.proc = [], [], None

    def start(self):
        out = os.path.join(self.bed.dir, f"recv.{self.name}.{len(self.outputs)}.jsonl")
        self.outputs.append(out)
        args = ["recv", "--as", self.name, "--json", "--timeout", "0"]
        if self.position_file:
            args += ["--position-file", self.position_file]
        if self.once:
            args += ["--at-most-once"]
        err = os.path.join(self.bed.dir, f"recv.{self.name}.{len(self.outputs) - 1}.err")
        self.errors.append(err)
        self.proc = self.bed.spawn(args, stdout=open(out, "w"), stderr=open(err, "w"))

    def interrupted(self):
        """Keys of the events a restarted --at-most-once consumer named as cut short (it does not
        print them again; the kill may have come before or after their line was printed)."""
        named = set()
        pattern = re.compile(r"event (\S+) seq (\d+) \(instance ([0-9a-f]+)\).*not handed to them again")
        for err in self.errors:
            with open(err, errors="replace") as f:
                for line in f:
                    m = pattern.search(line)
                    if m:
                        named.add((m.group(1), int(m.group(3), 16), int(m.group(2))))
        return named

    def printed(self):
        """Keys of every whole line printed by any incarnation."""
        keys = set()
        for out in self.outputs:
            with open(out) as f:
                for line in f:
                    if line.endswith("\n"):
                        source, instance, seq = event_key(json.loads(line))
                        keys.add((source, int(instance) if str(instance).isdigit() else instance, seq))
        return keys

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def lines(self):
        total = 0
        for out in self.outputs:
            with open(out, "rb") as f:
                total += f.read().count(b"\n")
        return total

    def distinct(self):
        """Distinct events printed so far (recounted only when the line count moved)."""
        lines = self.lines()
        if getattr(self, "_distinct_at", None) != lines:
            self._distinct_at, self._distinct = lines, self.tally()[0]
        return self._distinct

    def tally(self):
        """(distinct keys, same-process duplicates, across-incarnation duplicates)."""
        seen, same, across = set(), 0, 0
        for out in self.outputs:
            mine = set()
            with open(out) as f:
                for line in f:
                    if not line.endswith("\n"):
                        break  # cut off by SIGKILL mid-line: never a whole print
                    key = event_key(json.loads(line))
                    if key in mine:
                        same += 1
                    elif key in seen:
                        across += 1
                    mine.add(key)
                    seen.add(key)
        return len(seen), same, across


def event_key(event):
    """(source, source instance, source seq). Today's header has no sourceInstance, so a batch tag
    set by the sender stands in for it where two publishers share a name."""
    instance = event.get("sourceInstance", event.get("source_instance"))
    if instance is None:
        instance = (event.get("tags") or {}).get("batch", "")
    return event["source"], instance, event["seq"]


class Bed:
    """One evrouterd (restartable), its config file and runtime dir, and the processes on it."""

    def __init__(self, build, workdir, config):
        self.build, self.dir = build, workdir
        self.runtime = os.path.join(workdir, "run")
        self.config = os.path.join(workdir, "battery.yaml")
        self.write_config(config)
        self.env = dict(os.environ, RUNTIME_DIRECTORY=self.runtime)
        self.daemon, self.procs = None, []
        self.drops_before = {}  # target -> final drops counted by earlier daemon lives

    def tool(self, name):
        return os.path.join(self.build, "daemon" if name == "evrouterd" else "client", name)

    def write_config(self, text):
        with open(self.config + ".tmp", "w") as f:
            f.write(text)
        os.replace(self.config + ".tmp", self.config)

    def spawn(self, args, stdout=subprocess.DEVNULL, stderr=None):
        log = stderr or open(os.path.join(self.dir, f"{args[0]}.log"), "a")
        p = subprocess.Popen([self.tool("evrctl")] + args, stdout=stdout, stderr=log, env=self.env)
        self.procs.append(p)
        return p

    def evrctl(self, args, timeout=30):
        return subprocess.run([self.tool("evrctl")] + args, env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def start_daemon(self):
        log = open(os.path.join(self.dir, "evrouterd.log"), "a")
        self.daemon = subprocess.Popen([self.tool("evrouterd"), "-c", self.config, "--runtime-dir", self.runtime,
                                        "--metrics", "127.0.0.1:0"], stderr=log, stdout=log, env=self.env)
        r = self.evrctl(["status", "--timeout", "20"])
        if r.returncode != 0:
            raise RuntimeError(f"evrouterd did not answer: {r.stderr.strip()}")

    def kill_daemon(self):
        """SIGKILL; the drops it had counted (read just before) are kept."""
        self.bank_drops()
        self.daemon.send_signal(signal.SIGKILL)
        self.daemon.wait()

    def stats(self):
        r = self.evrctl(["stats", "--json", "--timeout", "10"])
        if r.returncode != 0:
            raise RuntimeError(f"evrctl stats failed: {r.stderr.strip()}")
        return json.loads(r.stdout)

    def container(self, name, stats=None):
        for c in (stats or self.stats())["containers"]:
            if c["name"] == name:
                return c
        return {}

    def final_drops(self, target, stats=None):
        c = self.container(target, stats)
        now = sum(v for k, v in (c.get("drops_to") or {}).items() if k not in NOT_FINAL)
        return self.drops_before.get(target, 0) + now

    def bank_drops(self):
        stats = self.stats()
        for c in stats["containers"]:
            self.drops_before[c["name"]] = self.final_drops(c["name"], stats)

    def settle(self, consumers, expected, senders, limit=300):
        """Waits for the senders to exit, then until each consumer has everything it was sent
        (delivered + counted drops), or evrouterd's view stops moving: the consumers' events_out,
        queue depth and printed lines unchanged for a second with empty queues (5 s otherwise)."""
        for s in senders:
            s.wait(timeout=limit)
        end = time.monotonic() + limit
        last, since = None, time.monotonic()
        while time.monotonic() < end:
            stats = self.stats()
            view = []
            done = True
            for c in consumers:
                st = self.container(c.name, stats)
                lines = c.lines()
                view.append((st.get("events_out"), st.get("queue_depth"), lines))
                drops = self.final_drops(c.name, stats)
                # Lines count duplicates too: a hint first, then the distinct count to be sure.
                done = done and lines + drops >= expected and c.distinct() + drops >= expected
            if done:
                return
            if view != last:
                last, since = view, time.monotonic()
            elif time.monotonic() - since > (1.0 if all(v[1] == 0 for v in view) else 5.0):
                return  # nothing moves: what is missing now is lost
            time.sleep(0.05)

    def close(self):
        for p in self.procs + [self.daemon]:
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs + [self.daemon]:
            if p:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


class Result:
    def __init__(self):
        self.runs = self.sent = self.delivered = self.same = self.across = self.drops = 0
        self.failed = []  # notes: a publisher that did not finish, a timeout
        self.notes = []

    def add(self, sent, consumer, drops):
        delivered, same, across = consumer.tally()
        self.sent += sent
        self.delivered += delivered
        self.same += same
        self.across += across
        self.drops += drops

    @property
    def silent(self):
        return self.sent - self.delivered - self.drops


def sender(bed, count, rate, batch=None, name="src"):
    args = ["send", "--as", name, "--type", "BAR", "--set", "symbol=ACME", "--count", str(count),
            "--rate", str(rate), "--timeout", "900"]
    if batch is not None:
        args += ["--set", f"tag.batch={batch}"]
    return bed.spawn(args)


def require_sent(result, s, count):
    if s.returncode != 0:
        result.failed.append(f"a publisher exited {s.returncode}")
        return 0
    return count


# --- faults -------------------------------------------------------------------------------------

def consumer_kills(bed, opts, rng, delays, position_file=False, once=False):
    """SIGKILLs of the consumer at random points of one stream, the i-th restarted after
    delays[i] s (0: at once). `once`: --at-most-once, whose restarts name (in a warning) the event
    a kill cut short instead of printing it again: those count as accounted for, not silent."""
    result = Result()
    bed.start_daemon()
    consumer = Consumer(bed, "dst", os.path.join(bed.dir, "dst.position") if position_file else None, once)
    consumer.start()
    s = sender(bed, opts.count, opts.rate)
    points = sorted(rng.uniform(0.05, 0.95) for _ in delays)
    for p, delay in zip(points, delays):
        target = int(p * opts.count)
        wait_until(lambda: consumer.lines() >= target or s.poll() is not None and bed.container("dst").get("queue_depth", 0) == 0,
                   300, f"{target} lines")
        consumer.kill()
        if delay:
            time.sleep(delay)  # pacing: the consumer stays away this long
        consumer.start()
    bed.settle([consumer], opts.count, [s])
    named = consumer.interrupted() if once else set()
    unprinted = len(named - consumer.printed()) if once else 0
    result.add(require_sent(result, s, opts.count), consumer, bed.final_drops("dst") + unprinted)
    result.runs = len(delays)
    if once:
        result.notes.append(f"{len(named)} events named as cut short by a kill and not printed again "
                            f"({len(named) - unprinted} of them had been printed before the kill, "
                            f"{unprinted} had not: those count as accounted for, being named)")
    # Where the loss is: evrouterd counts an event out once written to a connection.
    written = bed.container("dst").get("events_out", 0)
    result.notes.append(f"evrouterd wrote {written:,} events to dst's connections; "
                        f"{written - result.delivered:,} of them were never printed")
    return result


def daemon_kills(bed, opts, rng, kills):
    result = Result()
    bed.start_daemon()
    consumer = Consumer(bed, "dst")
    consumer.start()
    s = sender(bed, opts.count, opts.rate)
    for p in sorted(rng.uniform(0.05, 0.95) for _ in range(kills)):
        target = int(p * opts.count)
        wait_until(lambda: consumer.lines() >= target or s.poll() is not None, 300, f"{target} lines")
        bed.kill_daemon()
        bed.start_daemon()
    bed.settle([consumer], opts.count, [s])
    result.add(require_sent(result, s, opts.count), consumer, bed.final_drops("dst"))
    result.runs = kills
    return result


def stop_under_policy(bed, opts, rng, policy, stop_s):
    """Broadcast src -> dst1, dst2, dst3; dst2 (under `policy`) is SIGSTOPped for `stop_s`."""
    result = Result()
    bed.start_daemon()
    consumers = [Consumer(bed, n) for n in ("dst1", "dst2", "dst3")]
    for c in consumers:
        c.start()
    s = sender(bed, opts.count, opts.rate)
    wait_until(lambda: consumers[1].lines() >= opts.count // 5 or s.poll() is not None, 300, "a fifth of the events")
    others = [consumers[0], consumers[2]]
    before = [c.lines() for c in others]
    t0 = time.monotonic()
    consumers[1].proc.send_signal(signal.SIGSTOP)
    time.sleep(stop_s)  # pacing: the length of the stop
    after = [c.lines() for c in others]
    window = time.monotonic() - t0
    consumers[1].proc.send_signal(signal.SIGCONT)
    bed.settle(consumers, opts.count, [s])
    for c in consumers:
        result.add(require_sent(result, s, opts.count), c, bed.final_drops(c.name))
    rates = [(a - b) / window for a, b in zip(after, before)]
    d2, _, _ = consumers[1].tally()
    dropped2 = bed.final_drops("dst2")
    result.notes.append(f"during the {window:.1f} s stop: dst1 {rates[0]:,.0f}/s, dst3 {rates[1]:,.0f}/s "
                        f"(sender {opts.rate:,.0f}/s); dst2 got {d2:,} of {opts.count:,}, "
                        f"{dropped2:,} counted dropped/conflated, {opts.count - d2 - dropped2:,} unaccounted")
    result.runs = 1
    return result


def reloads(bed, opts, rng, count):
    """`count` reloads while the sender runs, alternating `evrctl reload` and SIGHUP, and two
    configs that both route src -> dst (a pipeline, and a broadcast)."""
    result = Result()
    bed.start_daemon()
    configs = [pipeline_config(),
               "router:\n  listen: [\"ipc://evrouterd.sock\"]\nevent_communication:\n  adapters:\n"
               "    - {type: broadcast, name: battery_b, source: src, targets: [dst]}\n"]
    consumer = Consumer(bed, "dst")
    consumer.start()
    # A stream long enough to span the reloads (well under 0.4 s each here, with the pacing).
    s = sender(bed, opts.count, min(opts.rate, opts.count / (count * 0.4)))
    t0 = time.monotonic()
    wait_until(lambda: consumer.lines() > 0, 60, "the first event")
    applied = 0
    for i in range(count):
        bed.write_config(configs[(i + 1) % 2])
        if i % 2 == 0:
            r = bed.evrctl(["reload", "--timeout", "30"])
            applied += r.returncode == 0
        else:
            generation = status_generation(bed)
            bed.daemon.send_signal(signal.SIGHUP)
            # Done when the generation moves (a changed config always applies).
            try:
                wait_until(lambda: status_generation(bed) != generation, 30, "the SIGHUP reload")
                applied += 1
            except Timeout:
                pass
        time.sleep(rng.uniform(0.0, opts.reload_gap))  # pacing: spread the reloads over the stream
    running, took = s.poll() is None, time.monotonic() - t0
    bed.settle([consumer], opts.count, [s])
    result.add(require_sent(result, s, opts.count), consumer, bed.final_drops("dst"))
    result.notes.append(f"{applied} of {count} reloads applied in {took:.1f} s; sender still running after "
                        f"the last: {'yes' if running else 'NO (not all under load)'}")
    result.runs = count
    return result


def status_generation(bed):
    r = bed.evrctl(["status", "--json", "--timeout", "10"])
    return json.loads(r.stdout).get("generation") if r.returncode == 0 else None


def publisher_kill(bed, opts, rng):
    """`evrctl send` SIGKILLed at a random point; once evrouterd's count of what it took from src
    stops moving, a second `evrctl send --as src` (tagged batch 2) sends the rest. evrctl send
    cannot say what it had been acked for when killed, so the first batch's `sent` is what
    evrouterd counted in from src (everything it took, acked or about to be): the battery checks
    that all of it is delivered. What the killed process had published but evrouterd never took
    died with that process (at most its unacked resend buffer)."""
    result = Result()
    bed.start_daemon()
    consumer = Consumer(bed, "dst")
    consumer.start()
    first = sender(bed, opts.count, opts.rate, batch=1)
    target = int(rng.uniform(0.2, 0.8) * opts.count)
    wait_until(lambda: consumer.lines() >= target or first.poll() is not None, 300, f"{target} lines")
    first.send_signal(signal.SIGKILL)
    first.wait()
    taken = stable(lambda: bed.container("src").get("events_in", 0))
    second = sender(bed, max(opts.count - taken, 1), opts.rate, batch=2)
    bed.settle([consumer], opts.count, [second])
    result.add(taken + require_sent(result, second, max(opts.count - taken, 1)), consumer, bed.final_drops("dst"))
    result.notes.append(f"killed publisher: evrouterd had taken {taken:,} of its events")
    result.runs = 1
    return result


def stable(read, quiet=0.5, limit=30):
    """A counter's value once it has not moved for `quiet` s (bounded by `limit`)."""
    value, since, end = read(), time.monotonic(), time.monotonic() + limit
    while time.monotonic() - since < quiet and time.monotonic() < end:
        time.sleep(0.05)
        now = read()
        if now != value:
            value, since = now, time.monotonic()
    return value


# --- the battery --------------------------------------------------------------------------------

class Battery:
    def __init__(self, opts):
        self.opts = opts
        self.build = os.path.abspath(opts.build)
        self.rng = random.Random(opts.seed)
        self._support = {}

    def config_ok(self, text):
        if text not in self._support:
            with tempfile.TemporaryDirectory(prefix="evr-fault-check.") as d:
                path = os.path.join(d, "check.yaml")
                os.makedirs(os.path.join(d, "journal"))
                with open(path, "w") as f:
                    f.write(text.replace("@JOURNAL@", os.path.join(d, "journal")))
                r = subprocess.run([os.path.join(self.build, "daemon", "evrouterd"), "--check", "-c", path],
                                   capture_output=True, text=True)
                self._support[text] = r.returncode == 0
        return self._support[text]

    def position_file_ok(self):
        r = subprocess.run([os.path.join(self.build, "client", "evrctl"), "recv", "--help"],
                           capture_output=True, text=True)
        return "--position-file" in r.stdout

    def faults(self):
        q = self.opts.quick
        kills = 3 if q else 10
        yield ("consumer SIGKILL, restarted at once", "consumer", pipeline_config(), None,
               lambda b: consumer_kills(b, self.opts, self.rng, [0.0] * kills), True)
        yield ("consumer SIGKILL, restarted after 1 s", "consumer", pipeline_config(), None,
               lambda b: consumer_kills(b, self.opts, self.rng, [1.0] * kills), True)
        pf = self.position_file_ok()
        yield ("consumer SIGKILL with --position-file (half at once, half after 1 s)", "position",
               pipeline_config(), None if pf else NA,
               lambda b: consumer_kills(b, self.opts, self.rng, [0.0, 1.0] * (kills // 2), True), True)
        yield ("consumer SIGKILL with --position-file --at-most-once", "once",
               pipeline_config(), None if pf else NA,
               lambda b: consumer_kills(b, self.opts, self.rng, [0.0, 1.0] * (kills // 2), True, True), True)
        journal = pipeline_config(router_extra=journal_router("@JOURNAL@"))
        yield ("evrouterd SIGKILL, journal on", "daemon", journal, None if self.config_ok(journal) else NA,
               lambda b: daemon_kills(b, self.opts, self.rng, 2 if q else 10), True)
        yield ("evrouterd SIGKILL, journal off", "daemon", pipeline_config(), None,
               lambda b: daemon_kills(b, self.opts, self.rng, 1 if q else 3), False)
        for policy in POLICIES:
            cfg = broadcast_config(policy_delivery(policy))
            supported = self.config_ok(cfg)
            name = f"SIGSTOP 3 s of dst2 ({policy}) in src -> dst1..3"
            if not supported and policy == "lossless":
                cfg, supported = broadcast_config(), True  # today's default is lossless
                name += " [no delivery key: today's default]"
            yield (name, "stop", cfg, None if supported else NA,
                   lambda b, p=policy: stop_under_policy(b, self.opts, self.rng, p, 3.0), True)
        n = 10 if q else 50
        yield (f"{n} reloads under load", "reload", pipeline_config(), None,
               lambda b: reloads(b, self.opts, self.rng, n), True)
        for i in range(1 if q else 3):
            yield ("publisher SIGKILL mid-batch, then the rest", "publisher", pipeline_config(), None,
                   lambda b: publisher_kill(b, self.opts, self.rng), True)

    def run(self):
        print(f"seed {self.opts.seed}; {'quick' if self.opts.quick else 'full'} form; "
              f"{self.opts.count:,} BARs at {self.opts.rate:,.0f}/s per stream", flush=True)
        rows, notes, bad = {}, [], []
        for name, kind, config, na, fault, judged in self.faults():
            if self.opts.only and self.opts.only not in name:
                continue
            if na:
                rows.setdefault(name, (None, judged, kind))
                print(f"  {name}: {na}", flush=True)
                continue
            with tempfile.TemporaryDirectory(prefix="evr-fault.") as d:
                os.makedirs(os.path.join(d, "journal"))
                bed = Bed(self.build, d, config.replace("@JOURNAL@", os.path.join(d, "journal")))
                try:
                    r = fault(bed)
                except Timeout as e:
                    r = Result()
                    r.failed.append(str(e))
                finally:
                    bed.close()
                    if self.opts.keep:
                        subprocess.run(["cp", "-r", d, self.opts.keep + "/" + os.path.basename(d)])
            prev = rows.get(name, (None,))[0]
            rows[name] = (merge(prev, r) if prev else r, judged, kind)
            print(f"  {name}: sent {r.sent:,} delivered {r.delivered:,} dup {r.same:,}/{r.across:,} "
                  f"drops {r.drops:,} silent {r.silent:,} {'; '.join(r.notes + r.failed)}", flush=True)
            notes += [f"{name}: {n}" for n in r.notes + r.failed]
        print()
        print("| fault | runs | sent | delivered | duplicates (same process / across crashes) | final drops | silent loss |")
        print("|---|---|---|---|---|---|---|")
        for name, (r, judged, kind) in rows.items():
            if r is None:
                print(f"| {name} | – | {NA} | | | | |")
                continue
            silent = f"{r.silent:,}" + ("" if judged else " (expected, not judged)")
            print(f"| {name} | {r.runs} | {r.sent:,} | {r.delivered:,} | {r.same:,} / {r.across:,} | "
                  f"{r.drops:,} | {silent} |")
            if r.failed:
                bad.append(f"{name}: {'; '.join(r.failed)}")
            if judged and r.silent != 0:
                bad.append(f"{name}: silent loss {r.silent:,}")
            if r.same:
                bad.append(f"{name}: {r.same:,} duplicates within one consumer process")
            # A position is stored when the handler returns: a kill between the handler's effect
            # (the printed line) and that store hands the one event again. At most one per kill.
            if kind == "once" and r.across:
                bad.append(f"{name}: {r.across:,} duplicates across crashes with --at-most-once")
            if kind == "position" and r.across > r.runs:
                bad.append(f"{name}: {r.across:,} duplicates across {r.runs} crashes despite its "
                           "position file (at most one per crash is the bound)")
        if notes:
            print()
            for n in notes:
                print(f"- {n}")
        if bad:
            print("\nFAILED:\n" + "\n".join(f"- {b}" for b in bad))
        return 1 if bad else 0


def merge(a, b):
    if b is None:
        return a
    r = Result()
    for k in ("runs", "sent", "delivered", "same", "across", "drops"):
        setattr(r, k, getattr(a, k) + getattr(b, k))
    r.failed, r.notes = a.failed + b.failed, a.notes + b.notes
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--quick", action="store_true", help="short forms: fewer faults, shorter streams")
    ap.add_argument("--count", type=int, help="BARs per stream (default 60,000; quick 20,000)")
    ap.add_argument("--rate", type=float, default=20000, help="BARs per second per stream")
    ap.add_argument("--seed", type=int, default=None, help="for the fault points (default: random, printed)")
    ap.add_argument("--only", help="run only faults whose name contains this text")
    ap.add_argument("--keep", help="copy each run's directory (logs, outputs) here")
    opts = ap.parse_args()
    opts.count = opts.count or (20000 if opts.quick else 60000)
    opts.seed = opts.seed if opts.seed is not None else random.randrange(1 << 31)
    opts.reload_gap = 0.02 if opts.quick else 0.04
    return Battery(opts).run()


if __name__ == "__main__":
    sys.exit(main())
