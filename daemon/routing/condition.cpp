// Conditions: lexer (tokens with byte offsets into the text), recursive-descent parser that
// type-checks as it builds, and the evaluator. The compiled form (Condition::Node) is a flat
// array of expressions that index each other; evaluation walks it without allocating (except
// `matches`: std::regex_search allocates its match state).

#include "routing/condition.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <compare>
#include <deque>
#include <limits>
#include <regex>
#include <utility>
#include <vector>

#include "evr/event_fields.hpp"
#include "evr/framing.hpp"

namespace evr::routing {

using fields::FieldInfo;
using fields::FieldKind;
using fields::FieldValue;

namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
// Parentheses and `not` nest at most this deep (the parser and the evaluator recurse).
constexpr int kMaxDepth = 64;
// `matches` reads at most this many bytes of text: longer text does not match. libstdc++'s
// regex executor recurses once per character and would overflow the stack on long input.
constexpr std::size_t kMaxMatchedTextBytes = 1024;

enum class Op : std::uint8_t {
  And,
  Or,
  Not,
  Truth,  // a bare bool operand
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  In,
  NotIn,
  Contains,
  Matches,
};

struct Operand {
  enum class Source : std::uint8_t { Field, Literal, Expr };
  Source source = Source::Literal;
  const FieldInfo* field = nullptr;  // Field
  FieldValue literal;                // Literal
  std::uint32_t expr = kNone;        // Expr: a boolean sub-expression
};

struct Expr {
  Op op = Op::Truth;
  // And/Or: children[first, first + count); Not: children[first]; In/NotIn: items[first, +count);
  // Matches: regexes[first].
  std::uint32_t first = 0;
  std::uint32_t count = 0;
  Operand lhs;
  Operand rhs;
};

}  // namespace

struct Condition::Node {
  std::vector<Expr> exprs;
  std::vector<std::uint32_t> children;
  std::vector<FieldValue> items;
  std::vector<std::regex> regexes;
  std::deque<std::string> strings;  // literal text; a deque keeps the views into it valid
  std::uint32_t root = kNone;
};

namespace {

// ---- evaluation --------------------------------------------------------------------------------

bool evalExpr(const Condition::Node& node, std::uint32_t index, const EventView& view);

FieldValue readOperand(const Condition::Node& node, const Operand& operand, const EventView& view) {
  switch (operand.source) {
    case Operand::Source::Field: return view.read(*operand.field);
    case Operand::Source::Literal: return operand.literal;
    case Operand::Source::Expr: return FieldValue::boolean(evalExpr(node, operand.expr, view));
  }
  return FieldValue::absent();
}

template <class T>
std::partial_ordering order(T a, T b) {
  return a < b ? std::partial_ordering::less
               : (b < a ? std::partial_ordering::greater : std::partial_ordering::equivalent);
}

// Both present. Values of different kinds never compare equal (the compiler rules them out).
bool compareValues(Op op, const FieldValue& a, const FieldValue& b) {
  using T = FieldValue::Type;
  std::partial_ordering ord = std::partial_ordering::unordered;
  if (a.isNumeric() && b.isNumeric()) {
    ord = fields::compareNumeric(a, b);
  } else if (a.type() != b.type()) {
    return false;
  } else if (a.type() == T::Text) {
    ord = a.asText() <=> b.asText();
  } else if (a.type() == T::Enum) {
    ord = order(a.enumOrdinal(), b.enumOrdinal());
  } else if (a.type() == T::Bool) {
    ord = order(a.asBool(), b.asBool());
  } else {
    return false;
  }
  switch (op) {
    case Op::Eq: return ord == 0;
    case Op::Ne: return ord != 0;
    case Op::Lt: return ord < 0;
    case Op::Le: return ord <= 0;
    case Op::Gt: return ord > 0;
    case Op::Ge: return ord >= 0;
    default: return false;
  }
}

bool evalExpr(const Condition::Node& node, std::uint32_t index, const EventView& view) {
  const Expr& e = node.exprs[index];
  switch (e.op) {
    case Op::And:
      for (std::uint32_t i = 0; i < e.count; ++i) {
        if (!evalExpr(node, node.children[e.first + i], view)) return false;
      }
      return true;
    case Op::Or:
      for (std::uint32_t i = 0; i < e.count; ++i) {
        if (evalExpr(node, node.children[e.first + i], view)) return true;
      }
      return false;
    case Op::Not: return !evalExpr(node, node.children[e.first], view);
    case Op::Truth: {
      const FieldValue value = readOperand(node, e.lhs, view);
      return value.type() == FieldValue::Type::Bool && value.asBool();
    }
    case Op::Eq:
    case Op::Ne:
    case Op::Lt:
    case Op::Le:
    case Op::Gt:
    case Op::Ge: {
      const FieldValue a = readOperand(node, e.lhs, view);
      if (a.isAbsent()) return false;
      const FieldValue b = readOperand(node, e.rhs, view);
      if (b.isAbsent()) return false;
      return compareValues(e.op, a, b);
    }
    case Op::In:
    case Op::NotIn: {
      const FieldValue a = readOperand(node, e.lhs, view);
      if (a.isAbsent()) return false;
      bool found = false;
      for (std::uint32_t i = 0; i < e.count && !found; ++i) {
        found = compareValues(Op::Eq, a, node.items[e.first + i]);
      }
      return found == (e.op == Op::In);
    }
    case Op::Contains: {
      const FieldValue a = readOperand(node, e.lhs, view);
      if (a.type() != FieldValue::Type::Text) return false;
      const FieldValue b = readOperand(node, e.rhs, view);
      if (b.type() != FieldValue::Type::Text) return false;
      return a.asText().find(b.asText()) != std::string_view::npos;
    }
    case Op::Matches: {
      const FieldValue a = readOperand(node, e.lhs, view);
      if (a.type() != FieldValue::Type::Text) return false;
      const std::string_view text = a.asText();
      if (text.size() > kMaxMatchedTextBytes) return false;
      return std::regex_search(text.begin(), text.end(), node.regexes[e.first]);
    }
  }
  return false;
}

// ---- lexer -------------------------------------------------------------------------------------

enum class Tok : std::uint8_t {
  End,
  Error,   // text: the message
  Field,   // text: the name after `event.`
  Word,    // an identifier that is not a keyword
  String,  // text: the decoded value
  Number,
  True,
  False,
  And,
  Or,
  Not,
  In,
  Contains,
  Matches,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
};

struct Token {
  Tok kind = Tok::End;
  std::size_t offset = 0;  // of the first byte in the condition text
  std::size_t length = 0;
  std::string text;
};

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isWordStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isWordChar(char c) { return isWordStart(c) || isDigit(c); }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// How a character looks in a message: itself when printable, else \xNN.
std::string showChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string(1, c);
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("\\x") + kHex[u >> 4] + kHex[u & 15];
}

