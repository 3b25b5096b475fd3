"""evrouter.testing.Harness: a container's handlers on a real Bus with no daemon."""

import json

import pytest

import evrouter as evr


def momentum(bus):
    """A container's wiring, the same live and under the harness."""

    @bus.on(evr.EventType.BAR)
    def on_bar(e):
        bar = e.payload
        if bar.close > bar.open:
            bus.publish(evr.Signal(symbol=bar.symbol, time_ns=bar.time_ns, strategy="up",
                                   direction=evr.Direction.LONG, strength=1.0, price=bar.close))


def test_published_events_answer_what_was_fed():
    h = evr.testing.Harness("momentum")
    momentum(h.bus)
    up = h.feed(evr.Bar(symbol="ACME", time_ns=10, open=1.0, close=2.0), source="data")
    h.feed(evr.Bar(symbol="ACME", time_ns=20, open=2.0, close=1.0), source="data")
    assert up.source == "data" and up.seq == 1 and up.origin == evr.Origin.ROUTER
    assert h.fed[1].seq == 2
    [signal] = h.published()
    assert signal.type == evr.EventType.SIGNAL
    assert signal.source == "momentum" and signal.origin == evr.Origin.LOCAL
    assert signal.causation_id == up.id
    assert signal.payload == evr.Signal(symbol="ACME", time_ns=10, strategy="up",
                                        direction=evr.Direction.LONG, strength=1.0, price=2.0)
    assert h.published(evr.EventType.ORDER) == []
    h.clear()
    assert h.published() == []


def test_feed_file_replays_json_lines(tmp_path):
    first = evr.testing.Harness("momentum")
    momentum(first.bus)
    for i in range(5):
        first.feed(evr.Bar(symbol="ACME", time_ns=i, open=1.0, close=1.0 + (i % 2)), source="data")
    recording = tmp_path / "bars.jsonl"
    recording.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in first.fed))

    second = evr.testing.Harness("momentum")
    momentum(second.bus)
    assert second.feed_file(recording) == 5
    assert [e.payload for e in second.published()] == [e.payload for e in first.published()]
    assert len(second.published(evr.EventType.SIGNAL)) == 2


def test_feed_file_names_the_bad_line(tmp_path):
    h = evr.testing.Harness("x")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "BAR", "close": 1.0}\n{"type": "NOPE"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: .*NOPE"):
        h.feed_file(bad)


def test_raising_handler_makes_feed_raise():
    h = evr.testing.Harness("x")

    @h.bus.on(evr.EventType.TICK)
    def on_tick(e):
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        h.feed(evr.Tick(symbol="ACME"))
    assert h.bus.handler_errors == 1


def test_origin_filter():
    h = evr.testing.Harness("x")
    routed, local = [], []
    h.bus.subscribe(evr.EventType.END_OF_DATA, routed.append, only=evr.Origin.ROUTER)
    h.bus.subscribe(evr.EventType.END_OF_DATA, local.append, only=evr.Origin.LOCAL)

    @h.bus.on(evr.EventType.END_OF_DATA, only=evr.Origin.ROUTER)
    def pass_on(e):
        h.bus.publish(evr.EndOfData(time_ns=e.event_time, reason="passed on"))

    h.feed(evr.EndOfData(time_ns=5, reason="done"))
    assert [e.payload.reason for e in routed] == ["done"]
    assert [e.payload.reason for e in local] == ["passed on"]
