"""Bad input to the binding raises a clear TypeError / ValueError naming the field; nothing
crashes the interpreter."""

import pytest

import evrouter as evr


def test_unknown_keyword_names_it():
    with pytest.raises(TypeError, match="Bar.__init__.*'closing'"):
        evr.Bar(closing=1.0)


def test_positional_arguments_are_refused():
    with pytest.raises(TypeError):
        evr.Bar("ACME")


@pytest.mark.parametrize("cls, field, value, error", [
    (evr.Bar, "close", "1.5", TypeError),
    (evr.Bar, "close", True, TypeError),
    (evr.Bar, "period_seconds", 1.5, TypeError),
    (evr.Bar, "symbol", 3, TypeError),
    (evr.Bar, "time_ns", None, TypeError),
    (evr.Signal, "direction", evr.Side.SELL, TypeError),
    (evr.Signal, "direction", 1, TypeError),
    (evr.Signal, "direction", "sideways", ValueError),
    (evr.UserEvent, "fields", [("k", object())], TypeError),
    (evr.UserEvent, "fields", [("k",)], ValueError),
])
def test_wrong_field_type_names_the_field(cls, field, value, error):
    with pytest.raises(error, match=f"{cls.__name__}.{field}"):
        cls(**{field: value})


def test_publish_checks_fields_set_after_construction():
    h = evr.testing.Harness("x")
    bar = evr.Bar(symbol="ACME")
    bar.close = "high"
    with pytest.raises(TypeError, match=r"Bar\.close: expected float"):
        h.bus.publish(bar)
    bar = evr.Bar(period_seconds=-1)
    with pytest.raises(ValueError, match=r"Bar\.period_seconds"):
        h.bus.publish(bar)
    bar = evr.Bar(time_ns=2**70)
    with pytest.raises(ValueError, match=r"Bar\.time_ns"):
        h.bus.publish(bar)
    assert h.published() == []


def test_publish_refuses_what_is_not_a_payload():
    bus = evr.Bus("x")
    for thing in (42, None, "BAR", {"close": 1.0}, evr.Bar):
        with pytest.raises(TypeError, match="payload"):
            bus.publish(thing)


def test_bad_subscriptions():
    bus = evr.Bus("x")
    with pytest.raises(ValueError, match="NOPE"):
        bus.subscribe("NOPE", print)
    with pytest.raises(TypeError):
        bus.subscribe(evr.EventType.BAR, 5)
    with pytest.raises(ValueError):
        bus.subscribe(99, print)
    with pytest.raises(TypeError):
        bus.subscribe(1.5, print)


def test_bad_connection_arguments():
    bus = evr.Bus("x")
    with pytest.raises(TypeError, match="Bus"):
        evr.Connection("not a bus")
    with pytest.raises(ValueError, match="on_handler_error"):
        evr.Connection(bus, endpoint="ipc:///nonexistent/x.sock", on_handler_error="ignore")
    with pytest.raises(ValueError):
        evr.Connection(bus, endpoint="ipc:///nonexistent/x.sock", ordering="sideways")
    with evr.Connection(bus, endpoint="ipc:///nonexistent/x.sock", heartbeat=0.1) as link:
        with pytest.raises(ValueError, match="seconds"):
            link.poll(-1)
        assert not link.wait_joined(0.05)


def test_events_cannot_be_made_empty():
    with pytest.raises(TypeError):
        evr.Event()


def test_enums_in_capitals():
    assert evr.Direction.LONG.name == "LONG"
    assert evr.Side["SELL"] == 1
    assert evr.EventType.CLASSIFICATION is evr.EventType.REGIME
    assert evr.Signal(direction="short").direction is evr.Direction.SHORT
