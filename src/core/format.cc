#include "almanac/core/format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace almanac {

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "?";
  return std::string(buf, p);
}

std::string FormatFixed(double v, int digits) {
  if (!std::isfinite(v)) return FormatDouble(v);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n')) --e;
  return s.substr(b, e - b);
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

namespace {
bool LooksNonFinite(std::string_view t) {
  // Numbers start with a digit or a point after an optional sign: no lower-casing for them.
  const size_t first = !t.empty() && (t[0] == '+' || t[0] == '-') ? 1 : 0;
  if (first < t.size() && ((t[first] >= '0' && t[first] <= '9') || t[first] == '.')) return false;
  std::string l = ToLower(t);
  if (!l.empty() && (l[0] == '+' || l[0] == '-')) l.erase(0, 1);
  return l == "nan" || l == "inf" || l == "infinity" || l == "-nan" || l.rfind("nan(", 0) == 0;
}
}  // namespace

Result<double> ParseFiniteDouble(std::string_view raw) {
  std::string_view t = Trim(raw);
  if (t.empty()) return InvalidArgumentError("expected a number, got an empty value");
  if (LooksNonFinite(t))
    return InvalidArgumentError("value " + QuoteForMessage(t) +
                                " is not a finite number (NaN and infinities are not accepted; leave the value empty or "
                                "use '.' for a missing observation)");
  std::string_view s = t;
  if (s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (ec == std::errc::result_out_of_range)
    return InvalidArgumentError("value " + QuoteForMessage(t) + " is outside the range of a double");
  if (ec != std::errc() || p != s.data() + s.size())
    return InvalidArgumentError("value " + QuoteForMessage(t) + " is not a number");
  if (!std::isfinite(v)) return InvalidArgumentError("value " + QuoteForMessage(t) + " is not finite");
  return v;
}

Result<int64_t> ParseInt(std::string_view raw) {
  std::string_view t = Trim(raw);
  std::string_view s = t;
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size())
    return InvalidArgumentError("expected an integer, got " + QuoteForMessage(t));
  return v;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0, n = s.size();
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  while (i < n) {
    // ASCII, the common case, eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, b + i, 8);
      if ((word & 0x8080808080808080ull) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char c = b[i];
    if (c < 0x80) { ++i; continue; }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((b[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b[i + k] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

std::string JoinList(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string QuoteForMessage(std::string_view s, size_t max_len) {
  std::string out = "'";
  size_t n = 0;
  for (char ch : s) {
    if (n++ >= max_len) {
      out += "...";
      break;
    }
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\'') out += "\\'";
    else if (c == '\\') out += "\\\\";
    else if (c >= 0x20 && c < 0x7F) out += ch;
    else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  out += "'";
  return out;
}

std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, name.size() / 3) + 1;
  for (const auto& c : candidates) {
    std::vector<size_t> prev(c.size() + 1), cur(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= name.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= c.size(); ++j) {
        size_t sub = prev[j - 1] + (name[i - 1] == c[j - 1] ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    if (prev[c.size()] < best_d) {
      best_d = prev[c.size()];
      best = c;
    }
  }
  return best;
}

Status ValidateSeriesKey(std::string_view key) {
  if (key.empty()) return InvalidArgumentError("series key is empty");
  if (key.size() > 200)
    return InvalidArgumentError("series key " + QuoteForMessage(key) + " is longer than 200 characters");
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(key[0]))
    return InvalidArgumentError("series key " + QuoteForMessage(key) + " must start with a letter or digit");
  for (char c : key) {
    if (!(alnum(c) || c == '_' || c == '.' || c == ':' || c == '-')) {
      return InvalidArgumentError("series key " + QuoteForMessage(key) + " contains " + QuoteForMessage(std::string(1, c)) +
                                  ": keys may only use letters, digits and _ . : -");
    }
  }
  if (key.find("..") != std::string_view::npos)
    return InvalidArgumentError("series key " + QuoteForMessage(key) + " must not contain '..'");
  return Status::Ok();
}

Status ValidateName(std::string_view name, std::string_view what) {
  Status s = ValidateSeriesKey(name);
  if (s.ok()) return s;
  std::string msg = s.message();
  const std::string prefix = "series key";
  if (msg.rfind(prefix, 0) == 0) msg = std::string(what) + msg.substr(prefix.size());
  return InvalidArgumentError(msg);
}

}  // namespace almanac
