// _evrouter: the C++ half of the Python package `evrouter` (client/python/evrouter/), pybind11 over
// the client library (evr::Bus, evr::Connection, evr::Event).
//
// What is here and what is in Python: this module exports the event field table
// (evr/event_fields.hpp) as data (payload_schema(), enum_schema()); evrouter/_payloads.py makes
// the payload classes and enums from it and registers them back (register_types()), so the only
// list of payloads and fields stays the table. Reading a payload (Event.payload) and writing one
// (Bus.publish) walk the same table here, checking each value's type against the field's kind.
//
// The GIL: released while the link waits or works (Connection.run/poll/flush/wait_joined/close),
// taken again for each handler call. A handler that raises is logged with its traceback (Python
// logger "evrouter"), counted (Bus.handler_errors, Connection.stats), and, under the policy
// "stop", remembered: the next return to Python (run, poll, publish, the harness's feed) raises it.
//
// Threads: as in C++, a Bus belongs to the thread that drives its Connection; Bus.publish from
// another thread is queued (evr/bus.hpp).

#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <capnp/serialize.h>
#include <kj/exception.h>
#include <zmq.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "evr/bus.hpp"
#include "evr/connection.hpp"
#include "evr/event.hpp"
#include "evr/event_fields.hpp"
#include "evr/event_json.hpp"
#include "evr/event_types.hpp"
#include "evr/events.hpp"
#include "evr/framing.hpp"
#include "evr/testing/harness.hpp"

namespace py = pybind11;

