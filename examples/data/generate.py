#!/usr/bin/env python3
"""Generates the demo's daily OHLCV bars: examples/data/<SYMBOL>.csv.

Synthetic and deterministic (fixed seed, Python's standard library only), so anyone can
regenerate the exact files that are committed:

    python3 examples/data/generate.py            # writes next to this script
    python3 examples/data/generate.py --out DIR  # elsewhere

Four fictional symbols share one market factor that goes through scripted regimes (bull,
bear, sideways; calm and volatile), so trend-following and mean-reversion strategies and a
regime classifier all have something to find. Each symbol has its own beta and noise.
Business days (Monday to Friday, no holidays) from 2021-01-04 to 2023-12-29.

Columns: date,open,high,low,close,volume (ISO dates, prices with 2 decimals, whole volumes):
the format the data container reads (docs/demo.md, "Bringing your own CSV").
"""
import argparse
import datetime
import math
import os
import random

SEED = 2
START = datetime.date(2021, 1, 4)
END = datetime.date(2023, 12, 29)

# (trading days, daily drift of the market factor, daily volatility): the regime script.
REGIMES = [
    (90, 0.0012, 0.008),    # calm bull
    (60, 0.0000, 0.010),    # sideways
    (70, -0.0018, 0.022),   # volatile bear
    (50, 0.0002, 0.016),    # choppy
    (120, 0.0011, 0.009),   # steady bull
    (60, -0.0025, 0.026),   # crash
    (80, 0.0004, 0.014),    # recovery, still nervous
    (110, 0.0009, 0.007),   # calm bull
    (70, -0.0008, 0.018),   # slide
    (200, 0.0006, 0.011),   # grind up (covers the rest)
]

# symbol: (start price, beta to the market factor, idiosyncratic volatility, volume base)
SYMBOLS = {
    "ACME": (48.0, 1.0, 0.006, 1_800_000),
    "BOLT": (112.0, 1.5, 0.011, 950_000),
    "CRUX": (27.5, 0.6, 0.009, 3_200_000),
    "DUNE": (230.0, 1.1, 0.007, 420_000),
}


def business_days(start, end):
    day = start
    while day <= end:
        if day.weekday() < 5:
            yield day
        day += datetime.timedelta(days=1)


def market_path(days, rng):
    """(drift, vol, factor return) per day, following REGIMES; the last regime fills the rest."""
    schedule = []
    for length, drift, vol in REGIMES:
        schedule.extend([(drift, vol)] * length)
    while len(schedule) < len(days):
        schedule.append(schedule[-1])
    return [(drift, vol, rng.gauss(drift, vol)) for drift, vol in schedule[: len(days)]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args()

    rng = random.Random(SEED)
    days = list(business_days(START, END))
    market = market_path(days, rng)
    os.makedirs(args.out, exist_ok=True)
    for symbol, (price, beta, idio, volume_base) in SYMBOLS.items():
        path = os.path.join(args.out, symbol + ".csv")
        with open(path, "w", encoding="ascii", newline="\n") as out:
            out.write("date,open,high,low,close,volume\n")
            close = price
            for day, (_, vol, factor) in zip(days, market):
                gap = rng.gauss(0.0, idio * 0.3)
                open_ = close * math.exp(gap)
                ret = beta * factor + rng.gauss(0.0, idio)
                new_close = close * math.exp(ret)
                span = abs(rng.gauss(0.0, (vol * beta + idio) * 0.6))
                high = max(open_, new_close) * math.exp(span)
                low = min(open_, new_close) * math.exp(-abs(rng.gauss(0.0, (vol * beta + idio) * 0.6)))
                volume = int(volume_base * math.exp(rng.gauss(0.0, 0.25)) * (1.0 + 20.0 * abs(ret)))
                out.write(f"{day.isoformat()},{open_:.2f},{high:.2f},{low:.2f},{new_close:.2f},{volume}\n")
                close = float(f"{new_close:.2f}")
        print(f"wrote {path} ({len(days)} bars)")


if __name__ == "__main__":
    main()
