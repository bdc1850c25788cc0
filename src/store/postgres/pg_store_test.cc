// PostgreSQL-specific tests (the shared conformance suites run in store_test.cc): identical
// snapshot ids across back-ends, connection failures, concurrent migrations and writers,
// server restarts, database artifacts, hostile strings. Against a real server
// (store/testing/pg_server.h).
#ifdef ALMANAC_WITH_POSTGRES

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdlib.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <thread>

#include "almanac/store.h"
#include "core/testing/status_matchers.h"
#include "store/postgres/pg_conn.h"
#include "store/testing/latest_metrics_testing.h"
#include "store/testing/pg_server.h"

namespace almanac::store {
namespace {

using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::PgTestServer;

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ALMANAC_REQUIRE_PG_SERVER();
    server_ = PgTestServer::Get();
    auto uri = server_->NewDatabase();
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    uri_ = *uri;
  }

  Result<std::unique_ptr<Store>> Open(bool create = true) {
    StoreOptions o;
    o.clock = &clock_;
    o.create_if_missing = create;
    return OpenStore(uri_, o);
  }

  // A SQLite store in a folder of its own (removed with the fixture, also when a test fails),
  // for comparisons with the PostgreSQL one.
  Result<std::unique_ptr<Store>> OpenSqliteBeside() {
    if (sqlite_dir_.empty()) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "almanac_pg_vs_sqlite_XXXXXX").string();
      if (::mkdtemp(tmpl.data()) == nullptr) return InternalError("cannot create a temporary folder");
      sqlite_dir_ = tmpl;
    }
    StoreOptions o;
    o.clock = &clock_;
    o.create_if_missing = true;
    return OpenStore("sqlite:" + (sqlite_dir_ / "a.db").string(), o);
  }
  void TearDown() override {
    if (!sqlite_dir_.empty()) std::filesystem::remove_all(sqlite_dir_);
  }

  static Status LoadRows(Store& store, const std::string& key, int n, double offset, const std::string& rt) {
    ALMANAC_ASSIGN_OR_RETURN(auto session, store.series().BeginLoad({.loader = "t", .source = "test"}));
    const Period first = *Period::Parse("2000-01");
    for (int i = 0; i < n; ++i)
      ALMANAC_RETURN_IF_ERROR(session->Add(key, Period(first.frequency(), first.ordinal() + i), offset + i * 0.25, *Date::Parse(rt)));
    return session->Commit().status();
  }

  FixedClock clock_{1714564800000000};
  PgTestServer* server_ = nullptr;
  std::string uri_;
  std::filesystem::path sqlite_dir_;
};

TEST_F(PgStoreTest, SnapshotIdsAreIdenticalOnSqliteAndPostgres) {
  ASSERT_OK_AND_ASSIGN(auto pg, Open());
  ASSERT_OK_AND_ASSIGN(auto lite, OpenSqliteBeside());
  for (Store* s : {pg.get(), lite.get()}) {
    ASSERT_OK(LoadRows(*s, "gdp", 40, 100.0, "2024-01-15"));
    ASSERT_OK(LoadRows(*s, "gdp", 41, 100.5, "2024-02-15"));  // revises all, adds one
    ASSERT_OK(LoadRows(*s, "cpi", 12, 1e-300, "2024-01-15"));  // tiny values round-trip
  }
  ASSERT_OK_AND_ASSIGN(SnapshotInfo a, pg->series().CreateSnapshot({"s1", {}, *Date::Parse("2024-01-31"), "t"}));
  ASSERT_OK_AND_ASSIGN(SnapshotInfo b, lite->series().CreateSnapshot({"s1", {}, *Date::Parse("2024-01-31"), "t"}));
  EXPECT_EQ(a.id, b.id);
  ASSERT_OK_AND_ASSIGN(SnapshotInfo c, pg->series().CreateSnapshot({"s2", {}, std::nullopt, "t"}));
  ASSERT_OK_AND_ASSIGN(SnapshotInfo d, lite->series().CreateSnapshot({"s2", {}, std::nullopt, "t"}));
  EXPECT_EQ(c.id, d.id);
  EXPECT_NE(a.id, c.id);
  ASSERT_OK_AND_ASSIGN(Snapshot back, pg->series().GetSnapshot(a.id.substr(0, 10)));
  EXPECT_EQ(back.info.name, "s1");
}

