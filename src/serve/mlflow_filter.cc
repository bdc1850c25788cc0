#include "serve/mlflow_filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace almanac::serve::mlflow {
// Helpers live in this file's own namespace, not an anonymous one: unity builds put several
// files of serve into one translation unit.

bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '/'; }

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string LowerString(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

// A scanner over the whole text; every error names the 1-based character position.
class Scanner {
 public:
  Scanner(std::string_view text, std::string_view what) : s_(text), what_(what) {}

  void SkipSpace() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool AtEnd() {
    SkipSpace();
    return i_ >= s_.size();
  }
  char Peek() {
    SkipSpace();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  bool Take(char c) {
    if (Peek() != c) return false;
    ++i_;
    return true;
  }
  Status Error(const std::string& what) const {
    return InvalidArgumentError("malformed " + std::string(what_) + " at character " + std::to_string(i_ + 1) + ": " +
                                what + " (" + std::string(what_) + ": " + QuoteForMessage(s_, 120) + ")");
  }
  // Identifier characters (may be empty).
  std::string Word() {
    SkipSpace();
    const size_t b = i_;
    while (i_ < s_.size() && IsIdentChar(s_[i_])) ++i_;
    return std::string(s_.substr(b, i_ - b));
  }
  // Whether the next word is `kw` (case-insensitive, whole word); consumes it when so.
  bool Keyword(std::string_view kw) {
    SkipSpace();
    if (s_.size() - i_ < kw.size() || LowerString(s_.substr(i_, kw.size())) != LowerString(kw)) return false;
    if (i_ + kw.size() < s_.size() && IsIdentChar(s_[i_ + kw.size()])) return false;
    i_ += kw.size();
    return true;
  }
  bool AtQuote() {
    const char c = Peek();
    return c == '\'' || c == '"' || c == '`';
  }
  // '...', "..." or `...`; the quote doubled inside stands for itself.
  Result<std::string> Quoted() {
    if (!AtQuote()) return Error(i_ >= s_.size() ? "expected a quoted value, found the end" : "expected a quoted value");
    const char q = s_[i_++];
    std::string out;
    while (i_ < s_.size()) {
      if (s_[i_] == q) {
        if (i_ + 1 < s_.size() && s_[i_ + 1] == q) {
          out += q;
          i_ += 2;
          continue;
        }
        ++i_;
        return out;
      }
      out += s_[i_++];
    }
    return Error("unterminated quoted value");
  }
  Result<double> Number() {
    SkipSpace();
    const size_t b = i_;
    if (i_ < s_.size() && (s_[i_] == '-' || s_[i_] == '+')) ++i_;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      const bool exp_sign = (c == '-' || c == '+') && (s_[i_ - 1] == 'e' || s_[i_ - 1] == 'E');
      if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != 'e' && c != 'E' && !exp_sign) break;
      ++i_;
    }
    std::string_view t = s_.substr(b, i_ - b);
    if (!t.empty() && t[0] == '+') t.remove_prefix(1);
    double v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || p != t.data() + t.size() || !std::isfinite(v)) {
      i_ = b;
      return Error("expected a number");
    }
    return v;
  }
  Result<std::string> Comparator() {
    SkipSpace();
    for (std::string_view op : {"<=", ">=", "!=", "<>", "==", "=", "<", ">"}) {
      if (s_.substr(i_, op.size()) == op) {
        i_ += op.size();
        if (op == "<>") return std::string("!=");
        if (op == "==") return std::string("=");
        return std::string(op);
      }
    }
    if (Keyword("LIKE")) return std::string("LIKE");
    if (Keyword("ILIKE")) return std::string("ILIKE");
    if (Keyword("IN")) return std::string("IN");
    if (Keyword("NOT")) {
      if (Keyword("IN")) return std::string("NOT IN");
      return Error("expected IN after NOT");
    }
    return Error("expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)");
  }

 private:
  std::string_view s_;
  std::string_view what_;
  size_t i_ = 0;
};

struct AttributeInfo {
  std::string_view name;
  bool numeric;
};

