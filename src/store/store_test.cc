#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <sqlite3.h>

#include "almanac/store.h"
#include "core/testing/status_matchers.h"
#include "store/sqlite/migrations.h"
#include "store/testing/latest_metrics_testing.h"
#include "store/testing/series_store_conformance.h"
#ifdef ALMANAC_WITH_POSTGRES
#include "store/testing/pg_server.h"
#endif

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

#ifdef ALMANAC_WITH_POSTGRES
// Each test gets a fresh database on the throwaway server (or ALMANAC_TEST_POSTGRES_URI's).
Result<std::unique_ptr<Store>> OpenPostgres(const Clock* clock) {
  auto* server = testing::PgTestServer::Get();
  if (server == nullptr) return UnavailableError(testing::PgTestServer::UnavailableReason());
  ALMANAC_ASSIGN_OR_RETURN(std::string uri, server->NewDatabase());
  StoreOptions o;
  o.clock = clock;
  o.create_if_missing = true;
  return OpenStore(uri, o);
}
std::string PostgresUnavailable() {
  return testing::PgTestServer::Get() == nullptr ? testing::PgTestServer::UnavailableReason() : "";
}
#endif

using testing::FaultInjectionConformance;
using testing::MetadataStoreConformance;
using testing::SeriesStoreConformance;
const auto kBackends = ::testing::Values(testing::StoreFactory{"sqlite", &OpenSqlite},
                                         testing::StoreFactory{"memory", &OpenMemory}
#ifdef ALMANAC_WITH_POSTGRES
                                         ,
                                         testing::StoreFactory{"postgresql", &OpenPostgres, &PostgresUnavailable}
#endif
);
INSTANTIATE_TEST_SUITE_P(Backends, SeriesStoreConformance, kBackends,
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Backends, MetadataStoreConformance, kBackends,
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Backends, FaultInjectionConformance, kBackends,
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

// Migration 12 (issue 22): a store written at version 11 gets the latest point of each run and
// key into run_latest_metrics (highest step, then timestamp, then the later row), and the metric
// filter compares those after the upgrade; NaN latest points (NULL in SQLite) match nothing.
TEST(OpenStoreTest, Version12FillsTheLatestMetricsOfAVersion11Store) {
  const std::string path = TempDbPath();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    std::string sql = "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                      "applied_at TEXT NOT NULL);";
    for (const auto& m : sqlite::Migrations()) {
      if (m.version > 11) break;
      sql += std::string(m.sql) + "INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", 'm', 'now');";
    }
    sql += "INSERT INTO runs (id, experiment, status, start_time, user, host, almanac_version) VALUES "
           "('r1', 'exp', 'finished', 1, 'u', 'h', 'v'), ('r2', 'exp', 'finished', 2, 'u', 'h', 'v'), "
           "('r3', 'exp', 'finished', 3, 'u', 'h', 'v'), ('r4', 'other', 'finished', 4, 'u', 'h', 'v');"
           "INSERT INTO run_metrics (run_id, key, step, value, timestamp) VALUES "
           "('r1', 'rmse', 2, 0.5, 1), ('r1', 'rmse', 0, 5, 9), ('r1', 'mae', 0, 3, 1), "
           "('r2', 'rmse', 1, 3, 2), ('r2', 'rmse', 1, 0.1, 2), "  // the same step and time: the later row
           "('r3', 'rmse', 0, 0.2, 1), ('r3', 'rmse', 1, NULL, 1), ('r4', 'rmse', 0, 0.1, 1);";
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_close(db);
  }
  ASSERT_OK_AND_ASSIGN(auto s, OpenStore("sqlite:" + path, {}));
  ASSERT_OK_AND_ASSIGN(int v, s->SchemaVersion());
  EXPECT_EQ(v, CurrentSchemaVersion());
  testing::ExpectTheLatestMetricsOfTheVersion11Rows(*s);
  // Writes after the upgrade keep the table up to date.
  ASSERT_OK(s->metadata().Run([](MetadataTxn& t) { return t.InsertMetrics("r3", {{"rmse", 2, 0.3, 1}}); }));
  EXPECT_EQ(testing::RunsOfExpWithLatestMetric(*s, "rmse", "<", 1), (std::vector<std::string>{"r1", "r2", "r3"}));
}