// Loads stream vintages in COPY's binary format: every value, explicit missing values (NULL
// array elements) and extreme magnitudes must read back bit for bit, in every vintage, as on
// SQLite; and the arrays are stored with lz4 where the server has it.
TEST_F(PgStoreTest, BinaryCopyRoundTripsEveryValueAsSqliteDoes) {
  ASSERT_OK_AND_ASSIGN(auto pg, Open());
  ASSERT_OK_AND_ASSIGN(auto lite, OpenSqliteBeside());
  const std::vector<std::optional<double>> first = {1.5, std::nullopt, -2.5e-7, 1e-300, -1.7976931348623157e308,
                                                    4.9e-324, 0.1 + 0.2, std::nullopt, 123456789.125};
  // 3000 periods: larger than PostgreSQL's out-of-line threshold, so the arrays get compressed.
  const Period start = *Period::Parse("1950-01");
  auto load = [&](Store& s, const std::string& rt, int revise_from) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(auto session, s.series().BeginLoad({.loader = "t", .source = "test"}));
    for (int i = 0; i < 3000; ++i) {
      std::optional<double> v = i < static_cast<int>(first.size()) ? first[static_cast<size_t>(i)] : std::optional<double>(i * 0.37);
      if (i >= revise_from) v = i % 7 == 0 ? std::nullopt : std::optional<double>(-i / 3.0);
      ALMANAC_RETURN_IF_ERROR(session->Add("m", start + i, v, *Date::Parse(rt)));
    }
    return session->Commit().status();
  };
  for (Store* s : {pg.get(), lite.get()}) {
    ASSERT_OK(load(*s, "2024-01-15", 3000));
    ASSERT_OK(load(*s, "2024-03-15", 2500));  // revises the last 500 periods, some to missing
  }
  for (const char* as_of : {"2024-02-01", "2024-04-01"}) {
    ASSERT_OK_AND_ASSIGN(TimeSeries a, pg->series().ReadAsOf("m", *Date::Parse(as_of)));
    ASSERT_OK_AND_ASSIGN(TimeSeries b, lite->series().ReadAsOf("m", *Date::Parse(as_of)));
    ASSERT_EQ(a.start(), b.start());
    ASSERT_EQ(a.size(), 3000);
    ASSERT_EQ(a.size(), b.size());
    for (int64_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a.missing(i), b.missing(i)) << as_of << " period " << i;
      if (!a.missing(i)) {
        ASSERT_EQ(std::bit_cast<uint64_t>(a.values()[i]), std::bit_cast<uint64_t>(b.values()[i])) << i;
      }
    }
    EXPECT_TRUE(a.missing(1));
    EXPECT_EQ(a.values()[5], 4.9e-324);
  }
  ASSERT_OK_AND_ASSIGN(auto vp, pg->series().ListVintages("m"));
  ASSERT_OK_AND_ASSIGN(auto vl, lite->series().ListVintages("m"));
  ASSERT_EQ(vp.size(), vl.size());
  for (size_t i = 0; i < vp.size(); ++i) {
    EXPECT_EQ(vp[i].id, vl[i].id);
    EXPECT_EQ(vp[i].num_observations, vl[i].num_observations);
  }
  ASSERT_OK_AND_ASSIGN(SnapshotInfo sp, pg->series().CreateSnapshot({"s", {}, std::nullopt, "t"}));
  ASSERT_OK_AND_ASSIGN(SnapshotInfo sl, lite->series().CreateSnapshot({"s", {}, std::nullopt, "t"}));
  EXPECT_EQ(sp.id, sl.id);
  ASSERT_OK_AND_ASSIGN(auto conn, pg::Conn::Connect(uri_, {}));
  ASSERT_OK_AND_ASSIGN(pg::PgResult lz4, conn->Query("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"));
  ASSERT_OK_AND_ASSIGN(pg::PgResult comp, conn->Query("SELECT DISTINCT pg_column_compression(\"values\") FROM observations"));
  ASSERT_EQ(comp.rows(), 1);
  EXPECT_EQ(comp.Text(0, 0), lz4.Text(0, 0) == "t" ? "lz4" : "pglz");
}

