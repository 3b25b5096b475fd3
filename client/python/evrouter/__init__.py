"""evrouter: containers in Python, over evrouter's C++ client library (docs/python.md).

    import evrouter as evr
    bus = evr.Bus("momentum")
    with evr.Connection(bus, container="momentum") as link:
        @bus.on(evr.EventType.BAR)
        def on_bar(e):
            bar = e.payload                       # evr.Bar
            if bar.close > bar.open:
                bus.publish(evr.Signal(symbol=bar.symbol, time_ns=bar.time_ns, strategy="up",
                                       direction=evr.Direction.LONG, strength=1.0))
        link.run()

Names follow the C++ client's: the payload classes are the C++ structs (evr.Bar, evr.Signal, ...,
evr.PortfolioUpdate, evr.EndOfData, evr.UserEvent) with the same field names, made from the event
field table; enums have their members in capitals. `evrouter.testing.Harness` runs a container's
handlers with no daemon.
"""

import asyncio as _asyncio
import enum as _enum

from . import _evrouter
from ._payloads import make_enums as _make_enums, make_payload_classes as _make_payload_classes

__version__ = _evrouter.__version__

_enums = _make_enums()
EventType = _enums["EventType"]
Direction = _enums["Direction"]
Side = _enums["Side"]
OrderKind = _enums["OrderKind"]


class Origin(_enum.IntEnum):
    """Where an event came from (evr::Origin): published here, or delivered by evrouterd."""

    LOCAL = 0
    ROUTER = 1


class Ordering(_enum.Enum):
    """How a Connection hands events to handlers (evr::Ordering, docs/determinism.md)."""

    ARRIVAL = "arrival"
    EVENT_TIME = "event_time"


_classes, _by_ordinal = _make_payload_classes(_enums)
globals().update(_classes)
_evrouter.register_types(_by_ordinal, _enums, Origin)

Event = _evrouter.Event
ConnectionError = _evrouter.ConnectionError  # noqa: A001 -- evr::ConnectionError; a builtin ConnectionError
default_endpoint = _evrouter.default_endpoint


class Bus(_evrouter.Bus):
    """A container's in-process event bus (evr::Bus).

    subscribe(type, handler, only=None) -> id; subscribe_all(handler, only=None); the decorator
    on(type=None, only=None); publish(payload, cause=None, tags=None) -> seq; unsubscribe(id).
    Handlers run in subscription order; an event published from a handler is dispatched after
    the current one has reached every handler.
    """

    def on(self, type=None, *, only=None):  # noqa: A002 -- the C++ parameter's name
        """Decorator: subscribes the function to `type` (None: every type); returns it unchanged."""

        def subscribe(fn):
            self.subscribe(type, fn, only=only)
            return fn

        return subscribe


