// Minimal JSON output for the hot forecast path (serve-internal): appends to a std::string
// without building a DOM. Doubles use the shortest round-trip form (std::to_chars).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace almanac::serve::json_out {

inline void String(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          static const char* const kHex = "0123456789abcdef";
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

inline void Key(std::string& out, std::string_view k) {
  String(out, k);
  out += ':';
}

// IMPORTANT: `v` must be finite (callers check; JSON has no NaN).
inline void Number(std::string& out, double v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, ec == std::errc() ? p : buf);
}

// A number, or null when `v` is not finite (a missing value): the streaming form of
// core/json.h's FiniteOrNull.
inline void NumberOrNull(std::string& out, double v) {
  if (std::isfinite(v))
    Number(out, v);
  else
    out += "null";
}

inline void Int(std::string& out, int64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, ec == std::errc() ? p : buf);
}

}  // namespace almanac::serve::json_out