namespace evr::python {
namespace {

using fields::FieldKind;
using fields::FieldValue;
using fields::SchemaField;

// ---- the schema enums, by the Python class name they get ------------------------------------

struct EnumInfo {
  const char* name;
  std::span<const fields::EnumValue> values;
};

const std::array<EnumInfo, 4>& schemaEnums() {
  static const std::array<EnumInfo, 4> enums{{
      {"EventType", fields::enumValuesOf<schema::EventType>()},
      {"Direction", fields::enumValuesOf<schema::Direction>()},
      {"Side", fields::enumValuesOf<schema::Side>()},
      {"OrderKind", fields::enumValuesOf<schema::OrderKind>()},
  }};
  return enums;
}

const char* enumNameOf(std::span<const fields::EnumValue> values) {
  for (const auto& e : schemaEnums()) {
    if (e.values.data() == values.data()) return e.name;
  }
  return nullptr;
}

// The Python payload class of each type: the C++ struct's name (evr/events.hpp). The class is
// named here, its fields come from the table.
std::string className(EventType type) {
  if (type == EventType::PORTFOLIO) return "PortfolioUpdate";
  if (type == EventType::USER) return "UserEvent";
  std::string out;
  bool upper = true;
  for (const char c : eventTypeName(type)) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? c : static_cast<char>(c - 'A' + 'a');
    upper = false;
  }
  return out;
}

// Every payload but END_OF_DATA carries the header's symbol (evr/events.hpp).
bool hasSymbol(EventType type) { return type != EventType::END_OF_DATA; }

// ---- what __init__.py registers -------------------------------------------------------------

struct PayloadClass {
  py::object cls;
  std::string name;                     // the class's name, for messages
  std::vector<py::str> names;           // symbol?, time_ns, table fields..., (USER: fields)
  std::vector<const SchemaField*> table;
  std::vector<py::object> enum_class;   // per table field: the enum class, or None
  std::vector<std::vector<py::object>> enum_members;  // per table field: members by ordinal
};

struct Registry {
  std::array<std::optional<PayloadClass>, kEventTypeCount> payloads;
  std::vector<py::object> event_types;  // members by ordinal
  py::object origin_local, origin_router;
  py::object logger;                    // logging.getLogger("evrouter")
  py::object format_exception;          // traceback.format_exception
  py::str s_symbol{"symbol"}, s_time_ns{"time_ns"}, s_fields{"fields"};
  py::str s_type_ordinal{"_evr_type"};
  py::tuple no_args{0};
};

Registry* registry = nullptr;  // created at import, intentionally never freed (module lifetime)

Registry& reg() { return *registry; }

py::object text(std::string_view s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
  if (o == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(o);
}

py::object textOf(capnp::Text::Reader t) { return text(std::string_view(t.cStr(), t.size())); }

py::object memberOf(const std::vector<py::object>& members, std::uint16_t ordinal) {
  if (ordinal < members.size() && members[ordinal]) return members[ordinal];
  return py::int_(ordinal);  // an ordinal from a newer schema
}

py::object toPython(const FieldValue& value, const std::vector<py::object>* members) {
  switch (value.type()) {
    case FieldValue::Type::Number: return py::float_(value.asNumber());
    case FieldValue::Type::Integer: return py::int_(value.asInteger());
    case FieldValue::Type::Unsigned: return py::int_(value.asUnsigned());
    case FieldValue::Type::Bool: return py::bool_(value.asBool());
    case FieldValue::Type::Text: return text(value.asText());
    case FieldValue::Type::Enum:
      if (members != nullptr) return memberOf(*members, value.enumOrdinal());
      return text(value.asText());
    case FieldValue::Type::Absent: break;
  }
  return py::none();
}

// ---- Python value -> table field --------------------------------------------------------------

[[noreturn]] void fieldTypeError(std::string_view owner, std::string_view field,
                                 std::string_view expected, py::handle got) {
  throw py::type_error(std::string(owner) + "." + std::string(field) + ": expected " +
                       std::string(expected) + ", got " +
                       std::string(py::str(py::type::handle_of(got).attr("__name__"))) + " " +
                       std::string(py::repr(got)));
}

std::string_view utf8(py::handle value, std::string_view owner, std::string_view field) {
  if (!PyUnicode_Check(value.ptr())) fieldTypeError(owner, field, "str", value);
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(value.ptr(), &size);
  if (data == nullptr) throw py::error_already_set();
  return {data, static_cast<std::size_t>(size)};
}

std::int64_t int64(py::handle value, std::string_view owner, std::string_view field) {
  if (PyBool_Check(value.ptr()) || !PyIndex_Check(value.ptr())) {
    fieldTypeError(owner, field, "int", value);
  }
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(py::reinterpret_steal<py::object>(
                                                       PyNumber_Index(value.ptr())).ptr(),
                                                   &overflow);
  if (overflow != 0) {
    throw py::value_error(std::string(owner) + "." + std::string(field) + ": " +
                          std::string(py::repr(value)) + " is out of the range of a 64-bit integer");
  }
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  return v;
}

// `value` as a FieldValue for `field`, or TypeError naming the field. Text is borrowed from the
// Python string (alive while `value` is).
FieldValue fieldValue(const SchemaField& field, py::handle value, const py::object& enum_class,
                      std::string_view owner) {
  PyObject* p = value.ptr();
  switch (field.kind) {
    case FieldKind::Number:
      if (PyFloat_Check(p)) return FieldValue::number(PyFloat_AS_DOUBLE(p));
      if (PyLong_Check(p) && !PyBool_Check(p)) {
        const double d = PyLong_AsDouble(p);
        if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
        return FieldValue::number(d);
      }
      fieldTypeError(owner, field.name, "float", value);
    case FieldKind::Integer: {
      if (PyBool_Check(p) || !PyIndex_Check(p)) fieldTypeError(owner, field.name, "int", value);
      const py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(p));
      int overflow = 0;
      const long long v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
      if (overflow > 0) {
        const unsigned long long u = PyLong_AsUnsignedLongLong(index.ptr());
        if (PyErr_Occurred()) {
          PyErr_Clear();
          throw py::value_error(std::string(owner) + "." + std::string(field.name) + ": " +
                                std::string(py::repr(value)) + " is out of range");
        }
        return FieldValue::unsignedInteger(u);
      }
      if (overflow < 0) {
        throw py::value_error(std::string(owner) + "." + std::string(field.name) + ": " +
                              std::string(py::repr(value)) + " is out of range");
      }
      return FieldValue::integer(v);
    }
    case FieldKind::Text: return FieldValue::text(utf8(value, owner, field.name));
    case FieldKind::Bool:
      if (PyBool_Check(p)) return FieldValue::boolean(p == Py_True);
      fieldTypeError(owner, field.name, "bool", value);
    case FieldKind::Enum: {
      if (enum_class && py::isinstance(value, enum_class)) {
        const auto ordinal = static_cast<std::uint16_t>(PyLong_AsLong(p));
        return FieldValue::enumerant(ordinal, fields::enumValueName(field.enum_values, ordinal));
      }
      if (PyUnicode_Check(p)) return FieldValue::text(utf8(value, owner, field.name));
      const std::string expected =
          (enum_class ? std::string(py::str(enum_class.attr("__name__"))) : std::string("enum")) +
          " (or its name as str)";
      fieldTypeError(owner, field.name, expected, value);
    }
  }
  fieldTypeError(owner, field.name, "a value", value);
}

void writeUserFields(py::handle list, schema::Event::Builder root) {
  std::vector<std::pair<std::string, UserValue>> pairs;
  py::iterable items = py::isinstance<py::dict>(list) ? py::iterable(list.attr("items")())
                                                       : py::reinterpret_borrow<py::iterable>(list);
  for (py::handle item : items) {
    py::tuple pair = py::reinterpret_borrow<py::object>(item);
    if (pair.size() != 2) throw py::value_error("UserEvent.fields: each item must be (key, value)");
    std::string key(utf8(pair[0], "UserEvent.fields", "key"));
    py::handle v = pair[1];
    UserValue value;
    if (PyBool_Check(v.ptr())) {
      value = v.ptr() == Py_True;
    } else if (PyLong_Check(v.ptr())) {
      value = int64(v, "UserEvent.fields", key);
    } else if (PyFloat_Check(v.ptr())) {
      value = PyFloat_AS_DOUBLE(v.ptr());
    } else if (PyUnicode_Check(v.ptr())) {
      value = std::string(utf8(v, "UserEvent.fields", key));
    } else {
      fieldTypeError("UserEvent.fields", key, "str, int, float or bool", v);
    }
    pairs.emplace_back(std::move(key), std::move(value));
  }
  UserEvent user;
  user.fields = std::move(pairs);
  // build() writes the list; copy it into this event's payload.
  auto built = build(user);
  root.getPayload().getUser().setFields(built.root().getPayload().getUser().getFields().asReader());
}

const PayloadClass* payloadClassOf(py::handle payload, EventType& type) {
  PyObject* ordinal = PyObject_GetAttr(reinterpret_cast<PyObject*>(Py_TYPE(payload.ptr())),
                                       reg().s_type_ordinal.ptr());
  if (ordinal == nullptr) {
    PyErr_Clear();
    return nullptr;
  }
  const long value = PyLong_AsLong(ordinal);
  Py_DECREF(ordinal);
  if (value <= 0 || value >= static_cast<long>(kEventTypeCount)) return nullptr;
  const auto& entry = reg().payloads[static_cast<std::size_t>(value)];
  if (!entry || !payload.get_type().is(entry->cls)) return nullptr;
  type = static_cast<EventType>(value);
  return &*entry;
}

EventBuilder buildPayload(py::handle payload) {
  EventType type{};
  const PayloadClass* pc = payloadClassOf(payload, type);
  if (pc == nullptr) {
    throw py::type_error("expected an evrouter payload (evrouter.Bar, evrouter.Signal, ...), got " +
                         std::string(py::str(payload.get_type().attr("__name__"))));
  }
  const std::string& owner = pc->name;
  EventBuilder builder(type);
  std::size_t n = 0;
  if (hasSymbol(type)) {
    const py::object symbol = payload.attr(pc->names[n++]);
    const auto s = utf8(symbol, owner, "symbol");
    if (!s.empty()) builder.symbol(s);
  }
  builder.eventTime(int64(payload.attr(pc->names[n++]), owner, "time_ns"));
  auto root = builder.root();
  std::string reason;
  for (std::size_t i = 0; i < pc->table.size(); ++i, ++n) {
    const SchemaField& field = *pc->table[i];
    const py::object value = payload.attr(pc->names[n]);
    const FieldValue fv = fieldValue(field, value, pc->enum_class[i], owner);
    if (!field.write(root, fv, reason)) {
      throw py::value_error(owner + "." + std::string(field.name) + ": " + reason);
    }
  }
  if (type == EventType::USER) writeUserFields(payload.attr(reg().s_fields), root);
  return builder;
}

// ---- Event -> Python --------------------------------------------------------------------------

template <class F>
auto readOrRaise(F&& f) {
  try {
    return f();
  } catch (const kj::Exception& e) {
    throw py::value_error("unreadable event: " + std::string(e.getDescription().cStr()));
  }
}

py::object payloadOf(const Event& event) {
  if (!event.valid()) throw py::value_error("empty event");
  return readOrRaise([&]() -> py::object {
    const auto root = event.reader();
    const EventType type = fields::payloadType(root);
    if (!isKnownEventType(static_cast<std::uint8_t>(type))) return py::none();
    const auto& pc = reg().payloads[static_cast<std::size_t>(type)];
    if (!pc) return py::none();
    // cls.__new__(cls), without the Python-level call (the classes are plain, with __slots__).
    auto* cls = reinterpret_cast<PyTypeObject*>(pc->cls.ptr());
    py::object obj = py::reinterpret_steal<py::object>(cls->tp_new(cls, reg().no_args.ptr(), nullptr));
    if (!obj) throw py::error_already_set();
    std::size_t n = 0;
    if (hasSymbol(type)) py::setattr(obj, pc->names[n++], textOf(root.getSymbol()));
    py::setattr(obj, pc->names[n++], py::int_(root.getEventTime()));
    for (std::size_t i = 0; i < pc->table.size(); ++i, ++n) {
      const auto& members = pc->enum_members[i];
      py::setattr(obj, pc->names[n],
                  toPython(pc->table[i]->read(root, 0), members.empty() ? nullptr : &members));
    }
    if (type == EventType::USER) {
      py::list list;
      for (const auto field : root.getPayload().getUser().getFields()) {
        const auto v = field.getValue();
        py::object value;
        switch (v.which()) {
          case schema::UserEvent::Field::Value::TEXT: value = textOf(v.getText()); break;
          case schema::UserEvent::Field::Value::INT: value = py::int_(v.getInt()); break;
          case schema::UserEvent::Field::Value::FLOAT: value = py::float_(v.getFloat()); break;
          case schema::UserEvent::Field::Value::BOOL: value = py::bool_(v.getBool()); break;
          default: value = py::str(""); break;
        }
        list.append(py::make_tuple(textOf(field.getKey()), value));
      }
      py::setattr(obj, pc->names[n], list);
    }
    return obj;
  });
}

py::object jsonToPython(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      py::dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d[text(std::string_view(it.key()))] = jsonToPython(it.value());
      return d;
    }
    case nlohmann::json::value_t::array: {
      py::list l;
      for (const auto& v : j) l.append(jsonToPython(v));
      return l;
    }
    case nlohmann::json::value_t::string: return text(std::string_view(j.get_ref<const std::string&>()));
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(j.get<double>());
    default: return py::none();
  }
}