class Connection:
    """Joins a Bus to evrouterd (evr::Connection); a context manager that closes the link.

    Options as evr::ConnectionOptions: container (default: the bus's source), endpoint (default:
    $EVR_ENDPOINT, else ipc://<runtime dir>/evrouterd.sock), heartbeat (seconds), max_unacked,
    position_file, server_key_file and key_file (CURVE, docs/security.md), ordering
    (Ordering.ARRIVAL | Ordering.EVENT_TIME), and on_handler_error: "stop" (default: run() and
    poll() raise the handler's exception and the container stops) or "continue" (logged and
    counted in stats["handler_errors"]). Every call on a closed Connection raises ValueError.
    """

    def __init__(self, bus, container=None, *, endpoint=None, ordering=Ordering.ARRIVAL,
                 heartbeat=1.0, max_unacked=65536, position_file=None, server_key_file=None,
                 key_file=None, on_handler_error="stop"):
        if not isinstance(bus, _evrouter.Bus):
            raise TypeError(f"Connection: expected an evrouter.Bus, got {type(bus).__name__}")
        if isinstance(ordering, str):
            ordering = Ordering(ordering.lower())
        if not isinstance(ordering, Ordering):
            raise TypeError(f"Connection: ordering: expected evrouter.Ordering, got {ordering!r}")
        self.bus = bus
        self._heartbeat = float(heartbeat)
        self._stop_requested = False
        self._c = _evrouter._Connection(
            bus, container if container is not None else bus.source, endpoint or "",
            float(heartbeat), int(max_unacked), position_file or "", server_key_file or "",
            key_file or "", ordering is Ordering.EVENT_TIME, on_handler_error)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def run(self):
        """Serves the link until stop() (or a handler's error under "stop", which it raises)."""
        self._c.run()

    def poll(self, timeout=0.0):
        """Serves the link for at most `timeout` seconds; True when something was done."""
        return self._c.poll(timeout)

    def stop(self):
        """Makes run() (and run_async()) return soon; safe from any thread."""
        self._stop_requested = True
        self._c.stop()

    def close(self):
        """Flushes what is unacknowledged (up to 2 s), says BYE and closes the link; idempotent."""
        self._c.close()

    def flush(self, timeout=5.0):
        """Serves the link until every published event is acked; True when all were."""
        return self._c.flush(timeout)

    def wait_joined(self, timeout=5.0):
        """Serves the link until evrouterd has welcomed it; True when joined."""
        return self._c.wait_joined(timeout)

    def fileno(self):
        """A file descriptor readable when poll(0) has work (selectors, loop.add_reader); call
        poll(0) at least every heartbeat too."""
        return self._c.fileno()

    def advance_watermark(self, time_ns):
        """Promises that nothing published from now on has an event time <= time_ns."""
        self._c.advance_watermark(time_ns)

    def on_step_end(self, fn):
        """Decorator: fn(time_ns) after the handlers of each step (Ordering.EVENT_TIME)."""
        self._c.on_step_end(fn)
        return fn

    def on_inputs_ended(self, fn):
        """Decorator: fn() once every input has ended and all is handled (Ordering.EVENT_TIME)."""
        self._c.on_inputs_ended(fn)
        return fn

    async def run_async(self):
        """Serves the link from the running asyncio loop (loop.add_reader on fileno()) until
        stop(); raises a handler's error under "stop" like run()."""
        loop = _asyncio.get_running_loop()
        done = loop.create_future()

        def serve():
            if done.done():
                return
            try:
                for _ in range(64):  # bounded, so the loop's other tasks get their turn
                    if not self._c.poll(0.0):
                        break
                else:
                    loop.call_soon(serve)
            except BaseException as error:  # noqa: BLE001 -- handed to the awaiting task
                done.set_exception(error)
                return
            if self._stop_requested:
                done.set_result(None)

        fd = self.fileno()
        self._stop_requested = False
        loop.add_reader(fd, serve)
        try:
            serve()
            while not done.done():
                try:
                    await _asyncio.wait_for(_asyncio.shield(done), self._heartbeat / 2)
                except _asyncio.TimeoutError:
                    serve()  # the link's timers
            done.result()
        finally:
            loop.remove_reader(fd)

    @property
    def stats(self):
        """evr::ConnectionStats as a dict, and handler_errors."""
        return self._c.stats

    @property
    def closed(self):
        return self._c.closed

    @property
    def joined(self):
        return self._c.joined

    @property
    def container(self):
        return self._c.container

    @property
    def endpoint(self):
        return self._c.endpoint

    @property
    def inputs(self):
        return self._c.inputs

    @property
    def can_publish(self):
        return self._c.can_publish


class PublishBatch:
    """Groups what is published on the loop thread while it lives into as few messages as fit
    (evr::PublishBatch), for code publishing many events outside a handler:

        with evr.PublishBatch(link):
            for bar in bars:
                bus.publish(bar)
    """

    def __init__(self, link):
        self._link = link

    def __enter__(self):
        self._link._c._cork()
        return self

    def __exit__(self, *exc):
        self._link._c._uncork()
        return False


from . import testing  # noqa: E402 -- after the names it uses

__all__ = ["Bus", "Connection", "ConnectionError", "Event", "EventType", "Direction", "Side",
           "OrderKind", "Origin", "Ordering", "PublishBatch", "default_endpoint", "testing",
           *_classes]
