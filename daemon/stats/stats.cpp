#include "stats/stats.hpp"

#include <fmt/format.h>

namespace evr::stats {

std::string_view dropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::Malformed: return "malformed";
    case DropReason::Oversized: return "oversized";
    case DropReason::NotJoined: return "not_joined";
    case DropReason::Duplicate: return "duplicate";
    case DropReason::HopLimit: return "hop_limit";
    case DropReason::QueueFull: return "queue_full";
    case DropReason::Shutdown: return "shutdown";
    case DropReason::Conflated: return "conflated";
    case DropReason::Policy: return "policy";
    case DropReason::Denied: return "denied";
    case DropReason::Count: break;
  }
  return "?";
}

std::string_view authRefusalName(AuthRefusal reason) {
  switch (reason) {
    case AuthRefusal::UnknownKey: return "unknown_key";
    case AuthRefusal::NoControl: return "no_control_role";
    case AuthRefusal::NameNotHeld: return "name_not_held";
    case AuthRefusal::Revoked: return "revoked";
    case AuthRefusal::ReadOnly: return "read_only";
    case AuthRefusal::Malformed: return "malformed";
    case AuthRefusal::Count: break;
  }
  return "?";
}

std::string Snapshot::summary() const {
  std::string out = fmt::format("in={} delivered={} unrouted={} unmatched={}", events_in,
                                deliveries, unrouted, unmatched);
  std::string drop_text;
  for (std::size_t i = 0; i < drops.size(); ++i) {
    if (drops[i] == 0) continue;
    drop_text += fmt::format(" {}={}", dropReasonName(static_cast<DropReason>(i)), drops[i]);
  }
  out += drop_text.empty() ? " dropped=0" : " dropped:" + drop_text;
  if (backpressure_holds > 0) out += fmt::format(" backpressure_holds={}", backpressure_holds);
  if (handler_errors > 0) out += fmt::format(" handler_errors={}", handler_errors);
  if (stalls > 0) out += fmt::format(" stalls={}", stalls);
  if (journal_errors > 0) out += fmt::format(" journal_errors={}", journal_errors);
  if (auth) {
    out += fmt::format(" auth_accepted={}", auth->accepted);
    for (std::size_t i = 0; i < auth->refused.size(); ++i) {
      if (auth->refused[i] > 0) {
        out += fmt::format(" refused_{}={}", authRefusalName(static_cast<AuthRefusal>(i)), auth->refused[i]);
      }
    }
  }
  if (hellos_refused_overloaded > 0) {
    out += fmt::format(" hellos_refused_overloaded={}", hellos_refused_overloaded);
  }
  return out;
}

bool RateLimiter::allow(std::size_t key, std::uint64_t& suppressed) {
  if (key >= slots_.size()) slots_.resize(key + 1);
  Slot& slot = slots_[key];
  const auto now = std::chrono::steady_clock::now();
  if (slot.last.time_since_epoch().count() != 0 && now - slot.last < interval_) {
    ++slot.suppressed;
    return false;
  }
  suppressed = slot.suppressed;
  slot.suppressed = 0;
  slot.last = now;
  return true;
}

}  // namespace evr::stats
