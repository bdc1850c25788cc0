// The built-in model types for pipeline tests, registered once per test binary.
#pragma once

#include "almanac/models.h"

namespace almanac::pipeline::testing {

inline models::ForecasterRegistry& BuiltinModels() {
  static models::ForecasterRegistry* r = [] {
    auto* reg = new models::ForecasterRegistry();
    models::RegisterBuiltinModels(*reg);
    return reg;
  }();
  return *r;
}

}  // namespace almanac::pipeline::testing
