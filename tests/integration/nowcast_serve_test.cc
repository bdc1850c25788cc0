// The nowcast pipeline on the platform (issue 25), end to end with the built binary: the
// sample testdata/nowcast/pipeline.yaml run twice on two vintages (`almanac run`), served by
// `almanac serve` over real HTTP on 127.0.0.1 at GET /v1/nowcast/{model}, whose answer equals
// `almanac nowcast --compare-as-of` on the same data; `almanac reproduce` is byte-identical;
// unknown models, dates and roles fail as the other routes do.

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "integration/cli_runner.h"
#include "integration/http_client.h"
#include "integration/serve_process.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;

const std::string kNowcastDir = ALMANAC_SOURCE_DIR "/testdata/nowcast/";

// The sample pipeline with `as_of` and 10 EM iterations: the comparison with the CLI needs
// the same computation on both sides, not convergence (which takes minutes at -O0).
std::string SamplePipeline(const std::string& as_of) {
  std::string text = ReadFile(kNowcastDir + "pipeline.yaml");
  auto replace = [&](const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
  };
  replace("as_of: 2024-01-25", "as_of: " + as_of);
  replace("max_iterations: 500", "max_iterations: 10");
  return text;
}

// The same model as an `almanac nowcast` config.
const char* kCliConfig =
    "target: sim:gdp\n"
    "indicators: [sim:ip, sim:sales, sim:emp, sim:hours, sim:cpi, sim:ppi, sim:rates, sim:spread]\n"
    "blocks:\n"
    "  - {name: global, factors: 1, order: 2}\n"
    "  - {name: real, factors: 1, order: 1, variables: [sim:ip, sim:sales, sim:emp, sim:hours, sim:gdp]}\n"
    "max_iterations: 10\n"
    "tolerance: 1.0e-6\n";

class NowcastServeTest : public ::testing::Test {
 protected:
  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--workspace", ws_, "--user", "alice"});
    return RunAlmanac(args);
  }
  TempDir dir_;
  std::string ws_ = dir_ / "ws";
};

