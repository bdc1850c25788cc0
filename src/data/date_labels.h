// Dates as period labels: the frequency of a series inferred from its dates, and a date mapped
// to the period it starts or ends. Shared by every ingest form (long, wide, FRED, ALFRED).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"

namespace almanac::data {

// How many distinct dates of a series the ingest looks at to infer its frequency.
inline constexpr size_t kInferenceDates = 13;

// Which day of its period a series' dates name. A, Q and M labels must all be the first
// day (kStart) or all the last day (kEnd); the first date decides (kUnknown until then).
// kAnyDay (--any-day) takes any day within the period. W, D and B take any day of theirs.
enum class DateAnchor { kUnknown, kStart, kEnd, kAnyDay };

// True for text shaped like an ISO date (YYYY-MM-DD); validity is checked when parsed.
bool LooksLikeIsoDate(std::string_view text);

// Infers the frequency from a series' dates, in any order (repeats count once): the first
// days, or the last days, of consecutive years, quarters or months (A, Q, M); dates a week
// apart at least (W); a day apart at least (B when all are weekdays, else D). InvalidArgument
// starting with `name` and saying to pass --frequency otherwise (or for fewer than two dates).
Result<Frequency> InferDateFrequency(std::vector<Date> dates, const std::string& name);

// Parses the period label `text` of a series of frequency `freq`: the frequency's own form
// (2024Q1) or an ISO date. For A, Q and M a date must be the first or the last day of its
// period, as `*anchor` says; a kUnknown anchor is set by the first date. InvalidArgument
// naming the date, the day expected and --any-day otherwise; errors of Period::Parse.
Result<Period> ParseDateLabel(std::string_view text, Frequency freq, DateAnchor* anchor);

}  // namespace almanac::data
