// The built-in model types as one immutable registry (models-internal): what the free
// multivariate functions of almanac/models/multivariate.h answer from.
#pragma once

#include "almanac/models.h"

namespace almanac::models {

// A registry filled by RegisterBuiltinModels once (thread-safe initialisation), never changed.
const ForecasterRegistry& BuiltinModels();

}  // namespace almanac::models
