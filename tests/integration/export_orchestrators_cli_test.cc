// almanac export argo|airflow (issue 21): what is carried over from the pipeline files, and
// every error (missing file, bad YAML, a file that is no valid pipeline, duplicates, output
// path problems). The schema checks of the output (Argo models, the Airflow DAG under Python)
// are in scripts/container_test.sh, phase static.
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/cli_runner.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kExportSrc = ALMANAC_SOURCE_DIR;
const std::string kExportDeploy = kExportSrc + "/testdata/deploy/pipelines/";

std::vector<std::string> ExportTestPipelines() {
  return {kExportDeploy + "deploy_cons.yaml", kExportDeploy + "deploy_cpi.yaml", kExportDeploy + "deploy_gdp.yaml",
          kExportDeploy + "deploy_inv.yaml", kExportDeploy + "deploy_unemp.yaml"};
}

size_t CountIn(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

CommandResult RunExport(const std::string& kind, std::vector<std::string> files, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"export", kind};
  args.insert(args.end(), files.begin(), files.end());
  args.insert(args.end(), extra.begin(), extra.end());
  return RunAlmanac(args);
}

TEST(ExportOrchestratorsTest, ArgoCronWorkflowPerScheduleWithShardsRetriesAndZone) {
  auto files = ExportTestPipelines();
  files.push_back(kExportSrc + "/examples/pipelines/us_gdp_growth.yaml");    // "0 6 * * 1", UTC
  files.push_back(kExportSrc + "/examples/pipelines/us_inflation.yaml");     // "30 6 1 * *"
  auto r = RunExport("argo", files, {"--shards", "3", "--image", "registry.example/almanac:1.2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The five deploy pipelines share schedule and zone: one CronWorkflow; the examples differ
  // (zone UTC; another cron): one each.
  EXPECT_EQ(CountIn(r.out, "kind: CronWorkflow\n"), 3u) << r.out;
  EXPECT_EQ(CountIn(r.out, "kind: Workflow\n"), 0u);
  EXPECT_THAT(r.out, HasSubstr("  name: deploy-cons-and-4-more\n"));
  EXPECT_THAT(r.out, HasSubstr("timezone: America/New_York\n"));
  EXPECT_THAT(r.out, HasSubstr("timezone: UTC\n"));
  EXPECT_THAT(r.out, HasSubstr("- \"30 6 1 * *\"\n"));
  // Fan-out over 3 shards for the group of five; a group of one pipeline is not sharded.
  EXPECT_EQ(CountIn(r.out, "count: \"3\"\n"), 1u) << r.out;
  EXPECT_THAT(r.out, HasSubstr("- \"{{inputs.parameters.shard}}/3\"\n"));
  // max_retries: 1 in the deploy pipelines, the default 2 in the examples.
  EXPECT_THAT(r.out, HasSubstr("limit: \"1\"\n"));
  EXPECT_THAT(r.out, HasSubstr("limit: \"2\"\n"));
  EXPECT_EQ(CountIn(r.out, "image: \"registry.example/almanac:1.2\"\n"), 3u);
  // Each file's bytes are embedded (as a literal block), under its own file name.
  EXPECT_THAT(r.out, HasSubstr("path: /pipelines/deploy_unemp.yaml\n"));
  EXPECT_THAT(r.out, HasSubstr("                  name: deploy-unemp\n"));
  EXPECT_EQ(CountIn(r.out, "secretKeyRef:\n"), 3u);
}

TEST(ExportOrchestratorsTest, ArgoUnscheduledPipelineIsAWorkflowAndOutputGoesToAFile) {
  TempDir dir;
  std::string text = ReadFile(kExportDeploy + "deploy_gdp.yaml");
  text = std::regex_replace(text, std::regex("schedule: .*\n|timezone: .*\n"), "");
  WriteFile(dir / "manual.yaml", text);
  auto r = RunExport("argo", {dir / "manual.yaml"}, {"-o", dir / "out.yaml", "--namespace", "forecasting"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  const std::string out = ReadFile(dir / "out.yaml");
  EXPECT_THAT(out, HasSubstr("kind: Workflow\n"));
  EXPECT_THAT(out, HasSubstr("generateName: deploy-gdp-\n"));
  EXPECT_THAT(out, HasSubstr("namespace: forecasting\n"));
  EXPECT_THAT(out, Not(HasSubstr("schedules:")));
  EXPECT_FALSE(std::filesystem::exists(dir / "out.yaml.tmp"));
}

TEST(ExportOrchestratorsTest, AirflowDagCarriesScheduleZoneRetriesAndShards) {
  auto r = RunExport("airflow", ExportTestPipelines(), {"--shards", "2", "--binary", "/opt/almanac/bin/almanac"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("from airflow import DAG\n"));
  EXPECT_THAT(r.out, HasSubstr("ALMANAC_BIN = \"/opt/almanac/bin/almanac\"\n"));
  EXPECT_THAT(r.out, HasSubstr("dag_id=\"deploy-cons-and-4-more\",\n"));
  EXPECT_THAT(r.out, HasSubstr("schedule=\"0 6 * * 1\",\n"));
  EXPECT_THAT(r.out, HasSubstr("tz=\"America/New_York\")"));
  EXPECT_THAT(r.out, HasSubstr("catchup=False,\n"));
  EXPECT_THAT(r.out, HasSubstr("\"retries\": 1,\n"));
  EXPECT_THAT(r.out, HasSubstr("for _shard in range(2):\n"));
  EXPECT_EQ(CountIn(r.out, "(\"deploy_"), 5u);
}

TEST(ExportOrchestratorsTest, MissingFileIsAnErrorAndNothingIsWritten) {
  TempDir dir;
  auto r = RunExport("argo", {kExportDeploy + "deploy_gdp.yaml", dir / "nope.yaml"}, {"-o", dir / "out.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("nope.yaml"));
  EXPECT_FALSE(std::filesystem::exists(dir / "out.yaml"));
}

TEST(ExportOrchestratorsTest, BadYamlIsAnError) {
  TempDir dir;
  WriteFile(dir / "bad.yaml", "name: [unclosed\nmodels: {\n");
  auto r = RunExport("airflow", {dir / "bad.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("bad.yaml"));
  EXPECT_EQ(r.out, "");
}

TEST(ExportOrchestratorsTest, FileThatIsNoValidPipelineIsAnError) {
  TempDir dir;
  // An unknown model type: the pipeline cannot be run, so it is not exported.
  std::string text = ReadFile(kExportDeploy + "deploy_gdp.yaml");
  text = std::regex_replace(text, std::regex("type: naive"), "type: naiv");
  WriteFile(dir / "typo.yaml", text);
  auto r = RunExport("argo", {dir / "typo.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("naiv"));
  EXPECT_THAT(r.err, HasSubstr("did you mean"));
  // A YAML file that is no pipeline at all.
  WriteFile(dir / "sources.yaml", "sources:\n  - name: fred\n    type: fred\n");
  r = RunExport("argo", {dir / "sources.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("sources.yaml"));
}

TEST(ExportOrchestratorsTest, DuplicatePipelinesAndFileNamesAreErrors) {
  TempDir dir;
  auto r = RunExport("argo", {kExportDeploy + "deploy_gdp.yaml", kExportDeploy + "deploy_gdp.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("pipeline 'deploy-gdp' is given twice"));
  // Another pipeline in a file of the same name elsewhere.
  std::filesystem::create_directories(dir / "other");
  std::string text = ReadFile(kExportDeploy + "deploy_cpi.yaml");
  text = std::regex_replace(text, std::regex("name: deploy-cpi"), "name: other-cpi");
  WriteFile(dir / "other/deploy_gdp.yaml", text);
  r = RunExport("airflow", {kExportDeploy + "deploy_gdp.yaml", dir / "other/deploy_gdp.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("have the same file name 'deploy_gdp.yaml'"));
}

TEST(ExportOrchestratorsTest, OutputPathProblems) {
  TempDir dir;
  const std::string file = kExportDeploy + "deploy_gdp.yaml";
  auto r = RunExport("argo", {file}, {"-o", dir / "missing/out.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("does not exist"));
  EXPECT_FALSE(std::filesystem::exists(dir / "missing"));
  r = RunExport("airflow", {file}, {"-o", dir.path()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is a directory"));
  // An existing file is replaced whole.
  WriteFile(dir / "dag.py", "old content that is longer than nothing\n");
  r = RunExport("airflow", {file}, {"-o", dir / "dag.py"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(ReadFile(dir / "dag.py"), Not(HasSubstr("old content")));
  // Usage errors: no file, shards out of range, no kind.
  EXPECT_EQ(RunAlmanac({"export", "argo"}).exit_code, 2);
  EXPECT_EQ(RunAlmanac({"export", "argo", file, "--shards", "0"}).exit_code, 2);
  EXPECT_EQ(RunAlmanac({"export", file}).exit_code, 2);
}

}  // namespace
}  // namespace almanac::testing
