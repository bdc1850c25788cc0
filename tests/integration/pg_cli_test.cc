// The CLI against a shared PostgreSQL store: the whole workflow without a workspace folder
// (artifacts in the database), `almanac migrate` from SQLite with verification, identical
// snapshot ids on both back-ends, clear errors for bad connection strings, and the audit log
// anchored outside the database (issue 19).
#ifdef ALMANAC_WITH_POSTGRES

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "almanac/store.h"
#include "integration/audit_forgery.h"
#include "integration/cli_runner.h"
#include "integration/http_client.h"
#include "store/postgres/pg_conn.h"
#include "store/testing/pg_server.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSrc = ALMANAC_SOURCE_DIR;

class PgCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ALMANAC_REQUIRE_PG_SERVER();
    auto uri = store::testing::PgTestServer::Get()->NewDatabase();
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    uri_ = *uri;
  }
  CommandResult Pg(std::vector<std::string> args, const std::string& user = "alice") {
    args.insert(args.begin(), {"--store", uri_, "--user", user});
    return RunAlmanac(args);
  }
  CommandResult Lite(std::vector<std::string> args, const std::string& user = "alice") {
    args.insert(args.begin(), {"--workspace", dir_ / "ws", "--user", user});
    return RunAlmanac(args);
  }
  static std::string RunId(const std::string& out) {
    const size_t at = out.find("\nrun r");
    return at == std::string::npos ? "" : out.substr(at + 5, 17);
  }
  int64_t Count(const std::string& sql) {
    auto conn = store::pg::Conn::Connect(uri_, {});
    if (!conn.ok()) return -1;
    auto r = (*conn)->Query(sql);
    return r.ok() ? r->Int(0, 0) : -1;
  }

  TempDir dir_;
  std::string uri_;
};

