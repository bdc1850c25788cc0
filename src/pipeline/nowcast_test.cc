// Nowcast pipelines (issue 25): the `nowcast:` section, the tracked run on stored vintages
// (model, nowcast and news as artifacts, news against the previous run's vintage),
// reproduction byte for byte, bad input, and `trigger: on_new_data` driven by a scheduled load.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/models/nowcast.h"
#include "almanac/pipeline.h"
#include "core/testing/sanitizers.h"
#include "core/testing/status_matchers.h"
#include "data/testing/fixture_server.h"
#include "pipeline/testing/pipeline_testing.h"

namespace almanac::pipeline {
namespace {

using ::almanac::pipeline::testing::At;
using ::almanac::pipeline::testing::BuiltinModels;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;

const std::string kVintages = ALMANAC_SOURCE_DIR "/testdata/nowcast/vintages.csv";

struct CsvRow {
  std::string series, period;
  double value = 0;
  std::string realtime_start;
};

std::vector<CsvRow> ReadVintagesCsv() {
  std::ifstream in(kVintages);
  std::vector<CsvRow> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    CsvRow r;
    std::string value;
    std::getline(ss, r.series, ',');
    std::getline(ss, r.period, ',');
    std::getline(ss, value, ',');
    std::getline(ss, r.realtime_start, ',');
    r.value = std::stod(value);
    rows.push_back(r);
  }
  return rows;
}

// EM iterations of the tests' fits: they compare the same computation along two paths, which
// needs no convergence (and -O0 is slow); two under the sanitizers, where the fits took most
// of the 15 s of RunStoresModelNowcast... (docs/benchmarks.md, "The levers").
constexpr int kEmIterations = almanac::testing::SanitizerSize(5, 2);

// The blocks of testdata/nowcast/nowcast.yaml, with few EM iterations (kEmIterations).
std::string NowcastPipeline(const std::string& as_of, const std::string& extra = "") {
  return "name: gdp_nowcast\n"
         "data:\n"
         "  series: [sim:ip, sim:sales, sim:emp, sim:hours, sim:cpi, sim:ppi, sim:rates, sim:spread, sim:gdp]\n" +
         (as_of.empty() ? std::string() : "  as_of: " + as_of + "\n") +
         "nowcast:\n"
         "  type: dfm_nowcast\n"
         "  target: sim:gdp\n"
         "  blocks:\n"
         "    - {name: global, factors: 1, order: 2}\n"
         "    - {name: real, factors: 1, order: 1, variables: [sim:ip, sim:sales, sim:emp, sim:hours, sim:gdp]}\n"
         "  max_iterations: " + std::to_string(kEmIterations) + "\n" +
         extra;
}

class NowcastPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions o;
    o.clock = &clock_;
    store_ = *store::OpenStore("memory:", o);
    artifacts_ = *store::OpenArtifactStore("memory:");
    auto load = *store_->series().BeginLoad({.loader = "test"});
    for (const auto& r : ReadVintagesCsv())
      EXPECT_OK(load->Add(r.series, *Period::Parse(r.period), r.value, *Date::Parse(r.realtime_start)));
    EXPECT_OK(load->Commit());
  }

  Environment Env() { return {store_.get(), artifacts_.get(), &BuiltinModels(), &clock_, 1}; }
  Result<RunResult> RunText(const std::string& text) {
    ALMANAC_ASSIGN_OR_RETURN(PipelineSpec spec, ParsePipeline(text, "p.yaml", BuiltinModels()));
    clock_.Advance(1000000);  // runs start one second apart (the baseline is the newest earlier run)
    Runner r(Env());
    return r.Run(spec, {.user = "alice"});
  }
  tracking::Tracker Tracker() { return tracking::Tracker(store_->metadata(), *artifacts_, clock_); }
  // The artifact `kind` of a run (NotFound when it has none).
  Result<std::string> Artifact(const std::string& run, const std::string& kind) {
    auto t = Tracker();
    ALMANAC_ASSIGN_OR_RETURN(tracking::RunDetails d, t.GetRun(run));
    for (const auto& a : d.artifacts)
      if (a.kind == kind) return t.ReadArtifact(a);
    return NotFoundError("run " + run + " has no artifact " + kind);
  }

  // The nowcast's data as known on `as_of`, read and aligned by the test on its own.
  models::MixedFrequencyData Data(const std::string& as_of, Period through) {
    const std::vector<std::string> names = {"sim:ip",  "sim:sales", "sim:emp",    "sim:hours", "sim:cpi",
                                            "sim:ppi", "sim:rates", "sim:spread", "sim:gdp"};
    std::vector<TimeSeries> series;
    for (const auto& n : names) series.push_back(store_->series().ReadAsOf(n, *Date::Parse(as_of))->Trimmed());
    return *models::AlignMixedFrequency(names, series, through);
  }

  FixedClock clock_{At("2024-02-01T09:00:00Z")};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::ArtifactStore> artifacts_;
};