TEST_F(PgStoreTest, WrongPasswordIsAClearErrorWithoutThePassword) {
  std::string bad = uri_;
  const std::string pw = server_->password();
  ASSERT_NE(bad.find(pw), std::string::npos);
  bad.replace(bad.find(pw), pw.size(), "wrong-secret-123");
  const auto t0 = std::chrono::steady_clock::now();
  auto s = OpenStore(bad, {});
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable, "password authentication failed"));
  EXPECT_THAT(s.status().message(), Not(HasSubstr("wrong-secret-123")));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

TEST_F(PgStoreTest, UnreachablePortFailsQuicklyWithTheAddress) {
  const std::string uri = "postgresql://u:secretpw@127.0.0.1:1/db?connect_timeout=3";
  const auto t0 = std::chrono::steady_clock::now();
  auto s = OpenStore(uri, {});
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable, "cannot connect to postgresql://u:***@127.0.0.1:1/db"));
  EXPECT_THAT(s.status().message(), Not(HasSubstr("secretpw")));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST_F(PgStoreTest, EmptyDatabaseWithoutCreateIsNotFoundAndForeignTablesAreRefused) {
  EXPECT_THAT(Open(/*create=*/false), StatusIs(StatusCode::kNotFound, "almanac init"));
  ASSERT_OK_AND_ASSIGN(auto conn, pg::Conn::Connect(uri_, {}));
  ASSERT_OK(conn->Exec("CREATE TABLE customers (id int)"));
  EXPECT_THAT(Open(), StatusIs(StatusCode::kFailedPrecondition, "other tables"));
}

TEST_F(PgStoreTest, ConcurrentMigrationsOfAnEmptyDatabaseApplyEachStepOnce) {
  constexpr int kProcs = 6;
  std::vector<std::thread> threads;
  std::vector<Status> results(kProcs);
  for (int i = 0; i < kProcs; ++i)
    threads.emplace_back([&, i] { results[static_cast<size_t>(i)] = Open().status(); });
  for (auto& t : threads) t.join();
  for (const auto& s : results) EXPECT_OK(s);
  ASSERT_OK_AND_ASSIGN(auto conn, pg::Conn::Connect(uri_, {}));
  ASSERT_OK_AND_ASSIGN(pg::PgResult r, conn->Query("SELECT count(*), max(version) FROM schema_migrations"));
  EXPECT_EQ(r.Int(0, 0), CurrentSchemaVersion());
  EXPECT_EQ(r.Int(0, 1), CurrentSchemaVersion());
}

// Migration 12 (issue 22) on a store with metrics written at version 11: the store is taken
// back to version 11 (run_latest_metrics dropped, the (key, value) index on every point and the
// foreign key of run_metrics back),
// points are written as version 11 wrote them, and reopening fills the latest point per run and
// key (highest step, then timestamp, then the later row; a NaN latest matches nothing).
TEST_F(PgStoreTest, Version12FillsTheLatestMetricsOfAVersion11Store) {
  {
    ASSERT_OK_AND_ASSIGN(auto s, Open());
    ASSERT_OK(s->metadata().Run([](MetadataTxn& t) -> Status {
      for (const char* id : {"r1", "r2", "r3"}) {
        RunRecord r;
        r.id = id;
        r.experiment = "exp";
        r.status = RunStatus::kFinished;
        r.start_time = 1;
        r.user = r.host = r.almanac_version = "x";
        ALMANAC_RETURN_IF_ERROR(t.InsertRun(r));
      }
      return Status::Ok();
    }));
  }
  ASSERT_OK_AND_ASSIGN(auto conn, pg::Conn::Connect(uri_, {}));
  ASSERT_OK(conn->Exec("DROP TABLE run_latest_metrics; CREATE INDEX run_metrics_by_key_value ON run_metrics(key, value); "
                       "ALTER TABLE run_metrics ADD CONSTRAINT run_metrics_run_id_fkey FOREIGN KEY (run_id) "
                       "REFERENCES runs(id); "
                       "DELETE FROM schema_migrations WHERE version = 12; "
                       "INSERT INTO run_metrics (run_id, key, step, value, timestamp) VALUES "
                       "('r1', 'rmse', 2, 0.5, 1), ('r1', 'rmse', 0, 5, 9), ('r1', 'mae', 0, 3, 1), "
                       "('r2', 'rmse', 1, 3, 2), ('r2', 'rmse', 1, 0.1, 2), "
                       "('r3', 'rmse', 0, 0.2, 1), ('r3', 'rmse', 1, 'NaN', 1)"));
  ASSERT_OK_AND_ASSIGN(auto s, Open());
  ASSERT_OK_AND_ASSIGN(int v, s->SchemaVersion());
  EXPECT_EQ(v, CurrentSchemaVersion());
  testing::ExpectTheLatestMetricsOfTheVersion11Rows(*s);
  ASSERT_OK_AND_ASSIGN(pg::PgResult idx, conn->Query("SELECT count(*) FROM pg_indexes WHERE indexname = "
                                                     "'run_metrics_by_key_value'"));
  EXPECT_EQ(idx.Int(0, 0), 0);
  ASSERT_OK_AND_ASSIGN(pg::PgResult fk, conn->Query("SELECT count(*) FROM pg_constraint WHERE conname = "
                                                    "'run_metrics_run_id_fkey'"));
  EXPECT_EQ(fk.Int(0, 0), 0);
}