struct Keyword {
  std::string_view word;
  Tok kind;
};
constexpr Keyword kKeywords[] = {
    {"and", Tok::And},           {"or", Tok::Or},
    {"not", Tok::Not},           {"in", Tok::In},
    {"contains", Tok::Contains}, {"matches", Tok::Matches},
    {"true", Tok::True},         {"false", Tok::False},
};

// Splits the whole text into tokens. The first malformed token becomes an Error token and ends
// the list (after it comes End).
std::vector<Token> lex(std::string_view text) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto push = [&](Tok kind, std::size_t start, std::string value = {}) {
    tokens.push_back(Token{kind, start, i - start, std::move(value)});
  };
  auto fail = [&](std::size_t start, std::string message) {
    tokens.push_back(Token{Tok::Error, start, i > start ? i - start : 1, std::move(message)});
  };
  while (true) {
    while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
      ++i;
    }
    const std::size_t start = i;
    if (i >= n) break;
    const char c = text[i];
    const char next = i + 1 < n ? text[i + 1] : '\0';
    if (c == '(' || c == ')' || c == '[' || c == ']' || c == ',') {
      ++i;
      push(c == '('   ? Tok::LParen
           : c == ')' ? Tok::RParen
           : c == '[' ? Tok::LBracket
           : c == ']' ? Tok::RBracket
                      : Tok::Comma,
           start);
    } else if (c == '=') {
      if (next != '=') {
        ++i;
        fail(start, "'=' is not an operator; use '==' to compare");
        break;
      }
      i += 2;
      push(Tok::Eq, start);
    } else if (c == '!') {
      i += next == '=' ? 2 : 1;
      push(next == '=' ? Tok::Ne : Tok::Not, start);
    } else if (c == '<' || c == '>') {
      i += next == '=' ? 2 : 1;
      push(c == '<' ? (next == '=' ? Tok::Le : Tok::Lt) : (next == '=' ? Tok::Ge : Tok::Gt), start);
    } else if (c == '&' || c == '|') {
      if (next != c) {
        ++i;
        fail(start, c == '&' ? "'&' is not an operator; use '&&' or 'and'"
                             : "'|' is not an operator; use '||' or 'or'");
        break;
      }
      i += 2;
      push(c == '&' ? Tok::And : Tok::Or, start);
    } else if (c == '\'' || c == '"') {
      // Escapes: \' \" \\ ; a backslash before any other character stays (regexes keep \d).
      std::string value;
      ++i;
      bool closed = false;
      while (i < n) {
        const char ch = text[i];
        if (ch == c) {
          ++i;
          closed = true;
          break;
        }
        if (ch == '\\' && i + 1 < n &&
            (text[i + 1] == '\'' || text[i + 1] == '"' || text[i + 1] == '\\')) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        value += ch;
        ++i;
      }
      if (!closed) {
        i = start + 1;
        fail(start, std::string("unterminated string: expected a closing ") + c);
        break;
      }
      push(Tok::String, start, std::move(value));
    } else if (isDigit(c) || (c == '-' && isDigit(next))) {
      ++i;
      while (i < n && isDigit(text[i])) ++i;
      bool bad = false;
      if (i < n && text[i] == '.') {
        ++i;
        if (i >= n || !isDigit(text[i])) bad = true;
        while (i < n && isDigit(text[i])) ++i;
      }
      if (!bad && i < n && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
        if (i >= n || !isDigit(text[i])) bad = true;
        while (i < n && isDigit(text[i])) ++i;
      }
      if (bad || (i < n && (isWordChar(text[i]) || text[i] == '.'))) {
        while (i < n && (isWordChar(text[i]) || text[i] == '.')) ++i;
        fail(start,
             "malformed number '" + std::string(text.substr(start, i - start)) +
                 "'; expected digits with an optional fraction and exponent, e.g. 10, -2.5, 1e6");
        break;
      }
      push(Tok::Number, start, std::string(text.substr(start, i - start)));
    } else if (isWordStart(c)) {
      while (i < n && isWordChar(text[i])) ++i;
      const std::string_view word = text.substr(start, i - start);
      if (word == "event" && i < n && text[i] == '.') {
        ++i;
        const std::size_t name_start = i;
        while (i < n && isWordChar(text[i])) ++i;
        if (i == name_start) {
          fail(start, "expected a field name after 'event.'");
          break;
        }
        push(Tok::Field, start, std::string(text.substr(name_start, i - name_start)));
        continue;
      }
      Tok kind = Tok::Word;
      for (const auto& keyword : kKeywords) {
        if (equalsIgnoringCase(word, keyword.word)) kind = keyword.kind;
      }
      push(kind, start, std::string(word));
    } else {
      ++i;
      fail(start, "unexpected character '" + showChar(c) + "'");
      break;
    }
  }
  // End sits right after the last token, so "expected X" at the end points there.
  const std::size_t end = tokens.empty() ? 0 : tokens.back().offset + tokens.back().length;
  tokens.push_back(Token{Tok::End, std::min(end, n), 0, {}});
  return tokens;
}

