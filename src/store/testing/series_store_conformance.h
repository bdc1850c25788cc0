// The conformance suite every SeriesStore back-end must pass. A back-end's test file
// instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, SeriesStoreConformance,
//                            ::testing::Values(StoreFactory{"sqlite", &MakeSqliteStore}));
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "almanac/store.h"
#include "store/testing/fault_injecting_store.h"

namespace almanac::store::testing {

struct StoreFactory {
  std::string name;
  // Opens a fresh, empty store using the given clock.
  std::function<Result<std::unique_ptr<Store>>(const Clock* clock)> open;
  // Non-empty reason when the back-end cannot run here (tests then skip, or fail when
  // ALMANAC_REQUIRE_POSTGRES=1). Empty function: always available.
  std::function<std::string()> unavailable = nullptr;
};

inline std::string PrintToString(const StoreFactory& f) { return f.name; }

class SeriesStoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  // Loads rows "key,period,value[,rt]" (value "." = missing) in one session; returns the
  // report or the error.
  Result<LoadReport> Load(const std::vector<std::string>& rows, std::optional<Date> default_rt = std::nullopt);
  // "period=value" pairs of the as-of read, e.g. "2024Q1=1 2024Q2=. 2024Q3=3".
  std::string AsOf(const std::string& key, std::optional<std::string> as_of);

  FixedClock clock_{1714564800000000};  // 2024-05-01T12:00:00Z
  std::unique_ptr<Store> store_;
};

// The same fixture, for the MetadataStore tests (testing/metadata_store_conformance.cc).
class MetadataStoreConformance : public SeriesStoreConformance {};

}  // namespace almanac::store::testing

namespace almanac::store::testing {

// The same fixture, for the crash and retry tests through FaultInjectingStore
// (testing/fault_injection_conformance.cc).
// SetUp wraps the back-end in a FaultInjectingStore: store_ is the wrapper, faulty_ points to it.
class FaultInjectionConformance : public SeriesStoreConformance {
 protected:
  void SetUp() override;
  // Whether the back-end retries a transaction that failed with a retryable error
  // (PostgreSQL's RunTransaction); the others return the error to the caller.
  bool Retries() const { return GetParam().name == "postgresql"; }

  FaultInjectingStore* faulty_ = nullptr;
};

}  // namespace almanac::store::testing
