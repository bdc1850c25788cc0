// How a CSV file writes its fields and numbers: numbers with a decimal comma or thousands
// separators, and the hints that name the ingest option to pass when a file does not parse
// as told (the option values themselves are parsed by ParseDelimiter & co. in almanac/data.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "almanac/data.h"

namespace almanac::data {

// Parses `text` (trimmed) as a number written in `format`: an optional sign, digits (with the
// thousands separator between groups of three, if the format has one), the decimal mark and
// digits, an exponent. The default format is exactly ParseFiniteDouble. InvalidArgument naming
// the text: NaN, infinities and out-of-range values as ParseFiniteDouble; misplaced thousands
// separators; other text naming the format.
Result<double> ParseNumber(std::string_view text, const NumberFormat& format);

// For a number that did not parse in `format`: " (it looks like a decimal comma: pass
// --decimal ,)" and the like when it parses in another common format, else "".
std::string NumberFormatHint(std::string_view text, const NumberFormat& format);

// For a record whose field count differs from the header's: " (the line contains ';': ...
// pass --delimiter ';')" when a field holds ';' or a tab that is not `delimiter`, else "".
std::string DelimiterHint(const std::vector<std::string_view>& fields, char delimiter);

// For a header of one field: " (the header contains ';': pass --delimiter ';')" when it holds
// ';' or a tab that is not `delimiter`, else "".
std::string HeaderDelimiterHint(const std::vector<std::string>& header, char delimiter);

}  // namespace almanac::data
