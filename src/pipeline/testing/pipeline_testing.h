// Helpers of the pipeline tests (test-only): the built-in model types, registered once per
// test binary, timestamps from text, and reading and writing test files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
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

// The bytes of a file ("" when it cannot be read), and a file written with its folders: the
// risk and simulate step tests' input files.
inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
inline void WriteText(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace almanac::pipeline::testing
