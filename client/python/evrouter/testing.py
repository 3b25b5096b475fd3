"""evrouter.testing: run a container's handlers with no daemon (the C++ evr::testing::Harness's
counterpart).

    h = evrouter.testing.Harness("momentum")
    install(h.bus)                                   # the container's own subscribe calls
    h.feed(evr.Bar(symbol="ACME", time_ns=1, open=1.0, close=2.0), source="data")
    [signal] = h.published(evr.EventType.SIGNAL)     # evr.Event, in publish order
    assert signal.causation_id == h.fed[-1].id

feed() dispatches one event as if evrouterd had delivered it (origin ROUTER, stamped by a
publisher named `source`); what the handlers publish is recorded, not sent. The C++ harness
(evr::testing::Harness) does the work; this wraps it and its Bus. A handler that
raises makes feed() raise its exception (and it is logged and counted, as live).
"""

from . import _evrouter


class Harness:
    """A Bus named `container` (h.bus) fed by hand; published() returns what it published.
    Over the C++ evr::testing::Harness (evr/testing/harness.hpp)."""

    def __init__(self, container):
        from . import Bus  # the package's Bus, with the on() decorator

        self._h = _evrouter._Harness(container)
        self.bus = Bus(self._h)
        self.fed = []

    def feed(self, item, source="feed"):
        """Delivers a payload (evr.Bar(...), published by `source`) or a whole evr.Event; returns
        the event as delivered. Raises what a handler raised."""
        try:
            if isinstance(item, _evrouter.Event):
                self._h.feed_event(item)
                event = item
            else:
                event = self._h.feed_payload(item, source)
        finally:
            self.bus._raise_pending()
        self.fed.append(event)
        return event

    def feed_file(self, path):
        """Delivers every event of a JSON-lines file (`evrctl record`'s format, which is
        `evrctl recv --json`'s and Event.to_dict()'s: each event with its header); returns how
        many. A bad line raises ValueError naming the file and line, and nothing is fed."""
        try:
            return self._h.feed_file(str(path))
        finally:
            self.bus._raise_pending()

    def published(self, type=None):  # noqa: A002 -- as in C++
        """The events the handlers published, in order (only those of `type` when given)."""
        return self._h.published(type)

    def clear(self):
        """Forgets what was published so far."""
        self._h.clear()