// ---- the GIL -------------------------------------------------------------------------------------

// The link releases the GIL while it waits and works (ReleaseGil), and the first handler of a
// dispatch burst takes it back (HoldGil) and keeps it until the link call returns: a burst of
// events costs one hand-over, not one per event. Everything that may run Python code under a
// ReleaseGil (handlers, step hooks, dropping a Python callable) goes through HoldGil.
thread_local PyThreadState* released_gil = nullptr;

class ReleaseGil {
 public:
  ReleaseGil() : outer_(released_gil) { released_gil = PyEval_SaveThread(); }
  ~ReleaseGil() {
    if (released_gil != nullptr) PyEval_RestoreThread(released_gil);
    released_gil = outer_;
  }
  ReleaseGil(const ReleaseGil&) = delete;
  ReleaseGil& operator=(const ReleaseGil&) = delete;

 private:
  PyThreadState* outer_;
};

// Makes sure this thread holds the GIL: takes it back from the ReleaseGil it was released by
// (for the rest of that call), or, on a thread Python does not know as holding it, the slow way.
class HoldGil {
 public:
  HoldGil() {
    if (released_gil != nullptr) {
      PyEval_RestoreThread(released_gil);
      released_gil = nullptr;
    } else if (PyGILState_Check() == 0) {
      state_ = PyGILState_Ensure();
      ensured_ = true;
    }
  }
  ~HoldGil() {
    if (ensured_) PyGILState_Release(state_);
  }
  HoldGil(const HoldGil&) = delete;
  HoldGil& operator=(const HoldGil&) = delete;

