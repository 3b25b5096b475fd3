// See journal_events.hpp.
#include "journal_events.hpp"

#include <fmt/format.h>
#include <zmq.hpp>

#include <charconv>
#include <exception>
#include <utility>

#include "evr/event_json.hpp"

namespace evr::ctl {
namespace {

std::string textOf(capnp::Text::Reader text) { return {text.begin(), text.size()}; }

std::string hexBytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) out += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return out;
}

}  // namespace

JournalEvent decodeJournalEvent(std::uint64_t index, schema::JournalRecord::Event::Reader record) {
  JournalEvent out;
  out.index = index;
  out.source = textOf(record.getSource());
  out.source_instance = record.getSourceInstance();
  out.source_seq = record.getSourceSeq();
  for (const auto target : record.getTargets()) out.targets.push_back(textOf(target));
  out.event_type = record.getEventType();
  out.hops = record.getHops();
  const auto bytes = record.getEvent();
  out.bytes.assign(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
  out.event = Event::fromWire(zmq::message_t(bytes.begin(), bytes.size()), out.hops, out.error);
  return out;
}

nlohmann::json comparableJson(const JournalEvent& record) {
  std::string error = record.error;
  if (record.event.valid()) {
    // fromWire checked the framing; toJson reads every field, which is where a bad pointer shows.
    try {
      nlohmann::json out = toJson(record.event);
      out.erase("publish_time");
      out.erase("source_instance");
      return out;
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  return nlohmann::json{{"unreadable", error}, {"bytes", hexBytes(record.bytes)}};
}

std::string comparableText(const JournalEvent& record) {
  // nlohmann::json objects keep their keys sorted, so equal values dump to equal text.
  return comparableJson(record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::uint64_t> parseEventId(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string hexId(std::uint64_t id) { return fmt::format("0x{:016x}", id); }

}  // namespace evr::ctl
