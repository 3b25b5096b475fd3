"""Every payload type of schemas/event.capnp, C++ -> evrouterd -> Python -> evrouterd -> C++:
evrctl send publishes it, a Python container receives it as its typed class and publishes it
again, evrctl recv --json reads what arrives; each field's value must survive both ways."""

import enum
import json

import evrouter as evr
from conftest import serve_until

CONFIG = """
router:
  listen: ["ipc://evrouterd.sock"]
event_communication:
  pattern: "flexible"
  adapters:
    - type: "pipeline"
      name: "roundtrip"
      containers: ["cpp_src", "py", "cpp_sink"]
"""

PAYLOADS = [cls for cls in vars(evr).values() if isinstance(cls, type) and hasattr(cls, "_evr_type")]


def sample(cls, salt):
    """A payload of `cls` with every field set to a value other than its default."""
    values = {}
    for i, name in enumerate(cls._fields):
        default = getattr(cls(), name)
        if name == "fields":
            values[name] = [("text", "t"), ("count", 3), ("ratio", 0.5), ("flag", True)]
        elif name == "time_ns":
            values[name] = 1_700_000_000_000_000_000 + salt
        elif isinstance(default, enum.Enum):
            values[name] = list(type(default))[-1]
        elif isinstance(default, str):
            values[name] = f"{name}-{salt}"
        elif isinstance(default, float):
            values[name] = 1.25 + i + salt
        elif isinstance(default, bool):
            values[name] = True
        else:
            values[name] = 7 + i + salt
    return cls(**values)


def send_args(payload):
    args = ["--type", payload.TYPE.name, "--as", "cpp_src", "--timeout", "10"]
    for name, value in payload.to_dict().items():
        if name == "fields":
            args += [x for k, v in value for x in ("--set", f"field.{k}={str(v).lower() if isinstance(v, bool) else v}")]
            continue
        key = "event_time" if name == "time_ns" else name
        args += ["--set", f"{key}={value}"]
    return args


def test_every_payload_type_round_trips(daemon_factory):
    assert len(PAYLOADS) == len(evr._evrouter.payload_schema()) == 10
    daemon = daemon_factory(CONFIG)
    sink = daemon.evrctl_background("recv", "--as", "cpp_sink", "--json", "--count",
                                    str(len(PAYLOADS)), "--timeout", "30")
    bus = evr.Bus("py")
    received = []

    @bus.on(None, only=evr.Origin.ROUTER)
    def forward(e):
        received.append(e)
        bus.publish(e.payload)

    expected = [sample(cls, salt) for salt, cls in enumerate(PAYLOADS)]
    with evr.Connection(bus, "py", endpoint=daemon.endpoint) as link:
        assert link.wait_joined(10)
        for payload in expected:
            sent = daemon.evrctl("send", *send_args(payload))
            assert sent.returncode == 0, sent.stderr
        serve_until(link, lambda: len(received) == len(expected))
        assert link.flush(10)
        assert link.stats["handler_errors"] == 0

    # C++ -> Python: each arrived as its class, every field equal.
    for event, payload in zip(received, expected):
        assert event.type == payload.TYPE
        assert event.source == "cpp_src"
        assert event.origin == evr.Origin.ROUTER
        assert type(event.payload) is type(payload)
        assert event.payload == payload, (event.payload, payload)

    # Python -> C++: evrctl recv printed each with the same fields, published by "py" in answer.
    out, err = sink.communicate(timeout=40)
    assert sink.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == len(expected)
    for line, payload, cause in zip(lines, expected, received):
        assert line["type"] == payload.TYPE.name
        assert line["source"] == "py"
        assert line["causation_id"] == cause.id
        for name, value in payload.to_dict().items():
            if name == "fields":
                assert line["fields"] == dict(value)
            elif name == "time_ns":
                assert line["event_time"] == value
            else:
                assert line[name] == value, (payload.TYPE.name, name)