TEST_F(NowcastServeTest, Issue25RestNowcastEqualsTheCliAndTheRunReproduces) {
  ASSERT_EQ(Cli({"init"}).exit_code, 0);
  auto r = Cli({"ingest", kNowcastDir + "vintages.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Two runs of the pipeline, on the vintages of 2024-01-10 and 2024-01-25.
  std::vector<std::string> runs;
  for (const std::string as_of : {"2024-01-10", "2024-01-25"}) {
    const std::string file = dir_ / ("nowcast-" + as_of + ".yaml");
    WriteFile(file, SamplePipeline(as_of));
    r = Cli({"--format", "json", "run", file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto out = ParseJson(r.out);
    ASSERT_TRUE(out.ok()) << r.out;
    EXPECT_EQ((*out)["selected"], "dfm_nowcast");
    runs.push_back((*out)["run_id"].get<std::string>());
  }
  // The CLI on the same data.
  WriteFile(dir_ / "cli.yaml", kCliConfig);
  r = Cli({"--format", "json", "nowcast", "--config", dir_ / "cli.yaml", "--as-of", "2024-01-25", "--compare-as-of",
           "2024-01-10", "--quarter", "2023Q4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto cli_parsed = ParseJson(r.out);
  ASSERT_TRUE(cli_parsed.ok()) << r.out;
  const Json cli = *cli_parsed;

  auto token = Cli({"--quiet", "tokens", "create", "--role", "analyst", "--user", "ana"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  auto viewer = Cli({"--quiet", "tokens", "create", "--role", "viewer", "--user", "vic"});
  ASSERT_EQ(viewer.exit_code, 0) << viewer.err;
  const std::string analyst_token(Trim(token.out)), viewer_token(Trim(viewer.out));
  ServeProcess server(ws_);
  ASSERT_GT(server.port(), 0) << server.log();

  HttpResult h = HttpRequest(server.port(), "GET", "/v1/nowcast/gdp_nowcast", "", analyst_token);
  ASSERT_EQ(h.status, 200) << h.body;
  auto rest_parsed = ParseJson(h.body);
  ASSERT_TRUE(rest_parsed.ok()) << h.body;
  const Json rest = *rest_parsed;
  EXPECT_EQ(rest["name"], "gdp_nowcast");
  EXPECT_EQ(rest["run_id"], runs[1]);
  EXPECT_EQ(rest["as_of"], "2024-01-25");
  for (const char* k : {"target", "quarter"}) EXPECT_EQ(rest[k], cli[k]) << k;
  // The same numbers to the last bit: the same computation on the same vintages.
  EXPECT_EQ(rest["nowcast"], cli["nowcast"]);
  EXPECT_EQ(rest["model"], cli["model"]);
  const Json& rn = rest["news"];
  const Json& cn = cli["news"];
  ASSERT_TRUE(rn.is_object()) << h.body;
  EXPECT_EQ(rn["compare_run"], runs[0]);
  EXPECT_EQ(rn["compare_as_of"], cn["compare_as_of"]);
  for (const char* k : {"old_value", "new_value", "change", "revision_impact", "news_impact", "revised", "releases"})
    EXPECT_EQ(rn[k], cn[k]) << k;
  EXPECT_EQ(rn["releases"].size(), 7u);

  // ?as_of: the nowcast made on the data of that date (the first run: no news yet).
  h = HttpRequest(server.port(), "GET", "/v1/nowcast/gdp_nowcast?as_of=2024-01-15", "", analyst_token);
  ASSERT_EQ(h.status, 200) << h.body;
  EXPECT_EQ(ParseJson(h.body).value()["run_id"], runs[0]);
  EXPECT_TRUE(ParseJson(h.body).value()["news"].is_null());
  h = HttpRequest(server.port(), "GET", "/v1/nowcast/gdp_nowcast?as_of=2024-01-05", "", analyst_token);
  EXPECT_EQ(h.status, 404) << h.body;
  EXPECT_THAT(h.body, HasSubstr("has no nowcast on data as of 2024-01-05 (its earliest is on data of 2024-01-10)"));
  h = HttpRequest(server.port(), "GET", "/v1/nowcast/gdp_nowcast?as_of=2024-13-01", "", analyst_token);
  EXPECT_EQ(h.status, 400) << h.body;
  h = HttpRequest(server.port(), "GET", "/v1/nowcast/gdp_nowcast?as_of=2999-01-01", "", analyst_token);
  EXPECT_EQ(h.status, 400) << h.body;
  EXPECT_THAT(h.body, HasSubstr("in the future"));

  // An unknown model: 404 in the error shape of /v1/forecast's unknown model.
  h = HttpRequest(server.port(), "GET", "/v1/nowcast/gdp_nowcats", "", analyst_token);
  EXPECT_EQ(h.status, 404) << h.body;
  EXPECT_THAT(h.body, HasSubstr("nowcast model 'gdp_nowcats' not found"));
  HttpResult f = HttpRequest(server.port(), "POST", "/v1/forecast", R"({"model": "gdp_nowcats", "horizon": 2})",
                             analyst_token);
  EXPECT_EQ(f.status, 404) << f.body;
  const Json nj = ParseJson(h.body).value(), fj = ParseJson(f.body).value();
  EXPECT_EQ(nj["code"], fj["code"]);
  std::vector<std::string> nkeys, fkeys;
  for (auto it = nj.begin(); it != nj.end(); ++it) nkeys.push_back(it.key());
  for (auto it = fj.begin(); it != fj.end(); ++it) fkeys.push_back(it.key());
  EXPECT_EQ(nkeys, fkeys);
  // predict permission: a viewer may not; no token is 401.
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/v1/nowcast/gdp_nowcast", "", viewer_token).status, 403);
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/v1/nowcast/gdp_nowcast").status, 401);

  // Both runs reproduce byte for byte (the second one with the news against the first).
  for (const auto& run : runs) {
    r = Cli({"reproduce", run});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr("every artifact is byte-identical"));
  }
}

}  // namespace
}  // namespace almanac::testing
