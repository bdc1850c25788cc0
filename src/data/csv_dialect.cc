#include "data/csv_dialect.h"

#include <algorithm>

namespace almanac::data {
namespace {

std::string Quoted(char c) { return std::string("'") + c + "'"; }

// "';'" or "tabs", as a message names a separator found in the text.
std::string SeparatorInText(char c) { return c == '\t' ? "tabs" : Quoted(c); }

std::string FormatText(const NumberFormat& f) {
  return "the decimal mark " + Quoted(f.decimal) +
         (f.thousands == 0 ? std::string(" and no thousands separator")
                           : " and the thousands separator " + Quoted(f.thousands));
}

Status NotInFormat(std::string_view text, const NumberFormat& f) {
  return InvalidArgumentError("value " + QuoteForMessage(text) + " is not a number with " + FormatText(f));
}

bool Contains(std::string_view text, char c) { return c != 0 && text.find(c) != std::string_view::npos; }

}  // namespace

Result<char> ParseDelimiter(std::string_view text) {
  if (text == "\t") return '\t';
  const std::string t = ToLower(Trim(text));
  if (t == "auto") return '\0';
  if (t == "," || t == "comma") return ',';
  if (t == ";" || t == "semicolon") return ';';
  if (t == "tab" || t == "\\t") return '\t';
  return InvalidArgumentError("unknown delimiter " + QuoteForMessage(text) + ": expected auto, ',', ';' or tab");
}

Result<char> ParseDecimalMark(std::string_view text) {
  const std::string t = ToLower(Trim(text));
  if (t == "." || t == "point" || t == "dot") return '.';
  if (t == "," || t == "comma") return ',';
  return InvalidArgumentError("unknown decimal mark " + QuoteForMessage(text) + ": expected '.' or ','");
}

Result<char> ParseThousandsSeparator(std::string_view text) {
  const std::string t = ToLower(Trim(text));
  if (t == "none") return '\0';
  if (t == "," || t == "comma") return ',';
  if (t == "." || t == "point" || t == "dot") return '.';
  return InvalidArgumentError("unknown thousands separator " + QuoteForMessage(text) + ": expected none, ',' or '.'");
}

Result<double> ParseNumber(std::string_view raw, const NumberFormat& f) {
  const std::string_view t = Trim(raw);
  if (f.decimal == '.' && f.thousands == 0) return ParseFiniteDouble(t);
  // Rewritten in the C form ("-1600.5e3") for ParseFiniteDouble, which also refuses NaN,
  // infinities and values out of range.
  std::string c;
  c.reserve(t.size());
  size_t i = 0;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) c += t[i++];
  size_t group = 0;  // digits since the start or the last thousands separator
  bool grouped = false;
  auto bad_grouping = [&] {
    return InvalidArgumentError("value " + QuoteForMessage(t) + " is not a number: the thousands separator " +
                                Quoted(f.thousands) + " must group three digits");
  };
  for (; i < t.size(); ++i) {
    const char ch = t[i];
    if (ch >= '0' && ch <= '9') {
      c += ch;
      ++group;
    } else if (f.thousands != 0 && ch == f.thousands) {
      if (group == 0 || group > 3 || (grouped && group != 3)) return bad_grouping();
      grouped = true;
      group = 0;
    } else {
      break;
    }
  }
  if (grouped && group != 3) return bad_grouping();
  if (i < t.size() && t[i] == f.decimal) {
    c += '.';
    ++i;
  }
  for (; i < t.size(); ++i) {
    const char ch = t[i];
    if ((ch == '.' && f.decimal != '.') || (f.thousands != 0 && ch == f.thousands)) return NotInFormat(t, f);
    c += ch;
  }
  auto v = ParseFiniteDouble(c);
  if (v.ok()) return v;
  std::string m = v.status().message();
  const std::string qc = QuoteForMessage(c);
  if (m == "value " + qc + " is not a number") return NotInFormat(t, f);
  if (size_t at = m.find(qc); at != std::string::npos) m.replace(at, qc.size(), QuoteForMessage(t));
  return InvalidArgumentError(m);
}

