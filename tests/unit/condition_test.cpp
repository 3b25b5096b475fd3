// routing/condition and evr/event_fields: the selective adapter's condition language. Every
// rejected text names the exact line:col inside the config file and what was expected; every
// error that can be found is reported; evaluation follows the documented absent-field semantics;
// nothing throws for any input.

#include "routing/condition.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "evr/event_fields.hpp"

using evr::EventType;
using evr::config::Diagnostics;
using evr::config::Mark;
using evr::routing::compileCondition;
using evr::routing::Condition;
using evr::routing::EventView;
namespace schema = evr::schema;
namespace fields = evr::fields;

namespace {

// Where the condition text starts in the (imaginary) config file.
const Mark kMark{"t.yaml", 3, 20};

// An event under construction; view() reads it in place.
struct TestEvent {
  capnp::MallocMessageBuilder message;
  schema::Event::Builder root = message.initRoot<schema::Event>();
  schema::Event::Payload::Builder payload() { return root.getPayload(); }
  EventView view(std::uint8_t hops = 0) {
    return EventView{message.getRoot<schema::Event>().asReader(), hops};
  }
};

std::unique_ptr<TestEvent> regimeEvent(const char* regime, double confidence = 0.8) {
  auto e = std::make_unique<TestEvent>();
  e->root.setType(schema::EventType::REGIME);
  e->root.setSource("hmm_classifier");
  e->root.setSymbol("SPY");
  auto r = e->payload().initRegime();
  r.setClassifier("hmm");
  r.setRegime(regime);
  r.setConfidence(confidence);
  return e;
}

std::unique_ptr<TestEvent> barEvent() {
  auto e = std::make_unique<TestEvent>();
  e->root.setType(schema::EventType::BAR);
  e->root.setSource("data");
  e->root.setSymbol("AAPL");
  e->root.setSeq(7);
  e->root.setId(15596777657834930177ull);
  e->root.setEventTime(-5);
  auto b = e->payload().initBar();
  b.setOpen(100.0);
  b.setHigh(102.0);
  b.setLow(99.0);
  b.setClose(101.5);
  b.setVolume(5000.0);
  b.setPeriodSeconds(86400);
  return e;
}

std::unique_ptr<TestEvent> signalEvent(schema::Direction direction, double strength) {
  auto e = std::make_unique<TestEvent>();
  e->root.setType(schema::EventType::SIGNAL);
  e->root.setSource("momentum");
  e->root.setSymbol("MSFT");
  auto s = e->payload().initSignal();
  s.setStrategy("momentum_fast");
  s.setDirection(direction);
  s.setStrength(strength);
  s.setPrice(410.25);
  return e;
}

std::unique_ptr<TestEvent> orderEvent() {
  auto e = std::make_unique<TestEvent>();
  e->root.setType(schema::EventType::ORDER);
  auto o = e->payload().initOrder();
  o.setOrderId("o-17");
  o.setStrategy("momentum_fast");
  o.setPortfolio("aggressive");
  o.setSide(schema::Side::SELL);
  o.setOrderKind(schema::OrderKind::LIMIT);
  o.setQuantity(250);
  o.setLimitPrice(99.5);
  return e;
}

std::unique_ptr<TestEvent> fillEvent() {
  auto e = std::make_unique<TestEvent>();
  e->root.setType(schema::EventType::FILL);
  auto f = e->payload().initFill();
  f.setOrderId("o-17");
  f.setPortfolio("aggressive");
  f.setSide(schema::Side::BUY);
  f.setQuantity(50);
  f.setPrice(99.25);
  return e;
}

std::unique_ptr<TestEvent> indicatorEvent(const char* name, double value) {
  auto e = std::make_unique<TestEvent>();
  e->root.setType(schema::EventType::INDICATOR);
  auto i = e->payload().initIndicator();
  i.setName(name);
  i.setValue(value);
  return e;
}

std::unique_ptr<TestEvent> userEvent(const char* name) {
  auto e = std::make_unique<TestEvent>();
  e->root.setType(schema::EventType::USER);
  e->payload().initUser().setName(name);
  return e;
}

Condition mustCompile(std::string_view text) {
  Diagnostics diagnostics;
  auto condition = compileCondition(text, kMark, diagnostics);
  BOOST_TEST_REQUIRE(condition.has_value(), "'" << text << "' failed:\n" << diagnostics.toString());
  BOOST_TEST(!diagnostics.hasErrors());
  return std::move(*condition);
}

// Evaluates `text` both ways the daemon does: through the event's reader, and from its flat words
// as the relay loop reads them (by hand where it can, routing::EventWords). They must agree.
bool eval(std::string_view text, TestEvent& event, std::uint8_t hops = 0) {
  const Condition condition = mustCompile(text);
  const bool through_reader = condition.evaluate(event.view(hops));
  const auto words = capnp::messageToFlatArray(event.message);
  evr::routing::EventWords flat(words.asPtr(), condition.fieldReads());
  BOOST_TEST(condition.evaluate(EventView(flat, hops)) == through_reader, "'" << text << "' from the words");
  return through_reader;
}

struct Expected {
  std::uint32_t line;
  std::uint32_t column;
  std::string fragment;
};

// Compiling `text` (at kMark) fails with exactly `expected`, in order.
void expectErrors(std::string_view text, const std::vector<Expected>& expected,
                  const Mark& mark = kMark) {
  Diagnostics diagnostics;
  std::optional<Condition> condition;
  BOOST_REQUIRE_NO_THROW(condition = compileCondition(text, mark, diagnostics));
  BOOST_TEST_CONTEXT("condition: " << text << "\ndiagnostics:\n" << diagnostics.toString()) {
    BOOST_TEST(!condition.has_value());
    BOOST_TEST_REQUIRE(diagnostics.all().size() == expected.size());
    BOOST_TEST(diagnostics.errorCount() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const auto& d = diagnostics.all()[i];
      BOOST_TEST(d.mark.file == mark.file);
      BOOST_TEST(d.mark.line == expected[i].line);
      BOOST_TEST(d.mark.column == expected[i].column);
      BOOST_TEST(d.message.find(expected[i].fragment) != std::string::npos,
                 "message '" << d.message << "' lacks '" << expected[i].fragment << "'");
    }
  }
}

// One error on kMark's line, at kMark.column + offset.
void expectError(std::string_view text, std::size_t offset, const std::string& fragment) {
  expectErrors(text, {{kMark.line, kMark.column + static_cast<std::uint32_t>(offset), fragment}});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(condition)

// ---- errors: place and message
// -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(unknown_field_suggests_the_nearest_name) {
  expectError("event.regim == 'BULL'", 0,
              "unknown field 'event.regim' (did you mean 'event.regime'?)");
  expectError("event.regime == 'BULL' and event.strenght > 0.5", 27,
              "unknown field 'event.strenght' (did you mean 'event.strength'?)");
}

BOOST_AUTO_TEST_CASE(unknown_field_without_a_near_name_lists_the_fields) {
  expectError("event.wibble == 1", 0, "unknown field 'event.wibble'; fields: type, source, symbol");
}

BOOST_AUTO_TEST_CASE(every_bad_field_and_type_error_is_reported) {
  expectErrors(
      "event.regim == 'BULL' or event.direction == 'UP' or event.symbol > 3",
      {{3, 20, "unknown field 'event.regim'"},
       {3, 64, "'UP' is not a value of event.direction; expected one of FLAT, LONG, SHORT"},
       {3, 87, "cannot compare text field 'event.symbol' with a number"}});
}

BOOST_AUTO_TEST_CASE(errors_before_a_syntax_error_are_kept) {
  expectErrors("event.regim == 'BULL' and (event.price > 1",
               {{3, 20, "unknown field 'event.regim'"}, {3, 62, "expected ')'"}});
}

BOOST_AUTO_TEST_CASE(mismatched_types_are_errors_at_the_literal) {
  expectError("event.symbol == 5", 16, "cannot compare text field 'event.symbol' with a number");
  expectError("event.price > 'high'", 14,
              "cannot compare number field 'event.price' with a string");
  expectError("'BULL' == event.seq", 0, "cannot compare a string with integer field 'event.seq'");
  expectError("event.hops == true", 14, "cannot compare integer field 'event.hops' with a bool");
  expectError("event.direction == event.side", 19,
              "cannot compare enum field 'event.direction' with enum field 'event.side'");
  expectError("event.symbol == event.price", 16,
              "cannot compare text field 'event.symbol' with number field 'event.price'");
  expectError("event.side in ['BUY', 3]", 22,
              "cannot compare enum field 'event.side' with a number");
}

BOOST_AUTO_TEST_CASE(bad_enum_value_lists_the_valid_names) {
  expectError("event.direction == 'BULISH'", 19,
              "'BULISH' is not a value of event.direction; expected one of FLAT, LONG, SHORT");
  expectError("event.side in ['BUY', 'HOLD']", 22,
              "'HOLD' is not a value of event.side; expected one of BUY, SELL");
  expectError("event.type == 'BARS'", 14,
              "'BARS' is not a value of event.type; expected one of BAR, TICK, INDICATOR, SIGNAL, "
              "ORDER, FILL, REGIME, PORTFOLIO, END_OF_DATA, USER");
}

BOOST_AUTO_TEST_CASE(ordering_an_enum_or_bool_is_an_error_at_the_operator) {
  expectError("event.direction < 'LONG'", 16, "'<' does not apply to enum field 'event.direction'");
  expectError("(event.price > 1) >= true", 18, "'>=' does not apply to a condition");
}

BOOST_AUTO_TEST_CASE(unterminated_string_points_at_its_quote) {
  expectError("event.regime == 'BULL", 16, "unterminated string");
  expectError("event.regime == \"BULL\\\"", 16, "unterminated string");
}

BOOST_AUTO_TEST_CASE(missing_operator_says_what_was_expected) {
  expectError("event.regime 'BULL'", 13, "expected a comparison operator after 'event.regime'");
  expectError("event.regime", 12,
              "expected a comparison operator after 'event.regime' (text field 'event.regime' is "
              "not a condition)");
  expectError("5", 1, "expected a comparison operator after '5' (a number is not a condition)");
  // A bare non-bool field is a type error: parsing goes on to find the next error.
  expectErrors("event.regime and event.regim == 'BULL'",
               {{3, 33, "expected a comparison operator after 'event.regime'"},
                {3, 37, "unknown field 'event.regim'"}});
}

BOOST_AUTO_TEST_CASE(missing_values_and_brackets) {
  expectError("", 0, "empty condition");
  expectError("   ", 0, "empty condition");
  expectError("event.regime ==", 15, "expected a value after '=='");
  expectError("event.regime == 'BULL' and", 26, "expected a value after 'and'");
  expectError("not", 3, "expected a value after 'not'");
  expectError("(event.regime == 'BULL'", 23, "expected ')'");
  expectError("event.regime in ['BULL', 'BEAR'", 31, "expected ']'");
  expectError("event.regime in ['BULL' 'BEAR']", 24, "expected ']'");
  expectError("event.regime in ['BULL',]", 24, "expected a string, number, true or false");
  expectError("event.regime in []", 17, "empty list");
  expectError("event.regime in 'BULL'", 16, "expected '[' after 'in'");
  expectError("event.regime not 'BULL'", 13, "expected a comparison operator after 'event.regime'");
  expectError("and event.regime == 'BULL'", 0, "at the start of the condition, found 'and'");
  expectError("event.regime == )", 16, "expected a value after '==', found ')'");
}

BOOST_AUTO_TEST_CASE(trailing_text_is_an_error) {
  expectError("event.regime == 'BULL' xyz", 23, "unexpected 'xyz' after the end of the condition");
  expectError("event.regime == 'BULL')", 22, "unexpected ')' after the end of the condition");
  expectError("event.price > 1 == true", 16, "comparisons do not chain");
}

BOOST_AUTO_TEST_CASE(lexer_errors_say_what_to_write) {
  expectError("event.regime = 'BULL'", 13, "'=' is not an operator; use '=='");
  expectError("event.regime == 'BULL' & event.price > 1", 23, "'&' is not an operator; use '&&'");
  expectError("event.regime == 'BULL' | event.price > 1", 23, "'|' is not an operator; use '||'");
  expectError("event.regime == 'BULL' @", 23, "unexpected character '@'");
  expectError("event.regime == \x01", 16, "unexpected character '\\x01'");
  expectError("event. == 1", 0, "expected a field name after 'event.'");
  expectError("event.price > 1.", 14, "malformed number '1.'");
  expectError("event.price > 12abc", 14, "malformed number '12abc'");
  expectError("event.price > 1e", 14, "malformed number '1e'");
  expectError("event.price > 1e999", 14, "number '1e999' is out of range");
}

BOOST_AUTO_TEST_CASE(bare_names_are_errors_with_a_hint) {
  expectError("regime == 'BULL'", 0, "unknown name 'regime' (did you mean 'event.regime'?");
  expectError("event.regime == BULL", 16,
              "unknown name 'BULL': expected a field (event.<name>), "
              "a string in quotes (e.g. 'BULL')");
}

BOOST_AUTO_TEST_CASE(contains_and_matches_need_text) {
  expectError("event.quantity contains 'x'", 0,
              "'contains' needs text on its left; number field 'event.quantity' is not text");
  expectError("event.symbol contains 5", 22, "'contains' needs text on its right; a number");
  expectError("event.side matches 'B'", 0,
              "'matches' needs text on its left; enum field 'event.side'");
  expectError("event.symbol matches 5", 21,
              "expected a string (a regular expression) after 'matches'");
  expectError("event.symbol matches '(abc'", 21, "invalid regular expression '(abc'");
}

BOOST_AUTO_TEST_CASE(too_deep_nesting_is_an_error_not_a_crash) {
  expectError(std::string(100, '(') + "true" + std::string(100, ')'), 64, "nests too deeply");
  std::string nots;
  for (int i = 0; i < 100; ++i) nots += "not ";
  expectError(nots + "true", 64 * 4, "nests too deeply");
}

BOOST_AUTO_TEST_CASE(multi_line_text_counts_lines_and_columns) {
  expectErrors("event.regime == 'BULL'\n  and event.strenght > 1",
               {{4, 7, "unknown field 'event.strenght'"}});
  expectErrors("event.regime == 'BULL'\nand\n   event.x == 1 xyz",
               {{5, 4, "unknown field 'event.x'"}, {5, 17, "unexpected 'xyz'"}});
}

BOOST_AUTO_TEST_CASE(unknown_column_stays_unknown) {
  expectErrors("event.regim == 1", {{0, 0, "unknown field"}}, Mark{"t.yaml", 0, 0});
  expectErrors("event.regim == 1", {{7, 0, "unknown field"}}, Mark{"t.yaml", 7, 0});
}

// ---- evaluation
// ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(spec_regime_rules) {
  auto bull = regimeEvent("BULL");
  auto bear = regimeEvent("BEAR");
  auto neutral = regimeEvent("NEUTRAL");
  for (auto* e : {bull.get(), bear.get(), neutral.get()}) {
    const std::string regime = e->view().event().getPayload().getRegime().getRegime().cStr();
    BOOST_TEST(eval("event.regime == 'BULL'", *e) == (regime == "BULL"));
    BOOST_TEST(eval("event.regime == 'BEAR'", *e) == (regime == "BEAR"));
    BOOST_TEST(eval("event.regime == 'NEUTRAL'", *e) == (regime == "NEUTRAL"));
    BOOST_TEST(eval("event.regime != 'BULL'", *e) == (regime != "BULL"));
  }
  BOOST_TEST(eval("event.regime==\"BULL\"", *bull));
  BOOST_TEST(!eval("event.regime == 'bull'", *bull));  // text is case-sensitive
}