const std::vector<AttributeInfo>& Attributes(FilterTarget t) {
  static const std::vector<AttributeInfo> kRuns = {{"status", false},  {"run_name", false},    {"run_id", false},
                                                   {"user_id", false}, {"artifact_uri", false}, {"start_time", true},
                                                   {"end_time", true}};
  static const std::vector<AttributeInfo> kExperiments = {
      {"name", false}, {"creation_time", true}, {"last_update_time", true}};
  static const std::vector<AttributeInfo> kModels = {{"name", false}};
  static const std::vector<AttributeInfo> kVersions = {
      {"name", false}, {"run_id", false}, {"source", false}, {"version_number", true}};
  switch (t) {
    case FilterTarget::kRuns:
      return kRuns;
    case FilterTarget::kExperiments:
      return kExperiments;
    case FilterTarget::kModels:
      return kModels;
    case FilterTarget::kModelVersions:
      return kVersions;
  }
  return kRuns;
}

std::optional<FilterKind> KindOf(const std::string& prefix) {
  const std::string p = LowerString(prefix);
  if (p == "metrics" || p == "metric") return FilterKind::kMetric;
  if (p == "params" || p == "param" || p == "parameters" || p == "parameter") return FilterKind::kParam;
  if (p == "tags" || p == "tag") return FilterKind::kTag;
  if (p == "attributes" || p == "attribute" || p == "attr" || p == "run") return FilterKind::kAttribute;
  return std::nullopt;
}

// `kind.key`, `kind.`quoted key``, a bare or quoted attribute name.
Status ParseIdentifier(Scanner& sc, FilterTarget target, FilterKind* kind, std::string* key, bool* numeric) {
  if (sc.AtEnd()) return sc.Error("expected an identifier such as metrics.rmse, params.x, tags.y or status");
  std::string first;
  if (sc.AtQuote()) {
    ALMANAC_ASSIGN_OR_RETURN(first, sc.Quoted());
    *kind = FilterKind::kAttribute;
    *key = first;
  } else {
    first = sc.Word();
    if (first.empty()) return sc.Error("expected an identifier such as metrics.rmse, params.x, tags.y or status");
    if (sc.Take('.')) {
      const auto k = KindOf(first);
      if (!k)
        return sc.Error("invalid entity type " + QuoteForMessage(first) + " (expected metrics, params, tags or attributes)");
      *kind = *k;
      if (sc.AtQuote()) {
        ALMANAC_ASSIGN_OR_RETURN(*key, sc.Quoted());
      } else {
        // A bare key may itself contain dots (tags.mlflow.runName).
        std::string k2 = sc.Word();
        while (!k2.empty() && sc.Take('.')) {
          const std::string more = sc.Word();
          if (more.empty()) return sc.Error("expected a key part after '.'");
          k2 += "." + more;
        }
        *key = k2;
      }
      if (key->empty()) return sc.Error("expected a key after " + QuoteForMessage(first + "."));
    } else {
      *kind = FilterKind::kAttribute;
      *key = first;
    }
  }
  if ((*kind == FilterKind::kMetric || *kind == FilterKind::kParam) && target != FilterTarget::kRuns)
    return sc.Error("metrics and params can only be searched in runs");
  *numeric = *kind == FilterKind::kMetric;
  if (*kind == FilterKind::kAttribute) {
    std::string a = *key;
    if (a == "run name" || a == "runName") a = "run_name";
    if (a == "created" || a == "Created") a = "start_time";
    if (a == "run id") a = "run_id";
    const auto& attrs = Attributes(target);
    auto it = std::find_if(attrs.begin(), attrs.end(), [&](const AttributeInfo& i) { return i.name == a; });
    if (it == attrs.end()) {
      std::string names;
      for (const auto& i : attrs) names += (names.empty() ? "" : ", ") + std::string(i.name);
      return sc.Error("invalid attribute key " + QuoteForMessage(*key) + " (valid: " + names + ")");
    }
    *key = a;
    *numeric = it->numeric;
  }
  return Status::Ok();
}