// ---- parser and type checker -------------------------------------------------------------------

// What an operand is, for the type checker.
enum class Kind : std::uint8_t { Numeric, Text, Bool, Enum, Poison };

// An operand while compiling: the stored Operand plus what messages need.
struct Term {
  Operand operand;
  Kind kind = Kind::Poison;
  std::size_t offset = 0;
  std::size_t end = 0;
  std::string spelling;  // number literals: as written, for the canonical text
  std::string text;      // canonical text of a sub-expression
  int precedence = 4;    // of a sub-expression (see Parsed)
};

// A parsed expression: its index (kNone after an error) and canonical text.
struct Parsed {
  std::uint32_t expr = kNone;
  std::string text;
  int precedence = 0;  // 1 or, 2 and, 3 not, 4 comparison and atoms
};

Kind kindOf(FieldKind kind) {
  switch (kind) {
    case FieldKind::Number:
    case FieldKind::Integer: return Kind::Numeric;
    case FieldKind::Text: return Kind::Text;
    case FieldKind::Bool: return Kind::Bool;
    case FieldKind::Enum: return Kind::Enum;
  }
  return Kind::Poison;
}

// Single-quoted, read back by lex() as `value`. A backslash is doubled only where lex() would
// take it for an escape (before a quote or a backslash, or at the end), so `\d` stays `\d`.
std::string quote(std::string_view value) {
  std::string out = "'";
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    const char next = i + 1 < value.size() ? value[i + 1] : '\0';
    if (c == '\'' || (c == '\\' && (next == '\0' || next == '\'' || next == '"' || next == '\\'))) {
      out += '\\';
    }
    out += c;
  }
  out += '\'';
  return out;
}

std::string_view opSpelling(Op op) {
  switch (op) {
    case Op::Eq: return "==";
    case Op::Ne: return "!=";
    case Op::Lt: return "<";
    case Op::Le: return "<=";
    case Op::Gt: return ">";
    case Op::Ge: return ">=";
    case Op::In: return "in";
    case Op::NotIn: return "not in";
    case Op::Contains: return "contains";
    case Op::Matches: return "matches";
    default: return "?";
  }
}

std::optional<Op> comparisonOp(Tok kind) {
  switch (kind) {
    case Tok::Eq: return Op::Eq;
    case Tok::Ne: return Op::Ne;
    case Tok::Lt: return Op::Lt;
    case Tok::Le: return Op::Le;
    case Tok::Gt: return Op::Gt;
    case Tok::Ge: return Op::Ge;
    default: return std::nullopt;
  }
}

class Parser {
 public:
  Parser(std::string_view text, const config::Mark& mark, config::Diagnostics& diagnostics,
         Condition::Node& node)
      : text_(text), mark_(mark), diagnostics_(diagnostics), node_(node), tokens_(lex(text)) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  // The whole condition; kNone expr after any error.
  Parsed parse() {
    if (tokens_.front().kind == Tok::End) {
      report(0, "empty condition: expected an expression such as event.regime == 'BULL'");
      return {};
    }
    Parsed result = parseOr();
    if (!stopped_ && peek().kind != Tok::End) {
      syntaxError(peek(), "unexpected " + show(peek()) + " after the end of the condition");
    }
    if (errors_ > 0) result.expr = kNone;
    if (result.expr == kNone && errors_ == 0) report(0, "cannot compile the condition");
    return result;
  }

