"""A Python container against a real evrouterd: a handler that raises (stop and continue), the
asyncio loop, PublishBatch, and what a closed connection does."""

import asyncio
import logging

import pytest

import evrouter as evr
from conftest import serve_until

CONFIG = """
router:
  listen: ["ipc://evrouterd.sock"]
event_communication:
  pattern: "flexible"
  adapters:
    - type: "pipeline"
      name: "flow"
      containers: ["cpp_src", "py", "cpp_sink"]
"""


def send_bars(daemon, count):
    sent = daemon.evrctl("send", "--as", "cpp_src", "--type", "BAR", "--count", str(count),
                         "--set", "symbol=ACME", "--set", "close=2.5", "--timeout", "10")
    assert sent.returncode == 0, sent.stderr


def test_raising_handler_stops_run_with_its_exception(daemon_factory, caplog):
    daemon = daemon_factory(CONFIG)
    bus = evr.Bus("py")
    seen = []

    @bus.on(evr.EventType.BAR)
    def on_bar(e):
        seen.append(e.seq)
        if len(seen) == 2:
            raise RuntimeError("bad bar")

    send_bars(daemon, 3)
    with caplog.at_level(logging.ERROR, logger="evrouter"):
        with evr.Connection(bus, "py", endpoint=daemon.endpoint) as link:
            with pytest.raises(RuntimeError, match="bad bar"):
                link.run()
            assert link.stats["handler_errors"] == 1
            assert seen[:2] == [1, 2]
    assert len(seen) == 2  # no handler ran after the one that failed
    [record] = [r for r in caplog.records if r.name == "evrouter"]
    assert "Traceback" in record.getMessage() and "bad bar" in record.getMessage()
    assert "on_bar" in record.getMessage()


def test_raising_handler_continues_when_asked(daemon_factory):
    daemon = daemon_factory(CONFIG)
    bus = evr.Bus("py")
    seen = []

    with evr.Connection(bus, "py", endpoint=daemon.endpoint, on_handler_error="continue") as link:
        @bus.on(evr.EventType.BAR)
        def on_bar(e):
            seen.append(e.seq)
            if len(seen) == 3:
                link.stop()
            if len(seen) == 1:
                raise ValueError("first bar")

        send_bars(daemon, 3)
        link.run()
        assert seen == [1, 2, 3]
        assert link.stats["handler_errors"] == 1
        assert bus.handler_errors == 1


def test_asyncio_loop_serves_the_link(daemon_factory):
    daemon = daemon_factory(CONFIG)
    sink = daemon.evrctl_background("recv", "--as", "cpp_sink", "--count", "3", "--timeout", "20")
    bus = evr.Bus("py")
    ticks = []

    async def main(link):
        @bus.on(evr.EventType.BAR)
        def on_bar(e):
            bar = e.payload
            bus.publish(evr.Signal(symbol=bar.symbol, time_ns=bar.time_ns, strategy="async",
                                   direction=evr.Direction.LONG, price=bar.close))
            if e.seq == 3:
                link.stop()

        async def ticker():
            while True:
                ticks.append(None)
                await asyncio.sleep(0.01)

        other = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        await asyncio.get_running_loop().run_in_executor(None, send_bars, daemon, 3)
        await asyncio.wait_for(link.run_async(), 20)
        other.cancel()

    with evr.Connection(bus, "py", endpoint=daemon.endpoint) as link:
        asyncio.run(main(link))
        assert link.stats["received"] == 3
        assert link.flush(10)
    out, err = sink.communicate(timeout=30)
    assert sink.returncode == 0, err
    assert out.count("SIGNAL") == 3 and "strategy=async" in out
    assert ticks  # the loop ran other tasks while it served the link


def test_publish_batch_and_fileno(daemon_factory):
    daemon = daemon_factory(CONFIG)
    sink = daemon.evrctl_background("recv", "--as", "cpp_sink", "--count", "100", "--timeout", "20")
    bus = evr.Bus("py")
    with evr.Connection(bus, "py", endpoint=daemon.endpoint) as link:
        assert isinstance(link.fileno(), int) and link.fileno() >= 0
        assert link.wait_joined(10)
        with evr.PublishBatch(link):
            for i in range(100):
                bus.publish(evr.Bar(symbol="ACME", time_ns=i + 1, close=float(i)))
        assert link.flush(10)
        assert link.stats["published"] == 100
        assert link.stats["batches"] < 100
    out, err = sink.communicate(timeout=30)
    assert sink.returncode == 0, err
    assert out.count("BAR") == 100


def test_closed_connection_raises(daemon_factory):
    daemon = daemon_factory(CONFIG)
    bus = evr.Bus("py")
    link = evr.Connection(bus, "py", endpoint=daemon.endpoint)
    assert link.wait_joined(10)
    link.close()
    link.close()  # idempotent
    assert link.closed
    for call in (link.run, lambda: link.poll(0.1), link.fileno, lambda: link.stats,
                 lambda: link.flush(1)):
        with pytest.raises(ValueError, match="closed"):
            call()
    with pytest.raises(ValueError, match="closed"):
        bus.publish(evr.Bar(symbol="ACME"))


def test_a_handler_cannot_close_or_rerun_its_own_link(daemon_factory):
    daemon = daemon_factory(CONFIG)
    bus = evr.Bus("py")
    errors = []
    with evr.Connection(bus, "py", endpoint=daemon.endpoint, on_handler_error="continue") as link:
        @bus.on(evr.EventType.BAR)
        def on_bar(e):
            for call in (link.close, link.run, lambda: link.poll(0)):
                try:
                    call()
                except ValueError as error:
                    errors.append(str(error))
            link.stop()

        send_bars(daemon, 1)
        link.run()
        assert not link.closed
        assert link.stats["handler_errors"] == 0
    assert len(errors) == 3 and "serving" in errors[0]