BOOST_AUTO_TEST_CASE(and_or_not_precedence_and_parentheses) {
  auto e = regimeEvent("BULL", 0.8);
  BOOST_TEST(eval("true or false and false", *e));  // and binds tighter
  BOOST_TEST(!eval("(true or false) and false", *e));
  BOOST_TEST(eval("not true or true", *e));  // (not true) or true
  BOOST_TEST(!eval("not (true or true)", *e));
  BOOST_TEST(!eval("! false && false", *e));
  BOOST_TEST(eval("!(false || false)", *e));
  BOOST_TEST(eval("not not true", *e));
  BOOST_TEST(eval("TRUE AND NOT False", *e));  // keywords in any case
  BOOST_TEST(
      eval("event.regime == 'BEAR' or event.regime == 'BULL' and event.confidence > 0.5", *e));
  BOOST_TEST(
      !eval("(event.regime == 'BEAR' or event.regime == 'BULL') and event.confidence > 0.9", *e));
  BOOST_TEST(eval("(event.regime == 'BULL') == true", *e));
  BOOST_TEST(eval("(event.regime == 'BEAR') != true", *e));
  BOOST_TEST(eval("not event.regime == 'BEAR'", *e));  // not (regime == BEAR)
}

BOOST_AUTO_TEST_CASE(absent_fields_compare_false_and_not_negates_the_result) {
  auto bar = barEvent();  // no regime, strength, side...
  BOOST_TEST(!eval("event.regime == 'BULL'", *bar));
  BOOST_TEST(!eval("event.regime != 'BULL'", *bar));
  BOOST_TEST(eval("not event.regime == 'BULL'", *bar));
  BOOST_TEST(eval("!(event.regime != 'BULL')", *bar));
  BOOST_TEST(!eval("event.regime in ['BULL', 'BEAR']", *bar));
  BOOST_TEST(!eval("event.regime not in ['BULL', 'BEAR']", *bar));
  BOOST_TEST(eval("not event.regime in ['BULL', 'BEAR']", *bar));
  BOOST_TEST(!eval("event.regime contains 'U'", *bar));
  BOOST_TEST(!eval("event.regime matches '.*'", *bar));
  BOOST_TEST(!eval("event.strength < 0.5", *bar));
  BOOST_TEST(!eval("event.strength >= 0.5", *bar));
  BOOST_TEST(!eval("event.side == 'BUY'", *bar));
  BOOST_TEST(!eval("event.side != 'BUY'", *bar));
  BOOST_TEST(!eval("event.price == event.price", *bar));
  BOOST_TEST(eval("event.regime == 'BULL' or event.close > 100", *bar));
  // An event without a payload: every payload field is absent; header fields are there.
  TestEvent empty;
  empty.root.setSymbol("X");
  BOOST_TEST(!eval("event.close > 0", empty));
  BOOST_TEST(!eval("event.name == ''", empty));
  BOOST_TEST(eval("event.symbol == 'X'", empty));
  BOOST_TEST(eval("event.source == ''", empty));  // an unset text header field is empty, not absent
}

