// almanac nowcast evaluate: DFM nowcasts on past vintages against a random walk and an AR(2),
// with Diebold-Mariano tests (issue 25; docs/nowcasting.md, "Evaluate"). The evaluation is
// eval::EvaluateNowcasts; this file reads the store, parses options and prints.
#include "cli/commands_nowcast_eval.h"

#include <algorithm>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "almanac/eval/nowcast_eval.h"
#include "almanac/store.h"
#include "cli/commands_nowcast.h"

namespace almanac::cli {
namespace {

// One of `names` (the option's allowed values), or InvalidArgument naming the option.
Result<size_t> NowcastEvalChoice(const std::string& option, const std::string& value,
                                 const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i)
    if (value == names[i]) return i;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return InvalidArgumentError(option + " " + QuoteForMessage(value) + " is not one of " + list);
}

// Every vintage date of the series, ascending and unique.
Result<std::vector<Date>> VintageDates(store::SeriesStore& store, const std::vector<std::string>& keys) {
  std::vector<Date> dates;
  for (const auto& key : keys) {
    auto v = store.ListVintages(key);
    if (!v.ok()) {
      if (v.status().code() == StatusCode::kNotFound)
        return NotFoundError("unknown series " + key + " (of the nowcast config); 'almanac series list' shows the stored ones");
      return v.status();
    }
    for (const auto& info : *v) dates.push_back(info.realtime_start);
  }
  std::sort(dates.begin(), dates.end());
  dates.erase(std::unique(dates.begin(), dates.end()), dates.end());
  return dates;
}

Json Cell(double v) { return FiniteOrNull(v); }

}  // namespace