TEST_F(NowcastPipelineTest, RunStoresModelNowcastAndNewsAgainstThePreviousRunsVintage) {
  ASSERT_OK_AND_ASSIGN(RunResult first, RunText(NowcastPipeline("2024-01-10")));
  ASSERT_OK_AND_ASSIGN(RunResult second, RunText(NowcastPipeline("2024-01-25")));
  EXPECT_EQ(second.status, store::RunStatus::kFinished);
  EXPECT_EQ(second.selected, "dfm_nowcast");
  std::vector<std::string> steps;
  for (const auto& s : second.steps) steps.push_back(s.step);
  EXPECT_THAT(steps, ::testing::ElementsAre("load", "validate", "nowcast:fit", "nowcast"));

  ASSERT_OK_AND_ASSIGN(std::string first_doc, Artifact(first.run_id, kNowcastArtifact));
  EXPECT_TRUE((*ParseJson(first_doc))["news"].is_null());  // no earlier run
  EXPECT_THAT(Artifact(first.run_id, kNowcastNewsChartArtifact), StatusIs(StatusCode::kNotFound));  // no news, no chart
  ASSERT_OK_AND_ASSIGN(std::string doc_bytes, Artifact(second.run_id, kNowcastArtifact));
  ASSERT_OK_AND_ASSIGN(Json doc, ParseJson(doc_bytes));
  EXPECT_EQ(doc["quarter"], "2023Q4");  // the quarter after the last GDP observation (2023Q3)
  EXPECT_EQ(doc["as_of"], "2024-01-25");
  EXPECT_EQ(doc["snapshot_id"], second.snapshot_id);
  const Json& news = doc["news"];
  ASSERT_TRUE(news.is_object());
  // The update's chart: one bar for the revisions, one per series, the total change.
  ASSERT_OK_AND_ASSIGN(std::string chart, Artifact(second.run_id, kNowcastNewsChartArtifact));
  EXPECT_THAT(chart, ::testing::HasSubstr("data-label=\"revisions\" data-impact=\"" +
                                          FormatDouble(news["revision_impact"].get<double>()) + "\""));
  EXPECT_THAT(chart, ::testing::HasSubstr("data-label=\"total change\" data-impact=\"" +
                                          FormatDouble(news["new_value"].get<double>() - news["old_value"].get<double>()) +
                                          "\""));
  EXPECT_EQ(news["compare_run"], first.run_id);
  EXPECT_EQ(news["compare_snapshot"], first.snapshot_id);
  EXPECT_EQ(news["compare_as_of"], "2024-01-10");
  EXPECT_THAT(news["revised"], ::testing::ElementsAre("sim:ip@2023-08", "sim:gdp@2023Q3"));
  EXPECT_EQ(news["releases"].size(), 7u);

  // The same computation done here: fit on the newer vintage, nowcast, news against the older.
  const Period q = *Period::Parse("2023Q4");
  const Period through = q.Convert(Frequency::kMonthly, Anchor::kEnd);
  const models::MixedFrequencyData now = Data("2024-01-25", through), old = Data("2024-01-10", through);
  ASSERT_EQ(now.start, old.start);
  ASSERT_EQ(now.size(), old.size());
  models::DfmOptions options;
  options.blocks = {{"global", 1, 2, {}}, {"real", 1, 1, {"sim:ip", "sim:sales", "sim:emp", "sim:hours", "sim:gdp"}}};
  options.max_iterations = kEmIterations;
  ASSERT_OK_AND_ASSIGN(models::DynamicFactorModel model, models::DynamicFactorModel::Fit(now, options));
  ASSERT_OK_AND_ASSIGN(std::string model_json, Artifact(second.run_id, kNowcastModelArtifact));
  EXPECT_EQ(model_json, *CanonicalJson(model.ToJson()));
  ASSERT_OK_AND_ASSIGN(models::Nowcast expected, model.NowcastOf(now, "sim:gdp", q));
  ASSERT_OK_AND_ASSIGN(models::NewsDecomposition expected_news, model.News(old, now, "sim:gdp", q));
  EXPECT_EQ(doc["nowcast"]["value"].get<double>(), expected.value);
  EXPECT_EQ(doc["nowcast"]["std_error"].get<double>(), expected.std_error);
  EXPECT_EQ(news["old_value"].get<double>(), expected_news.old_value);
  EXPECT_EQ(news["revision_impact"].get<double>(), expected_news.revision_impact);
  for (size_t i = 0; i < expected_news.items.size(); ++i) {
    EXPECT_EQ(news["releases"][i]["series"], expected_news.items[i].variable);
    EXPECT_EQ(news["releases"][i]["impact"].get<double>(), expected_news.items[i].impact);
  }
  double impacts = 0;
  for (const auto& r : news["releases"]) impacts += r["impact"].get<double>();
  EXPECT_NEAR(news["revision_impact"].get<double>() + impacts, news["change"].get<double>(), 1e-10);

  // The nowcast is the run's metric; the target and quarter are tags.
  ASSERT_OK_AND_ASSIGN(tracking::RunDetails d, Tracker().GetRun(second.run_id));
  EXPECT_EQ(d.latest_metrics.at("nowcast"), expected.value);
  EXPECT_EQ(d.latest_metrics.at("news_revision_impact"), expected_news.revision_impact);
  EXPECT_THAT(d.tags, ::testing::Contains(std::pair<std::string, std::string>("nowcast.quarter", "2023Q4")));

  // Both runs reproduce byte for byte (the second against the vintage its news used).
  for (const auto& run : {first.run_id, second.run_id}) {
    clock_.Advance(1000000);
    ASSERT_OK_AND_ASSIGN(ReproduceResult r, Reproduce(Env(), run, {.user = "bob"}));
    EXPECT_TRUE(r.identical) << run;
    for (const auto& a : r.artifacts) EXPECT_TRUE(a.identical) << a.name << ": " << a.why;
  }

  // A run on the same data again: its steps come from the cache, and its news is still
  // against the run before (another vintage), not against the reproductions or itself.
  ASSERT_OK_AND_ASSIGN(RunResult third, RunText(NowcastPipeline("2024-01-25")));
  EXPECT_TRUE(third.steps[2].cached);
  EXPECT_TRUE(third.steps[3].cached);
  ASSERT_OK_AND_ASSIGN(std::string third_doc, Artifact(third.run_id, kNowcastArtifact));
  EXPECT_EQ(third_doc, doc_bytes);
}

