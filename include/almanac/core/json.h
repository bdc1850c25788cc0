// File: almanac/core/json.h
//
// JSON values (nlohmann::json) and the one canonical serialization used for every content id.
// Kept out of almanac/core.h because nlohmann/json costs ~1.6 s per translation unit.
//
// Canonical JSON (almanac canonical form v1): objects with keys sorted by byte order, no
// whitespace, UTF-8 strings with only the escapes JSON requires, integers in decimal,
// doubles in the shortest form that reads back to the same bits. NaN and infinities are
// not representable and make CanonicalJson fail.
//
//   Json j = {{"series", "fred:GDPC1"}, {"values", {1.0, 2.5}}};
//   ALMANAC_ASSIGN_OR_RETURN(std::string bytes, CanonicalJson(j));
//   ALMANAC_ASSIGN_OR_RETURN(std::string id, ContentId(j));   // sha256 hex of `bytes`
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "almanac/core/status.h"

namespace almanac {

using Json = nlohmann::json;

// The canonical bytes of `value`. InvalidArgument for NaN/infinite numbers or invalid UTF-8.
Result<std::string> CanonicalJson(const Json& value);
// SHA-256 hex of CanonicalJson(value).
Result<std::string> ContentId(const Json& value);
// Parses JSON text; InvalidArgument with the byte offset on a syntax error.
Result<Json> ParseJson(std::string_view text);
// Human-readable JSON (2-space indent), for CLI output. Never fails: invalid UTF-8 is replaced.
std::string PrettyJson(const Json& value);
// Compact JSON; invalid UTF-8 is replaced.
std::string CompactJson(const Json& value);
// A finite number as a JSON number; NaN (missing) and infinities, which JSON cannot hold, as null.
inline Json FiniteOrNull(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }
// The inverse, for reading numbers written by FiniteOrNull: null as NaN, a number as itself; any
// other value throws Json::type_error (as get<double>() does), which model loaders report as
// DataLoss.
inline double NumberOrNaN(const Json& j) {
  return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
}

}  // namespace almanac