int RunNowcastEvaluate(const GlobalOptions& g, const NowcastEvalArgs& a) {
  auto config = ReadNowcastConfig(a.config);
  if (!config.ok()) return ReportError(config.status());
  eval::NowcastEvalSettings s;
  s.target = config->target;
  s.dfm = config->options;
  auto from = ParseAsOfDate(a.from, SystemClock(), "--from");
  if (!from.ok()) return ReportError(from.status());
  auto to = ParseAsOfDate(a.to, SystemClock(), "--to");
  if (!to.ok()) return ReportError(to.status());
  s.from = *from;
  s.to = *to;
  auto every = NowcastEvalChoice("--every", a.every, {"month", "release"});
  auto mode = NowcastEvalChoice("--mode", a.mode, {"real-time", "pseudo"});
  auto refit = NowcastEvalChoice("--refit", a.refit, {"every", "once"});
  auto outcome = NowcastEvalChoice("--outcome", a.outcome, {"latest", "first"});
  for (const auto* r : {&every, &mode, &refit, &outcome})
    if (!r->ok()) return ReportError(r->status());
  s.every = *every == 0 ? eval::NowcastSchedule::kMonthEnd : eval::NowcastSchedule::kRelease;
  s.mode = *mode == 0 ? eval::NowcastDataMode::kRealTime : eval::NowcastDataMode::kPseudoRealTime;
  s.refit = *refit == 0 ? eval::NowcastRefit::kEvery : eval::NowcastRefit::kOnce;
  s.outcome = *outcome == 0 ? eval::NowcastOutcome::kLatest : eval::NowcastOutcome::kFirstRelease;
  if (!g.quiet)
    s.progress = [](int done, int total, Date date) {
      if (done < total) std::cerr << "  [" << done + 1 << "/" << total << "] nowcast on " << date.ToString() << "\n";
    };

  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  store::SeriesStore& series = (*ws)->store().series();
  std::vector<std::string> keys = config->indicators;
  keys.push_back(config->target);
  auto all_dates = VintageDates(series, keys);
  if (!all_dates.ok()) return ReportError(all_dates.status());
  auto target_dates = VintageDates(series, {config->target});
  if (!target_dates.ok()) return ReportError(target_dates.status());
  const NowcastConfig& c = *config;
  // The data of a date on a grid through the end of its quarter (as `almanac nowcast --as-of`);
  // the latest data through the end of the window's last quarter at least.
  auto read = [&](std::optional<Date> as_of) -> Result<models::MixedFrequencyData> {
    ALMANAC_ASSIGN_OR_RETURN(Period q, Period::FromDate(as_of.value_or(std::max(s.from, s.to)), Frequency::kQuarterly));
    return ReadNowcastVintage(series, c, as_of, q.Convert(Frequency::kMonthly, Anchor::kEnd));
  };
  eval::NowcastVintages vintages{
      .read = read,
      .release_dates = std::move(*all_dates),
      .target_release_dates = std::move(*target_dates)};

  auto r = eval::EvaluateNowcasts(vintages, s);
  if (!r.ok()) return ReportError(r.status().WithContext("nowcast evaluate " + config->target));
  if (!g.quiet)
    for (const auto& note : r->notes) std::cerr << "  note: " << note << "\n";

  if (g.format == OutputFormat::kJson) {
    std::cout << PrettyJson(eval::NowcastEvaluationJson(*r)) << "\n";
    return kExitOk;
  }
  if (g.format == OutputFormat::kCsv) {  // the points, one row per date
    Table t;
    t.columns = {"date", "quarter", "month", "last_known", "outcome", "dfm", "rw", "ar2"};
    for (const auto& p : r->points)
      t.Add({p.date.ToString(), p.quarter.ToString(), p.month_in_quarter, p.last_known.ToString(), p.outcome, p.dfm,
             p.rw, p.ar2});
    Print(std::cout, t, g.format);
    return kExitOk;
  }
  std::cout << "nowcast evaluation of " << r->target << ": " << r->points.size() << " dates from "
            << r->points.front().date.ToString() << " to " << r->points.back().date.ToString() << " (every "
            << a.every << "), " << (s.mode == eval::NowcastDataMode::kRealTime ? "real-time" : "pseudo-real-time")
            << " data, DFM " << (s.refit == eval::NowcastRefit::kEvery ? "re-estimated at each date" : "estimated once")
            << ", outcome: " << (s.outcome == eval::NowcastOutcome::kLatest ? "latest vintage" : "first release")
            << "\n\n";
  Table points;
  points.columns = {"date", "quarter", "month", "outcome", "dfm", "rw", "ar2"};
  for (const auto& p : r->points)
    points.Add({p.date.ToString(), p.quarter.ToString(), p.month_in_quarter, p.outcome, p.dfm, p.rw, p.ar2});
  Print(std::cout, points, g.format);
  std::cout << "\n";
  Table acc;
  acc.columns = {"method", "n", "rmse", "mae", "rmse_m1", "rmse_m2", "rmse_m3"};
  for (const auto& m : r->accuracy)
    acc.Add({m.method, m.n, Cell(m.rmse), Cell(m.mae), Cell(m.rmse_by_month[0]), Cell(m.rmse_by_month[1]),
             Cell(m.rmse_by_month[2])});
  Print(std::cout, acc, g.format);
  std::cout << "\nDiebold-Mariano (squared errors, two-sided; negative: the DFM is more accurate), horizon "
            << r->dm_horizon << "; by month: horizon 1\n";
  Table tests;
  tests.columns = {"test", "months", "relative_rmse", "dm", "pvalue", "n"};
  for (const auto& t : r->tests) {
    const std::string name = "dfm vs " + t.benchmark;
    auto row = [&](const std::string& months, double rel, const std::optional<eval::DieboldMarianoResult>& dm,
                   const Status& st) {
      if (dm)
        tests.Add({name, months, Cell(rel), Cell(dm->statistic), Cell(dm->pvalue), dm->n});
      else
        tests.Add({name, months, Cell(rel), "n/a: " + st.message(), nullptr, nullptr});
    };
    row("all", t.relative_rmse, t.dm, t.status);
    for (size_t m = 0; m < 3; ++m)
      row(std::to_string(m + 1), t.relative_rmse_by_month[m], t.dm_by_month[m], t.status_by_month[m]);
  }
  Print(std::cout, tests, g.format);
  return kExitOk;
}

}  // namespace almanac::cli