 private:
  PyGILState_STATE state_{};
  bool ensured_ = false;
};

// ---- Bus ----------------------------------------------------------------------------------------

enum class OnError { Stop, Continue };

OnError parseOnError(const std::string& policy) {
  if (policy == "stop") return OnError::Stop;
  if (policy == "continue") return OnError::Continue;
  throw py::value_error("on_handler_error: expected 'stop' or 'continue', got '" + policy + "'");
}

class PyBus;

// A Python callable held by a C++ std::function: its reference is dropped with the GIL held,
// whichever thread lets the function go (a subscription erased at the end of a dispatch round
// runs while the link has the GIL released).
struct PyCallable {
  py::object fn;
  explicit PyCallable(py::object f) : fn(std::move(f)) {}
  ~PyCallable() {
    HoldGil gil;
    fn = py::object();
  }
};

class PyBus {
 public:
  explicit PyBus(std::string source)
      : owned_(std::make_unique<evr::Bus>(std::move(source))), bus_(*owned_) {}
  // A Bus someone else owns (evr::testing::Harness's), which must outlive this object.
  explicit PyBus(evr::Bus& external) : bus_(external) {}

  evr::Bus& bus() { return bus_; }

  std::uint64_t subscribe(py::object type, py::function fn, py::object only) {
    auto handler = wrap(std::move(fn));
    const auto origin = parseOrigin(only);
    if (type.is_none()) return bus_.subscribeAll(std::move(handler), origin);
    return bus_.subscribe(eventType(type), std::move(handler), origin);
  }

  std::uint64_t publish(py::handle payload, std::optional<Event> cause, py::object tags) {
    raisePending();
    if (link_closed_) throw py::value_error("publish: the bus's Connection is closed");
    EventBuilder builder = buildPayload(payload);
    if (cause) {
      if (!cause->valid()) throw py::value_error("publish: cause is an empty event");
      builder.causedBy(*cause);
    }
    if (!tags.is_none()) {
      for (auto item : py::dict(tags)) {
        builder.tag(utf8(item.first, "tags", "key"), utf8(item.second, "tags", "value"));
      }
    }
    const auto seq = bus_.publish(std::move(builder));
    raisePending();
    return seq;
  }

  // A handler failed: log with traceback, count, and under Stop remember it and stop the link.
  void handlerFailed(py::error_already_set& error, const char* what) {
    ++handler_errors_;
    try {
      py::object lines = reg().format_exception(error.type(), error.value(), error.trace());
      const py::object trace = py::str("").attr("join")(lines);
      reg().logger.attr("error")(py::str("evr[{}]: {} raised:\n{}").format(
          bus_.source(), what, trace));
    } catch (py::error_already_set&) {
      PyErr_Clear();
    }
    if (on_error_ == OnError::Stop && !pending_) {
      pending_ = std::make_unique<py::error_already_set>(std::move(error));
      if (stop_hook_) stop_hook_();
    }
  }

  // Raises the handler error that stopped this bus, once.
  void raisePending() {
    if (!pending_) return;
    auto error = std::move(pending_);
    error->restore();
    throw py::error_already_set();
  }
  bool stopped() const { return pending_ != nullptr; }

  std::uint64_t handlerErrors() const { return handler_errors_; }
  void setOnError(OnError policy) { on_error_ = policy; }
  OnError onError() const { return on_error_; }
  void setStopHook(std::function<void()> hook) { stop_hook_ = std::move(hook); }
  void setLinkClosed(bool closed) { link_closed_ = closed; }

