// File: almanac/core/format.h
//
// Number and text helpers shared by every component.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core/status.h"

namespace almanac {

// The shortest decimal text that reads back to the same double ("0.1", "1e+20").
// NaN prints "NaN" and infinities "inf"/"-inf" (for diagnostics only).
std::string FormatDouble(double v);
// Fixed notation with `digits` decimals, for tables.
std::string FormatFixed(double v, int digits);

// Parses a finite decimal number (leading/trailing spaces allowed, a leading '+' allowed).
// InvalidArgument for empty text, trailing garbage, hex, NaN and infinity spellings
// (with a message saying NaN/inf are not accepted).
Result<double> ParseFiniteDouble(std::string_view text);
Result<int64_t> ParseInt(std::string_view text);

std::string_view Trim(std::string_view s);
std::string ToLower(std::string_view s);
// True when `s` is valid UTF-8.
bool IsValidUtf8(std::string_view s);
// Quotes a value for messages: printable ASCII kept, others escaped, long text truncated.
std::string QuoteForMessage(std::string_view s, size_t max_len = 80);
// The parts with `sep` between them ("a, b, c"), for lists in messages; "" for none.
std::string JoinList(const std::vector<std::string>& parts, std::string_view sep = ", ");

// The candidate closest to `name` within a small edit distance (Levenshtein), else "".
// For "did you mean" hints on unknown keys, types and names.
std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates);

// Series keys: 1..200 characters from [A-Za-z0-9_.:-], starting with a letter or digit, no
// "..". This keeps keys safe in SQL text, file names and URLs. InvalidArgument otherwise,
// naming the offending character.
Status ValidateSeriesKey(std::string_view key);
// Names of snapshots, models, experiments: same rule as series keys plus '@' excluded.
Status ValidateName(std::string_view name, std::string_view what);

}  // namespace almanac
