#!/usr/bin/python3
"""rsi_strategy.py: the demo's mean-reversion strategy in Python, a port of
examples/containers/rsi_strategy.cpp (with examples/common/bar_strategy.cpp, technical.cpp's Rsi
and container.cpp) to the evrouter package (docs/python.md).

BAR in, SIGNAL out: the target turns LONG when the RSI falls below --oversold and stays LONG
until the RSI rises above --exit, then FLAT (long only). BARs come in event-time order, a step at
a time (Ordering.EVENT_TIME); each bar of a warmed-up symbol gets a SIGNAL answering it. Once
every input has ended: END_OF_DATA one day after the last step, and exit. Same options, output
and events as the C++ program, so a backtest with either gives the same fills
(tests/python/test_demo_rsi.py).
"""

import argparse
import signal
import sys

import evrouter as evr

DAY_NS = 86_400_000_000_000  # examples/common/csv_bars.hpp kDayNs


class Rsi:
    """Relative strength index, Wilder's smoothing (examples/common/technical.cpp Rsi), the same
    arithmetic in the same order, so the same doubles."""

    def __init__(self, period):
        self.period = period
        self.last_close = None
        self.changes = 0
        self.avg_gain = 0.0
        self.avg_loss = 0.0
        self.value = None

    def update(self, close):
        if self.last_close is None:
            self.last_close = close
            return self.value
        change = close - self.last_close
        self.last_close = close
        gain = max(change, 0.0)
        loss = max(-change, 0.0)
        n = float(self.period)
        self.changes += 1
        if self.changes <= self.period:  # the first average is a plain mean of `period` changes
            self.avg_gain += gain / n
            self.avg_loss += loss / n
            if self.changes < self.period:
                return self.value
        else:
            self.avg_gain = (self.avg_gain * (n - 1) + gain) / n
            self.avg_loss = (self.avg_loss * (n - 1) + loss) / n
        if self.avg_loss == 0:
            self.value = 50.0 if self.avg_gain == 0 else 100.0
        else:
            self.value = 100.0 - 100.0 / (1.0 + self.avg_gain / self.avg_loss)
        return self.value


class MeanReversion:
    """One symbol's decision: the target direction after a bar, or None while warming up."""

    def __init__(self, period, oversold, exit_level):
        self.rsi = Rsi(period)
        self.long = False
        self.oversold = oversold
        self.exit = exit_level

    def __call__(self, bar):
        value = self.rsi.update(bar.close)
        if value is None:
            return None
        if not self.long and value < self.oversold:
            self.long = True
        elif self.long and value > self.exit:
            self.long = False
        return evr.Direction.LONG if self.long else evr.Direction.FLAT


def install(bus, link, name, make_decide, out=sys.stdout):
    """The strategy's wiring on `bus` and `link` (bar_strategy.cpp's runBarStrategy)."""
    step = []
    by_symbol = {}
    last = {}
    counts = {"signals": 0, "changes": 0, "last_step": 0}

    @bus.on(None, only=evr.Origin.ROUTER)
    def collect(event):
        if event.type != evr.EventType.END_OF_DATA:
            step.append(event)

    @link.on_step_end
    def on_step(time_ns):
        if not step:
            return
        counts["last_step"] = time_ns
        events = step[:]
        step.clear()
        for event in events:
            bar = event.payload
            if not isinstance(bar, evr.Bar):
                continue
            decide = by_symbol.get(bar.symbol)
            if decide is None:
                decide = by_symbol[bar.symbol] = make_decide()
            direction = decide(bar)
            if direction is None:
                continue
            bus.publish(evr.Signal(symbol=bar.symbol, time_ns=bar.time_ns, strategy=name,
                                   direction=direction,
                                   strength=0.0 if direction == evr.Direction.FLAT else 1.0,
                                   price=bar.close),
                        cause=event)  # answers this BAR (its lineage, docs/operations.md)
            counts["signals"] += 1
            previous = last.get(bar.symbol)
            if previous is not None and previous != direction:
                counts["changes"] += 1
            last[bar.symbol] = direction

    @link.on_inputs_ended
    def on_end():
        print(f"{name}: inputs {','.join(link.inputs)} ended", file=out, flush=True)
        print(f"{name}: done signals={counts['signals']} target_changes={counts['changes']}",
              file=out, flush=True)
        bus.publish(evr.EndOfData(time_ns=counts["last_step"] + DAY_NS, reason=f"{name} finished"))
        link.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="demo strategy: mean reversion (LONG from RSI < oversold until RSI > exit)")
    parser.add_argument("--as", dest="name", default="mean_reversion",
                        help="container name (as the config names it)")
    parser.add_argument("--endpoint", default=None,
                        help="evrouterd endpoint (default: $EVR_ENDPOINT or ./run/evrouterd.sock)")
    parser.add_argument("--period", type=int, default=14, help="RSI period (bars)")
    parser.add_argument("--oversold", type=float, default=30.0, help="enter LONG below this RSI")
    parser.add_argument("--exit", type=float, default=55.0, help="go FLAT above this RSI")
    args = parser.parse_args(argv)
    if args.period <= 0:
        parser.error("--period must be positive")
    if args.oversold >= args.exit:
        print(f"{args.name}: --oversold must be below --exit", file=sys.stderr)
        return 1

    bus = evr.Bus(args.name)
    interrupted = []
    with evr.Connection(bus, args.name, endpoint=args.endpoint,
                        ordering=evr.Ordering.EVENT_TIME) as link:
        install(bus, link, args.name,
                lambda: MeanReversion(args.period, args.oversold, args.exit))

        def on_signal(signum, frame):
            interrupted.append(signum)
            link.stop()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        try:
            link.run()
            if interrupted:
                print(f"{args.name}: interrupted", file=sys.stderr)
                return 130
            if not link.flush(10):
                print(f"{args.name}: evrouterd did not acknowledge every event within 10 s",
                      file=sys.stderr)
                return 1
        except evr.ConnectionError as error:
            print(f"{args.name}: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
