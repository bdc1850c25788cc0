// End-to-end tests of pipelines, tracking, the registry and the audit log through the CLI.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "integration/cli_runner.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSrc = ALMANAC_SOURCE_DIR;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class PipelineCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = dir_ / "ws";
    ASSERT_EQ(Run({"init"}).exit_code, 0);
    auto r = Run({"ingest", kSrc + "/examples/data/us_macro_quarterly.csv", "--metadata",
                  kSrc + "/examples/data/us_macro_quarterly.meta.yaml", "--realtime-start", "2009-12-15"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CommandResult Run(std::vector<std::string> args, const std::string& user = "alice") {
    args.insert(args.begin(), {"--workspace", ws_, "--user", user});
    return RunAlmanac(args);
  }
  std::string RunId(const std::string& out) {
    const size_t at = out.find("\nrun r");
    return at == std::string::npos ? "" : out.substr(at + 5, 17);
  }
  TempDir dir_;
  std::string ws_;
};

TEST_F(PipelineCliTest, EveryExamplePipelineReproducesByteForByte) {
  for (const char* p : {"us_gdp_growth.yaml", "us_inflation.yaml"}) {
    auto r = Run({"run", kSrc + "/examples/pipelines/" + p});
    ASSERT_EQ(r.exit_code, 0) << p << ": " << r.err;
    const std::string id = RunId(r.out);
    ASSERT_FALSE(id.empty()) << r.out;
    auto rep = Run({"reproduce", id}, "auditor");
    EXPECT_EQ(rep.exit_code, 0) << p << ": " << rep.out << rep.err;
    EXPECT_THAT(rep.out, HasSubstr("every artifact is byte-identical")) << p;
    EXPECT_THAT(rep.out, Not(HasSubstr("false"))) << p;
  }
}

TEST_F(PipelineCliTest, SecondRunIsCachedAndRunsCompare) {
  const std::string p = kSrc + "/examples/pipelines/us_inflation.yaml";
  auto a = Run({"run", p});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto b = Run({"run", p, "--format", "csv"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_THAT(b.out, HasSubstr("train:ets,cached"));
  EXPECT_THAT(b.out, HasSubstr("evaluate:arima,cached"));
  auto forced = Run({"run", p, "--force", "--format", "csv"});
  EXPECT_THAT(forced.out, HasSubstr("train:ets,done"));
  auto list = Run({"runs", "list", "--format", "csv"});
  std::vector<std::string> ids;
  for (size_t at = list.out.find("\nr0"); at != std::string::npos; at = list.out.find("\nr0", at + 1))
    ids.push_back(list.out.substr(at + 1, 17));
  ASSERT_GE(ids.size(), 2u);
  auto cmp = Run({"runs", "compare", ids[0], ids[1], "--format", "csv"});
  EXPECT_EQ(cmp.exit_code, 0) << cmp.err;
  EXPECT_THAT(cmp.out, HasSubstr("metric,ets.mase,"));
  EXPECT_THAT(cmp.out, HasSubstr("param,model.ets,"));
  auto show = Run({"runs", "show", ids[0], "--format", "json"});
  EXPECT_THAT(show.out, HasSubstr("\"pipeline_sha256\""));
  EXPECT_THAT(show.out, HasSubstr("\"user\": \"alice\""));
}

TEST_F(PipelineCliTest, FourEyesLineageAndAudit) {
  auto r = Run({"run", kSrc + "/examples/pipelines/us_gdp_growth.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("waiting for approval"));
  auto self = Run({"models", "approve", "us-gdp-growth@1", "--reason", "mine"});
  EXPECT_EQ(self.exit_code, 1);
  EXPECT_THAT(self.err, HasSubstr("four-eyes"));
  EXPECT_EQ(Run({"models", "promote", "us-gdp-growth@9"}).exit_code, 1);
  EXPECT_EQ(Run({"models", "promote", "nope@1"}).exit_code, 1);
  auto ok = Run({"models", "approve", "us-gdp-growth@1", "--reason", "backtest reviewed"}, "bob");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  auto models = Run({"models", "list", "--format", "csv"});
  EXPECT_THAT(models.out, HasSubstr("us-gdp-growth,macro-forecasting,1,"));
  auto lineage = Run({"lineage", "us-gdp-growth@1"});
  ASSERT_EQ(lineage.exit_code, 0) << lineage.err;
  for (const char* part : {"1. data vintages", "us:realgdp vintage", "2. snapshot", "3. run", "4. artifacts", "package.json",
                           "5. version", "6. approvals", "approved by bob (backtest reviewed)", "model.approve"})
    EXPECT_THAT(lineage.out, HasSubstr(part));
  auto card = Run({"models", "card", "us-gdp-growth"});
  EXPECT_THAT(card.out, HasSubstr("purpose:"));
  auto exported = Run({"models", "export", "us-gdp-growth", "-o", dir_ / "pkg.json"});
  EXPECT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_THAT(ReadFile(dir_ / "pkg.json"), HasSubstr("\"format\":\"almanac-model-package\""));
  auto verify = Run({"audit", "verify"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("intact"));
  auto exported_log = Run({"audit", "export"});
  EXPECT_THAT(exported_log.out, HasSubstr("\"action\":\"model.approve\""));
  // An audit row edited directly in the database is found and named.
  ASSERT_EQ(std::system(("sqlite3 " + ws_ + "/almanac.db \"UPDATE audit_log SET actor = 'mallory' WHERE action = "
                         "'model.approve'\"").c_str()),
            0);
  auto broken = Run({"audit", "verify"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_THAT(broken.err, HasSubstr("was modified after it was written"));
}

TEST_F(PipelineCliTest, AlteredPackageIsDataLoss) {
  auto r = Run({"run", kSrc + "/examples/pipelines/us_inflation.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto versions = Run({"models", "versions", "us-inflation", "--format", "csv"});
  const size_t at = versions.out.rfind(",");
  const std::string sha = std::string(Trim(versions.out.substr(at + 1)));
  ASSERT_TRUE(IsSha256Hex(sha)) << versions.out;
  const std::string path = ws_ + "/artifacts/sha256/" + sha.substr(0, 2) + "/" + sha;
  WriteFile(path, ReadFile(path) + " ");
  auto e = Run({"models", "export", "us-inflation@1"});
  EXPECT_EQ(e.exit_code, 3);
  EXPECT_THAT(e.err, HasSubstr("was altered"));
}

TEST_F(PipelineCliTest, BadPipelineFilesAreRejectedWithFileAndLine) {
  const std::string bad = dir_ / "bad.yaml";
  WriteFile(bad, "name: x\ndata:\n  series: [us:realgdp]\ntarget: us:realgdp\nmodels:\n  - type: auto_etz\n");
  auto r = Run({"run", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("bad.yaml:6: models[0].type: unknown model type 'auto_etz' (did you mean 'auto_ets'?)"));
  auto v = Run({"validate", kSrc + "/examples/pipelines/us_gdp_growth.yaml", kSrc + "/examples/pipelines/us_inflation.yaml"});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  auto list = Run({"runs", "list", "--format", "csv"});
  EXPECT_THAT(list.out, Not(HasSubstr("\nr0")));  // nothing ran
}

TEST_F(PipelineCliTest, RunKilledHalfWayIsMarkedKilledAndRegistersNothing) {
  const std::string slow = dir_ / "slow.yaml";
  WriteFile(slow, "name: slow\ndata:\n  series: [us:realcons]\ntarget: us:realcons\nmodels:\n  - type: auto_arima\n"
                  "evaluation:\n  origins: 150\n  horizon: 4\nregister:\n  model: slow\n");
  const std::string err = dir_ / "err";
  pid_t pid = StartAlmanac({"--workspace", ws_, "--user", "alice", "run", slow, "--threads", "1"}, err);
  for (int i = 0; i < 600 && ReadFile(err).find("[train:auto_arima]") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_THAT(ReadFile(err), HasSubstr("[train:auto_arima]"));
  ASSERT_THAT(ReadFile(err), Not(HasSubstr("[register]"))) << "the run finished before it could be killed";
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  auto list = Run({"runs", "list", "--format", "csv"});
  EXPECT_THAT(list.out, HasSubstr(",slow,killed,"));
  auto versions = Run({"models", "versions", "slow"});
  EXPECT_EQ(versions.exit_code, 1);  // the model was never registered
  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
}

// The task queue on a SQLite workspace: submit, a worker that drains it, listings, and the
// user-reachable errors (bad files, bad ids, wrong states, missing reasons) leave the queue as it was.
TEST_F(PipelineCliTest, SubmitWorkerAndTasksCommands) {
  const std::string pipeline = kSrc + "/examples/pipelines/us_inflation.yaml";
  WriteFile(dir_ / "broken.yaml", "name: broken\nmodels: [[[\n");
  auto bad = Run({"submit", pipeline, dir_ / "broken.yaml"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("broken.yaml"));
  auto missing = Run({"submit", dir_ / "nope.yaml"});
  EXPECT_EQ(missing.exit_code, 1);
  auto empty = Run({"--format", "csv", "tasks", "list"});
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(empty.out.find('\n'), empty.out.size() - 1) << "a bad file in the batch queued nothing: " << empty.out;

  auto sub = Run({"--format", "csv", "submit", pipeline, pipeline});  // no key: two separate runs
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_THAT(sub.out, HasSubstr("1,us-inflation,"));
  EXPECT_THAT(sub.out, HasSubstr("2,us-inflation,"));
  auto cancel = Run({"tasks", "cancel", "2", "--reason", "duplicate'; DROP TABLE tasks; --"});
  ASSERT_EQ(cancel.exit_code, 0) << cancel.err;
  EXPECT_EQ(Run({"tasks", "cancel", "2", "--reason", "again"}).exit_code, 1);
  EXPECT_THAT(Run({"tasks", "cancel", "1", "--reason", " "}).err, HasSubstr("--reason must say why"));
  for (const char* id : {"abc", "0", "-3", "1.5", "99999999999999999999"}) {
    auto r = Run({"tasks", "show", id});
    EXPECT_EQ(r.exit_code, 1) << id;
    EXPECT_THAT(r.err, HasSubstr("not a task id")) << id;
  }
  EXPECT_EQ(Run({"tasks", "show", "42"}).exit_code, 1);
  EXPECT_THAT(Run({"tasks", "list", "--state", "sleeping"}).err, HasSubstr("sleeping"));
  EXPECT_THAT(Run({"worker", "--concurrency", "0"}).err, HasSubstr("--concurrency"));
  EXPECT_THAT(Run({"worker", "--lease-seconds", "2", "--heartbeat-seconds", "5"}).err, HasSubstr("shorter than the lease"));

  auto w = Run({"--format", "csv", "worker", "--poll-ms", "20", "--idle-exit", "0.5"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_THAT(w.out, HasSubstr("1,us-inflation,1,done,"));
  EXPECT_THAT(w.out, Not(HasSubstr("\n2,")));  // cancelled: never run
  auto failed = Run({"--format", "json", "tasks", "show", "2"});
  EXPECT_THAT(failed.out, HasSubstr("cancelled by alice: duplicate'; DROP TABLE tasks; --"));
  EXPECT_THAT(Run({"tasks", "retry", "1", "--reason", "why not"}).err, HasSubstr("only failed tasks"));
  ASSERT_EQ(Run({"tasks", "retry", "2", "--reason", "needed after all"}).exit_code, 0);
  auto w2 = Run({"--format", "csv", "worker", "--poll-ms", "20", "--idle-exit", "0.5"});
  ASSERT_EQ(w2.exit_code, 0) << w2.err;
  EXPECT_THAT(w2.out, HasSubstr("2,us-inflation,1,done,"));
  auto list = Run({"--format", "csv", "tasks", "list", "--state", "done"});
  EXPECT_THAT(list.out, HasSubstr("1,pipeline,us-inflation,done,1/3,"));
  EXPECT_THAT(list.out, HasSubstr("2,pipeline,us-inflation,done,1/3,"));
  auto audit = Run({"--format", "csv", "audit", "list"});
  EXPECT_THAT(audit.out, HasSubstr("task.cancel"));
  EXPECT_THAT(audit.out, HasSubstr("task.retry"));
  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
}

// `almanac run FILES --shard I/N`: the shards of a series set are disjoint, together cover it,
// and a Kubernetes Indexed Job's JOB_COMPLETION_INDEX selects the same share as --shard.
TEST_F(PipelineCliTest, ShardsSplitASeriesSetDeterministically) {
  std::vector<std::string> files;
  for (const char* key : {"us:realgdp", "us:realcons", "us:realinv", "us:realgovt", "us:realdpi", "us:cpi", "us:m1", "us:pop"}) {
    const std::string name = std::string(key).substr(3);
    const std::string f = dir_ / (name + ".yaml");
    WriteFile(f, "name: shard-" + name + "\ndata:\n  series: [" + key + "]\n  as_of: 2009-12-20\ntarget: " + key +
                     "\nhorizon: 2\nlevels: [80]\nmodels:\n  - name: n\n    type: naive\n"
                     "evaluation:\n  origins: 2\n  horizon: 1\n  metrics: [mae]\n  select_by: mae\n");
    files.push_back(f);
  }
  auto run_shard = [&](const std::string& shard, const std::vector<std::string>& env) {
    std::vector<std::string> args = {"--workspace", ws_, "--format", "csv", "run"};
    args.insert(args.end(), files.begin(), files.end());
    if (!shard.empty()) args.insert(args.end(), {"--shard", shard});
    return RunAlmanac(args, "", env);
  };
  std::set<std::string> seen;
  size_t total = 0;
  std::string first_share;
  for (const char* shard : {"0/3", "1/3", "2/3"}) {
    auto r = run_shard(shard, {});
    ASSERT_EQ(r.exit_code, 0) << shard << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(std::string("shard ") + shard + ": "));
    for (const auto& line : Lines(r.out)) {
      if (line.rfind("shard-", 0) != 0) continue;
      seen.insert(line.substr(0, line.find(',')));
      ++total;
    }
    if (first_share.empty()) first_share = r.out;
  }
  EXPECT_EQ(seen.size(), files.size());  // every pipeline ran ...
  EXPECT_EQ(total, files.size());        // ... in exactly one shard
  auto k8s = run_shard("", {"JOB_COMPLETION_INDEX=0", "ALMANAC_SHARD_COUNT=3"});
  ASSERT_EQ(k8s.exit_code, 0) << k8s.err;
  auto names = [](const std::string& out) {
    std::set<std::string> n;
    for (const auto& line : Lines(out))
      if (line.rfind("shard-", 0) == 0) n.insert(line.substr(0, line.find(',')));
    return n;
  };
  EXPECT_EQ(names(k8s.out), names(first_share));
  for (const char* bad : {"3/3", "x", "1/0"}) {
    auto r = run_shard(bad, {});
    EXPECT_EQ(r.exit_code, 1) << bad;
    EXPECT_THAT(r.err, HasSubstr("--shard")) << bad;
  }
  auto no_count = run_shard("", {"JOB_COMPLETION_INDEX=1"});
  EXPECT_EQ(no_count.exit_code, 1);
  EXPECT_THAT(no_count.err, HasSubstr("ALMANAC_SHARD_COUNT"));
}


// Identities (issue 19): the CLI acts as the operating-system user; --user / ALMANAC_USER may
// name someone else only for an admin of the store, and the audit log then records both. Two
// real users of the machine play alice and bob: daemon and nobody (CI runs the tests as root,
// which creates the workspace and is its first admin).
class IdentityCliTest : public ::testing::Test {
 protected:
  static constexpr const char* kAlice = "daemon";
  static constexpr const char* kBob = "nobody";
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to run commands as other operating-system users";
    ws_ = dir_ / "ws";
    auto init = RunAlmanacAs("root", {"--workspace", ws_, "init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    auto r = RunAlmanacAs("root", {"--workspace", ws_, "ingest", kSrc + "/examples/data/us_macro_quarterly.csv", "--metadata",
                                   kSrc + "/examples/data/us_macro_quarterly.meta.yaml", "--realtime-start", "2009-12-15"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The workspace is shared by its users (a group-writable folder in real life).
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path(), ec))
      std::filesystem::permissions(e.path(), std::filesystem::perms::all, ec);
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::all, ec);
  }
  CommandResult As(const std::string& os_user, std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--workspace", ws_});
    return RunAlmanacAs(os_user, args, env);
  }
  std::string Head() {
    auto v = As("root", {"--format", "json", "audit", "verify"});
    return v.out;
  }
  TempDir dir_;
  std::string ws_;
};

TEST_F(IdentityCliTest, AliceCannotApproveAsBobThroughTheCliOrTheQueue) {
  auto who = As(kAlice, {"--format", "json", "whoami"});
  ASSERT_EQ(who.exit_code, 0) << who.err;
  EXPECT_EQ(Json::parse(who.out)["user"], kAlice);
  EXPECT_EQ(Json::parse(who.out)["admin"], false);

  // Through the queue: alice submits, bob's worker runs it as alice (the task's submitter).
  const std::string pipeline = kSrc + "/examples/pipelines/us_gdp_growth.yaml";
  auto as_bob = As(kAlice, {"--user", kBob, "submit", pipeline});
  EXPECT_EQ(as_bob.exit_code, 1);
  EXPECT_THAT(as_bob.err, HasSubstr("you are daemon"));
  auto sub = As(kAlice, {"submit", pipeline});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  auto w = As(kBob, {"worker", "--poll-ms", "20", "--idle-exit", "0.3"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  auto lineage = As(kAlice, {"--format", "json", "models", "list"});
  ASSERT_EQ(lineage.exit_code, 0) << lineage.err;

  // alice requested production; she cannot approve, neither as herself nor as bob.
  const std::string before = Head();
  auto self = As(kAlice, {"models", "approve", "us-gdp-growth@1", "--reason", "mine"});
  EXPECT_EQ(self.exit_code, 1);
  EXPECT_THAT(self.err, HasSubstr("four-eyes"));
  auto by_option = As(kAlice, {"--user", kBob, "models", "approve", "us-gdp-growth@1", "--reason", "mine"});
  EXPECT_EQ(by_option.exit_code, 1);
  EXPECT_THAT(by_option.err, HasSubstr("you are daemon (operating-system user daemon); acting as 'nobody'"));
  EXPECT_THAT(by_option.err, HasSubstr("needs an admin grant"));
  auto by_env = As(kAlice, {"models", "approve", "us-gdp-growth@1", "--reason", "mine"}, {"ALMANAC_USER=nobody"});
  EXPECT_EQ(by_env.exit_code, 1);
  EXPECT_THAT(by_env.err, HasSubstr("needs an admin grant"));
  EXPECT_EQ(Head(), before);  // nothing written
  // nor grant herself admin rights
  auto grant = As(kAlice, {"users", "grant", kAlice, "--admin"});
  EXPECT_EQ(grant.exit_code, 1);
  EXPECT_THAT(grant.err, HasSubstr("not an admin"));
  // nor create a token that acts as bob
  auto token = As(kAlice, {"tokens", "create", "--role", "approver", "--user", kBob});
  EXPECT_EQ(token.exit_code, 1);
  EXPECT_THAT(token.err, HasSubstr("only their own tokens"));
  EXPECT_EQ(Head(), before);

  auto ok = As(kBob, {"models", "approve", "us-gdp-growth@1", "--reason", "reviewed"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  auto audit = As(kBob, {"audit", "export"});
  // The worker (bob) ran alice's task: its entries are alice's, authenticated as bob.
  EXPECT_THAT(audit.out, HasSubstr(R"("action":"model.promote.request","actor":"daemon","details":{"authenticated_as":"nobody")"));
  EXPECT_THAT(audit.out, HasSubstr(R"("action":"model.approve","actor":"nobody")"));
}

TEST_F(IdentityCliTest, AnAdminActsAsOthersAndTheAuditLogRecordsBoth) {
  auto users = As("root", {"--format", "csv", "users", "list"});
  ASSERT_EQ(users.exit_code, 0) << users.err;
  EXPECT_THAT(users.out, HasSubstr("root,root,yes,root,"));  // who created the workspace
  auto grant = As("root", {"users", "grant", kAlice, "--as", "alice", "--admin"});
  ASSERT_EQ(grant.exit_code, 0) << grant.err;
  auto who = As(kAlice, {"--format", "json", "whoami"});
  EXPECT_EQ(Json::parse(who.out)["user"], "alice");
  EXPECT_EQ(Json::parse(who.out)["principal"], kAlice);
  EXPECT_EQ(Json::parse(who.out)["admin"], true);
  auto snap = As(kAlice, {"--user", "carol", "snapshot", "create", "s1", "--series", "us:realgdp"});
  ASSERT_EQ(snap.exit_code, 0) << snap.err;
  auto audit = As("root", {"audit", "export"});
  EXPECT_THAT(audit.out, HasSubstr(R"("authenticated_as":"alice")"));
  EXPECT_THAT(audit.out, HasSubstr(R"("action":"snapshot.create","actor":"carol")"));
  EXPECT_EQ(As("root", {"audit", "verify"}).exit_code, 0);

  // Bad input: a principal or user name that is not a name; the last admin stays.
  EXPECT_THAT(As("root", {"users", "grant", "a b"}).err, HasSubstr("principal"));
  EXPECT_THAT(As("root", {"users", "grant", "x", "--as", "'; DROP TABLE store_users; --"}).err, HasSubstr("user"));
  EXPECT_EQ(As("root", {"users", "revoke", "nobody-has-this"}).exit_code, 1);
  ASSERT_EQ(As("root", {"users", "revoke", kAlice}).exit_code, 0);
  auto last = As("root", {"users", "revoke", "root"});
  EXPECT_EQ(last.exit_code, 1);
  EXPECT_THAT(last.err, HasSubstr("last admin"));
  EXPECT_EQ(As(kAlice, {"--user", "carol", "series", "list"}).exit_code, 1);  // no longer an admin
}

TEST_F(IdentityCliTest, TokensExpireRotateAndOnlyTheirUserOrAnAdminManagesThem) {
  auto bad = As(kAlice, {"tokens", "create", "--role", "viewer", "--user", kAlice, "--expires", "soon"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("--expires 'soon'"));
  EXPECT_THAT(As(kAlice, {"tokens", "create", "--role", "viewer", "--user", kAlice, "--expires", "2001-01-01"}).err,
              HasSubstr("in the future"));
  auto t = As(kAlice, {"--format", "json", "tokens", "create", "--role", "viewer", "--user", kAlice, "--expires", "90d"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const Json tok = Json::parse(t.out);
  const std::string id = tok["id"];
  EXPECT_THAT(tok["expires_at"].get<std::string>(), ::testing::StartsWith("20"));
  EXPECT_EQ(As(kBob, {"tokens", "revoke", id}).exit_code, 1);  // not bob's token
  EXPECT_EQ(As(kBob, {"tokens", "rotate", id}).exit_code, 1);
  EXPECT_THAT(As(kAlice, {"tokens", "rotate", id, "--grace", "1 hour"}).err, HasSubstr("--grace"));
  auto rot = As(kAlice, {"--format", "json", "tokens", "rotate", id, "--grace", "1h"});
  ASSERT_EQ(rot.exit_code, 0) << rot.err;
  const Json r = Json::parse(rot.out);
  EXPECT_EQ(r["replaces"], tok["id"]);
  EXPECT_NE(r["token"], tok["token"]);
  auto list = As(kAlice, {"--format", "json", "tokens", "list"});
  EXPECT_THAT(list.out, HasSubstr("\"last_used_at\""));
  auto again = As(kAlice, {"tokens", "rotate", id, "--grace", "0s"});
  ASSERT_EQ(again.exit_code, 0) << again.err;  // the old one is still valid during its grace
  EXPECT_THAT(As(kAlice, {"tokens", "rotate", id}).err, HasSubstr("revoked"));
}

// Issue 27: a refused `submit --key` prints nothing on stdout (not an empty table header);
// what a batch queued before the refusal is still listed.
TEST_F(PipelineCliTest, Issue27RefusedSubmitKeyPrintsNothing) {
  const std::string pipeline = kSrc + "/examples/pipelines/us_inflation.yaml";
  ASSERT_EQ(Run({"submit", pipeline, "--key", "job-1"}).exit_code, 0);
  auto again = Run({"submit", pipeline, "--key", "job-1"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.out, "");
  EXPECT_THAT(again.err, HasSubstr("already submitted with key 'job-1'"));
  WriteFile(dir_ / "copy.yaml", ReadFile(pipeline) + "# another file\n");
  auto partial = Run({"--format", "csv", "submit", dir_ / "copy.yaml", pipeline, "--key", "job-1"});
  EXPECT_EQ(partial.exit_code, 1);
  EXPECT_THAT(partial.out, HasSubstr("2,us-inflation,"));  // copy.yaml was queued before the refusal
}

std::string WeeklyBerlin(const std::string& extra = "") {
  return "name: weekly\ndata:\n  series: [us:realgdp]\ntarget: us:realgdp\nhorizon: 2\nlevels: [80]\nmodels:\n"
         "  - type: naive\nevaluation:\n  origins: 2\n  horizon: 1\n  metrics: [mae]\n  select_by: mae\n"
         "register:\n  model: weekly\nschedule: \"0 11 * * 1\"\ntimezone: Europe/Berlin\n" + extra;
}

// Issue 27: `almanac backfill` runs a pipeline once per fire of its schedule (Mondays 11:00
// Frankfurt) with as_of = the fire's date, skips what it ran before, lists the runs as
// backfill runs, can queue the points for workers, and refuses bad input without a trace.
TEST_F(PipelineCliTest, Issue27BackfillInTheSchedulesTimeZone) {
  const std::string p = dir_ / "weekly.yaml";
  WriteFile(p, WeeklyBerlin());
  // March 2010: five Mondays; clocks went forward in Frankfurt on the 28th.
  auto dry = Run({"--format", "csv", "backfill", p, "--from", "2010-03-01", "--to", "2010-03-31", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("1,2010-03-01,2010-03-01T11:00:00+01:00 CET,2010-03-01T10:00:00"));
  EXPECT_THAT(dry.out, HasSubstr("5,2010-03-29,2010-03-29T11:00:00+02:00 CEST,2010-03-29T09:00:00"));
  EXPECT_EQ(Lines(dry.out).size(), 6u);
  EXPECT_THAT(Run({"--format", "csv", "runs", "list"}).out, Not(HasSubstr("\nr")));  // a dry run runs nothing

  auto bf = Run({"--format", "csv", "backfill", p, "--from", "2010-03-01", "--to", "2010-03-31", "--concurrency", "2"});
  ASSERT_EQ(bf.exit_code, 0) << bf.err;
  EXPECT_THAT(bf.err, HasSubstr("backfill weekly: 5 fire(s) of '0 11 * * 1' (Europe/Berlin)"));
  EXPECT_THAT(bf.err, HasSubstr("backfill 3/5 2010-03-15 (fire 2010-03-15T11:00:00+01:00 CET): done (run r"));
  EXPECT_THAT(bf.out, HasSubstr("5,2010-03-29,2010-03-29T11:00:00+02:00 CEST,done,r"));
  auto again = Run({"--format", "csv", "backfill", p, "--from", "2010-03-01", "--to", "2010-03-31"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("backfill 1/5 2010-03-01"));
  EXPECT_THAT(again.err, HasSubstr("skipped (run r"));
  EXPECT_THAT(again.out, Not(HasSubstr(",done,")));
  auto list = Run({"--format", "csv", "runs", "list", "--limit", "50"});
  EXPECT_THAT(list.out, HasSubstr(",backfill 2010-03-01"));
  EXPECT_THAT(list.out, HasSubstr(",backfill 2010-03-29"));
  EXPECT_EQ(Run({"models", "versions", "weekly"}).exit_code, 1);  // a backfill registers nothing
  auto audit = Run({"--format", "csv", "audit", "list"});
  EXPECT_THAT(audit.out, HasSubstr("pipeline.backfill"));

  // Through the queue: one task per point, run by a worker with its as_of.
  auto q = Run({"--format", "csv", "backfill", p, "--from", "2010-04-01", "--to", "2010-04-12", "--queue"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_THAT(q.out, HasSubstr(",2010-04-05,2010-04-05T11:00:00+02:00 CEST,queued,,1,"));
  EXPECT_THAT(q.out, HasSubstr(",2010-04-12,2010-04-12T11:00:00+02:00 CEST,queued,,2,"));
  auto w = Run({"--format", "csv", "worker", "--poll-ms", "20", "--idle-exit", "0.5"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  auto list2 = Run({"--format", "csv", "runs", "list", "--limit", "50"});
  EXPECT_THAT(list2.out, HasSubstr(",backfill 2010-04-05 (task 1)"));

  // Bad input: a clear error, and nothing written.
  const std::string audit_before = Run({"--format", "csv", "audit", "list"}).out;
  WriteFile(dir_ / "unscheduled.yaml", "name: u\ndata:\n  series: [us:realgdp]\ntarget: us:realgdp\nmodels:\n  - type: naive\n");
  WriteFile(dir_ / "mars.yaml", WeeklyBerlin().replace(WeeklyBerlin().find("Europe/Berlin"), 13, "Mars/Olympus"));
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{"backfill", p, "--from", "2010-04-01", "--to", "2010-03-01"}, "--from 2010-04-01 is after --to 2010-03-01"},
      {{"backfill", p, "--from", "2010-13-01", "--to", "2010-03-01"}, "--from"},
      {{"backfill", p, "--from", "yesterday", "--to", "2010-03-01"}, "--from"},
      {{"backfill", p, "--from", "2010-01-01", "--to", "2010-31-12"}, "--to"},
      {{"backfill", dir_ / "nope.yaml", "--from", "2010-01-01", "--to", "2010-02-01"}, "nope.yaml"},
      {{"backfill", dir_ / "unscheduled.yaml", "--from", "2010-01-01", "--to", "2010-02-01"}, "has no schedule"},
      {{"backfill", dir_ / "mars.yaml", "--from", "2010-01-01", "--to", "2010-02-01"}, "timezone: unknown time zone 'Mars/Olympus'"},
      {{"backfill", p, "--from", "1990-01-01", "--to", "2010-01-01"}, "more than 1000"},
      {{"backfill", p, "--from", "2010-01-01", "--to", "2999-01-01"}, "--to 2999-01-01 is in the future (today is "},
      {{"backfill", p, "--from", "2010-01-01", "--to", "2010-03-01", "--max-points", "2"}, "more than 2"},
      {{"backfill", p, "--from", "2010-01-01", "--to", "2010-03-01", "--concurrency", "0"}, "--concurrency must be 1..64"},
      {{"backfill", p, "--from", "2010-01-01", "--to", "2010-03-01", "--max-points", "0"}, "--max-points must be 1..100000"},
      {{"backfill", p, "--from", "2010-01-01", "--to", "2010-03-01", "--queue", "--concurrency", "2"}, "start workers"},
  };
  for (const auto& [args, message] : bad) {
    auto r = Run(args);
    EXPECT_EQ(r.exit_code, 1) << args[1];
    EXPECT_THAT(r.err, HasSubstr(message)) << args[1];
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(Run({"--format", "csv", "audit", "list"}).out, audit_before);
  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
}

// Issue 27: a pipeline's timezone is checked when the file is read.
TEST_F(PipelineCliTest, Issue27ScheduleTimeZoneIsValidated) {
  WriteFile(dir_ / "ok.yaml", WeeklyBerlin("catchup: true\n"));
  EXPECT_EQ(Run({"validate", dir_ / "ok.yaml"}).exit_code, 0);
  WriteFile(dir_ / "bad.yaml", WeeklyBerlin().replace(WeeklyBerlin().find("Europe/Berlin"), 13, "Europe/Frankfurt"));
  auto r = Run({"validate", dir_ / "bad.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("bad.yaml:17: timezone: unknown time zone 'Europe/Frankfurt'"));
  // The scheduler shows the next fire in the schedule's zone (and in UTC); with catchup and no
  // recorded fire yet, it makes nothing up.
  auto s = Run({"scheduler", dir_ / "ok.yaml", "--run-for", "0.1"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_THAT(s.err, ::testing::ContainsRegex("pipeline weekly: schedule '0 11 \\* \\* 1' \\(Europe/Berlin\\), next run at "
                                              "20[0-9-]+T11:00:00\\+0[12]:00 CES?T = 20[0-9-]+T(09|10):00:00"));
  EXPECT_THAT(s.err, HasSubstr("pipeline weekly: catchup: no recorded fire yet"));
}

}  // namespace
}  // namespace almanac::testing