  EventTypeSet payloadTypes() const { return payload_types_; }

 private:
  // ---- tokens and errors ----

  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& next() {
    const Token& token = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return token;
  }
  std::string_view source(std::size_t offset, std::size_t end) const {
    return text_.substr(offset, end > offset ? end - offset : 0);
  }
  // A token as a message shows it: its source text (shortened), or "the end of the condition".
  std::string show(const Token& token) const {
    if (token.kind == Tok::End) return "the end of the condition";
    const std::string_view spelling = text_.substr(token.offset, token.length);
    // A string shows with its own quotes; anything else in single quotes.
    const bool quoted = token.kind == Tok::String;
    std::string out = quoted ? "" : "'";
    if (spelling.size() > 24) {
      out += spelling.substr(0, 21);
      out += "...";
    } else {
      out += spelling;
    }
    return quoted ? out : out + "'";
  }
  // The previous token's spelling, for "expected X after 'Y'".
  std::string previous() const {
    if (pos_ == 0) return {};
    const Token& token = tokens_[pos_ - 1];
    return std::string(text_.substr(token.offset, token.length));
  }

  config::Mark markAt(std::size_t offset) const {
    config::Mark mark = mark_;
    offset = std::min(offset, text_.size());
    // line_starts_ holds the offset after each newline; those at or before `offset` are the lines
    // the text has passed.
    const auto passed = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const auto newlines = static_cast<std::uint32_t>(passed - line_starts_.begin());
    const std::size_t line_start = newlines == 0 ? 0 : *(passed - 1);
    if (newlines == 0) {
      if (mark.column > 0) mark.column += static_cast<std::uint32_t>(offset);
    } else {
      // A later line of a multi-line text: the column counts from that line's start.
      if (mark.line > 0) mark.line += newlines;
      mark.column = static_cast<std::uint32_t>(offset - line_start + 1);
    }
    return mark;
  }

  void report(std::size_t offset, std::string message) {
    diagnostics_.error(markAt(offset), std::move(message));
    ++errors_;
  }
  // A syntax error ends parsing: what follows cannot be read reliably. A lexer error token
  // reports its own message.
  void syntaxError(const Token& at, std::string message) {
    if (stopped_) return;
    if (at.kind == Tok::Error) {
      report(at.offset, at.text);
    } else {
      report(at.offset, std::move(message));
    }
    stopped_ = true;
  }

  // ---- building ----

  std::uint32_t addExpr(Expr expr) {
    node_.exprs.push_back(std::move(expr));
    return static_cast<std::uint32_t>(node_.exprs.size() - 1);
  }

  std::string_view keep(std::string value) {
    node_.strings.push_back(std::move(value));
    return node_.strings.back();
  }

  // ---- grammar ----

  // or := and (('or' | '||') and)*     (also and := not (('and' | '&&') not)*)
  Parsed parseChain(Op op) {
    const Tok separator = op == Op::Or ? Tok::Or : Tok::And;
    const int precedence = op == Op::Or ? 1 : 2;
    std::vector<Parsed> parts;
    parts.push_back(op == Op::Or ? parseChain(Op::And) : parseNot());
    while (!stopped_ && peek().kind == separator) {
      next();
      parts.push_back(op == Op::Or ? parseChain(Op::And) : parseNot());
    }
    if (parts.size() == 1) return std::move(parts.front());
    Parsed out;
    out.precedence = precedence;
    bool poisoned = false;
    for (const auto& part : parts) {
      if (!out.text.empty()) out.text += op == Op::Or ? " or " : " and ";
      out.text += part.precedence <= precedence ? "(" + part.text + ")" : part.text;
      poisoned = poisoned || part.expr == kNone;
    }
    if (poisoned || stopped_) return out;
    Expr expr;
    expr.op = op;
    expr.first = static_cast<std::uint32_t>(node_.children.size());
    expr.count = static_cast<std::uint32_t>(parts.size());
    for (const auto& part : parts) node_.children.push_back(part.expr);
    out.expr = addExpr(std::move(expr));
    return out;
  }

  Parsed parseOr() { return parseChain(Op::Or); }

  // not := ('not' | '!') not | cmp
  Parsed parseNot() {
    if (peek().kind != Tok::Not) return parseComparison();
    const Token& token = next();
    if (++depth_ > kMaxDepth) {
      syntaxError(token, "the condition nests too deeply (more than " + std::to_string(kMaxDepth) +
                             " levels of 'not' and parentheses)");
      return {};
    }
    Parsed inner = parseNot();
    --depth_;
    Parsed out;
    out.precedence = 3;
    out.text = "not " + (inner.precedence < 3 ? "(" + inner.text + ")" : inner.text);
    if (inner.expr == kNone || stopped_) return out;
    Expr expr;
    expr.op = Op::Not;
    expr.first = static_cast<std::uint32_t>(node_.children.size());
    expr.count = 1;
    node_.children.push_back(inner.expr);
    out.expr = addExpr(std::move(expr));
    return out;
  }