  // Wraps a Python callable taking one Event as a bus handler.
  evr::Bus::Handler wrap(py::object fn) {
    auto callable = std::make_shared<PyCallable>(std::move(fn));
    return [this, callable](const Event& event) {
      HoldGil gil;
      if (pending_) return;  // stopping: no handler runs after the one that failed
      try {
        callable->fn(event);
      } catch (py::error_already_set& error) {
        handlerFailed(error, "a handler");
      }
    };
  }

  static std::optional<Origin> parseOrigin(const py::object& only) {
    if (only.is_none()) return std::nullopt;
    const auto value = only.cast<int>();
    if (value != 0 && value != 1) throw py::value_error("only: expected evrouter.Origin");
    return static_cast<Origin>(value);
  }

  static EventType eventType(const py::object& type) {
    if (py::isinstance<py::str>(type)) {
      const auto parsed = parseEventType(type.cast<std::string>());
      if (!parsed) {
        throw py::value_error("unknown event type '" + type.cast<std::string>() + "'; known: " +
                              eventTypeNameList());
      }
      return *parsed;
    }
    if (PyBool_Check(type.ptr()) || !PyIndex_Check(type.ptr())) {
      throw py::type_error("expected an evrouter.EventType, got " +
                           std::string(py::str(type.get_type().attr("__name__"))));
    }
    const auto value = type.cast<long>();
    if (!isKnownEventType(static_cast<std::uint8_t>(value)) || value < 0) {
      throw py::value_error("not an event type: " + std::to_string(value));
    }
    return static_cast<EventType>(value);
  }

 private:
  std::unique_ptr<evr::Bus> owned_;
  evr::Bus& bus_;
  OnError on_error_ = OnError::Stop;
  std::uint64_t handler_errors_ = 0;
  std::unique_ptr<py::error_already_set> pending_;
  std::function<void()> stop_hook_;
  bool link_closed_ = false;
};

// ---- Connection ---------------------------------------------------------------------------------

zmq::context_t& context() {
  // One context per process, as the C++ containers' main creates one; never destroyed, since a
  // context's destructor waits for sockets other threads may still hold at interpreter exit.
  static auto* ctx = new zmq::context_t(1);
  return *ctx;
}

std::chrono::milliseconds millis(double seconds, const char* what) {
  if (!(seconds >= 0)) throw py::value_error(std::string(what) + ": expected seconds >= 0");
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000.0 + 0.5));
}

class PyConnection {
 public:
  PyConnection(PyBus& bus, ConnectionOptions options, OnError on_error)
      : bus_(bus), heartbeat_(options.heartbeat) {
    bus_.setOnError(on_error);
    link_ = std::make_unique<Connection>(context(), bus_.bus(), std::move(options));
    bus_.setLinkClosed(false);
    bus_.setStopHook([this] { stop(); });
  }
  ~PyConnection() { close(); }

  Connection& link() {
    if (!link_) throw py::value_error("the Connection is closed");
    return *link_;
  }