BOOST_AUTO_TEST_CASE(numbers_compare_exactly_across_int_and_double) {
  auto bar = barEvent();
  BOOST_TEST(eval("event.period_seconds == 86400", *bar));
  BOOST_TEST(eval("event.period_seconds == 86400.0", *bar));
  BOOST_TEST(eval("event.period_seconds == 8.64e4", *bar));
  BOOST_TEST(eval("event.period_seconds > 86399.5", *bar));
  BOOST_TEST(eval("event.period_seconds < 86400.5", *bar));
  BOOST_TEST(!eval("event.period_seconds != 86400", *bar));
  BOOST_TEST(eval("event.close > 101", *bar));
  BOOST_TEST(eval("event.close == 101.5", *bar));
  BOOST_TEST(!eval("event.close < 101.5", *bar));
  BOOST_TEST(eval("event.close <= 101.5", *bar));
  BOOST_TEST(eval("event.close >= 1.015E2", *bar));
  BOOST_TEST(eval("event.high > event.low", *bar));
  BOOST_TEST(eval("event.volume == 5000", *bar));
  BOOST_TEST(eval("event.seq == 7 and event.seq > -1 and event.seq < 7.5", *bar));
  // uint64 above 2^63, int64 below 0
  BOOST_TEST(eval("event.id == 15596777657834930177", *bar));
  BOOST_TEST(!eval("event.id == 15596777657834930176", *bar));
  BOOST_TEST(eval("event.id > 9223372036854775807", *bar));
  BOOST_TEST(eval("event.id > -1", *bar));
  BOOST_TEST(eval("event.id > 1.5e19 and event.id < 1.6e19", *bar));
  BOOST_TEST(eval("event.event_time == -5", *bar));
  BOOST_TEST(eval("event.event_time < 0 and event.event_time > -5.5", *bar));
  BOOST_TEST(eval("event.event_time < event.id", *bar));
  BOOST_TEST(eval("1 == 1.0 and -0 == 0 and 2 > 1.999", *bar));
  BOOST_TEST(eval("100000000000000000000 > event.id", *bar));  // past uint64: a double
}

