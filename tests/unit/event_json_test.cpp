// Events as named fields (evr/event_json.hpp): JSON, text lines, and --set style building.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "evr/bus.hpp"
#include "evr/event_json.hpp"
#include "evr/events.hpp"

namespace {

using nlohmann::json;

evr::Event publishAndCapture(evr::EventBuilder&& builder) {
  evr::Bus bus("test");
  evr::Event captured;
  bus.subscribeAll([&](const evr::Event& e) { captured = e; });
  bus.publish(std::move(builder));
  BOOST_REQUIRE(captured.valid());
  return captured;
}

template <class Payload>
evr::Event publishAndCapture(const Payload& payload) {
  return publishAndCapture(build(payload));
}

evr::Event fromSet(evr::EventType type, const evr::FieldValues& values) {
  return publishAndCapture(evr::fromFields(type, values));
}

// The message of the std::invalid_argument fromFields throws, or "" when it does not throw.
std::string fromFieldsError(evr::EventType type, const evr::FieldValues& values) {
  try {
    (void)evr::fromFields(type, values);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A JSON value as the text --set takes.
std::string asSetText(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

const evr::Event& sampleOf(evr::EventType type);

}  // namespace

BOOST_AUTO_TEST_SUITE(event_json)

BOOST_AUTO_TEST_CASE(bar_json_has_header_and_flattened_payload) {
  const json j = toJson(publishAndCapture(evr::Bar{.symbol = "AAPL",
                                                   .time_ns = 1'700'000'000'000'000'000,
                                                   .open = 100,
                                                   .high = 102,
                                                   .low = 99,
                                                   .close = 101.5,
                                                   .volume = 5000,
                                                   .period_seconds = 86400}));
  BOOST_TEST(j.at("type") == "BAR");
  BOOST_TEST(j.at("source") == "test");
  BOOST_TEST(j.at("seq") == 1);
  BOOST_TEST(j.at("id").get<std::uint64_t>() == evr::makeEventId("test", 1));
  BOOST_TEST(j.at("symbol") == "AAPL");
  BOOST_TEST(j.at("event_time").get<std::int64_t>() == 1'700'000'000'000'000'000);
  BOOST_TEST(j.at("publish_time").get<std::int64_t>() > 0);
  BOOST_TEST(j.at("correlation_id") == 0);
  BOOST_TEST(j.at("causation_id") == 0);
  BOOST_TEST(j.at("hops") == 0);
  BOOST_TEST(j.at("tags").is_object());
  BOOST_TEST(j.at("open") == 100.0);
  BOOST_TEST(j.at("close") == 101.5);
  BOOST_TEST(j.at("volume") == 5000.0);
  BOOST_TEST(j.at("period_seconds") == 86400);
}

BOOST_AUTO_TEST_CASE(enums_are_upper_case_names) {
  const json signal = toJson(publishAndCapture(
      evr::Signal{.symbol = "AAPL", .strategy = "mom", .direction = evr::Direction::Long}));
  BOOST_TEST(signal.at("direction") == "LONG");
  BOOST_TEST(signal.at("strategy") == "mom");

  const json order = toJson(publishAndCapture(evr::Order{.order_id = "o-7",
                                                         .side = evr::Side::Sell,
                                                         .order_kind = evr::OrderKind::Limit,
                                                         .quantity = 10,
                                                         .limit_price = 99.5}));
  BOOST_TEST(order.at("side") == "SELL");
  BOOST_TEST(order.at("order_kind") == "LIMIT");
  BOOST_TEST(order.at("order_id") == "o-7");
  BOOST_TEST(order.at("limit_price") == 99.5);
}

BOOST_AUTO_TEST_CASE(portfolio_and_regime_use_snake_case_names) {
  const json portfolio = toJson(publishAndCapture(evr::PortfolioUpdate{
      .portfolio = "main", .positions_value = 3, .realized_pnl = 4, .unrealized_pnl = 5}));
  BOOST_TEST(portfolio.at("type") == "PORTFOLIO");
  BOOST_TEST(portfolio.at("positions_value") == 3.0);
  BOOST_TEST(portfolio.at("realized_pnl") == 4.0);
  BOOST_TEST(portfolio.at("unrealized_pnl") == 5.0);

  const json regime = toJson(publishAndCapture(
      evr::Regime{.symbol = "SPY", .classifier = "hmm", .regime = "BULL", .confidence = 0.8}));
  BOOST_TEST(regime.at("regime") == "BULL");
  BOOST_TEST(regime.at("classifier") == "hmm");
  BOOST_TEST(regime.at("confidence") == 0.8);
}

BOOST_AUTO_TEST_CASE(user_event_json_has_name_and_fields_object) {
  const json j = toJson(publishAndCapture(evr::UserEvent{
      .name = "rebalance",
      .fields = {{"why", "drift"}, {"n", std::int64_t{3}}, {"w", 0.5}, {"forced", false}}}));
  BOOST_TEST(j.at("type") == "USER");
  BOOST_TEST(j.at("name") == "rebalance");
  const json& fields = j.at("fields");
  BOOST_TEST(fields.at("why") == "drift");
  BOOST_TEST(fields.at("n").is_number_integer());
  BOOST_TEST(fields.at("n") == 3);
  BOOST_TEST(fields.at("w").is_number_float());
  BOOST_TEST(fields.at("forced") == false);
}

BOOST_AUTO_TEST_CASE(tags_are_an_object) {
  evr::EventBuilder builder = build(evr::Bar{.symbol = "AAPL"});
  builder.tag("venue", "XNAS").tag("run", "7");
  const json j = toJson(publishAndCapture(std::move(builder)));
  BOOST_TEST(j.at("tags").at("venue") == "XNAS");
  BOOST_TEST(j.at("tags").at("run") == "7");
}

BOOST_AUTO_TEST_CASE(json_has_every_listed_payload_field) {
  for (unsigned i = 1; i < evr::kEventTypeCount; ++i) {
    const auto type = static_cast<evr::EventType>(i);
    const json j = toJson(sampleOf(type));
    BOOST_TEST(j.at("type") == std::string(evr::eventTypeName(type)));
    const auto fields = evr::payloadFields(type);
    BOOST_TEST(!fields.empty(), evr::eventTypeName(type));
    for (const auto& f : fields) {
      BOOST_TEST(j.contains(std::string(f.name)), evr::eventTypeName(type) << "." << f.name);
    }
  }
}

BOOST_AUTO_TEST_CASE(json_values_set_back_give_the_same_payload) {
  // The table is shared: what toJson prints, fromFields reads back, for every type.
  for (unsigned i = 1; i < evr::kEventTypeCount; ++i) {
    const auto type = static_cast<evr::EventType>(i);
    const json original = toJson(sampleOf(type));
    evr::FieldValues values;
    for (const char* header : {"symbol", "event_time", "correlation_id"}) {
      values.emplace_back(header, asSetText(original.at(header)));
    }
    for (const auto& f : evr::payloadFields(type)) {
      values.emplace_back(std::string(f.name), asSetText(original.at(std::string(f.name))));
    }
    if (type == evr::EventType::USER) {
      for (const auto& [key, value] : original.at("fields").items()) {
        values.emplace_back(key, asSetText(value));
      }
    }
    const json copy = toJson(fromSet(type, values));
    for (const char* stamped : {"id", "seq", "publish_time", "source"}) {
      BOOST_TEST(copy.at(stamped).type_name() == original.at(stamped).type_name());
    }
    json a = original;
    json b = copy;
    for (const char* stamped : {"id", "seq", "publish_time", "source", "tags"}) {
      a.erase(stamped);
      b.erase(stamped);
    }
    BOOST_TEST(a == b, evr::eventTypeName(type) << ": " << a.dump() << " vs " << b.dump());
  }
}

BOOST_AUTO_TEST_CASE(text_line_names_type_header_and_fields) {
  const std::string line = toText(publishAndCapture(
      evr::Bar{.symbol = "AAPL", .time_ns = 5, .open = 100, .close = 101.5, .period_seconds = 60}));
  BOOST_TEST(line.rfind("BAR seq=1 source=test symbol=AAPL event_time=5 ", 0) == 0u, line);
  BOOST_TEST(contains(line, " close=101.5"), line);
  BOOST_TEST(contains(line, " period_seconds=60"), line);

  const std::string quoted =
      toText(publishAndCapture(evr::EndOfData{.time_ns = 1, .reason = "replay finished"}));
  BOOST_TEST(contains(quoted, " reason=\"replay finished\""), quoted);

  const std::string user = toText(
      publishAndCapture(evr::UserEvent{.name = "ping", .fields = {{"n", std::int64_t{2}}}}));
  BOOST_TEST(contains(user, "USER seq=1 source=test name=ping n=2"), user);
}

BOOST_AUTO_TEST_CASE(from_fields_converts_to_field_types) {
  const evr::Event event = fromSet(evr::EventType::BAR, {{"symbol", "AAPL"},
                                                         {"event_time", "1700000000000000000"},
                                                         {"correlation_id", "42"},
                                                         {"tag.venue", "XNAS"},
                                                         {"close", "101.5"},
                                                         {"open", "+100"},
                                                         {"volume", "1e3"},
                                                         {"period_seconds", "86400"}});
  const auto bar = evr::as<evr::Bar>(event);
  BOOST_TEST(bar.symbol == "AAPL");
  BOOST_TEST(bar.time_ns == 1'700'000'000'000'000'000);
  BOOST_TEST(bar.close == 101.5);
  BOOST_TEST(bar.open == 100.0);
  BOOST_TEST(bar.volume == 1000.0);
  BOOST_TEST(bar.period_seconds == 86400u);
  BOOST_TEST(event.reader().getCorrelationId() == 42u);
  BOOST_TEST(toJson(event).at("tags").at("venue") == "XNAS");
}

BOOST_AUTO_TEST_CASE(from_fields_parses_enums_case_insensitively) {
  const auto signal = evr::as<evr::Signal>(fromSet(
      evr::EventType::SIGNAL, {{"direction", "short"}, {"strategy", "mean rev"}, {"strength", "0.5"}}));
  BOOST_TEST((signal.direction == evr::Direction::Short));
  BOOST_TEST(signal.strategy == "mean rev");
  BOOST_TEST(signal.strength == 0.5);

  const auto order = evr::as<evr::Order>(
      fromSet(evr::EventType::ORDER, {{"side", "Sell"}, {"order_kind", "limit"}}));
  BOOST_TEST((order.side == evr::Side::Sell));
  BOOST_TEST((order.order_kind == evr::OrderKind::Limit));
}

BOOST_AUTO_TEST_CASE(from_fields_later_values_win) {
  const auto bar = evr::as<evr::Bar>(
      fromSet(evr::EventType::BAR, {{"close", "1"}, {"close", "2"}}));
  BOOST_TEST(bar.close == 2.0);
}

BOOST_AUTO_TEST_CASE(from_fields_user_event_infers_value_types) {
  const auto user = evr::as<evr::UserEvent>(fromSet(evr::EventType::USER,
                                                    {{"name", "rebalance"},
                                                     {"symbol", "AAPL"},
                                                     {"count", "3"},
                                                     {"weight", "0.25"},
                                                     {"forced", "true"},
                                                     {"note", "drift"},
                                                     {"field.symbol", "MSFT"}}));
  BOOST_TEST(user.name == "rebalance");
  BOOST_TEST(user.symbol == "AAPL");
  BOOST_REQUIRE_EQUAL(user.fields.size(), 5u);
  BOOST_TEST(std::get<std::int64_t>(*user.field("count")) == 3);
  BOOST_TEST(std::get<double>(*user.field("weight")) == 0.25);
  BOOST_TEST(std::get<bool>(*user.field("forced")) == true);
  BOOST_TEST(std::get<std::string>(*user.field("note")) == "drift");
  BOOST_TEST(std::get<std::string>(*user.field("symbol")) == "MSFT");
}

BOOST_AUTO_TEST_CASE(unknown_field_error_names_it_and_lists_valid_fields) {
  const std::string error = fromFieldsError(evr::EventType::BAR, {{"closing", "1"}});
  BOOST_TEST(contains(error, "unknown field 'closing'"), error);
  BOOST_TEST(contains(error, "BAR"), error);
  BOOST_TEST(contains(error, "symbol, event_time, correlation_id, tag.KEY, open, high, low, "
                             "close, volume, period_seconds"),
             error);
}

BOOST_AUTO_TEST_CASE(bad_number_error_names_field_and_value) {
  const std::string error = fromFieldsError(evr::EventType::BAR, {{"close", "abc"}});
  BOOST_TEST(contains(error, "'close'"), error);
  BOOST_TEST(contains(error, "'abc' is not a number"), error);
  BOOST_TEST(contains(error, "period_seconds"), error);

  BOOST_TEST(contains(fromFieldsError(evr::EventType::BAR, {{"close", "1.5x"}}), "not a number"));
  BOOST_TEST(contains(fromFieldsError(evr::EventType::BAR, {{"close", "nan"}}), "not a number"));
  BOOST_TEST(contains(fromFieldsError(evr::EventType::BAR, {{"close", ""}}), "not a number"));
  BOOST_TEST(contains(fromFieldsError(evr::EventType::BAR, {{"period_seconds", "-1"}}),
                      "'-1' is not an integer in [0, 4294967295]"));
  BOOST_TEST(contains(fromFieldsError(evr::EventType::BAR, {{"event_time", "soon"}}),
                      "'event_time'"));
}

BOOST_AUTO_TEST_CASE(bad_enum_error_lists_choices) {
  const std::string error = fromFieldsError(evr::EventType::SIGNAL, {{"direction", "up"}});
  BOOST_TEST(contains(error, "'direction'"), error);
  BOOST_TEST(contains(error, "'up' is not one of FLAT, LONG, SHORT"), error);
  BOOST_TEST(contains(fromFieldsError(evr::EventType::FILL, {{"side", "hold"}}),
                      "is not one of BUY, SELL"));
}

BOOST_AUTO_TEST_CASE(try_from_fields_reports_without_throwing) {
  std::string error;
  BOOST_TEST(!evr::tryFromFields(evr::EventType::TICK, {{"bid", "x"}}, error).has_value());
  BOOST_TEST(contains(error, "'bid'"), error);
  error.clear();
  BOOST_TEST(!evr::tryFromFields(evr::EventType::UNKNOWN, {}, error).has_value());
  BOOST_TEST(contains(error, "UNKNOWN"), error);
  error.clear();
  BOOST_TEST(!evr::tryFromFields(evr::EventType::BAR, {{"tag.", "x"}}, error).has_value());
  BOOST_TEST(!error.empty());
  BOOST_TEST(evr::tryFromFields(evr::EventType::TICK, {{"bid", "1"}}, error).has_value());
}

BOOST_AUTO_TEST_CASE(settable_field_list_for_user_mentions_free_keys) {
  const std::string list = evr::settableFieldList(evr::EventType::USER);
  BOOST_TEST(contains(list, "name"), list);
  BOOST_TEST(contains(list, "field.KEY"), list);
}

BOOST_AUTO_TEST_CASE(docs_list_every_payload_field) {
  // docs/events.md has a section per type with a table row per field; keep it in step.
  std::ifstream file(std::string(EVR_SOURCE_DIR) + "/docs/events.md");
  BOOST_REQUIRE(file.good());
  std::stringstream buffer;
  buffer << file.rdbuf();
  const std::string docs = buffer.str();
  for (unsigned i = 1; i < evr::kEventTypeCount; ++i) {
    const std::string type(evr::eventTypeName(static_cast<evr::EventType>(i)));
    const auto section = docs.find("\n### " + type + " ");
    BOOST_REQUIRE_MESSAGE(section != std::string::npos, "no section for " << type);
    const auto end = docs.find("\n### ", section + 1);
    const std::string body = docs.substr(section, end == std::string::npos ? end : end - section);
    for (const auto& f : evr::payloadFields(static_cast<evr::EventType>(i))) {
      BOOST_TEST(contains(body, "| `" + std::string(f.name) + "`"), type << "." << f.name);
    }
  }
}

BOOST_AUTO_TEST_CASE(from_json_reads_back_every_payload_header_as_written) {
  // One event of each payload type, through toJson, its text and back.
  const evr::Event events[] = {
      publishAndCapture(evr::Bar{.symbol = "AAPL", .time_ns = 5, .open = 1.5, .high = 2, .low = 1,
                                 .close = 1.75, .volume = 1e6, .period_seconds = 86400}),
      publishAndCapture(evr::Tick{.symbol = "AAPL", .time_ns = 6, .bid = 1, .ask = 2, .price = 1.5, .size = 3}),
      publishAndCapture(evr::Indicator{.symbol = "AAPL", .name = "sma_20", .value = 0.1}),
      publishAndCapture(evr::Signal{.symbol = "AAPL", .strategy = "s", .direction = evr::Direction::Short,
                                    .strength = 0.5, .price = 3}),
      publishAndCapture(evr::Order{.order_id = "o", .strategy = "s", .portfolio = "p", .side = evr::Side::Sell,
                                   .order_kind = evr::OrderKind::Limit, .quantity = 2, .limit_price = 9}),
      publishAndCapture(evr::Fill{.order_id = "o", .side = evr::Side::Sell, .quantity = 2, .price = 9,
                                  .commission = 0.1, .slippage = 0.01}),
      publishAndCapture(evr::Regime{.classifier = "c", .regime = "BULL", .confidence = 0.9}),
      publishAndCapture(evr::PortfolioUpdate{.portfolio = "p", .cash = 1, .equity = 2, .positions_value = 3,
                                             .realized_pnl = -4, .unrealized_pnl = 5}),
      publishAndCapture(evr::EndOfData{.time_ns = 9, .reason = "done"}),
      publishAndCapture(evr::UserEvent{.name = "news", .fields = {{"a", std::int64_t{-3}}, {"b", 2.5},
                                                                  {"c", true}, {"d", "text"}}}),
      publishAndCapture(evr::EventBuilder(evr::EventType::BAR).symbol("X").tag("k", "v")),
  };
  for (const auto& event : events) {
    const json written = evr::toJson(event);
    const evr::Event read = evr::fromJson(json::parse(written.dump()));
    BOOST_TEST((read.origin() == evr::Origin::Router));
    BOOST_TEST(evr::toJson(read) == written, written.dump() << "\nread back as\n" << evr::toJson(read).dump());
  }
}

BOOST_AUTO_TEST_CASE(from_json_takes_tap_lines_and_hops_and_nan) {
  json line = json::parse(evr::toJson(publishAndCapture(evr::Bar{.symbol = "AAPL", .close = std::nan("")})).dump());
  BOOST_TEST(line["close"].is_null());  // JSON has no NaN
  line["from"] = "data";
  line["to"] = json::array({"strategy"});
  line["adapters"] = json::array({"feed"});
  line["hops"] = 3;
  const auto read = evr::fromJson(line);
  BOOST_TEST(read.hops() == 3u);
  BOOST_TEST(std::isnan(evr::as<evr::Bar>(read).close));
}

BOOST_AUTO_TEST_CASE(builder_from_json_keeps_what_a_publisher_sets) {
  evr::Bus original("data");
  evr::Event cause, effect;
  original.subscribe(evr::EventType::BAR, [&](const evr::Event& e) {
    cause = e;
    original.publish(evr::Signal{.symbol = "AAPL", .strategy = "s"});
  });
  original.subscribe(evr::EventType::SIGNAL, [&](const evr::Event& e) { effect = e; });
  original.publish(evr::Bar{.symbol = "AAPL", .time_ns = 4, .close = 2});
  BOOST_TEST_REQUIRE(effect.reader().getCausationId() == cause.id());

  auto builder = evr::builderFromJson(evr::toJson(effect));
  BOOST_TEST(builder.root().getCausationId() == 0u);  // the publisher decides
  const auto again = publishAndCapture(std::move(builder));
  BOOST_TEST(again.source() == "test");  // stamped over
  BOOST_TEST(again.seq() == 1u);
  BOOST_TEST((evr::as<evr::Signal>(again) == evr::as<evr::Signal>(effect)));

  std::string error;
  BOOST_TEST(!evr::tryBuilderFromJson(json::parse(R"({"type":"BAR","volume":[1]})"), error));
  BOOST_TEST(error == "field 'volume': [1] is not a number");
  BOOST_TEST(!evr::tryFromJson(json::parse("[1]"), error));
  BOOST_TEST(error == "not a JSON object");
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// One published event per type with every field set to something other than its default.
const evr::Event& sampleOf(evr::EventType type) {
  static const std::vector<evr::Event> samples = [] {
    std::vector<evr::Event> out(evr::kEventTypeCount);
    const auto put = [&](auto payload) {
      evr::EventBuilder builder = build(payload);
      builder.root().setCorrelationId(77);
      out[static_cast<unsigned>(decltype(payload)::kType)] = publishAndCapture(std::move(builder));
    };
    put(evr::Bar{.symbol = "AAPL", .time_ns = 1, .open = 1, .high = 2, .low = 0.5, .close = 1.5,
                 .volume = 10, .period_seconds = 60});
    put(evr::Tick{.symbol = "AAPL", .time_ns = 2, .bid = 1, .ask = 1.25, .price = 1.1, .size = 7});
    put(evr::Indicator{.symbol = "AAPL", .time_ns = 3, .name = "rsi 14", .value = 55.5});
    put(evr::Signal{.symbol = "AAPL",
                    .time_ns = 4,
                    .strategy = "mom",
                    .direction = evr::Direction::Short,
                    .strength = 0.3,
                    .price = 1.5});
    put(evr::Order{.symbol = "AAPL",
                   .time_ns = 5,
                   .order_id = "o1",
                   .strategy = "mom",
                   .portfolio = "p",
                   .side = evr::Side::Sell,
                   .order_kind = evr::OrderKind::Limit,
                   .quantity = 3,
                   .limit_price = 1.4});
    put(evr::Fill{.symbol = "AAPL",
                  .time_ns = 6,
                  .order_id = "o1",
                  .strategy = "mom",
                  .portfolio = "p",
                  .side = evr::Side::Sell,
                  .quantity = 3,
                  .price = 1.41,
                  .commission = 0.01,
                  .slippage = 0.002});
    put(evr::Regime{.symbol = "SPY", .time_ns = 7, .classifier = "hmm", .regime = "BEAR",
                    .confidence = 0.6});
    put(evr::PortfolioUpdate{.symbol = "",
                             .time_ns = 8,
                             .portfolio = "p",
                             .cash = 100,
                             .equity = 150,
                             .positions_value = 50,
                             .realized_pnl = -1.5,
                             .unrealized_pnl = 2.5});
    put(evr::EndOfData{.time_ns = 9, .reason = "done"});
    put(evr::UserEvent{.name = "custom",
                       .symbol = "AAPL",
                       .time_ns = 10,
                       .fields = {{"text", "hello world"},
                                  {"int", std::int64_t{-4}},
                                  {"float", 2.5},
                                  {"bool", true}}});
    return out;
  }();
  return samples.at(static_cast<unsigned>(type));
}

}  // namespace
