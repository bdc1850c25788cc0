// The argument layer (cli-internal): option text turned into typed values once, with one rule
// and one message per kind of value, for every command. CLI11 (command_line.cc) only splits
// the command line into strings and numbers; the Run functions call these.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"
#include "almanac/models.h"

namespace almanac::cli {

// --as-of: nullopt when `text` is empty; else ParseAsOfDate's rule, the one serve applies to
// as_of: YYYY-MM-DD and not after today. InvalidArgument "--as-of '...' is not a date
// (YYYY-MM-DD)" or "--as-of D is in the future (today is T)".
Result<std::optional<Date>> ParseAsOfOption(const std::string& text, const Clock& clock = SystemClock());

// Any other date option (--realtime-start, --since, ...): nullopt when `text` is empty;
// InvalidArgument naming `what` when it is not YYYY-MM-DD. Future dates are allowed.
Result<std::optional<Date>> OptionalDate(const std::string& text, std::string_view what);

// -H/--horizon: models::ValidateHorizon (1..models::kMaxHorizon; its default is
// models::kDefaultHorizon).
Status CheckHorizon(int horizon);
// A horizon given or taken from a file: `given` when > 0, else `fallback`, else the default.
int HorizonOrDefault(int given, std::optional<int> fallback = std::nullopt);

// --level "80,95": interval levels in percent, each in (0, 100). InvalidArgument naming
// --level for a part that is not a number or a level outside (0, 100).
Result<std::vector<double>> ParseLevelList(const std::string& text);
// Levels given as numbers (forecast's repeated --level): the same range rule.
Status CheckLevels(const std::vector<double>& levels);

// --transform: the canonical name of a transformation (data::CanonicalTransformName; aliases
// such as pct and dlog accepted). InvalidArgument naming --transform.
Result<std::string> ParseTransformOption(const std::string& text);

// Splits comma-separated items ("a,b" "c" -> a, b, c), trimming blanks and dropping empty parts.
std::vector<std::string> SplitList(const std::vector<std::string>& items);

}  // namespace almanac::cli