BOOST_AUTO_TEST_CASE(nan_is_unordered) {
  auto bar = barEvent();
  bar->payload().getBar().setClose(std::numeric_limits<double>::quiet_NaN());
  BOOST_TEST(!eval("event.close == event.close", *bar));
  BOOST_TEST(eval("event.close != 1", *bar));
  BOOST_TEST(!eval("event.close < 1 or event.close >= 1", *bar));
  BOOST_TEST(!eval("event.close in [1, 2]", *bar));
  BOOST_TEST(eval("event.close not in [1, 2]", *bar));
}

BOOST_AUTO_TEST_CASE(enums_compare_by_name_in_any_case) {
  auto e = signalEvent(schema::Direction::LONG, 0.7);
  BOOST_TEST(eval("event.direction == 'LONG'", *e));
  BOOST_TEST(eval("event.direction == 'long'", *e));
  BOOST_TEST(eval("'Long' == event.direction", *e));
  BOOST_TEST(eval("event.direction != 'SHORT'", *e));
  BOOST_TEST(eval("event.direction in ['SHORT', 'LONG']", *e));
  BOOST_TEST(eval("event.direction not in ['FLAT']", *e));
  BOOST_TEST(!eval("event.direction not in ['flat', 'long']", *e));
  auto order = orderEvent();
  BOOST_TEST(eval("event.side == 'SELL' and event.order_kind == 'LIMIT'", *order));
  BOOST_TEST(!eval("event.side == 'BUY'", *order));
  auto fill = fillEvent();
  BOOST_TEST(eval("event.side == event.side", *fill));
}