Result<std::vector<FilterClause>> ParseFilter(std::string_view text, FilterTarget target) {
  std::vector<FilterClause> out;
  Scanner sc(text, "filter");
  if (sc.AtEnd()) return out;
  for (;;) {
    FilterClause c;
    ALMANAC_RETURN_IF_ERROR(ParseIdentifier(sc, target, &c.kind, &c.key, &c.numeric));
    ALMANAC_ASSIGN_OR_RETURN(c.op, sc.Comparator());
    const bool list_op = c.op == "IN" || c.op == "NOT IN";
    if (c.numeric) {
      if (c.op == "LIKE" || c.op == "ILIKE" || list_op)
        return sc.Error(c.op + " does not apply to the number " + QuoteForMessage(c.key));
      ALMANAC_ASSIGN_OR_RETURN(c.number, sc.Number());
    } else if (list_op) {
      if (c.kind != FilterKind::kAttribute) return sc.Error(c.op + " applies to attributes only");
      if (!sc.Take('(')) return sc.Error("expected '(' after " + c.op);
      for (;;) {
        ALMANAC_ASSIGN_OR_RETURN(std::string v, sc.Quoted());
        c.strings.push_back(std::move(v));
        if (sc.Take(')')) break;
        if (!sc.Take(',')) return sc.Error("expected ',' or ')' in the list");
      }
    } else {
      if (c.op == "<" || c.op == "<=" || c.op == ">" || c.op == ">=")
        return sc.Error(c.op + " does not apply to the text of " + QuoteForMessage(c.key) + " (use =, !=, LIKE or ILIKE)");
      ALMANAC_ASSIGN_OR_RETURN(std::string v, sc.Quoted());
      c.strings.push_back(std::move(v));
    }
    out.push_back(std::move(c));
    if (sc.AtEnd()) break;
    if (sc.Keyword("OR")) return sc.Error("OR is not supported (join clauses with AND)");
    if (!sc.Keyword("AND")) return sc.Error("expected AND or the end");
    if (sc.AtEnd()) return sc.Error("a clause must follow AND");
  }
  return out;
}

Result<OrderKey> ParseOrderBy(std::string_view text, FilterTarget target) {
  Scanner sc(text, "order_by");
  OrderKey k;
  bool numeric = false;
  ALMANAC_RETURN_IF_ERROR(ParseIdentifier(sc, target, &k.kind, &k.key, &numeric));
  if (sc.Keyword("DESC")) k.ascending = false;
  else (void)sc.Keyword("ASC");
  if (!sc.AtEnd()) return sc.Error("expected ASC, DESC or the end");
  return k;
}

bool LikeMatch(std::string_view text, std::string_view pattern, bool ignore_case) {
  // Iterative wildcard matching with backtracking to the last '%'.
  size_t t = 0, p = 0, star = std::string_view::npos, mark = 0;
  auto eq = [&](char a, char b) { return ignore_case ? Lower(a) == Lower(b) : a == b; };
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '_' || (pattern[p] != '%' && eq(pattern[p], text[t])))) {
      ++t;
      ++p;
    } else if (p < pattern.size() && pattern[p] == '%') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

bool MatchString(const FilterClause& c, const std::optional<std::string>& value) {
  if (!value) return false;
  const std::string& v = *value;
  if (c.op == "=") return v == c.strings[0];
  if (c.op == "!=") return v != c.strings[0];
  if (c.op == "LIKE") return LikeMatch(v, c.strings[0], false);
  if (c.op == "ILIKE") return LikeMatch(v, c.strings[0], true);
  const bool in = std::find(c.strings.begin(), c.strings.end(), v) != c.strings.end();
  if (c.op == "IN") return in;
  if (c.op == "NOT IN") return !in;
  return false;
}

bool MatchNumber(const FilterClause& c, std::optional<double> value) {
  if (!value) return false;
  const double v = *value;
  if (c.op == "=") return v == c.number;
  if (c.op == "!=") return v != c.number;
  if (c.op == "<") return v < c.number;
  if (c.op == "<=") return v <= c.number;
  if (c.op == ">") return v > c.number;
  if (c.op == ">=") return v >= c.number;
  return false;
}

}  // namespace almanac::serve::mlflow
