// Parameter type checks shared by the univariate and the multivariate model registries.
// Internal to models.
#pragma once

#include <string>

#include "almanac/core/json.h"

namespace almanac::models {

// True when `v` has the declared parameter type: "any", "number", "int" (an integral number,
// also written as 2.0), "bool", "string" or "list"; false for an unknown type name.
bool ParamTypeMatches(const std::string& type, const Json& v);

}  // namespace almanac::models