TEST_F(PgStoreTest, ConcurrentWritersKeepOneIntactAuditChain) {
  // Several "processes" (stores with their own pools) append at once: serialization failures
  // are retried, so every transaction lands once and the chain verifies.
  ASSERT_OK(Open().status());
  constexpr int kWriters = 4, kEach = 15;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      auto store = Open();
      if (!store.ok()) {
        ++failures;
        return;
      }
      for (int i = 0; i < kEach; ++i) {
        Status s = (*store)->metadata().Run([&](MetadataTxn& t) -> Status {
          return t.Audit({"writer" + std::to_string(w), "test.write", "test", std::to_string(i), Json::object()}).status();
        });
        if (!s.ok()) {
          ADD_FAILURE() << s.ToString();
          ++failures;
        }
      }
    });
  }
  // A load runs at the same time and appends its own entry.
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_OK(LoadRows(*store, "x", 100, 1.0, "2024-01-01"));
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_OK_AND_ASSIGN(AuditVerification v, VerifyAuditChain(store->metadata()));
  EXPECT_EQ(v.entries, kWriters * kEach + 1);
}

TEST_F(PgStoreTest, TwoLoadsAtOnceAreSerialisedAndBothLand) {
  ASSERT_OK_AND_ASSIGN(auto a, Open());
  ASSERT_OK_AND_ASSIGN(auto b, Open());
  Status sa, sb;
  std::thread ta([&] { sa = LoadRows(*a, "s", 2000, 1.0, "2024-01-01"); });
  std::thread tb([&] { sb = LoadRows(*b, "s", 2000, 2.0, "2024-02-01"); });
  ta.join();
  tb.join();
  ASSERT_OK(sa);
  ASSERT_OK(sb);
  ASSERT_OK_AND_ASSIGN(auto vintages, a->series().ListVintages("s"));
  EXPECT_EQ(vintages.size(), 2u);
  ASSERT_OK_AND_ASSIGN(TimeSeries jan, a->series().ReadAsOf("s", *Date::Parse("2024-01-20")));
  ASSERT_OK_AND_ASSIGN(TimeSeries feb, a->series().ReadAsOf("s", std::nullopt));
  EXPECT_DOUBLE_EQ(jan.values()[10], 1.0 + 10 * 0.25);
  EXPECT_DOUBLE_EQ(feb.values()[10], 2.0 + 10 * 0.25);
}

TEST_F(PgStoreTest, NulBytesInMetadataTextAreRefusedAndChangeNothing) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_OK_AND_ASSIGN(auto head_before, store->metadata().AuditHead());
  Status s = store->metadata().Run([&](MetadataTxn& t) -> Status {
    RegisteredModelRecord m;
    m.name = "gdp";
    m.owner = "alice";
    m.description = std::string("a\0b", 3);
    m.created_by = "alice";
    return t.InsertModel(m);
  });
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument, "NUL byte"));
  ASSERT_OK_AND_ASSIGN(auto head_after, store->metadata().AuditHead());
  EXPECT_EQ(head_before, head_after);
  Status get = store->metadata().Run([](MetadataTxn& t) { return t.GetModel("gdp").status(); });
  EXPECT_THAT(get, StatusIs(StatusCode::kNotFound));
}

