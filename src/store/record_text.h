// Shared by the back-ends: validation of records and the JSON text they are stored as.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "almanac/store.h"

namespace almanac::store {

// Stored JSON: DataLoss naming `what` when the text does not parse (a damaged row).
Result<Json> ParseStoredJson(const std::string& text, std::string_view what);
// Canonical JSON text of `j` ("{}" for null).
std::string JsonText(const Json& j);

// InvalidArgument naming the problem (see MetadataTxn::PutForecast).
Status ValidateIssuedForecast(const IssuedForecastRecord& f);
// "[1.5,2]" and "[[..],[..]]" (shortest round-trip decimals).
std::string DoublesToJson(const std::vector<double>& v);
std::string DoubleRowsToJson(const std::vector<std::vector<double>>& rows);
// DataLoss when the text is not what the writers above produce.
Result<std::vector<double>> DoublesFromJson(std::string_view text);
Result<std::vector<std::vector<double>>> DoubleRowsFromJson(std::string_view text);

// InvalidArgument naming the problem (see MetadataTxn::InsertQuarantine).
Status ValidateQuarantine(const QuarantineRecord& q);
// InvalidArgument naming the problem (see MetadataTxn::InsertTask).
Status ValidateTask(const TaskRecord& t);
// ["a","b"]; DataLoss when stored text is not an array of strings.
std::string StringsToJson(const std::vector<std::string>& v);
Result<std::vector<std::string>> StringsFromJson(std::string_view text, std::string_view what);

}  // namespace almanac::store