  // cmp := value (op value | 'in' list | 'not' 'in' list | 'contains' value | 'matches' string)?
  Parsed parseComparison() {
    Term lhs = parseValue();
    if (stopped_) return {};
    const Token& token = peek();
    Parsed out;
    out.precedence = 4;
    if (const auto op = comparisonOp(token.kind)) {
      next();
      Term rhs = parseValue();
      if (stopped_) return {};
      const bool ok = checkComparison(*op, token, lhs, rhs);
      out.text = termText(lhs) + " " + std::string(opSpelling(*op)) + " " + termText(rhs);
      if (ok) out.expr = addComparison(*op, lhs, rhs);
    } else if (token.kind == Tok::In || (token.kind == Tok::Not && peek(1).kind == Tok::In)) {
      const Op op = token.kind == Tok::In ? Op::In : Op::NotIn;
      next();
      if (op == Op::NotIn) next();
      out = parseList(op, lhs);
      if (stopped_) return {};
    } else if (token.kind == Tok::Contains) {
      next();
      Term rhs = parseValue();
      if (stopped_) return {};
      bool ok = true;
      if (!isText(lhs)) ok = kindError(lhs, "'contains' needs text on its left; ", " is not text");
      if (!isText(rhs)) ok = kindError(rhs, "'contains' needs text on its right; ", " is not text");
      out.text = termText(lhs) + " contains " + termText(rhs);
      if (ok && lhs.kind != Kind::Poison && rhs.kind != Kind::Poison) {
        out.expr = addComparison(Op::Contains, lhs, rhs);
      }
    } else if (token.kind == Tok::Matches) {
      next();
      out = parseMatches(lhs);
      if (stopped_) return {};
    } else if (lhs.operand.source == Operand::Source::Expr) {
      // `( expr )` on its own: the expression itself.
      Parsed inner;
      inner.expr = lhs.operand.expr;
      inner.text = lhs.text;
      inner.precedence = lhs.precedence;
      if (lhs.kind == Kind::Poison) inner.expr = kNone;
      return inner;
    } else if (lhs.kind == Kind::Bool || lhs.kind == Kind::Poison) {
      out.text = termText(lhs);
      if (lhs.kind == Kind::Bool) {
        Expr expr;
        expr.op = Op::Truth;
        expr.lhs = lhs.operand;
        out.expr = addExpr(std::move(expr));
      }
      return out;
    } else {
      const std::string message =
          "expected a comparison operator after '" + std::string(source(lhs.offset, lhs.end)) + "'";
      if (token.kind == Tok::End || token.kind == Tok::And || token.kind == Tok::Or ||
          token.kind == Tok::RParen) {
        // Only the type is wrong: keep going to find more errors.
        report(token.kind == Tok::End ? lhs.end : token.offset,
               message + " (" + describe(lhs) + " is not a condition)");
        return out;
      }
      syntaxError(token, message + ", found " + show(token));
      return {};
    }
    if (!stopped_ && comparisonOp(peek().kind)) {
      syntaxError(peek(), "comparisons do not chain: use 'and' between two comparisons");
    }
    return out;
  }