TEST_F(PgStoreTest, ServerRestartIsSurvivedByReadsAndTransactions) {
  // A server of its own: it is stopped and started again.
  auto launched = PgTestServer::LaunchPrivate();
  if (!launched.ok()) {
    const char* req = std::getenv("ALMANAC_REQUIRE_POSTGRES");
    if (req != nullptr && std::string(req) == "1") FAIL() << launched.status().ToString();
    GTEST_SKIP() << "cannot run a private PostgreSQL server: " << launched.status().ToString();
  }
  std::unique_ptr<PgTestServer> own = std::move(*launched);
  server_ = own.get();
  ASSERT_OK_AND_ASSIGN(uri_, own->NewDatabase());
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_OK(LoadRows(*store, "r", 10, 1.0, "2024-01-01"));
  ASSERT_OK(store->series().ReadAsOf("r", std::nullopt).status());  // pooled connections exist now
  ASSERT_OK(server_->Stop());
  auto down = store->series().ReadAsOf("r", std::nullopt);
  EXPECT_THAT(down, StatusIs(StatusCode::kUnavailable));
  ASSERT_OK(server_->Start());
  // Dead pooled connections are discarded and replaced.
  ASSERT_OK_AND_ASSIGN(TimeSeries ts, store->series().ReadAsOf("r", std::nullopt));
  EXPECT_EQ(ts.size(), 10);
  ASSERT_OK(store->metadata().Run([](MetadataTxn& t) {
    return t.Audit({"t", "after.restart", "test", "1", Json::object()}).status();
  }));
  ASSERT_OK(LoadRows(*store, "r", 11, 1.0, "2024-03-01"));
  ASSERT_OK_AND_ASSIGN(AuditVerification v, VerifyAuditChain(store->metadata()));
  EXPECT_EQ(v.entries, 3);
}

// A connection lost during COMMIT (RunTransaction's one path that must not retry: the
// server may have committed). A deferred constraint trigger makes the server end the session
// while COMMIT runs; the transaction is neither retried nor reported as done.
TEST_F(PgStoreTest, ConnectionLostDuringCommitIsReportedAsUnknownOutcomeAndNotRetried) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  {
    ASSERT_OK_AND_ASSIGN(auto conn, pg::Conn::Connect(uri_, {}));
    ASSERT_OK(conn->Exec(
        "CREATE FUNCTION test_end_session() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$; "
        "CREATE CONSTRAINT TRIGGER test_end_session_at_commit AFTER INSERT ON runs DEFERRABLE INITIALLY DEFERRED "
        "FOR EACH ROW WHEN (NEW.experiment = 'end-session-at-commit') EXECUTE FUNCTION test_end_session()"));
  }
  int attempts = 0;
  Status s = store->metadata().Run([&](MetadataTxn& t) -> Status {
    ++attempts;
    RunRecord r;
    r.id = "r1";
    r.experiment = "end-session-at-commit";
    return t.InsertRun(r);  // succeeds: the trigger fires at COMMIT
  });
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable, "lost while committing; the outcome of the transaction is unknown"));
  EXPECT_EQ(attempts, 1);
  // The broken connection was discarded: the next transactions run on a fresh one.
  Status get = store->metadata().Run([](MetadataTxn& t) { return t.GetRun("r1").status(); });
  EXPECT_THAT(get, StatusIs(StatusCode::kNotFound));  // the session ended before the commit completed
  ASSERT_OK(store->metadata().Run([](MetadataTxn& t) {
    RunRecord r;
    r.id = "r2";
    r.experiment = "exp";
    return t.InsertRun(r);
  }));
}

