// The CSV text of the risk files (risk-internal): positions, FX rates and asset returns.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace almanac::risk {

// Splits one CSV line on commas, each field trimmed; a field in double quotes may hold commas
// ("" is a quote).
std::vector<std::string> SplitCsvLine(std::string_view line);

// The non-blank lines with their 1-based numbers (a trailing \r removed); with skip_comments,
// lines whose first non-blank character is # are left out too.
std::vector<std::pair<int, std::string>> CsvLines(std::string_view text, bool skip_comments = true);

}  // namespace almanac::risk