BOOST_AUTO_TEST_CASE(type_and_hops_are_header_fields) {
  auto regime = regimeEvent("BULL");
  BOOST_TEST(eval("event.type == 'REGIME'", *regime));
  BOOST_TEST(eval("event.type == 'CLASSIFICATION'", *regime));
  BOOST_TEST(eval("event.type == 'regime'", *regime));
  BOOST_TEST(!eval("event.type in ['BAR', 'TICK']", *regime));
  auto bar = barEvent();
  BOOST_TEST(eval("event.type in ['BAR', 'TICK']", *bar));
  BOOST_TEST(eval("event.type != 'END_OF_DATA'", *bar));
  BOOST_TEST(eval("event.hops >= 3", *bar, 3));
  BOOST_TEST(!eval("event.hops < 3", *bar, 3));
  BOOST_TEST(eval("event.hops == 0", *bar));
  BOOST_TEST(eval("event.source == 'data' and event.symbol == 'AAPL'", *bar));
}

BOOST_AUTO_TEST_CASE(in_lists_of_numbers_and_strings) {
  auto bar = barEvent();
  BOOST_TEST(eval("event.symbol in ['MSFT', 'AAPL', 'GOOG']", *bar));
  BOOST_TEST(!eval("event.symbol in ['MSFT', 'GOOG']", *bar));
  BOOST_TEST(eval("event.symbol not in ['MSFT', 'GOOG']", *bar));
  BOOST_TEST(eval("event.period_seconds in [60, 3600, 86400.0]", *bar));
  BOOST_TEST(eval("event.close in [101.5]", *bar));
  BOOST_TEST(!eval("event.close in [101, 102]", *bar));
  BOOST_TEST(eval("(event.close > 1) in [true]", *bar));
}

BOOST_AUTO_TEST_CASE(text_ordering_and_contains) {
  auto bar = barEvent();
  BOOST_TEST(eval("event.symbol < 'B'", *bar));
  BOOST_TEST(eval("event.symbol >= 'AAPL'", *bar));
  BOOST_TEST(!eval("event.symbol > 'AAPL'", *bar));
  BOOST_TEST(eval("event.symbol contains 'AP'", *bar));
  BOOST_TEST(eval("event.symbol contains ''", *bar));
  BOOST_TEST(!eval("event.symbol contains 'ap'", *bar));
  BOOST_TEST(eval("event.source contains event.source", *bar));
  BOOST_TEST(eval("'xx AAPL yy' contains event.symbol", *bar));
}

BOOST_AUTO_TEST_CASE(matches_searches_with_ecmascript_regex) {
  auto bar = barEvent();
  BOOST_TEST(eval("event.symbol matches '^AA'", *bar));
  BOOST_TEST(eval("event.symbol matches 'PL'", *bar));  // search: anywhere in the text
  BOOST_TEST(eval("event.symbol matches '^A+PL$'", *bar));
  BOOST_TEST(!eval("event.symbol matches '^PL'", *bar));
  BOOST_TEST(!eval("event.symbol matches '\\d'", *bar));
  auto sma = indicatorEvent("sma_20", 1.0);
  BOOST_TEST(eval(R"(event.name matches '^sma_\d+$')", *sma));   // an unknown escape stays
  BOOST_TEST(eval(R"(event.name matches '^sma_\\d+$')", *sma));  // \\ is one backslash
  BOOST_TEST(!eval(R"(event.name matches '^rsi_\d+$')", *sma));
  // Text past the length limit does not match (libstdc++'s regex recursion would overflow).
  auto long_symbol = barEvent();
  long_symbol->root.setSymbol(std::string(5000, 'a'));
  BOOST_TEST(!eval("event.symbol matches 'a'", *long_symbol));
}

BOOST_AUTO_TEST_CASE(shared_fields_read_from_whichever_payload_carries_them) {
  auto tick = std::make_unique<TestEvent>();
  tick->payload().initTick().setPrice(10.5);
  auto signal = signalEvent(schema::Direction::SHORT, 0.2);
  auto fill = fillEvent();
  auto bar = barEvent();
  BOOST_TEST(eval("event.price == 10.5", *tick));
  BOOST_TEST(eval("event.price == 410.25", *signal));
  BOOST_TEST(eval("event.price == 99.25", *fill));
  BOOST_TEST(!eval("event.price > 0", *bar));
  auto order = orderEvent();
  BOOST_TEST(eval("event.quantity == 250 and event.portfolio == 'aggressive'", *order));
  BOOST_TEST(eval("event.quantity < 100 and event.order_id == 'o-17'", *fill));
  BOOST_TEST(eval("event.strategy == 'momentum_fast'", *signal));
  BOOST_TEST(eval("event.strategy == 'momentum_fast'", *order));
  BOOST_TEST(eval("event.strategy == ''", *fill));  // unset text in a FILL: empty, not absent
  auto user = userEvent("rebalance");
  auto indicator = indicatorEvent("rsi_14", 71.0);
  BOOST_TEST(eval("event.name == 'rebalance'", *user));
  BOOST_TEST(eval("event.name == 'rsi_14' and event.value > 70", *indicator));
  BOOST_TEST(!eval("event.value > 70", *user));
}