struct BadNowcast {
  std::string name, extra, replace_from, replace_to, message;
};

class NowcastSpecErrorTest : public ::testing::TestWithParam<BadNowcast> {};

TEST_P(NowcastSpecErrorTest, IsRefusedNamingTheKey) {
  std::string text = NowcastPipeline("2024-01-25", GetParam().extra);
  if (!GetParam().replace_from.empty()) {
    const size_t at = text.find(GetParam().replace_from);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, GetParam().replace_from.size(), GetParam().replace_to);
  }
  EXPECT_THAT(ParsePipeline(text, "p.yaml", BuiltinModels()), StatusIs(StatusCode::kInvalidArgument, GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Issue25, NowcastSpecErrorTest,
    ::testing::Values(
        BadNowcast{"UnknownSeriesInBlock", "", "sim:hours, sim:gdp]", "sim:hours, sim:gpd]",
                   "nowcast.blocks[1].variables[4]: unknown series 'sim:gpd' (not the nowcast's target or one of its "
                   "indicators)"},
        BadNowcast{"TargetNotADataSeries", "", "target: sim:gdp", "target: sim:gnp",
                   "p.yaml:7: nowcast.target: 'sim:gnp' is not one of data.series"},
        BadNowcast{"UnknownType", "", "type: dfm_nowcast", "type: dfm_nowcats",
                   "p.yaml:6: nowcast.type: unknown nowcast model type 'dfm_nowcats' (did you mean 'dfm_nowcast'?)"},
        BadNowcast{"UnknownKey", "  factor: 2\n", "", "", "nowcast.factor: unknown key 'factor'"},
        BadNowcast{"TargetAsIndicator", "  indicators: [sim:ip, sim:gdp]\n", "", "",
                   "nowcast.indicators[1]: the target 'sim:gdp' cannot also be an indicator"},
        BadNowcast{"IndicatorNotInData", "  indicators: [sim:ip, other:x]\n", "", "",
                   "nowcast.indicators[1]: unknown series 'other:x' (not one of data.series)"},
        BadNowcast{"NaNTolerance", "  tolerance: .nan\n", "", "", "nowcast.tolerance: expected a finite number > 0"},
        BadNowcast{"InfTolerance", "  tolerance: .inf\n", "", "", "nowcast.tolerance: expected a finite number > 0"},
        BadNowcast{"NegativeTolerance", "  tolerance: -1\n", "", "", "nowcast.tolerance: expected a finite number > 0"},
        BadNowcast{"MonthAsQuarter", "  quarter: 2023-11\n", "", "", "nowcast.quarter: '2023-11' is not a quarter"},
        BadNowcast{"ZeroFactors", "", "factors: 1, order: 2", "factors: 0, order: 2",
                   "nowcast.blocks[0].factors: must be between 1 and 20"},
        BadNowcast{"ModelsToo", "models:\n  - type: naive\n", "", "", "models: does not apply to a nowcast pipeline"},
        BadNowcast{"RegisterToo", "register:\n  model: gdp\n", "", "",
                   "register: a nowcast pipeline stores its model and nowcast on the run"}),
    [](const auto& info) { return info.param.name; });

// Bad data fails the run at the step that found it, naming the series; no nowcast is stored.
TEST_F(NowcastPipelineTest, BadDataFailsTheRunAndStoresNoNowcast) {
  {  // the load session holds the memory store until it is destroyed
  auto load = *store_->series().BeginLoad({.loader = "test", .default_realtime_start = *Date::Parse("2024-01-01")});
  for (int i = 0; i < 12; ++i) {
    EXPECT_OK(load->Add("short:a", *Period::Parse("2023-01") + i, std::sin(i), std::nullopt));
    EXPECT_OK(load->Add("short:b", *Period::Parse("2023-01") + i, std::cos(i), std::nullopt));
  }
  for (int i = 0; i < 3; ++i) EXPECT_OK(load->Add("short:gdp", *Period::Parse("2023Q1") + i, 1.0 + i, std::nullopt));
  EXPECT_OK(load->Commit());
  }
  struct Case {
    std::string text, message;
  };
  const std::vector<Case> cases = {
      // A monthly target.
      {"name: bad\ndata:\n  series: [sim:ip, sim:gdp]\nnowcast:\n  target: sim:ip\n",
       "nowcast.target: series sim:ip has frequency M; the target must be quarterly (Q)"},
      // A quarterly indicator.
      {"name: bad\ndata:\n  series: [sim:ip, sim:gdp, short:gdp]\nnowcast:\n  target: sim:gdp\n",
       "nowcast.indicators: series short:gdp has frequency Q; the indicators must be monthly (M)"},
      // Too few observations for the model.
      {"name: bad\ndata:\n  series: [short:a, short:b, short:gdp]\nnowcast:\n  target: short:gdp\n", "months with observations, at least"},
      // A series that is not stored.
      {"name: bad\ndata:\n  series: [sim:ip, nope:gdp]\nnowcast:\n  target: nope:gdp\n", "nope:gdp"},
  };
  for (const auto& c : cases) {
    auto r = RunText(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.text;
  }
  store::RunFilter f;
  f.pipeline = "bad";
  ASSERT_OK_AND_ASSIGN(auto runs, Tracker().ListRuns(f));
  ASSERT_EQ(runs.size(), cases.size());  // each failed inside its run
  for (const auto& run : runs) {
    EXPECT_EQ(run.status, store::RunStatus::kFailed);
    EXPECT_THAT(Artifact(run.id, kNowcastArtifact), StatusIs(StatusCode::kNotFound));
    EXPECT_THAT(Artifact(run.id, kNowcastModelArtifact), StatusIs(StatusCode::kNotFound));
  }
}

// `trigger: on_new_data` (issue 25): a scheduled load that commits a new vintage of one of the
// nowcast's indicators re-runs the nowcast pipeline, whose news is then that release.
class NowcastOnNewDataTest : public NowcastPipelineTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("almanac_nowcast_trigger_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store::StoreOptions o;
    o.clock = &clock_;
    store_ = *store::OpenStore("memory:", o);
    artifacts_ = *store::OpenArtifactStore("memory:");
    // Every series but sim:ip from the file; sim:ip comes from the source, one vintage a load.
    auto load = *store_->series().BeginLoad({.loader = "test"});
    std::map<std::string, std::pair<double, std::string>> ip;  // period -> newest value
    std::string first = "period,value,published\n";
    for (const auto& r : ReadVintagesCsv()) {
      if (r.series != "sim:ip") {
        EXPECT_OK(load->Add(r.series, *Period::Parse(r.period), r.value, *Date::Parse(r.realtime_start)));
        continue;
      }
      if (r.realtime_start == "2024-01-05") first += r.period + "," + FormatDouble(r.value) + ",2024-01-05\n";
      ip[r.period] = {r.value, r.realtime_start};
    }
    EXPECT_OK(load->Commit());
    std::string second = "period,value,published\n";
    for (const auto& [period, v] : ip) second += period + "," + FormatDouble(v.first) + ",2024-01-20\n";
    bodies_ = {first, second};
    server_ = std::make_unique<data::testing::FixtureServer>([this](const data::testing::FixtureRequest& r) {
      std::lock_guard<std::mutex> l(mu_);
      data::testing::FixtureResponse resp;
      resp.content_type = "text/csv";
      resp.status = r.path == "/ip.csv" ? 200 : 404;
      if (resp.status == 200) resp.body = bodies_[std::min<size_t>(served_++, 1)];
      return resp;
    });
    ASSERT_TRUE(server_->Start());
    clock_.Set(At("2024-02-01T10:01:00Z"));
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p) << text;
    return p;
  }

  std::filesystem::path dir_;
  std::unique_ptr<data::testing::FixtureServer> server_;
  std::mutex mu_;
  std::vector<std::string> bodies_;
  size_t served_ = 0;
};