  // list := '[' literal (',' literal)* ']'
  Parsed parseList(Op op, Term& lhs) {
    Parsed out;
    out.precedence = 4;
    if (peek().kind != Tok::LBracket) {
      syntaxError(peek(), "expected '[' after '" + previous() + "', found " + show(peek()));
      return out;
    }
    next();
    std::vector<Term> items;
    bool ok = lhs.kind != Kind::Poison;
    while (true) {
      const Token& token = peek();
      if (token.kind == Tok::RBracket && items.empty()) {
        syntaxError(token, "empty list: expected at least one value in '[...]'");
        return out;
      }
      if (token.kind != Tok::String && token.kind != Tok::Number && token.kind != Tok::True &&
          token.kind != Tok::False) {
        syntaxError(token,
                    "expected a string, number, true or false in the list, found " + show(token));
        return out;
      }
      Term item = parseValue();
      if (stopped_) return out;
      // The literal stands on the right of an `==` with the left operand.
      ok = checkComparison(Op::Eq, token, lhs, item) && ok;
      items.push_back(std::move(item));
      if (peek().kind == Tok::Comma) {
        next();
        continue;
      }
      if (peek().kind == Tok::RBracket) {
        next();
        break;
      }
      syntaxError(peek(), "expected ']' or ',' in the list, found " + show(peek()));
      return out;
    }
    out.text = termText(lhs) + " " + std::string(opSpelling(op)) + " [";
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out.text += ", ";
      out.text += termText(items[i]);
    }
    out.text += "]";
    if (!ok) return out;
    Expr expr;
    expr.op = op;
    expr.lhs = lhs.operand;
    expr.first = static_cast<std::uint32_t>(node_.items.size());
    expr.count = static_cast<std::uint32_t>(items.size());
    for (const auto& item : items) node_.items.push_back(item.operand.literal);
    out.expr = addExpr(std::move(expr));
    return out;
  }

  Parsed parseMatches(Term& lhs) {
    Parsed out;
    out.precedence = 4;
    const Token& token = peek();
    if (token.kind != Tok::String) {
      syntaxError(token,
                  "expected a string (a regular expression) after 'matches', found " + show(token));
      return out;
    }
    next();
    bool ok = true;
    if (!isText(lhs)) ok = kindError(lhs, "'matches' needs text on its left; ", " is not text");
    out.text = termText(lhs) + " matches " + quote(token.text);
    std::regex regex;
    try {
      regex = std::regex(token.text, std::regex::ECMAScript);
    } catch (const std::exception& e) {
      report(token.offset, "invalid regular expression " + quote(token.text) + ": " + e.what());
      ok = false;
    }
    if (!ok || lhs.kind == Kind::Poison) return out;
    Expr expr;
    expr.op = Op::Matches;
    expr.lhs = lhs.operand;
    expr.first = static_cast<std::uint32_t>(node_.regexes.size());
    node_.regexes.push_back(std::move(regex));
    out.expr = addExpr(std::move(expr));
    return out;
  }

  // value := field | string | number | 'true' | 'false' | '(' expr ')'
  Term parseValue() {
    const Token& token = peek();
    Term term;
    term.offset = token.offset;
    term.end = token.offset + token.length;
    switch (token.kind) {
      case Tok::Field: {
        next();
        const FieldInfo* field = fields::findField(token.text);
        if (field == nullptr) {
          report(token.offset, unknownField(token.text));
          return term;
        }
        term.operand.source = Operand::Source::Field;
        term.operand.field = field;
        term.kind = kindOf(field->kind);
        if (!field->header) {
          for (unsigned t = 1; t < kEventTypeCount; ++t) {
            if (field->types.containsOrdinal(static_cast<std::uint8_t>(t))) {
              payload_types_.add(static_cast<EventType>(t));
            }
          }
        }
        return term;
      }
      case Tok::String:
        next();
        term.operand.literal = FieldValue::text(keep(token.text));
        term.kind = Kind::Text;
        return term;
      case Tok::Number: {
        next();
        const auto literal = parseNumber(token);
        if (!literal) return term;
        term.operand.literal = *literal;
        term.kind = Kind::Numeric;
        term.spelling = token.text;
        return term;
      }
      case Tok::True:
      case Tok::False:
        next();
        term.operand.literal = FieldValue::boolean(token.kind == Tok::True);
        term.kind = Kind::Bool;
        return term;
      case Tok::LParen: {
        next();
        if (++depth_ > kMaxDepth) {
          syntaxError(token, "the condition nests too deeply (more than " +
                                 std::to_string(kMaxDepth) + " levels of 'not' and parentheses)");
          return term;
        }
        Parsed inner = parseOr();
        --depth_;
        if (stopped_) return term;
        if (peek().kind != Tok::RParen) {
          syntaxError(peek(), "expected ')' to close the '(', found " + show(peek()));
          return term;
        }
        term.end = next().offset + 1;
        term.operand.source = Operand::Source::Expr;
        term.operand.expr = inner.expr;
        term.kind = inner.expr == kNone ? Kind::Poison : Kind::Bool;
        term.text = inner.text;
        term.precedence = inner.precedence;
        return term;
      }
      case Tok::Word: {
        next();
        std::string message = "unknown name '" + token.text + "'";
        if (fields::findField(token.text) != nullptr) {
          message += " (did you mean 'event." + token.text + "'? fields are written event.<name>)";
        } else {
          message += ": expected a field (event.<name>), a string in quotes (e.g. " +
                     quote(token.text) + "), a number, true, false or '('";
        }
        report(token.offset, std::move(message));
        return term;
      }
      case Tok::End:
        if (pos_ == 0) {
          syntaxError(token,
                      "empty condition: expected an expression such as "
                      "event.regime == 'BULL'");
        } else {
          syntaxError(token, "expected a value after '" + previous() + "'");
        }
        return term;
      default:
        if (pos_ == 0) {
          syntaxError(token,
                      "expected a field, a literal or '(' at the start of the condition, "
                      "found " +
                          show(token));
        } else {
          syntaxError(token, "expected a value after '" + previous() + "', found " + show(token));
        }
        return term;
    }
  }

  std::optional<FieldValue> parseNumber(const Token& token) {
    const std::string& spelling = token.text;
    const char* begin = spelling.data();
    const char* end = begin + spelling.size();
    const bool integral = spelling.find_first_of(".eE") == std::string::npos;
    if (integral) {
      std::int64_t value = 0;
      if (const auto [ptr, ec] = std::from_chars(begin, end, value);
          ec == std::errc() && ptr == end) {
        return FieldValue::integer(value);
      }
      std::uint64_t unsigned_value = 0;
      if (const auto [ptr, ec] = std::from_chars(begin, end, unsigned_value);
          ec == std::errc() && ptr == end) {
        return FieldValue::unsignedInteger(unsigned_value);
      }
    }
    double value = 0;
    const auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
      report(token.offset, "number '" + spelling + "' is out of range");
      return std::nullopt;
    }
    return FieldValue::number(value);
  }

  std::string unknownField(const std::string& name) {
    if (field_paths_.empty()) {
      for (const auto& field : fields::allFields()) {
        field_paths_.push_back("event." + std::string(field.name));
      }
    }
    std::vector<std::string_view> views(field_paths_.begin(), field_paths_.end());
    std::string message = "unknown field 'event." + name + "'";
    const std::string hint = config::didYouMean("event." + name, views);
    if (!hint.empty()) return message + hint;
    return message + "; fields: " + fields::fieldNameList();
  }

  // ---- type checks ----

  static bool isText(const Term& term) {
    return term.kind == Kind::Text || term.kind == Kind::Poison;
  }

  // "text field 'event.symbol'", "a number", "a condition"...
  static std::string describe(const Term& term) {
    switch (term.operand.source) {
      case Operand::Source::Field:
        return std::string(fields::kindName(term.operand.field->kind)) + " field 'event." +
               std::string(term.operand.field->name) + "'";
      case Operand::Source::Expr: return "a condition";
      case Operand::Source::Literal: break;
    }
    switch (term.kind) {
      case Kind::Numeric: return "a number";
      case Kind::Text: return "a string";
      case Kind::Bool: return "a bool";
      default: return "a value";
    }
  }

  bool kindError(const Term& term, std::string_view prefix, std::string_view suffix) {
    if (term.kind == Kind::Poison) return false;
    std::string message(prefix);
    message += describe(term);
    message += suffix;
    report(term.offset, std::move(message));
    return false;
  }

  // Checks `lhs op rhs` and turns a string literal compared with an enum field into that enum's
  // value. Reports and returns false on an error; false without a report for a poisoned operand.
  bool checkComparison(Op op, const Token& op_token, Term& lhs, Term& rhs) {
    if (lhs.kind == Kind::Poison || rhs.kind == Kind::Poison) return false;
    // Enum against a string literal: the literal must name one of the enum's values.
    for (auto [field_term, literal_term] : {std::pair<Term*, Term*>{&lhs, &rhs}, {&rhs, &lhs}}) {
      if (field_term->kind == Kind::Enum && literal_term->kind == Kind::Text &&
          literal_term->operand.source == Operand::Source::Literal) {
        const FieldInfo& field = *field_term->operand.field;
        const std::string_view name = literal_term->operand.literal.asText();
        const auto ordinal = fields::findEnumValue(field, name);
        if (!ordinal) {
          report(literal_term->offset, quote(name) + " is not a value of event." +
                                           std::string(field.name) + "; expected one of " +
                                           fields::enumValueList(field));
          return false;
        }
        literal_term->operand.literal =
            FieldValue::enumerant(*ordinal, fields::enumValueName(field, *ordinal));
        literal_term->kind = Kind::Enum;
        literal_term->operand.field = &field;  // which enum, for same-enum checks below
      }
    }
    const bool same_kind = lhs.kind == rhs.kind &&
                           (lhs.kind != Kind::Enum || lhs.operand.field->enum_values.data() ==
                                                          rhs.operand.field->enum_values.data());
    if (!same_kind) {
      // Point at the literal when one side is a field and the other a literal, else at the right.
      const bool at_lhs = lhs.operand.source == Operand::Source::Literal &&
                          rhs.operand.source == Operand::Source::Field;
      report(at_lhs ? lhs.offset : rhs.offset,
             "cannot compare " + describe(lhs) + " with " + describe(rhs));
      return false;
    }
    if (op != Op::Eq && op != Op::Ne && (lhs.kind == Kind::Enum || lhs.kind == Kind::Bool)) {
      const bool field_on_right = rhs.operand.source == Operand::Source::Field &&
                                  lhs.operand.source != Operand::Source::Field;
      const Term& subject = field_on_right ? rhs : lhs;
      report(op_token.offset, "'" + std::string(opSpelling(op)) + "' does not apply to " +
                                  describe(subject) +
                                  (lhs.kind == Kind::Enum ? " (enums compare with ==, != and in)"
                                                          : " (bools compare with == and !=)"));
      return false;
    }
    return true;
  }

  std::uint32_t addComparison(Op op, const Term& lhs, const Term& rhs) {
    Expr expr;
    expr.op = op;
    expr.lhs = lhs.operand;
    expr.rhs = rhs.operand;
    return addExpr(std::move(expr));
  }

  // Canonical spelling of an operand.
  std::string termText(const Term& term) const {
    switch (term.operand.source) {
      case Operand::Source::Field: return "event." + std::string(term.operand.field->name);
      case Operand::Source::Expr: return "(" + term.text + ")";
      case Operand::Source::Literal: break;
    }
    if (term.kind == Kind::Poison) return std::string(source(term.offset, term.end));
    const FieldValue& value = term.operand.literal;
    switch (value.type()) {
      case FieldValue::Type::Text:
      case FieldValue::Type::Enum: return quote(value.asText());
      case FieldValue::Type::Bool: return value.asBool() ? "true" : "false";
      default: return term.spelling;
    }
  }

  std::string_view text_;
  const config::Mark& mark_;
  config::Diagnostics& diagnostics_;
  Condition::Node& node_;
  std::vector<Token> tokens_;
  std::vector<std::size_t> line_starts_;  // offsets just after each '\n'
  std::vector<std::string> field_paths_;  // "event.<name>" for suggestions, built on first use
  std::size_t pos_ = 0;
  std::size_t errors_ = 0;
  bool stopped_ = false;
  int depth_ = 0;
  EventTypeSet payload_types_;
};

}  // namespace