BOOST_AUTO_TEST_CASE(payload_types_lists_what_the_condition_reads) {
  BOOST_TEST(mustCompile("event.symbol == 'X' and event.hops < 2").payloadTypes().empty());
  BOOST_TEST(mustCompile("event.price > 1").payloadTypes().toString() == "TICK|SIGNAL|FILL");
  BOOST_TEST(
      mustCompile("event.regime == 'BULL' or event.quantity > 1").payloadTypes().toString() ==
      "ORDER|FILL|REGIME");
  BOOST_TEST(mustCompile("event.name contains 'x'").payloadTypes().toString() == "INDICATOR|USER");
}

BOOST_AUTO_TEST_CASE(canonical_text_is_normalised_and_reads_back) {
  BOOST_TEST(mustCompile("event.regime==\"BULL\"").text() == "event.regime == 'BULL'");
  BOOST_TEST(mustCompile("event.direction == \"long\"").text() == "event.direction == 'LONG'");
  BOOST_TEST(mustCompile("event.type in ['classification','bar']").text() ==
             "event.type in ['REGIME', 'BAR']");
  BOOST_TEST(mustCompile("! (true || false) && event.price>=1e3").text() ==
             "not (true or false) and event.price >= 1e3");
  BOOST_TEST(mustCompile("(event.price > 1 and event.price < 2) or not (event.seq == 1)").text() ==
             "event.price > 1 and event.price < 2 or not event.seq == 1");
  BOOST_TEST(mustCompile("((true or false)) or true").text() == "(true or false) or true");
  BOOST_TEST(mustCompile("event.symbol matches 'it\\'s\\\\d'").text() ==
             "event.symbol matches 'it\\'s\\d'");  // a backslash before d needs no escape
  BOOST_TEST(mustCompile(R"(event.symbol == 'a\\b\'c\"d\\')").text() ==
             R"(event.symbol == 'a\b\'c"d\\')");
  for (const char* text :
       {"event.regime == 'BULL'", "not (event.price > 1 or event.side == 'BUY') and true",
        "event.symbol not in ['A', 'B\\'C'] or event.symbol contains \"\\\\\"",
        "(event.price > 1) == false", "event.id > 18446744073709551615 or event.close < -0.5e-3"}) {
    const Condition first = mustCompile(text);
    BOOST_TEST(mustCompile(first.text()).text() == first.text(), "text: " << text);
  }
}

BOOST_AUTO_TEST_CASE(malformed_event_matches_nothing) {
  // A message whose regime text pointer points past the end of its segment.
  auto e = regimeEvent("BULL");
  auto segments = e->message.getSegmentsForOutput();
  BOOST_TEST_REQUIRE(segments.size() == 1u);
  const auto words = segments[0];
  BOOST_TEST_REQUIRE(words.size() > 4u);
  kj::ArrayPtr<const capnp::word> truncated[] = {words.slice(0, words.size() - 2)};
  capnp::SegmentArrayMessageReader reader(truncated);
  const EventView view{reader.getRoot<schema::Event>(), 0};
  const Condition plain = mustCompile("event.regime == 'BULL'");
  const Condition negated = mustCompile("not event.regime == 'BULL'");
  BOOST_CHECK_NO_THROW(plain.evaluate(view));
  BOOST_TEST(!plain.evaluate(view));
  BOOST_TEST(!negated.evaluate(view));
}

BOOST_AUTO_TEST_CASE(default_condition_matches_nothing) {
  auto bar = barEvent();
  BOOST_TEST(!Condition().evaluate(bar->view()));
}

// Conditions that mostly make sense, from the grammar, then sometimes damaged by one edit.
class ConditionGenerator {
 public:
  explicit ConditionGenerator(std::uint32_t seed) : random_(seed) {}

  std::string expression(int depth) {
    const unsigned choice = pick(depth > 0 ? 9 : 5);
    switch (choice) {
      case 0:
      case 1: return field() + " " + comparison() + " " + literal();
      case 2:
        return field() + (pick(2) ? " in [" : " not in [") + literal() + ", " + literal() + "]";
      case 3:
        return field() + (pick(2) ? " contains " : " matches ") + "'" + pick({"A", "^B", "U.L"}) +
               "'";
      case 4: return pick({"true", "false", "event.symbol == event.source"});
      case 5: return std::string(pick(2) ? "not " : "!") + expression(depth - 1);
      case 6: return "(" + expression(depth - 1) + ")";
      case 7: return expression(depth - 1) + pick({" and ", " && "}) + expression(depth - 1);
      default: return expression(depth - 1) + pick({" or ", " || "}) + expression(depth - 1);
    }
  }

  void damage(std::string& text) {
    if (text.empty()) return;
    const std::size_t at = random_() % text.size();
    switch (pick(3)) {
      case 0: text.erase(at, 1 + pick(3)); break;
      case 1: text.insert(at, 1, "'\"()[]=!<>&|, ."[pick(15)]); break;
      default: text[at] = "'\"()[]=!<>&|, .x1"[pick(17)]; break;
    }
  }

  unsigned pick(unsigned n) { return static_cast<unsigned>(random_() % n); }
  std::string pick(std::initializer_list<const char*> options) {
    return *(options.begin() + pick(static_cast<unsigned>(options.size())));
  }

 private:
  std::string field() {
    return pick({"event.regime", "event.symbol", "event.price", "event.close", "event.seq",
                 "event.id", "event.side", "event.direction", "event.type", "event.hops",
                 "event.confidence", "event.name"});
  }
  std::string comparison() { return pick({"==", "!=", "<", "<=", ">", ">="}); }
  std::string literal() {
    return pick({"'BULL'", "'BEAR'", "\"AAPL\"", "'BUY'", "'long'", "'BAR'", "'REGIME'", "1",
                 "-2.5", "101.5", "86400", "1e3", "18446744073709551615", "true", "false"});
  }

  std::mt19937 random_;
};

BOOST_AUTO_TEST_CASE(generated_conditions_never_throw_and_accepted_text_reads_back) {
  ConditionGenerator generator(20261127);
  auto bar = barEvent();
  auto regime = regimeEvent("BULL");
  auto signal = signalEvent(schema::Direction::LONG, 0.5);
  std::size_t accepted = 0, rejected = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string text = generator.expression(static_cast<int>(generator.pick(4)));
    if (generator.pick(3) == 0) generator.damage(text);
    Diagnostics diagnostics;
    std::optional<Condition> condition;
    BOOST_REQUIRE_NO_THROW(condition = compileCondition(text, kMark, diagnostics));
    if (!condition) {
      ++rejected;
      BOOST_REQUIRE_MESSAGE(diagnostics.hasErrors(), "rejected without a reason: " << text);
      continue;
    }
    ++accepted;
    Diagnostics again;
    const auto reread = compileCondition(condition->text(), kMark, again);
    BOOST_REQUIRE_MESSAGE(reread.has_value(), "canonical text rejected: " << condition->text());
    BOOST_REQUIRE_EQUAL(reread->text(), condition->text());
    for (auto* event : {bar.get(), regime.get(), signal.get()}) {
      bool result = false;
      BOOST_REQUIRE_NO_THROW(result = condition->evaluate(event->view()));
      BOOST_REQUIRE_MESSAGE(reread->evaluate(event->view()) == result, text);
    }
  }
  BOOST_TEST_MESSAGE("generated conditions: " << accepted << " accepted, " << rejected
                                              << " rejected");
  BOOST_TEST(accepted > 1000u);
  BOOST_TEST(rejected > 1000u);
}