TEST_F(NowcastOnNewDataTest, ANewVintageOfAnIndicatorReRunsTheNowcast) {
  SchedulerOptions so;
  so.load_files = {Write("sources.yaml", "sources:\n"
                                         "  - name: ip\n"
                                         "    type: http_csv\n"
                                         "    url: " + server_->base_url() + "/ip.csv\n"
                                         "    schedule: \"*/10 * * * *\"\n"
                                         "    retries: 0\n"
                                         "    timeout_s: 5\n"
                                         "    mapping: {period: period, value: value, realtime_start: published, "
                                         "series_key: sim:ip, frequency: M}\n")};
  so.pipeline_files = {Write("nowcast.yaml", NowcastPipeline("", "trigger: on_new_data\n"))};
  so.lock_dir = dir_.string();
  so.retry_base_ms = 1000;
  so.user = "sched-user";
  so.sleep_until = [this](int64_t t) {
    if (t > clock_.NowMicros()) clock_.Set(t);
  };
  so.max_runs = 4;
  ASSERT_OK_AND_ASSIGN(auto h, RunScheduler(Env(), so));
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[0].kind, "load");
  EXPECT_EQ(h[0].outcome, "committed");
  EXPECT_EQ(h[1].kind, "pipeline");
  EXPECT_EQ(h[1].pipeline, "gdp_nowcast");
  EXPECT_EQ(h[1].status, store::RunStatus::kFinished) << h[1].error;
  EXPECT_THAT(h[1].triggered_by, HasSubstr("load:ip@2024-02-01T10:10:00"));
  EXPECT_EQ(h[2].outcome, "committed");
  EXPECT_EQ(h[2].vintages_created, 1);
  EXPECT_EQ(h[3].pipeline, "gdp_nowcast");
  EXPECT_EQ(h[3].status, store::RunStatus::kFinished) << h[3].error;
  EXPECT_THAT(h[3].triggered_by, HasSubstr("load:ip@2024-02-01T10:20:00"));

  ASSERT_OK_AND_ASSIGN(std::string first, Artifact(h[1].run_id, kNowcastArtifact));
  EXPECT_TRUE((*ParseJson(first))["news"].is_null());
  ASSERT_OK_AND_ASSIGN(std::string second, Artifact(h[3].run_id, kNowcastArtifact));
  ASSERT_OK_AND_ASSIGN(Json doc, ParseJson(second));
  ASSERT_TRUE(doc["news"].is_object());
  EXPECT_EQ(doc["news"]["compare_run"], h[1].run_id);
  // The change is the new sim:ip vintage alone: its revision and its releases.
  EXPECT_THAT(doc["news"]["revised"], ::testing::ElementsAre("sim:ip@2023-08"));
  ASSERT_FALSE(doc["news"]["releases"].empty());
  for (const auto& r : doc["news"]["releases"]) EXPECT_EQ(r["series"], "sim:ip");
  ASSERT_OK_AND_ASSIGN(tracking::RunDetails d, Tracker().GetRun(h[3].run_id));
  EXPECT_EQ(d.latest_metrics.at("nowcast"), doc["nowcast"]["value"].get<double>());
  for (const auto& [k, v] : d.tags) {
    if (k == kTagTrigger) {
      EXPECT_EQ(v, "on_new_data");
    }
  }
}

}  // namespace
}  // namespace almanac::pipeline