  void run() {
    auto& c = link();
    const Serving serving(*this, "run");
    while (!stop_.load()) {
      {
        ReleaseGil release;
        c.poll(std::min(heartbeat_, std::chrono::milliseconds(200)));
      }
      bus_.raisePending();
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
    stop_.store(false);  // this stop is used up; one before run() still stops it (as in C++)
  }

  bool poll(double timeout) {
    auto& c = link();
    const auto ms = millis(timeout, "poll");
    const Serving serving(*this, "poll");
    bool work = false;
    {
      ReleaseGil release;
      work = c.poll(ms);
    }
    bus_.raisePending();
    return work;
  }

  bool flush(double timeout) {
    auto& c = link();
    const auto ms = millis(timeout, "flush");
    const Serving serving(*this, "flush", false);
    bool all = false;
    {
      ReleaseGil release;
      all = c.flush(ms);
    }
    bus_.raisePending();
    return all;
  }

  bool waitJoined(double timeout) {
    auto& c = link();
    const auto ms = millis(timeout, "wait_joined");
    const Serving serving(*this, "wait_joined", false);
    ReleaseGil release;
    return c.waitJoined(ms);
  }

  void stop() {
    stop_.store(true);
    if (link_) link_->stop();
  }

  void close() {
    if (!link_) return;
    if (serving_ > 0) {
      throw py::value_error("close: the Connection is serving (a handler cannot close its own "
                            "link; call stop() and close it after run() returns)");
    }
    bus_.setStopHook({});
    std::unique_ptr<Connection> link = std::move(link_);
    {
      ReleaseGil release;
      link.reset();  // flushes for up to 2 s, then BYE
    }
    bus_.setLinkClosed(true);
  }

  bool closed() const { return !link_; }

  py::dict stats() {
    const auto& s = link().stats();
    py::dict d;
#define EVR_STAT(name) d[#name] = s.name
    EVR_STAT(published);
    EVR_STAT(sent);
    EVR_STAT(batches);
    EVR_STAT(resent);
    EVR_STAT(acked);
    EVR_STAT(received);
    EVR_STAT(duplicates);
    EVR_STAT(interrupted);
    EVR_STAT(malformed);
    EVR_STAT(joins);
    EVR_STAT(errors);
    EVR_STAT(denied);
    EVR_STAT(steps);
    EVR_STAT(unordered);
    EVR_STAT(late);
    EVR_STAT(watermarks_in);
    EVR_STAT(watermarks_out);
    EVR_STAT(acked_held);
#undef EVR_STAT
    d["handler_errors"] = bus_.handlerErrors();
    return d;
  }

  void onStepEnd(py::object fn) {
    auto callable = std::make_shared<PyCallable>(std::move(fn));
    PyBus* bus = &bus_;
    link().onStepEnd([bus, callable](std::int64_t time) {
      HoldGil gil;
      if (bus->stopped()) return;
      try {
        callable->fn(time);
      } catch (py::error_already_set& error) {
        bus->handlerFailed(error, "the step handler");
      }
    });
  }

  void onInputsEnded(py::object fn) {
    auto callable = std::make_shared<PyCallable>(std::move(fn));
    PyBus* bus = &bus_;
    link().onInputsEnded([bus, callable] {
      HoldGil gil;
      if (bus->stopped()) return;
      try {
        callable->fn();
      } catch (py::error_already_set& error) {
        bus->handlerFailed(error, "the inputs-ended handler");
      }
    });
  }

  void cork() { batch_.emplace_back(std::make_unique<PublishBatch>(link())); }
  void uncork() {
    if (batch_.empty()) return;
    batch_.pop_back();
    bus_.raisePending();
  }

 private:
  // run() and poll() on the call stack: a handler calling them again, or close(), would serve
  // or destroy the link from inside its own dispatch.
  struct Serving {
    // `exclusive`: refused while serving already (run, poll); flush and wait_joined may be
    // called from a handler, as C++ publish serves the link while its resend buffer is full.
    Serving(PyConnection& c, const char* what, bool exclusive = true) : connection(c) {
      if (exclusive && connection.serving_ > 0) {
        throw py::value_error(std::string(what) +
                              ": the Connection is already serving (called from a handler?)");
      }
      ++connection.serving_;
    }
    ~Serving() { --connection.serving_; }
    Serving(const Serving&) = delete;
    Serving& operator=(const Serving&) = delete;
    PyConnection& connection;
  };

  PyBus& bus_;
  std::chrono::milliseconds heartbeat_;
  int serving_ = 0;
  std::unique_ptr<Connection> link_;
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<PublishBatch>> batch_;
};

// ---- the test harness (evrouter.testing.Harness) -------------------------------------------------

// evr::testing::Harness (evr/testing/harness.hpp) for Python: its Bus is wrapped by a PyBus
// (PyBus(evr::Bus&)), so the container's Python handlers subscribe on it as on a live one.
class PyHarness {
 public:
  explicit PyHarness(std::string container) : harness_(std::move(container)) {}

  evr::Bus& bus() { return harness_.bus(); }

  Event feedPayload(py::handle payload, std::string source) {
    return harness_.feed(buildPayload(payload), std::move(source));
  }
  void feedEvent(const Event& event) {
    if (!event.valid()) throw py::value_error("feed: empty event");
    harness_.feed(event);
  }
  std::size_t feedFile(const std::string& path) { return harness_.feedFile(path); }

  py::list published(py::object type) const {
    py::list out;
    std::optional<EventType> only;
    if (!type.is_none()) only = PyBus::eventType(type);
    for (const auto& e : harness_.published(only)) out.append(py::cast(e));
    return out;
  }
  void clear() { harness_.clear(); }

