#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "almanac/store.h"
#include "core/testing/status_matchers.h"
#include "store/testing/series_store_conformance.h"

namespace almanac::store {
namespace {

using ::almanac::testing::StatusIs;

std::string TempDbPath() {
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("almanac_store_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return (dir / "almanac.db").string();
}

Result<std::unique_ptr<Store>> OpenSqlite(const Clock* clock) {
  StoreOptions o;
  o.clock = clock;
  o.create_if_missing = true;
  return OpenStore("sqlite:" + TempDbPath(), o);
}

Result<std::unique_ptr<Store>> OpenMemory(const Clock* clock) {
  StoreOptions o;
  o.clock = clock;
  return OpenStore("memory:", o);
}

using testing::SeriesStoreConformance;
INSTANTIATE_TEST_SUITE_P(Backends, SeriesStoreConformance,
                         ::testing::Values(testing::StoreFactory{"sqlite", &OpenSqlite},
                                           testing::StoreFactory{"memory", &OpenMemory}),
                         [](const auto& info) { return info.param.name; });

TEST(OpenStoreTest, UnknownSchemeIsInvalid) {
  EXPECT_THAT(OpenStore("mysql://x", {}), StatusIs(StatusCode::kInvalidArgument, "unknown store URI"));
}

TEST(OpenStoreTest, MissingDatabaseIsNotFoundUnlessCreating) {
  EXPECT_THAT(OpenStore("sqlite:/nonexistent/dir/almanac.db", {}), StatusIs(StatusCode::kNotFound, "almanac init"));
}

TEST(OpenStoreTest, NonDatabaseFileIsRejected) {
  std::string path = TempDbPath();
  std::ofstream(path) << "this is not a database, just text\n";
  EXPECT_THAT(OpenStore("sqlite:" + path, {}), StatusIs(StatusCode::kFailedPrecondition, "not an SQLite database"));
}

TEST(OpenStoreTest, ForeignSqliteDatabaseIsRejected) {
  std::string path = TempDbPath();
  {
    StoreOptions o;
    o.create_if_missing = true;
    ASSERT_OK_AND_ASSIGN(auto s, OpenStore("sqlite:" + path, o));
  }
  // An unrelated SQLite database.
  std::string other = TempDbPath();
  ASSERT_EQ(std::system(("sqlite3 " + other + " 'CREATE TABLE t(x)' 2>/dev/null || python3 -c \"import sqlite3; sqlite3.connect('" +
                         other + "').execute('CREATE TABLE t(x)')\"").c_str()),
            0);
  EXPECT_THAT(OpenStore("sqlite:" + other, {}), StatusIs(StatusCode::kFailedPrecondition, "not an almanac store"));
}

TEST(OpenStoreTest, ReopenKeepsDataAndSchemaVersion) {
  std::string path = TempDbPath();
  StoreOptions o;
  o.create_if_missing = true;
  {
    ASSERT_OK_AND_ASSIGN(auto s, OpenStore("sqlite:" + path, o));
    ASSERT_OK_AND_ASSIGN(auto load, s->series().BeginLoad({}));
    ASSERT_OK(load->Add("a:b", *Period::Parse("2024"), 1.0, std::nullopt));
    ASSERT_OK(load->Commit());
  }
  ASSERT_OK_AND_ASSIGN(auto s, OpenStore("sqlite:" + path, {}));
  ASSERT_OK_AND_ASSIGN(int v, s->SchemaVersion());
  EXPECT_EQ(v, CurrentSchemaVersion());
  ASSERT_OK_AND_ASSIGN(TimeSeries ts, s->series().ReadAsOf("a:b", std::nullopt));
  EXPECT_EQ(ts.size(), 1);
}

TEST(OpenStoreTest, SecondWriterGetsUnavailable) {
  std::string path = TempDbPath();
  StoreOptions o;
  o.create_if_missing = true;
  o.busy_timeout_ms = 50;
  ASSERT_OK_AND_ASSIGN(auto s1, OpenStore("sqlite:" + path, o));
  ASSERT_OK_AND_ASSIGN(auto s2, OpenStore("sqlite:" + path, o));
  ASSERT_OK_AND_ASSIGN(auto load1, s1->series().BeginLoad({}));
  EXPECT_THAT(s2->series().BeginLoad({}), StatusIs(StatusCode::kUnavailable, "another writer"));
}

}  // namespace
}  // namespace almanac::store