TEST_F(PgStoreTest, ArtifactsInTheDatabaseAreImmutableAndVerified) {
  ASSERT_OK(Open().status());
  ASSERT_OK_AND_ASSIGN(auto artifacts, OpenArtifactStore(uri_));
  std::string big(3 * (1 << 20) + 17, '\0');  // several chunks, with NUL bytes
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) % 251);
  ASSERT_OK_AND_ASSIGN(ArtifactRecord rec, artifacts->Put("runs/r1/model.bin", big));
  EXPECT_EQ(rec.size, static_cast<int64_t>(big.size()));
  ASSERT_OK_AND_ASSIGN(std::string back, artifacts->Get("runs/r1/model.bin", rec.sha256));
  EXPECT_TRUE(back == big);
  EXPECT_OK(artifacts->Put("runs/r1/model.bin", big).status());  // idempotent
  EXPECT_THAT(artifacts->Put("runs/r1/model.bin", "other"), StatusIs(StatusCode::kAlreadyExists, "immutable"));
  EXPECT_THAT(artifacts->Get("runs/r1/none.bin", rec.sha256), StatusIs(StatusCode::kNotFound));
  for (const char* bad : {"../x", "/abs", "a/%2e%2e/b", "a//b", "a\\b"})
    EXPECT_THAT(artifacts->Put(bad, "x"), StatusIs(StatusCode::kInvalidArgument)) << bad;
  EXPECT_OK(artifacts->Put("empty", "").status());
  ASSERT_OK_AND_ASSIGN(std::string empty, artifacts->Get("empty", Sha256Hex("")));
  EXPECT_EQ(empty, "");
  // Altered in the database: detected on read.
  ASSERT_OK_AND_ASSIGN(auto conn, pg::Conn::Connect(uri_, {}));
  ASSERT_OK(conn->Exec("UPDATE artifact_chunks SET data = 'tampered'::bytea WHERE name = 'runs/r1/model.bin' AND seq = 1"));
  EXPECT_THAT(artifacts->Get("runs/r1/model.bin", rec.sha256), StatusIs(StatusCode::kDataLoss, "SHA-256"));
}

TEST_F(PgStoreTest, UriIsReportedWithoutThePassword) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  EXPECT_THAT(store->uri(), Not(HasSubstr(server_->password())));
  EXPECT_THAT(store->uri(), HasSubstr("***"));
}

// The connection pool of one process: a caller waits for a connection another returns, gets a
// clear Unavailable when none comes back in time, and a discarded connection is not reused.
TEST_F(PgStoreTest, ConnectionPoolHandsOverReturnedConnectionsAndTimesOutClearly) {
  pg::ConnectOptions o;
  o.connect_timeout_s = 1;
  pg::Pool pool(uri_, o, 1);
  auto backend_pid = [](pg::Pool::Lease& l) -> int64_t {
    auto r = l->Query("SELECT pg_backend_pid()");
    return r.ok() ? r->Int(0, 0) : -1;
  };
  ASSERT_OK_AND_ASSIGN(pg::Pool::Lease first, pool.Acquire());
  const int64_t pid = backend_pid(first);
  ASSERT_GT(pid, 0);
  std::optional<pg::Pool::Lease> held(std::move(first));

  // The only connection is out: Acquire waits for the timeout, then says why.
  const auto t0 = std::chrono::steady_clock::now();
  auto busy = pool.Acquire();
  EXPECT_THAT(busy.status(), StatusIs(StatusCode::kUnavailable, "connections of this process are busy"));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));

  // Returned while another caller waits: handed over, the same server session.
  std::thread releaser([&held] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    held.reset();
  });
  {
    auto waited = pool.Acquire();
    releaser.join();
    ASSERT_TRUE(waited.ok()) << waited.status().ToString();
    EXPECT_EQ(backend_pid(*waited), pid);
    // Discarded (e.g. after an error left it in doubt): the next caller gets a new session.
    waited->Discard();
  }
  ASSERT_OK_AND_ASSIGN(pg::Pool::Lease fresh, pool.Acquire());
  const int64_t new_pid = backend_pid(fresh);
  EXPECT_GT(new_pid, 0);
  EXPECT_NE(new_pid, pid);
}

TEST(PgConnTest, RedactsPasswordsInUrisAndKeyValueStrings) {
  EXPECT_EQ(pg::RedactConnInfo("postgresql://bob:s3cret@db:5432/almanac"), "postgresql://bob:***@db:5432/almanac");
  EXPECT_EQ(pg::RedactConnInfo("postgresql://db/almanac?user=x&password=s3cret&sslmode=require"),
            "postgresql://db/almanac?user=x&password=***&sslmode=require");
  EXPECT_EQ(pg::RedactConnInfo("host=db password='a b\\'c' user=x"), "host=db password=*** user=x");
  EXPECT_EQ(pg::RedactConnInfo("postgresql://bob@db/almanac"), "postgresql://bob@db/almanac");
}

}  // namespace
}  // namespace almanac::store

#endif  // ALMANAC_WITH_POSTGRES