std::string NumberFormatHint(std::string_view raw, const NumberFormat& f) {
  const std::string_view t = Trim(raw);
  if (t.find_first_of(",.") == std::string_view::npos) return "";
  for (char ch : t)
    if (!((ch >= '0' && ch <= '9') || ch == ',' || ch == '.' || ch == '+' || ch == '-' || ch == 'e' || ch == 'E'))
      return "";
  // The common formats the text parses in, as the options to pass: a separator that does not
  // occur in the text stays as given (unless that makes the two marks the same).
  static constexpr NumberFormat kFormats[] = {{'.', 0}, {',', 0}, {'.', ','}, {',', '.'}};
  std::vector<NumberFormat> found;
  for (const NumberFormat& k : kFormats) {
    if (!ParseNumber(t, k).ok()) continue;
    NumberFormat need = k;
    if (!Contains(t, k.thousands) && f.thousands != need.decimal) need.thousands = f.thousands;
    if (!Contains(t, k.decimal) && f.decimal != need.thousands) need.decimal = f.decimal;
    if (need.decimal == f.decimal && need.thousands == f.thousands) continue;
    if (std::none_of(found.begin(), found.end(),
                     [&](const NumberFormat& n) { return n.decimal == need.decimal && n.thousands == need.thousands; }))
      found.push_back(need);
  }
  if (found.empty()) return "";
  auto options = [&](const NumberFormat& n) {
    std::string s;
    if (n.decimal != f.decimal) s += std::string("--decimal ") + n.decimal;
    if (n.thousands != f.thousands)
      s += (s.empty() ? "" : " ") + std::string("--thousands ") +
           (n.thousands == 0 ? std::string("none") : std::string(1, n.thousands));
    return s;
  };
  auto mark = [](char d) { return std::string(d == ',' ? "a decimal comma" : "a decimal point"); };
  if (found.size() == 1) {
    const NumberFormat& n = found[0];
    const bool decimal = n.decimal != f.decimal && Contains(t, n.decimal);
    const bool thousands = n.thousands != f.thousands && Contains(t, n.thousands);
    std::string what;
    if (decimal && thousands)
      what = mark(n.decimal) + " with " + Quoted(n.thousands) + " separating thousands";
    else if (decimal)
      what = mark(n.decimal);
    else if (thousands)
      what = Quoted(n.thousands) + " separates thousands";
    else
      return " (pass " + options(n) + ")";
    return " (it looks like " + what + ": pass " + options(n) + ")";
  }
  std::string alternatives;
  for (const NumberFormat& n : found) alternatives += (alternatives.empty() ? "" : " or ") + options(n);
  // The usual case: one separator that may be either ("1,500").
  if (found.size() == 2 && found[0].thousands == f.thousands && found[1].decimal == f.decimal &&
      found[0].decimal == found[1].thousands)
    return " (" + Quoted(found[0].decimal) + " is " + mark(found[0].decimal) + " or separates thousands: pass " +
           alternatives + ")";
  return " (pass " + alternatives + ", as the file writes its numbers)";
}

std::string DelimiterHint(const std::vector<std::string_view>& fields, char delimiter) {
  for (char sep : {';', '\t'}) {
    if (sep == delimiter) continue;
    for (std::string_view field : fields) {
      if (field.find(sep) == std::string_view::npos) continue;
      return " (the line contains " + SeparatorInText(sep) + ": if the file is " +
             (sep == '\t' ? std::string("tab") : Quoted(sep)) + "-separated, pass --delimiter " +
             (sep == '\t' ? std::string("tab") : Quoted(sep)) + ")";
    }
  }
  return "";
}

std::string HeaderDelimiterHint(const std::vector<std::string>& header, char delimiter) {
  if (header.size() != 1) return "";
  for (char sep : {';', '\t'})
    if (sep != delimiter && header[0].find(sep) != std::string::npos)
      return " (the header contains " + SeparatorInText(sep) + ": pass --delimiter " +
             (sep == '\t' ? std::string("tab") : Quoted(sep)) + ")";
  return "";
}

}  // namespace almanac::data
