// Helpers of the pipeline tests (test-only): the built-in model types, registered once per
// test binary, and timestamps from text.
#pragma once

#include <cstdint>
#include <string>

#include "almanac/core/clock.h"
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

// Unix microseconds of an ISO timestamp written in a test (which must parse).
inline int64_t At(const std::string& ts) { return *ParseTimestamp(ts); }

}  // namespace almanac::pipeline::testing