// ---- EventView, EventWords -----------------------------------------------------------------------

FieldValue EventView::read(const fields::FieldInfo& field) const {
  if (words_ == nullptr) return field.read(event_, hops_);
  if (const auto value = words_->flat().read(field, hops_)) return *value;
  return field.read(words_->reader(), hops_);
}

schema::Event::Reader EventView::event() const { return words_ != nullptr ? words_->reader() : event_; }

EventWords::EventWords(kj::ArrayPtr<const capnp::word> words, std::size_t reads)
    : words_(words), reads_(reads), flat_(words) {
  if (!flat_.rootReadable()) (void)reader();
}

schema::Event::Reader EventWords::reader() {
  if (!message_) {
    // Read up to reads_ times, and once for the root. Each read of a message whose pointers share
    // nothing costs at most its words, so when that many fit the peer limit it serves, with no
    // walk of the message first (a message that shares runs out of that budget: dropped as
    // malformed, having cost no more than a legitimate one). Past it, readRepeatedly decides, or
    // those reads would run out of budget and match nothing.
    const capnp::ReaderOptions peer = peerReaderOptions(words_.size() * sizeof(capnp::word));
    if ((1 + reads_) * words_.size() <= peer.traversalLimitInWords) {
      message_.emplace(words_, peer);
    } else {
      readRepeatedly(message_, words_);
    }
    root_ = message_->getRoot<schema::Event>();
  }
  return root_;
}

