"""The payload classes and schema enums, made at import from the event field table.

The C++ module exports the table (``_evrouter.payload_schema()``, ``_evrouter.enum_schema()``);
this file turns each payload type into a class with keyword construction, attributes, ``repr``,
``to_dict`` and equality, and registers the classes back with the C++ module, which reads and
writes payloads through the same table. No field is named here.
"""

import enum as _enum

from . import _evrouter

_DEFAULTS = {"text": '""', "integer": "0", "number": "0.0", "bool": "False"}


def _type_name(value):
    return type(value).__name__


def _bad(owner, field, expected, value):
    raise TypeError(f"{owner}.{field}: expected {expected}, got {_type_name(value)} {value!r}")


def _as_float(owner, field, value):
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    _bad(owner, field, "float", value)


def _as_int(owner, field, value):
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        _bad(owner, field, "int", value)
    return value.__index__()


def _as_enum(enum_class, owner, field, value):
    if isinstance(value, enum_class):
        return value
    if isinstance(value, str):
        try:
            return enum_class[value.upper()]
        except KeyError:
            names = ", ".join(m.name for m in enum_class)
            raise ValueError(f"{owner}.{field}: {value!r} is not one of {names}") from None
    _bad(owner, field, f"{enum_class.__name__} (or its name as str)", value)


def _as_user_fields(owner, field, value):
    if value is None:
        return []
    items = value.items() if isinstance(value, dict) else value
    out = []
    for item in items:
        try:
            key, v = item
        except (TypeError, ValueError):
            raise ValueError(f"{owner}.{field}: each item must be (key, value), got {item!r}") from None
        if not isinstance(key, str):
            _bad(owner, f"{field} key", "str", key)
        if not isinstance(v, (str, int, float, bool)):
            _bad(owner, f"{field}[{key!r}]", "str, int, float or bool", v)
        out.append((key, v))
    return out


def make_enums():
    """The schema enums (EventType, Direction, Side, OrderKind) as IntEnums, members in capitals."""
    out = {}
    for name, values in _evrouter.enum_schema():
        out[name] = _enum.IntEnum(name, list(values), module=__package__)
    return out


def _check(kind, name, enum_name):
    """Source lines of __init__ that check (and normalize) the argument `name`."""
    if kind == "text":
        return f"    if {name}.__class__ is not str: _bad(_C, {name!r}, 'str', {name})"
    if kind == "integer":
        return f"    if {name}.__class__ is not int: {name} = _as_int(_C, {name!r}, {name})"
    if kind == "number":
        return f"    if {name}.__class__ is not float: {name} = _as_float(_C, {name!r}, {name})"
    if kind == "bool":
        return f"    if {name}.__class__ is not bool: _bad(_C, {name!r}, 'bool', {name})"
    if kind == "enum":
        return (f"    if {name}.__class__ is not _E_{name}: "
                f"{name} = _as_enum(_E_{name}, _C, {name!r}, {name})")
    if kind == "user_fields":
        return f"    {name} = _as_user_fields(_C, {name!r}, {name})"
    raise AssertionError(f"no check for field kind {kind}")


def _make_class(ordinal, type_name, class_name, fields, enums, event_type):
    names = tuple(f[0] for f in fields)
    scope = {"_C": class_name, "_bad": _bad, "_as_int": _as_int, "_as_float": _as_float,
             "_as_enum": _as_enum, "_as_user_fields": _as_user_fields}
    params, body = [], []
    for name, kind, enum_name in fields:
        if kind == "enum":
            scope[f"_E_{name}"] = enums[enum_name]
            default = f"_E_{name}({min(m.value for m in enums[enum_name])})"
            scope[f"_D_{name}"] = eval(default, scope)
            params.append(f"{name}=_D_{name}")
        elif kind == "user_fields":
            params.append(f"{name}=None")
        else:
            params.append(f"{name}={_DEFAULTS[kind]}")
        body.append(_check(kind, name, enum_name))
        body.append(f"    self.{name} = {name}")
    source = f"def __init__(self, *, {', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(source, scope)  # noqa: S102 -- the source is made above from the field table only
    init = scope["__init__"]
    init.__qualname__ = f"{class_name}.__init__"

    def __repr__(self):
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{class_name}({inner})"

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in names)

    def to_dict(self):
        """The fields by name (enums by their names, as JSON and evrctl print them)."""
        out = {}
        for n in names:
            v = getattr(self, n)
            out[n] = v.name if isinstance(v, _enum.Enum) else (list(v) if isinstance(v, list) else v)
        return out

    attrs = {
        "__slots__": names,
        "__init__": init,
        "__repr__": __repr__,
        "__eq__": __eq__,
        "__hash__": None,
        "to_dict": to_dict,
        "_fields": names,
        "_evr_type": ordinal,
        "TYPE": event_type,
        "__module__": __package__,
        "__doc__": (f"The {type_name} payload (C++ evr::{class_name}). Fields: "
                    + ", ".join(f"{n} ({k}{'' if e is None else ' ' + e})" for n, k, e in fields)
                    + ". Keyword construction; every field has a default."),
    }
    return type(class_name, (), attrs)


def make_payload_classes(enums):
    """{class name: class} for every payload type of the field table, registered with C++."""
    classes, by_ordinal = {}, {}
    event_type = enums["EventType"]
    for ordinal, type_name, class_name, fields in _evrouter.payload_schema():
        cls = _make_class(ordinal, type_name, class_name, fields, enums, event_type(ordinal))
        classes[class_name] = cls
        by_ordinal[ordinal] = cls
    return classes, by_ordinal