// Series stored before schema 4 have no latest-view digest: loads take the full path, record
// it, and the next unchanged load is recognised.
TEST(OpenStoreTest, SeriesWithoutDigestTakeTheFullPathAndGetOne) {
  std::string path = TempDbPath();
  StoreOptions o;
  o.create_if_missing = true;
  auto load = [&](double q2, const char* rt) -> Result<LoadReport> {
    ALMANAC_ASSIGN_OR_RETURN(auto s, OpenStore("sqlite:" + path, o));
    LoadOptions lo;
    lo.default_realtime_start = *Date::Parse(rt);
    ALMANAC_ASSIGN_OR_RETURN(auto session, s->series().BeginLoad(lo));
    ALMANAC_RETURN_IF_ERROR(session->Add("a:b", *Period::Parse("2024Q1"), 1.0, std::nullopt));
    ALMANAC_RETURN_IF_ERROR(session->Add("a:b", *Period::Parse("2024Q2"), q2, std::nullopt));
    return session->Commit();
  };
  auto sql = [&](const std::string& q) {
    return std::system(("python3 -c \"import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                        "print(c.execute(sys.argv[2]).fetchall()); c.commit()\" " + path + " '" + q + "' > " + path +
                        ".out")
                           .c_str());
  };
  auto out = [&] {
    std::ifstream f(path + ".out");
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  ASSERT_OK(load(2.0, "2024-05-01"));
  ASSERT_EQ(sql("UPDATE series SET latest_max_rt = NULL, latest_sha256 = NULL"), 0);
  ASSERT_OK_AND_ASSIGN(LoadReport r, load(2.0, "2024-06-01"));
  EXPECT_EQ(r.vintages_created, 0);
  ASSERT_EQ(sql("SELECT latest_sha256 IS NOT NULL FROM series"), 0);
  EXPECT_EQ(out(), "[(1,)]\n");
  ASSERT_OK_AND_ASSIGN(r, load(2.0, "2024-07-01"));
  EXPECT_EQ(r.vintages_created, 0);
  ASSERT_OK_AND_ASSIGN(r, load(2.5, "2024-08-01"));
  EXPECT_EQ(r.vintages_created, 1);
  EXPECT_EQ(r.observations_written, 1);
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

namespace almanac::store {
namespace {

using ::almanac::testing::StatusIs;

class ArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::path(TempDbPath()).parent_path().string() + "/artifacts";
    store_ = std::move(*OpenArtifactStore("file:" + root_));
  }
  std::string root_;
  std::unique_ptr<ArtifactStore> store_;
};

TEST_F(ArtifactStoreTest, PutGetIdempotentAndImmutable) {
  ASSERT_OK_AND_ASSIGN(ArtifactRecord r, store_->Put("runs/r1/model.json", "{\"a\":1}"));
  EXPECT_EQ(r.sha256, Sha256Hex("{\"a\":1}"));
  EXPECT_EQ(r.size, 7);
  ASSERT_OK_AND_ASSIGN(std::string back, store_->Get("runs/r1/model.json", r.sha256));
  EXPECT_EQ(back, "{\"a\":1}");
  EXPECT_OK(store_->Put("runs/r1/model.json", "{\"a\":1}"));
  EXPECT_THAT(store_->Put("runs/r1/model.json", "{\"a\":2}"), StatusIs(StatusCode::kAlreadyExists, "immutable"));
  EXPECT_THAT(store_->Get("runs/r1/other.json", r.sha256), StatusIs(StatusCode::kNotFound));
  EXPECT_TRUE(*store_->Exists("runs/r1/model.json"));
  EXPECT_FALSE(*store_->Exists("runs/r2/model.json"));
  EXPECT_EQ(ContentAddressedName(r.sha256), "sha256/" + r.sha256.substr(0, 2) + "/" + r.sha256);
}

TEST_F(ArtifactStoreTest, NamesCannotEscapeTheRoot) {
  for (const char* bad : {"../evil", "a/../../evil", "/etc/passwd", "a/./b", "%2e%2e%2fevil", "..%2fevil", "a\\..\\b",
                          "a//b", "", ".hidden", "a/b/", "x\ny"}) {
    EXPECT_THAT(store_->Put(bad, "x"), StatusIs(StatusCode::kInvalidArgument)) << bad;
    EXPECT_THAT(store_->Get(bad, Sha256Hex("x")), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
  EXPECT_THAT(store_->Put(std::string(513, 'a'), "x"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(root_).parent_path() / "evil"));
}

TEST_F(ArtifactStoreTest, SymlinksInsideTheRootAreRefused) {
  const auto outside = std::filesystem::path(root_).parent_path() / "outside";
  std::filesystem::create_directories(outside);
  std::filesystem::create_directory_symlink(outside, std::filesystem::path(root_) / "link");
  EXPECT_THAT(store_->Put("link/x.json", "x"), StatusIs(StatusCode::kInvalidArgument, "symbolic link"));
  EXPECT_FALSE(std::filesystem::exists(outside / "x.json"));
  std::ofstream(outside / "secret") << "secret";
  std::filesystem::create_symlink(outside / "secret", std::filesystem::path(root_) / "file-link");
  EXPECT_THAT(store_->Get("file-link", Sha256Hex("secret")), StatusIs(StatusCode::kInvalidArgument, "symbolic link"));
}

TEST_F(ArtifactStoreTest, AlteredFileIsDataLoss) {
  ASSERT_OK_AND_ASSIGN(ArtifactRecord r, store_->Put("m/model.json", "original"));
  std::ofstream(root_ + "/m/model.json") << "tampered";
  EXPECT_THAT(store_->Get("m/model.json", r.sha256), StatusIs(StatusCode::kDataLoss, "altered"));
}

TEST(AuditVerifyTest, DetectsEditedDeletedAndReorderedEntries) {
  for (const char* what : {"edit", "delete", "reorder", "truncate"}) {
    std::string path = TempDbPath();
    StoreOptions o;
    o.create_if_missing = true;
    auto s = std::move(*OpenStore("sqlite:" + path, o));
    for (int i = 0; i < 5; ++i)
      ASSERT_OK(s->metadata().Run([&](MetadataTxn& t) {
        return t.Audit({"alice", "test.event", "thing", std::to_string(i), {{"i", i}}}).status();
      }));
    ASSERT_OK(VerifyAuditChain(s->metadata()));
    std::string sql;
    if (std::string(what) == "edit") sql = "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3";
    if (std::string(what) == "delete") sql = "DELETE FROM audit_log WHERE seq = 2";
    if (std::string(what) == "reorder")
      sql = "UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; "
            "UPDATE audit_log SET seq = 3 WHERE seq = 100";
    if (std::string(what) == "truncate") sql = "DELETE FROM audit_log WHERE seq = 5";
    ASSERT_EQ(std::system(("sqlite3 " + path + " \"" + sql + "\"").c_str()), 0);
    auto v = VerifyAuditChain(s->metadata());
    EXPECT_THAT(v, StatusIs(StatusCode::kDataLoss)) << what;
    const std::string expect = std::string(what) == "edit"       ? "entry 3"
                               : std::string(what) == "delete"   ? "entry 2 is missing"
                               : std::string(what) == "reorder"  ? "entry 2"
                                                                 : "recorded head is entry 5";
    EXPECT_THAT(v.status().message(), ::testing::HasSubstr(expect)) << what << ": " << v.status().message();
  }
}

}  // namespace
}  // namespace almanac::store
