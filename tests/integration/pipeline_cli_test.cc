// End-to-end tests of pipelines, tracking, the registry and the audit log through the CLI.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "integration/cli_runner.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSrc = ALMANAC_SOURCE_DIR;

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

}  // namespace
}  // namespace almanac::testing