BOOST_AUTO_TEST_CASE(random_text_never_throws_and_accepted_text_reads_back) {
  const std::vector<std::string> pieces = {"event.regime",
                                           "event.price",
                                           "event.side",
                                           "event.type",
                                           "event.symbol",
                                           "event.hops",
                                           "event.",
                                           "event.bogus",
                                           "==",
                                           "!=",
                                           "<",
                                           "<=",
                                           ">",
                                           ">=",
                                           "=",
                                           "in",
                                           "not",
                                           "and",
                                           "or",
                                           "&&",
                                           "||",
                                           "!",
                                           "&",
                                           "|",
                                           "contains",
                                           "matches",
                                           "[",
                                           "]",
                                           ",",
                                           "(",
                                           ")",
                                           "'BULL'",
                                           "'BUY'",
                                           "\"x\"",
                                           "'",
                                           "\"",
                                           "\\",
                                           "'^a.*'",
                                           "'(a'",
                                           "1",
                                           "-2.5",
                                           "1e3",
                                           "1.",
                                           "true",
                                           "false",
                                           "BULL",
                                           " ",
                                           " ",
                                           " ",
                                           "\n",
                                           "@",
                                           "\x01",
                                           "\xff"};
  std::mt19937 random(4242);
  auto bar = barEvent();
  auto regime = regimeEvent("BULL");
  std::size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const int count = 1 + static_cast<int>(random() % 12);
    for (int i = 0; i < count; ++i) {
      text += pieces[random() % pieces.size()];
      if (random() % 2) text += ' ';
    }
    Diagnostics diagnostics;
    std::optional<Condition> condition;
    BOOST_REQUIRE_NO_THROW(condition = compileCondition(text, kMark, diagnostics));
    if (!condition) {
      BOOST_REQUIRE_MESSAGE(diagnostics.hasErrors(), "rejected without a reason: " << text);
      for (const auto& d : diagnostics.all()) {
        BOOST_REQUIRE(d.mark.line >= kMark.line);
        BOOST_REQUIRE(d.mark.column >= 1);
        BOOST_REQUIRE(d.mark.column <= kMark.column + text.size());
      }
      continue;
    }
    ++accepted;
    BOOST_REQUIRE_MESSAGE(!diagnostics.hasErrors(), text);
    BOOST_REQUIRE_NO_THROW(condition->evaluate(bar->view()));
    BOOST_REQUIRE_NO_THROW(condition->evaluate(regime->view()));
    Diagnostics again;
    const auto reread = compileCondition(condition->text(), kMark, again);
    BOOST_REQUIRE_MESSAGE(reread.has_value(), "canonical text rejected: " << condition->text());
    BOOST_REQUIRE_EQUAL(reread->text(), condition->text());
    BOOST_REQUIRE(reread->evaluate(bar->view()) == condition->evaluate(bar->view()));
    BOOST_REQUIRE(reread->evaluate(regime->view()) == condition->evaluate(regime->view()));
  }
  BOOST_TEST_MESSAGE("random conditions: " << accepted << " of 20000 accepted");
  BOOST_TEST(accepted > 50u);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- the field table
// -----------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(event_fields)