 private:
  evr::testing::Harness harness_;
};

// ---- module -------------------------------------------------------------------------------------

py::list payloadSchema() {
  py::list out;
  for (unsigned t = 1; t < kEventTypeCount; ++t) {
    const auto type = static_cast<EventType>(t);
    py::list fields_out;
    if (hasSymbol(type)) fields_out.append(py::make_tuple("symbol", "text", py::none()));
    fields_out.append(py::make_tuple("time_ns", "integer", py::none()));
    for (const auto& f : fields::payloadFields(type)) {
      const char* enum_name = f.kind == FieldKind::Enum ? enumNameOf(f.enum_values) : nullptr;
      fields_out.append(py::make_tuple(std::string(f.name), std::string(fields::kindName(f.kind)),
                                       enum_name ? py::object(py::str(enum_name)) : py::none()));
    }
    if (type == EventType::USER) fields_out.append(py::make_tuple("fields", "user_fields", py::none()));
    out.append(py::make_tuple(t, std::string(eventTypeName(type)), className(type), fields_out));
  }
  return out;
}

py::list enumSchema() {
  py::list out;
  for (const auto& e : schemaEnums()) {
    py::list values;
    for (const auto& v : e.values) values.append(py::make_tuple(std::string(v.name), v.ordinal));
    out.append(py::make_tuple(e.name, values));
  }
  return out;
}

void registerTypes(py::dict payload_classes, py::dict enums, py::object origin) {
  auto& r = reg();
  auto members = [](py::object enum_class) {
    std::vector<py::object> out;
    for (auto member : enum_class) {
      const auto ordinal = member.cast<std::size_t>();
      if (ordinal >= out.size()) out.resize(ordinal + 1);
      if (!out[ordinal]) out[ordinal] = py::reinterpret_borrow<py::object>(member);
    }
    return out;
  };
  r.event_types = members(enums["EventType"]);
  r.origin_local = origin.attr("LOCAL");
  r.origin_router = origin.attr("ROUTER");
  for (unsigned t = 1; t < kEventTypeCount; ++t) {
    const auto type = static_cast<EventType>(t);
    py::object cls = payload_classes[py::int_(t)];
    PayloadClass pc;
    pc.cls = cls;
    pc.name = py::str(cls.attr("__name__"));
    if (hasSymbol(type)) pc.names.emplace_back("symbol");
    pc.names.emplace_back("time_ns");
    for (const auto& f : fields::payloadFields(type)) {
      pc.names.emplace_back(std::string(f.name));
      pc.table.push_back(&f);
      const char* enum_name = f.kind == FieldKind::Enum ? enumNameOf(f.enum_values) : nullptr;
      if (enum_name != nullptr) {
        py::object enum_class = enums[enum_name];
        pc.enum_class.push_back(enum_class);
        pc.enum_members.push_back(members(enum_class));
      } else {
        pc.enum_class.emplace_back();
        pc.enum_members.emplace_back();
      }
    }
    if (type == EventType::USER) pc.names.emplace_back("fields");
    r.payloads[t] = std::move(pc);
  }
}

}  // namespace
}  // namespace evr::python