bool Condition::evaluate(const EventView& view) const {
  if (!root_ || root_->root == kNone) return false;
  try {
    return evalExpr(*root_, root_->root, view);
  } catch (...) {
    // A malformed message (Cap'n Proto reports it by throwing) matches nothing.
    return false;
  }
}

std::optional<Condition::Equality> Condition::equality() const {
  if (!root_ || root_->root == kNone) return std::nullopt;
  const Expr& e = root_->exprs[root_->root];
  // Text and enum values compare by their bytes or ordinal only (compareValues); numbers compare
  // across integer, unsigned and float, which a lookup by value would not reproduce.
  const auto exact = [](const FieldValue& value) {
    return value.type() == FieldValue::Type::Text || value.type() == FieldValue::Type::Enum;
  };
  if (e.op == Op::Eq) {
    const bool field_first = e.lhs.source == Operand::Source::Field && e.rhs.source == Operand::Source::Literal;
    const bool field_second = e.rhs.source == Operand::Source::Field && e.lhs.source == Operand::Source::Literal;
    if (!field_first && !field_second) return std::nullopt;
    const Operand& field = field_first ? e.lhs : e.rhs;
    const Operand& literal = field_first ? e.rhs : e.lhs;
    if (!exact(literal.literal)) return std::nullopt;
    return Equality{field.field, {literal.literal}};
  }
  if (e.op == Op::In && e.lhs.source == Operand::Source::Field) {
    Equality out{e.lhs.field, {}};
    for (std::uint32_t i = 0; i < e.count; ++i) {
      const FieldValue& item = root_->items[e.first + i];
      if (!exact(item)) return std::nullopt;
      out.values.push_back(item);
    }
    return out;
  }
  return std::nullopt;
}

std::optional<Condition> compileCondition(std::string_view text, const config::Mark& text_mark,
                                          config::Diagnostics& diagnostics) {
  try {
    auto node = std::make_shared<Condition::Node>();
    Parser parser(text, text_mark, diagnostics, *node);
    Parsed parsed = parser.parse();
    if (parsed.expr == kNone) return std::nullopt;
    node->root = parsed.expr;
    Condition condition;
    condition.root_ = std::move(node);
    condition.text_ = std::move(parsed.text);
    condition.payload_types_ = parser.payloadTypes();
    for (const Expr& expr : condition.root_->exprs) {
      condition.field_reads_ += (expr.lhs.source == Operand::Source::Field ? 1 : 0) +
                                (expr.rhs.source == Operand::Source::Field ? 1 : 0);
    }
    return condition;
  } catch (const std::exception& e) {  // out of memory; nothing in the text itself throws
    diagnostics.error(text_mark, std::string("cannot compile the condition: ") + e.what());
    return std::nullopt;
  }
}

}  // namespace evr::routing