BOOST_AUTO_TEST_CASE(table_has_the_documented_names_and_kinds) {
  BOOST_TEST(fields::fieldNameList() ==
             "type, source, symbol, seq, source_instance, id, event_time, publish_time, correlation_id, "
             "causation_id, hops, open, high, low, close, volume, period_seconds, bid, ask, price, "
             "size, name, value, strategy, direction, strength, order_id, portfolio, side, "
             "order_kind, quantity, limit_price, commission, slippage, classifier, regime, "
             "confidence, cash, equity, positions_value, realized_pnl, unrealized_pnl, reason");
  const auto* price = fields::findField("price");
  BOOST_TEST_REQUIRE(price != nullptr);
  BOOST_TEST((price->kind == fields::FieldKind::Number));
  BOOST_TEST(!price->header);
  BOOST_TEST(price->types.toString() == "TICK|SIGNAL|FILL");
  const auto* type = fields::findField("type");
  BOOST_TEST_REQUIRE(type != nullptr);
  BOOST_TEST((type->kind == fields::FieldKind::Enum));
  BOOST_TEST(type->header);
  BOOST_TEST(type->types.isAll());
  BOOST_TEST(fields::enumValueList(*type) ==
             "BAR, TICK, INDICATOR, SIGNAL, ORDER, FILL, REGIME, PORTFOLIO, END_OF_DATA, USER");
  BOOST_TEST((fields::findEnumValue(*type, "classification") == std::optional<std::uint16_t>(7)));
  BOOST_TEST(fields::enumValueName(*type, 7) == "REGIME");
  BOOST_TEST(fields::enumValueName(*type, 99) == "UNKNOWN");
  BOOST_TEST((fields::findField("period_seconds")->kind == fields::FieldKind::Integer));
  BOOST_TEST((fields::findField("symbol")->kind == fields::FieldKind::Text));
  BOOST_TEST(fields::enumValueList(*fields::findField("order_kind")) == "MARKET, LIMIT");
  BOOST_TEST(fields::findField("Price") == nullptr);
  BOOST_TEST(fields::findField("tags") == nullptr);
}

BOOST_AUTO_TEST_CASE(getters_read_in_place) {
  auto e = signalEvent(schema::Direction::SHORT, 0.25);
  const auto view = e->view(4);
  const auto direction = fields::findField("direction")->read(view.event(), view.hops());
  BOOST_TEST((direction.type() == fields::FieldValue::Type::Enum));
  BOOST_TEST(direction.enumOrdinal() == 2);
  BOOST_TEST(direction.asText() == "SHORT");
  const auto strategy = fields::findField("strategy")->read(view.event(), view.hops());
  BOOST_TEST(strategy.asText() == "momentum_fast");
  // The view points into the message, not at a copy.
  BOOST_TEST(static_cast<const void*>(strategy.asText().data()) ==
             static_cast<const void*>(view.event().getPayload().getSignal().getStrategy().cStr()));
  BOOST_TEST(fields::findField("hops")->read(view.event(), view.hops()).asInteger() == 4);
  BOOST_TEST(fields::findField("regime")->read(view.event(), view.hops()).isAbsent());
}

BOOST_AUTO_TEST_CASE(numeric_comparison_is_exact) {
  using V = fields::FieldValue;
  const auto cmp = [](V a, V b) { return fields::compareNumeric(a, b); };
  BOOST_TEST((cmp(V::unsignedInteger(18446744073709551615ull), V::integer(-1)) ==
              std::partial_ordering::greater));
  BOOST_TEST((cmp(V::integer(-1), V::unsignedInteger(0)) == std::partial_ordering::less));
  // 2^53 + 1 is not a double: comparing through double would call these equal.
  BOOST_TEST((cmp(V::integer(9007199254740993), V::number(9007199254740992.0)) ==
              std::partial_ordering::greater));
  BOOST_TEST((cmp(V::number(9007199254740992.0), V::unsignedInteger(9007199254740993ull)) ==
              std::partial_ordering::less));
  BOOST_TEST((cmp(V::unsignedInteger(1ull << 63), V::number(9223372036854775808.0)) ==
              std::partial_ordering::equivalent));
  BOOST_TEST((cmp(V::integer(std::numeric_limits<std::int64_t>::min()),
                  V::number(-9223372036854775808.0)) == std::partial_ordering::equivalent));
  BOOST_TEST((cmp(V::integer(3), V::number(3.5)) == std::partial_ordering::less));
  BOOST_TEST((cmp(V::integer(-3), V::number(-3.5)) == std::partial_ordering::greater));
  BOOST_TEST((cmp(V::integer(1), V::number(1e300)) == std::partial_ordering::less));
  BOOST_TEST((cmp(V::unsignedInteger(1), V::number(-1e300)) == std::partial_ordering::greater));
  BOOST_TEST((cmp(V::integer(1), V::number(std::nan(""))) == std::partial_ordering::unordered));
  BOOST_TEST((cmp(V::integer(1), V::text("1")) == std::partial_ordering::unordered));
  BOOST_TEST((cmp(V::absent(), V::integer(1)) == std::partial_ordering::unordered));
}

BOOST_AUTO_TEST_CASE(docs_list_every_field) {
  std::ifstream file(std::string(EVR_SOURCE_DIR) + "/docs/conditions.md");
  std::stringstream text;
  text << file.rdbuf();
  const std::string doc = text.str();
  BOOST_TEST_REQUIRE(!doc.empty());
  for (const auto& field : fields::allFields()) {
    BOOST_TEST(doc.find("| `" + std::string(field.name) + "`") != std::string::npos,
               "docs/conditions.md lacks a row for " << field.name);
  }
}

BOOST_AUTO_TEST_SUITE_END()