PYBIND11_MODULE(_evrouter, m) {
  using namespace evr;
  using namespace evr::python;
  m.doc() = "evrouter's client library (the C++ half of the evrouter package)";
  registry = new Registry();
  registry->logger = py::module_::import("logging").attr("getLogger")("evrouter");
  registry->format_exception = py::module_::import("traceback").attr("format_exception");

  m.attr("__version__") = EVR_VERSION;
  m.def("payload_schema", &payloadSchema,
        "Per payload type: (ordinal, type name, class name, [(field, kind, enum class name)]), "
        "from the event field table.");
  m.def("enum_schema", &enumSchema, "The schema enums: (class name, [(member, ordinal)]).");
  m.def("register_types", &registerTypes);
  m.def("default_endpoint", &defaultEndpoint);

  static py::exception<ConnectionError> connection_error(m, "ConnectionError", PyExc_ConnectionError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ConnectionError& e) {
      connection_error(e.what());
    } catch (const kj::Exception& e) {
      PyErr_SetString(PyExc_ValueError, e.getDescription().cStr());
    }
  });

  py::class_<Event>(m, "Event", "One event: its header as attributes, its typed payload as .payload.")
      .def_property_readonly("type", [](const Event& e) {
        return readOrRaise([&] {
          return memberOf(reg().event_types, static_cast<std::uint16_t>(e.reader().getType()));
        });
      })
      .def_property_readonly("source", [](const Event& e) {
        return readOrRaise([&] { return textOf(e.reader().getSource()); });
      })
      .def_property_readonly("symbol", [](const Event& e) {
        return readOrRaise([&] { return textOf(e.reader().getSymbol()); });
      })
      .def_property_readonly("seq", [](const Event& e) { return readOrRaise([&] { return e.seq(); }); })
      .def_property_readonly("id", [](const Event& e) { return readOrRaise([&] { return e.id(); }); })
      .def_property_readonly("source_instance",
                             [](const Event& e) { return readOrRaise([&] { return e.sourceInstance(); }); })
      .def_property_readonly("event_time",
                             [](const Event& e) { return readOrRaise([&] { return e.eventTime(); }); })
      .def_property_readonly("publish_time", [](const Event& e) {
        return readOrRaise([&] { return e.reader().getPublishTime(); });
      })
      .def_property_readonly("correlation_id", [](const Event& e) {
        return readOrRaise([&] { return e.reader().getCorrelationId(); });
      })
      .def_property_readonly("causation_id", [](const Event& e) {
        return readOrRaise([&] { return e.reader().getCausationId(); });
      })
      .def_property_readonly("hops", &Event::hops)
      .def_property_readonly("origin", [](const Event& e) {
        return e.origin() == Origin::Local ? reg().origin_local : reg().origin_router;
      })
      .def_property_readonly("tags", [](const Event& e) {
        return readOrRaise([&] {
          py::dict d;
          for (const auto tag : e.reader().getTags()) d[textOf(tag.getKey())] = textOf(tag.getValue());
          return d;
        });
      })
      .def_property_readonly("payload", &payloadOf, "The typed payload (evrouter.Bar, ...), a copy.")
      .def("to_dict", [](const Event& e) {
        try {
          return jsonToPython(toJson(e));
        } catch (const std::invalid_argument& error) {
          throw py::value_error(error.what());
        }
      }, "Every header and payload field by its table name, as `evrctl recv --json` prints it.")
      .def("to_bytes", [](const Event& e) {
        if (!e.valid()) throw py::value_error("empty event");
        const auto b = e.bytes();
        return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
      }, "The serialized event (a flat Cap'n Proto message), as evrouterd carries it.")
      .def("to_text", [](const Event& e) {
        try {
          return toText(e);
        } catch (const std::invalid_argument& error) {
          throw py::value_error(error.what());
        }
      })
      .def("__repr__", [](const Event& e) {
        if (!e.valid()) return std::string("<evrouter.Event empty>");
        try {
          return "<evrouter.Event " + toText(e) + ">";
        } catch (const std::exception&) {
          return std::string("<evrouter.Event unreadable>");
        }
      });

  py::class_<PyBus>(m, "Bus", "A container's in-process event bus (evr::Bus).")
      .def(py::init<std::string>(), py::arg("source") = "local")
      // The Bus of an evr::testing::Harness (evrouter.testing), kept alive by it.
      .def(py::init([](PyHarness& h) { return new PyBus(h.bus()); }), py::keep_alive<1, 2>())
      .def("_raise_pending", &PyBus::raisePending)
      .def("subscribe", &PyBus::subscribe, py::arg("type"), py::arg("handler"), py::kw_only(),
           py::arg("only") = py::none(),
           "Calls handler(event) for each event of `type` (None: every type); returns an id.")
      .def("subscribe_all",
           [](PyBus& b, py::function fn, py::object only) {
             return b.subscribe(py::none(), std::move(fn), std::move(only));
           },
           py::arg("handler"), py::kw_only(), py::arg("only") = py::none())
      .def("unsubscribe", [](PyBus& b, std::uint64_t id) { return b.bus().unsubscribe(id); })
      .def("publish", &PyBus::publish, py::arg("payload"), py::kw_only(),
           py::arg("cause") = py::none(), py::arg("tags") = py::none(),
           "Publishes a payload (evrouter.Bar, ...); returns its seq (0 when queued from another "
           "thread).")
      .def("drain", [](PyBus& b) {
        const auto n = b.bus().drain();
        b.raisePending();
        return n;
      })
      .def_property_readonly("source", [](PyBus& b) { return b.bus().source(); })
      .def_property_readonly("last_seq", [](PyBus& b) { return b.bus().lastSeq(); })
      .def_property_readonly("handler_errors", &PyBus::handlerErrors);

  py::class_<PyConnection>(m, "_Connection")
      .def(py::init([](PyBus& bus, std::string container, std::string endpoint, double heartbeat,
                       std::size_t max_unacked, std::string position_file,
                       std::string server_key_file, std::string key_file, bool event_time,
                       std::string on_handler_error) {
             ConnectionOptions o;
             o.container = std::move(container);
             o.endpoint = std::move(endpoint);
             o.heartbeat = millis(heartbeat, "heartbeat");
             if (o.heartbeat.count() <= 0) throw py::value_error("heartbeat: expected > 0 seconds");
             o.max_unacked = max_unacked;
             o.position_file = std::move(position_file);
             o.server_key_file = std::move(server_key_file);
             o.key_file = std::move(key_file);
             o.ordering = event_time ? Ordering::EventTime : Ordering::Arrival;
             const auto policy = parseOnError(on_handler_error);
             return new PyConnection(bus, std::move(o), policy);
           }),
           py::keep_alive<1, 2>())
      .def("run", &PyConnection::run)
      .def("poll", &PyConnection::poll)
      .def("flush", &PyConnection::flush)
      .def("wait_joined", &PyConnection::waitJoined)
      .def("stop", &PyConnection::stop)
      .def("close", &PyConnection::close)
      .def_property_readonly("closed", &PyConnection::closed)
      .def("fileno", [](PyConnection& c) { return c.link().fd(); })
      .def_property_readonly("stats", &PyConnection::stats)
      .def_property_readonly("joined", [](PyConnection& c) { return c.link().joined(); })
      .def_property_readonly("container", [](PyConnection& c) { return c.link().container(); })
      .def_property_readonly("endpoint", [](PyConnection& c) { return c.link().endpoint(); })
      .def_property_readonly("inputs", [](PyConnection& c) { return c.link().inputs(); })
      .def_property_readonly("can_publish", [](PyConnection& c) { return c.link().canPublish(); })
      .def("advance_watermark", [](PyConnection& c, std::int64_t t) { c.link().advanceWatermark(t); })
      .def("on_step_end", &PyConnection::onStepEnd)
      .def("on_inputs_ended", &PyConnection::onInputsEnded)
      .def("_cork", &PyConnection::cork)
      .def("_uncork", &PyConnection::uncork);

  py::class_<PyHarness>(m, "_Harness")
      .def(py::init<std::string>())
      .def("feed_payload", &PyHarness::feedPayload)
      .def("feed_event", &PyHarness::feedEvent)
      .def("feed_file", &PyHarness::feedFile)
      .def("published", &PyHarness::published, py::arg("type") = py::none())
      .def("clear", &PyHarness::clear);
}
