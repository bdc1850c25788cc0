// Helpers of the pipeline tests (test-only): the built-in model types, registered once per
// test binary, timestamps from text, reading and writing test files, and bad-spec edits.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "almanac/core/clock.h"
#include "almanac/core/format.h"
#include "almanac/models.h"
#include "almanac/store.h"

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

// Loads a vintages file (CSV series,period,value,realtime_start after a header line; no quoting)
// into `store` as one load: the risk and simulate step tests' macro data.
inline Status LoadVintagesCsv(store::Store& store, const std::string& path) {
  ALMANAC_ASSIGN_OR_RETURN(auto load, store.series().BeginLoad({.loader = "test"}));
  std::istringstream in(ReadText(path));
  std::string line;
  if (!std::getline(in, line)) return InvalidArgumentError(path + ": empty");  // the header
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
    if (f.size() != 4) return InvalidArgumentError(path + ": expected 4 fields in '" + line + "'");
    ALMANAC_ASSIGN_OR_RETURN(Period period, Period::Parse(f[1]));
    ALMANAC_ASSIGN_OR_RETURN(double value, ParseFiniteDouble(f[2]));
    ALMANAC_ASSIGN_OR_RETURN(Date realtime_start, Date::Parse(f[3]));
    ALMANAC_RETURN_IF_ERROR(load->Add(f[0], period, value, realtime_start));
  }
  return load->Commit().status();
}

// A pipeline file that must be refused: the good file with `from` (which must occur in it)
// replaced by `to`, and a part of the expected message; `name` names the test case
// (SpecEditName). The bad-spec tables of the pipeline, risk and simulate tests.
struct SpecEdit {
  std::string name;
  std::string from, to;
  std::string message;
};
inline std::string SpecEditName(const ::testing::TestParamInfo<SpecEdit>& info) { return info.param.name; }

// `text` with its first `e.from` replaced by `e.to`; a test failure when `e.from` does not occur.
inline std::string ApplySpecEdit(std::string text, const SpecEdit& e) {
  const size_t at = text.find(e.from);
  if (at == std::string::npos) {
    ADD_FAILURE() << "'" << e.from << "' is not in the pipeline file";
    return text;
  }
  return text.replace(at, e.from.size(), e.to);
}

}  // namespace almanac::pipeline::testing