TEST_F(PgCliTest, WholeWorkflowRunsOnASharedStoreWithoutAFolder) {
  auto init = Pg({"init"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_THAT(init.out, HasSubstr("***"));  // the password is not echoed
  EXPECT_THAT(init.out, Not(HasSubstr(store::testing::PgTestServer::Get()->password())));
  auto ing = Pg({"ingest", kSrc + "/examples/data/us_macro_quarterly.csv", "--metadata",
                 kSrc + "/examples/data/us_macro_quarterly.meta.yaml", "--realtime-start", "2009-12-15"});
  ASSERT_EQ(ing.exit_code, 0) << ing.err;
  auto run = Pg({"run", kSrc + "/examples/pipelines/us_gdp_growth.yaml"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string id = RunId(run.out);
  ASSERT_FALSE(id.empty()) << run.out;
  // Four eyes across users, then reproduction from the artifacts stored in the database.
  auto approve = Pg({"models", "approve", "us-gdp-growth@1"}, "bob");
  EXPECT_EQ(approve.exit_code, 0) << approve.out << approve.err;
  auto rep = Pg({"reproduce", id}, "auditor");
  EXPECT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  EXPECT_THAT(rep.out, HasSubstr("every artifact is byte-identical"));
  EXPECT_GT(Count("SELECT count(*) FROM artifacts"), 0);
  auto verify = Pg({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("intact"));
  // Nothing was written to the current directory or a default workspace folder.
  EXPECT_FALSE(std::filesystem::exists("almanac-workspace"));
}

TEST_F(PgCliTest, SnapshotIdsMatchTheSqliteWorkspace) {
  ASSERT_EQ(Pg({"init"}).exit_code, 0);
  ASSERT_EQ(Lite({"init"}).exit_code, 0);
  const std::vector<std::string> ingest = {"ingest", kSrc + "/examples/data/us_macro_quarterly.csv", "--realtime-start",
                                           "2009-12-15"};
  ASSERT_EQ(Pg(ingest).exit_code, 0);
  ASSERT_EQ(Lite(ingest).exit_code, 0);
  auto a = Pg({"--format", "json", "snapshot", "create", "s1", "--as-of", "2010-01-01"});
  auto b = Lite({"--format", "json", "snapshot", "create", "s1", "--as-of", "2010-01-01"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto ja = almanac::ParseJson(a.out), jb = almanac::ParseJson(b.out);
  ASSERT_TRUE(ja.ok() && jb.ok()) << a.out << b.out;
  auto id = [](const almanac::Json& j) { return j.is_array() ? j[0].value("id", "") : j.value("id", ""); };
  EXPECT_FALSE(id(*ja).empty()) << a.out;
  EXPECT_EQ(id(*ja), id(*jb));
}

TEST_F(PgCliTest, MigrateCopiesAWorkspaceAndVerifiesIt) {
  ASSERT_EQ(Lite({"init"}).exit_code, 0);
  ASSERT_EQ(Lite({"ingest", kSrc + "/examples/data/us_macro_quarterly.csv", "--metadata",
                  kSrc + "/examples/data/us_macro_quarterly.meta.yaml", "--realtime-start", "2009-12-15"})
                .exit_code,
            0);
  // A revision, so that vintages matter.
  WriteFile(dir_ / "rev.csv", "key,period,value\nus:realgdp,2009Q3,12990.5\n");
  ASSERT_EQ(Lite({"ingest", dir_ / "rev.csv", "--realtime-start", "2010-01-29"}).exit_code, 0);
  ASSERT_EQ(Lite({"snapshot", "create", "before-rev", "--as-of", "2010-01-01"}).exit_code, 0);
  auto run = Lite({"run", kSrc + "/examples/pipelines/us_gdp_growth.yaml"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string id = RunId(run.out);
  ASSERT_EQ(Lite({"tokens", "create", "--role", "viewer", "--user", "carol"}).exit_code, 0);
  auto head = Lite({"--format", "json", "audit", "verify"});
  ASSERT_EQ(head.exit_code, 0) << head.err;

  auto m = RunAlmanac({"migrate", "--from", dir_ / "ws", "--to", uri_});
  ASSERT_EQ(m.exit_code, 0) << m.out << m.err;
  EXPECT_THAT(m.out, HasSubstr("verified: row counts, audit chain"));
  // The same audit head, history and data on the destination.
  auto head_pg = Pg({"--format", "json", "audit", "verify"});
  ASSERT_EQ(head_pg.exit_code, 0) << head_pg.err;
  EXPECT_EQ(head_pg.out, head.out);
  for (const std::vector<std::string>& q :
       {std::vector<std::string>{"--format", "csv", "series", "vintages", "us:realgdp"},
        std::vector<std::string>{"--format", "csv", "series", "show", "us:realgdp", "--as-of", "2010-01-01"},
        std::vector<std::string>{"--format", "csv", "snapshot", "list"},
        std::vector<std::string>{"--format", "csv", "runs", "show", id},
        std::vector<std::string>{"--format", "csv", "models", "versions", "us-gdp-growth"}}) {
    auto x = Lite(q), y = Pg(q);
    EXPECT_EQ(x.exit_code, 0) << x.err;
    EXPECT_EQ(x.out, y.out) << q[3];
  }
  // Artifacts came along: the run reproduces on PostgreSQL.
  auto rep = Pg({"reproduce", id}, "auditor");
  EXPECT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  // New ids continue after the copied ones.
  WriteFile(dir_ / "rev2.csv", "key,period,value\nus:realgdp,2009Q3,12991.0\n");
  EXPECT_EQ(Pg({"ingest", dir_ / "rev2.csv", "--realtime-start", "2010-02-26"}).exit_code, 0);
  EXPECT_EQ(Pg({"audit", "verify"}).exit_code, 0);

  // Migrating again into the (now non-empty) store is refused and changes nothing.
  const int64_t series_rows = Count("SELECT count(*) FROM vintages");
  auto again = RunAlmanac({"migrate", "--from", dir_ / "ws", "--to", uri_});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("not empty"));
  EXPECT_EQ(Count("SELECT count(*) FROM vintages"), series_rows);
}

TEST_F(PgCliTest, MigrateRefusesATamperedAuditLogAndCopiesNothing) {
  ASSERT_EQ(Lite({"init"}).exit_code, 0);
  ASSERT_EQ(Lite({"ingest", kSrc + "/examples/data/us_macro_quarterly.csv", "--realtime-start", "2009-12-15"}).exit_code, 0);
  ASSERT_EQ(std::system(("sqlite3 '" + (dir_ / "ws") + "/almanac.db' \"UPDATE audit_log SET actor = 'mallory' WHERE seq = 1\"").c_str()), 0);
  auto m = RunAlmanac({"migrate", "--from", dir_ / "ws", "--to", uri_});
  EXPECT_EQ(m.exit_code, 1);
  EXPECT_THAT(m.err, HasSubstr("audit log does not verify"));
  EXPECT_EQ(Count("SELECT count(*) FROM information_schema.tables WHERE table_name = 'series'"), 0);
}

// SQLite stores text with NUL bytes that PostgreSQL text cannot hold (almanac refuses them on
// every write, but a workspace edited by hand may have one): the copy stops with the table,
// row and column, and rolls back.
TEST_F(PgCliTest, MigrateRefusesATextValueWithANulByteAndCopiesNothing) {
  ASSERT_EQ(Lite({"init"}).exit_code, 0);
  ASSERT_EQ(Lite({"ingest", kSrc + "/examples/data/us_macro_quarterly.csv", "--realtime-start", "2009-12-15"}).exit_code, 0);
  ASSERT_EQ(std::system(("sqlite3 '" + (dir_ / "ws") +
                         "/almanac.db' \"UPDATE series SET title = 'Real' || char(0) || 'GDP' WHERE key = 'us:realgdp'\"")
                            .c_str()),
            0);
  auto m = RunAlmanac({"migrate", "--from", dir_ / "ws", "--to", uri_});
  EXPECT_EQ(m.exit_code, 1) << m.out << m.err;
  EXPECT_THAT(m.err, HasSubstr("NUL byte"));
  EXPECT_THAT(m.err, HasSubstr("column title"));
  EXPECT_THAT(m.err, HasSubstr("nothing was migrated"));
  EXPECT_EQ(Count("SELECT count(*) FROM series"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log"), 0);
}

TEST_F(PgCliTest, BadConnectionStringsFailClearlyWithoutSecrets) {
  std::string bad = uri_;
  const std::string pw = store::testing::PgTestServer::Get()->password();
  bad.replace(bad.find(pw), pw.size(), "not-the-password");
  auto r = RunAlmanac({"--store", bad, "series", "list"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("password authentication failed"));
  EXPECT_THAT(r.err, Not(HasSubstr("not-the-password")));
  auto unreachable = RunAlmanac({"--store", "postgresql://x:y@127.0.0.1:1/db?connect_timeout=2", "series", "list"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_THAT(unreachable.err, HasSubstr("cannot connect to postgresql://x:***@127.0.0.1:1/db"));
  auto no_schema = RunAlmanac({"--store", uri_, "series", "list"});
  EXPECT_EQ(no_schema.exit_code, 1);
  EXPECT_THAT(no_schema.err, HasSubstr("almanac init"));
  auto migrate_bad = RunAlmanac({"migrate", "--from", dir_ / "nothing", "--to", uri_});
  EXPECT_EQ(migrate_bad.exit_code, 1);
  EXPECT_THAT(migrate_bad.err, HasSubstr("no SQLite almanac store"));
  auto migrate_to_sqlite = RunAlmanac({"migrate", "--from", dir_ / "nothing", "--to", "sqlite:/tmp/x.db"});
  EXPECT_EQ(migrate_to_sqlite.exit_code, 1);
  EXPECT_THAT(migrate_to_sqlite.err, HasSubstr("postgresql://"));
}

TEST_F(PgCliTest, ServeLearnsOfNewTokensAtOnceThroughNotifications) {
  ASSERT_EQ(Pg({"init"}).exit_code, 0);
  ASSERT_EQ(Pg({"ingest", kSrc + "/examples/data/us_macro_quarterly.csv", "--realtime-start", "2009-12-15"}).exit_code, 0);
  // Polling every 120 s: only a notification can make the server see the token in time.
  const std::string log = dir_ / "serve.log";
  const pid_t pid = StartAlmanac({"--store", uri_, "serve", "--listen", "127.0.0.1:0", "--poll-seconds", "120"}, log);
  int port = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  static const std::regex kListening(R"(listening on https?://127\.0\.0\.1:(\d+))");
  while (port == 0 && std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    const std::string text = ReadFile(log);
    if (std::regex_search(text, m, kListening)) port = std::stoi(m[1]);
    else std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(port, 0) << ReadFile(log);
  auto created = Pg({"--format", "json", "tokens", "create", "--role", "viewer", "--user", "erin"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto j = almanac::ParseJson(created.out);
  ASSERT_TRUE(j.ok()) << created.out;
  const std::string token = j->is_array() ? (*j)[0].value("token", "") : j->value("token", "");
  ASSERT_FALSE(token.empty()) << created.out;
  int status = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    HttpConnection c(port);
    status = c.Request("GET", "/v1/series", "", token).status;
    if (status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 200) << ReadFile(log);
  EXPECT_THAT(ReadFile(log), HasSubstr("watching the store for changes"));
  ::kill(pid, SIGTERM);
  int ws = 0;
  ::waitpid(pid, &ws, 0);
  EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << ReadFile(log);
}

TEST_F(PgCliTest, ConfigFileNamesTheStore) {
  WriteFile(dir_ / "almanac.toml", "store = \"" + uri_ + "\"\nuser = \"dora\"\n");
  auto init = RunAlmanac({"--config", dir_ / "almanac.toml", "init"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto ing = RunAlmanac({"ingest", kSrc + "/examples/data/us_macro_quarterly.csv", "--realtime-start", "2009-12-15"}, "",
                        {"ALMANAC_CONFIG=" + (dir_ / "almanac.toml")});
  ASSERT_EQ(ing.exit_code, 0) << ing.err;
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE actor = 'dora' AND action = 'ingest'"), 1);
}

// The task queue on a shared PostgreSQL store: a worker SIGKILLed in the middle of a task loses
// its lease, another worker re-runs the task once, the dead attempt's run is marked killed, and
// the registry has exactly one version; then several workers race on copies of the same
// pipeline and still create no second version (the package is the same).
TEST_F(PgCliTest, AKilledWorkersTaskIsRerunOnceWithExactlyOneRegistryVersion) {
  ASSERT_EQ(Pg({"init"}).exit_code, 0);
  ASSERT_EQ(Pg({"ingest", kSrc + "/examples/data/us_macro_quarterly.csv", "--metadata",
                kSrc + "/examples/data/us_macro_quarterly.meta.yaml", "--realtime-start", "2009-12-15"})
                .exit_code,
            0);
  // The example pipeline with a longer backtest, so the kill surely lands mid-run.
  std::string yaml = ReadFile(kSrc + "/examples/pipelines/us_gdp_growth.yaml");
  ASSERT_NE(yaml.find("origins: 12"), std::string::npos);
  yaml.replace(yaml.find("origins: 12"), 11, "origins: 40");
  const std::string pipeline = dir_ / "gdp.yaml";
  WriteFile(pipeline, yaml);
  auto submitted = Pg({"--format", "csv", "submit", pipeline, "--key", "job-1"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  EXPECT_THAT(submitted.out, HasSubstr("1,us-gdp-growth,"));
  auto again = Pg({"submit", pipeline, "--key", "job-1"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("already submitted with key 'job-1'"));

  // Worker A claims the task; it is killed as soon as its run has started.
  const std::string log_a = dir_ / "worker_a.log";
  const pid_t a = StartAlmanac({"--store", uri_, "worker", "--lease-seconds", "2", "--heartbeat-seconds", "0.5", "--poll-ms", "20"},
                               log_a);
  bool started = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!started && std::chrono::steady_clock::now() < deadline) {
    started = ReadFile(log_a).find(" of pipeline us-gdp-growth") != std::string::npos;
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(a, SIGKILL);
  int ws = 0;
  ::waitpid(a, &ws, 0);
  ASSERT_TRUE(started) << ReadFile(log_a);
  ASSERT_THAT(ReadFile(log_a), Not(HasSubstr("task 1: done"))) << "the run finished before the kill";
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE state = 'running' AND attempts = 1"), 1);

  // Worker B waits out A's lease, re-runs the task and stops after it (--max-tasks 1).
  auto b = Pg({"--format", "csv", "worker", "--lease-seconds", "2", "--heartbeat-seconds", "0.5", "--poll-ms", "50",
               "--max-tasks", "1"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_THAT(b.out, HasSubstr("1,us-gdp-growth,2,done,"));
  EXPECT_THAT(b.err, HasSubstr("marked 1 run(s) of an earlier attempt as killed"));
  EXPECT_EQ(Count("SELECT count(*) FROM model_versions WHERE model = 'us-gdp-growth'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE status = 'killed'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE status = 'finished'"), 1);
  auto shown = Pg({"--format", "json", "tasks", "show", "1"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("\"state\": \"done\""));
  EXPECT_THAT(shown.out, HasSubstr("\"version\": 1"));

  // Four copies of the same work (new keys), two worker processes with two slots each: every
  // task is done once and the identical package makes no new version.
  for (int i = 2; i <= 5; ++i) ASSERT_EQ(Pg({"submit", pipeline, "--key", "job-" + std::to_string(i)}).exit_code, 0);
  const std::vector<std::string> worker = {"--store", uri_, "worker", "--concurrency", "2", "--threads", "1",
                                           "--poll-ms", "20", "--lease-seconds", "60"};
  const pid_t w1 = StartAlmanac(worker, dir_ / "w1.log");
  const pid_t w2 = StartAlmanac(worker, dir_ / "w2.log");
  // Waits for every task to be done, then stops both workers (SIGTERM: finish and exit 0).
  const auto done_by = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (Count("SELECT count(*) FROM tasks WHERE state = 'done'") < 5 && std::chrono::steady_clock::now() < done_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (pid_t w : {w1, w2}) ::kill(w, SIGTERM);
  for (pid_t w : {w1, w2}) {
    int st = 0;
    ::waitpid(w, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << ReadFile(dir_ / "w1.log") << ReadFile(dir_ / "w2.log");
  }
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE state = 'done'"), 5);
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE attempts <> 1 AND id > 1"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM model_versions WHERE model = 'us-gdp-growth'"), 1);
  auto verify = Pg({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
}

// PostgreSQL restarts while a worker runs queued pipelines: the worker backs off, reconnects and
// every task ends done (a run cut by the restart fails and is retried), with one version.
TEST_F(PgCliTest, WorkersSurviveAServerRestart) {
  auto launched = store::testing::PgTestServer::LaunchPrivate();
  if (!launched.ok()) {
    const char* req = std::getenv("ALMANAC_REQUIRE_POSTGRES");
    if (req != nullptr && std::string(req) == "1") FAIL() << launched.status().ToString();
    GTEST_SKIP() << "cannot run a private PostgreSQL server: " << launched.status().ToString();
  }
  std::unique_ptr<store::testing::PgTestServer> own = std::move(*launched);
  auto uri = own->NewDatabase();
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  uri_ = *uri;
  ASSERT_EQ(Pg({"init"}).exit_code, 0);
  ASSERT_EQ(Pg({"ingest", kSrc + "/examples/data/us_macro_quarterly.csv", "--realtime-start", "2009-12-15"}).exit_code, 0);
  const std::string pipeline = kSrc + "/examples/pipelines/us_inflation.yaml";
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Pg({"submit", pipeline, "--key", "k" + std::to_string(i)}).exit_code, 0);
  const std::string log = dir_ / "worker.log";
  const pid_t w = StartAlmanac({"--store", uri_, "worker", "--poll-ms", "50", "--lease-seconds", "3",
                                "--heartbeat-seconds", "1", "--retry-base-ms", "200"},
                               log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (ReadFile(log).find("attempt 1 of 3") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(own->Stop().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_TRUE(own->Start().ok());
  // Waits for the event (every task done) instead of an idle timeout, then stops the worker.
  const auto done_by = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (Count("SELECT count(*) FROM tasks WHERE state = 'done'") < 4 && std::chrono::steady_clock::now() < done_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::kill(w, SIGTERM);
  int st = 0;
  ::waitpid(w, &st, 0);
  const std::string text = ReadFile(log);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << text;
  // The restart was felt (a run or a claim failed) and overcome.
  EXPECT_THAT(text, ::testing::ContainsRegex("attempt 2 of 3|claiming a task failed")) << text;
  EXPECT_EQ(Count("SELECT count(*) FROM tasks WHERE state = 'done'"), 4) << text;
  EXPECT_EQ(Count("SELECT count(*) FROM model_versions"), 1) << text;
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE status = 'running'"), 0) << text;
  EXPECT_EQ(Pg({"audit", "verify"}).exit_code, 0);
}


// Issue 19: on a shared store the CLI acts as its PostgreSQL role (current_user), mapped
// through the store users; --user names another user only for an admin.
TEST_F(PgCliTest, ActsAsItsDatabaseRoleMappedThroughStoreUsers) {
  ASSERT_EQ(Pg({"init"}).exit_code, 0);  // as the superuser of the URI: the store's first admin
  auto conn = store::pg::Conn::Connect(uri_, {});
  ASSERT_TRUE(conn.ok());
  // Roles are the server's, shared by every database: unique names per test.
  const std::string db = uri_.substr(uri_.rfind('/') + 1);
  const std::string alice = "alice_" + db, bob = "bob_" + db;
  for (const std::string& role : {alice, bob}) {
    ASSERT_TRUE((*conn)->Exec("CREATE ROLE " + role + " LOGIN PASSWORD 'pw-" + role + "'").ok());
    ASSERT_TRUE((*conn)->Exec("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + role).ok());
    ASSERT_TRUE((*conn)->Exec("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO " + role).ok());
  }
  const size_t at = uri_.find('@'), scheme = uri_.find("//");
  ASSERT_NE(at, std::string::npos);
  auto as_role = [&](const std::string& role, std::vector<std::string> args) {
    const std::string uri = uri_.substr(0, scheme + 2) + role + ":pw-" + role + uri_.substr(at);
    args.insert(args.begin(), {"--store", uri});
    return RunAlmanacAs("", args, {"ALMANAC_USER="});
  };
  auto who = as_role(alice, {"--format", "json", "whoami"});
  ASSERT_EQ(who.exit_code, 0) << who.err;
  EXPECT_EQ(Json::parse(who.out)["user"], alice);
  EXPECT_EQ(Json::parse(who.out)["authenticated_by"], "PostgreSQL role");
  EXPECT_EQ(Json::parse(who.out)["admin"], false);
  // alice's role cannot act as bob, nor make itself an admin.
  auto as_bob = as_role(alice, {"--user", bob, "tokens", "create", "--role", "viewer", "--user", bob});
  EXPECT_EQ(as_bob.exit_code, 1);
  EXPECT_THAT(as_bob.err, HasSubstr("PostgreSQL role " + alice));
  EXPECT_EQ(as_role(alice, {"users", "grant", alice, "--admin"}).exit_code, 1);
  // The admin maps the role to a user name; its writes are then audited under that name.
  ASSERT_EQ(Pg({"users", "grant", alice, "--as", "alice"}).exit_code, 0);
  auto mapped = as_role(alice, {"--format", "json", "whoami"});
  EXPECT_EQ(Json::parse(mapped.out)["user"], "alice");
  auto t = as_role(alice, {"tokens", "create", "--role", "viewer", "--user", "alice"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(Count("SELECT count(*) FROM audit_log WHERE action = 'token.create' AND actor = 'alice' AND details NOT LIKE "
                  "'%authenticated_as%'"),
            1);
  EXPECT_EQ(as_role(bob, {"tokens", "create", "--role", "viewer", "--user", "alice"}).exit_code, 1);

  // A role whose name is not a user name ('@') is refused with the way out: a mapping.
  const std::string jane = "jane@" + db;
  ASSERT_TRUE((*conn)->Exec("CREATE ROLE \"" + jane + "\" LOGIN PASSWORD 'pw-j'").ok());
  ASSERT_TRUE((*conn)->Exec("GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"" + jane + "\"").ok());
  auto as_jane = [&](std::vector<std::string> args) {
    const std::string uri = uri_.substr(0, scheme + 2) + "jane%40" + db + ":pw-j" + uri_.substr(at);
    args.insert(args.begin(), {"--store", uri});
    return RunAlmanacAs("", args, {"ALMANAC_USER="});
  };
  auto unmapped = as_jane({"whoami"});
  EXPECT_EQ(unmapped.exit_code, 1);
  EXPECT_THAT(unmapped.err, HasSubstr("almanac users grant PRINCIPAL --as NAME"));
  ASSERT_EQ(Pg({"users", "grant", jane, "--as", "jane"}).exit_code, 0);
  auto mapped_jane = as_jane({"--format", "json", "whoami"});
  ASSERT_EQ(mapped_jane.exit_code, 0) << mapped_jane.err;
  EXPECT_EQ(Json::parse(mapped_jane.out)["user"], "jane");
}
// Issue 19 on PostgreSQL: whoever can write the database edits an audit entry and recomputes
// every later hash and the head; `audit verify` passes, the signed anchors name the entry.
TEST_F(PgCliTest, Issue19AnEditWithTheChainRecomputedPassesVerifyButNotTheAnchors) {
  const std::string key = dir_ / "audit.pem", pub = dir_ / "audit.pub.pem", anchors = dir_ / "audit.anchors";
  ASSERT_EQ(Pg({"init"}).exit_code, 0);
  ASSERT_EQ(RunAlmanac({"audit", "keygen", "--out", key}).exit_code, 0);
  // Automatic anchoring after each write, as a production deployment would run.
  const std::vector<std::string> anchored = {"--audit-key", key, "--audit-anchors", anchors};
  auto with_anchoring = [&](std::vector<std::string> args) {
    args.insert(args.begin(), anchored.begin(), anchored.end());
    return Pg(args);
  };
  auto ingest = with_anchoring({"ingest", kSrc + "/examples/data/us_macro_quarterly.csv", "--realtime-start", "2009-12-15"});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  ASSERT_EQ(with_anchoring({"tokens", "create", "--role", "admin", "--user", "mallory"}).exit_code, 0);
  ASSERT_EQ(with_anchoring({"tokens", "create", "--role", "viewer", "--user", "bob"}).exit_code, 0);
  auto before = Pg({"--format", "json", "audit", "verify", "--anchors", anchors, "--public-key", pub});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  const Json verified = Json::parse(before.out);
  EXPECT_EQ(verified["anchored_through"], 4);  // init's admin grant, then the three writes
  EXPECT_EQ(verified["anchor_lines"], 3);     // one per write (the first also covers init's entry)

  {
    auto st = store::OpenStore(uri_, store::StoreOptions{});
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    auto forged = ForgeAuditEntry((*st)->metadata(), 3, [](store::AuditEntry& e) { e.event.details["role"] = "viewer"; });
    ASSERT_TRUE(forged.ok()) << forged.status().ToString();
    auto conn = store::pg::Conn::Connect(uri_, {});
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    for (const auto& e : forged->rewritten) {
      auto r = (*conn)->Query("UPDATE audit_log SET details = $1, prev_hash = $2, hash = $3 WHERE seq = $4",
                              store::pg::Params().Add(CompactJson(e.event.details)).Add(e.prev_hash).Add(e.hash).Add(e.seq));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
    auto head = (*conn)->Query("UPDATE audit_head SET hash = $1", store::pg::Params().Add(forged->head_hash));
    ASSERT_TRUE(head.ok()) << head.status().ToString();
  }

  auto plain = Pg({"audit", "verify"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;  // the attack works on the in-store chain alone
  EXPECT_THAT(plain.out, HasSubstr("intact"));
  auto checked = Pg({"audit", "verify", "--anchors", anchors, "--public-key", pub});
  EXPECT_EQ(checked.exit_code, 1);
  EXPECT_THAT(checked.err, HasSubstr("entry 3 differs from what was anchored"));
  EXPECT_THAT(checked.err, HasSubstr("token.create by alice on token tok_"));
  EXPECT_THAT(checked.err, HasSubstr(anchors + " line 2"));
  // The next write's anchor is refused (the command's write is committed, and it says so).
  auto next = with_anchoring({"tokens", "create", "--role", "viewer", "--user", "carol"});
  EXPECT_EQ(next.exit_code, 3);
  EXPECT_THAT(next.err, HasSubstr("the audit anchor was not written: audit log: entry 4"));
}

}  // namespace
}  // namespace almanac::testing

#endif  // ALMANAC_WITH_POSTGRES
