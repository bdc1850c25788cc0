// Shared by the back-ends: validation of issued forecasts and the JSON text of their arrays.
#pragma once

#include <string>
#include <vector>

#include "almanac/store.h"

namespace almanac::store {

// InvalidArgument naming the problem (see MetadataTxn::PutForecast).
Status ValidateIssuedForecast(const IssuedForecastRecord& f);
// "[1.5,2]" and "[[..],[..]]" (shortest round-trip decimals).
std::string DoublesToJson(const std::vector<double>& v);
std::string DoubleRowsToJson(const std::vector<std::vector<double>>& rows);
// DataLoss when the text is not what the writers above produce.
Result<std::vector<double>> DoublesFromJson(std::string_view text);
Result<std::vector<std::vector<double>>> DoubleRowsFromJson(std::string_view text);

}  // namespace almanac::store
