// `almanac monitor`: prints (and audits changes of) monitor::EvaluateProductionAccuracy.
#include "cli/commands_monitor.h"

#include <cmath>
#include <iostream>


namespace almanac::cli {
namespace {

std::string FixedOrEmpty(double v, int digits) { return std::isfinite(v) ? FormatFixed(v, digits) : std::string(); }

}  // namespace

int RunMonitor(const GlobalOptions& g, const MonitorArgs& a) {
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  auto artifacts = store::OpenArtifactStore("file:" + (*ws)->artifacts_dir());
  if (!artifacts.ok()) return ReportError(artifacts.status());
  store::Store& st = (*ws)->store();
  auto acc = monitor::EvaluateProductionAccuracy(st, **artifacts, a.model);
  if (!acc.ok()) return ReportError(acc.status());
  if (acc->empty()) {
    std::cerr << "almanac: no production versions" << (a.model.empty() ? "" : " of " + a.model) << " to monitor\n";
  }
  if (a.audit && !acc->empty()) {
    // A verdict is audited when it differs from the last one audited for the version, so the
    // log holds the monitoring history without a row per run.
    auto entries = st.metadata().ReadAudit(1, 0);
    if (!entries.ok()) return ReportError(entries.status());
    std::map<std::string, std::string> last;
    for (const auto& e : *entries)
      if (e.event.action == "monitor.verdict") last[e.event.object_id] = e.event.details.value("verdict", "");
    Status w = st.metadata().Run([&](store::MetadataTxn& txn) -> Status {
      for (const auto& v : *acc) {
        const std::string id = v.model + "@" + std::to_string(v.version);
        const std::string verdict(monitor::AccuracyVerdictName(v.verdict));
        auto it = last.find(id);
        if (it != last.end() && it->second == verdict) continue;
        if (it == last.end() && v.verdict == monitor::AccuracyVerdict::kNoForecasts) continue;
        Json coverage = Json::object();
        for (const auto& c : v.coverage) coverage[FormatDouble(c.level)] = FiniteOrNull(c.realized);
        Json details = {{"verdict", verdict},          {"reason", v.reason},
                        {"evaluated", v.evaluated},    {"forecasts", v.forecasts},
                        {"realized_mase", FiniteOrNull(v.realized_mase)}, {"backtest_mase", FiniteOrNull(v.backtest_mase)},
                        {"coverage", coverage}};
        ALMANAC_RETURN_IF_ERROR(txn.Audit({g.user.empty() ? "monitor" : g.user, "monitor.verdict", "model_version", id, details}).status());
      }
      return Status::Ok();
    });
    if (!w.ok()) return ReportError(w);
  }
  Table t{{"model", "version", "forecasts", "errors", "realized_mase", "backtest_mase", "coverage", "verdict", "reason"}, {}};
  for (const auto& v : *acc) {
    std::string cov;
    for (const auto& c : v.coverage)
      cov += (cov.empty() ? "" : " ") + FormatDouble(c.level) + "%:" + FixedOrEmpty(c.realized, 2) +
             (std::isfinite(c.backtest) ? "/" + FixedOrEmpty(c.backtest, 2) : std::string());
    if (g.format == OutputFormat::kJson) {
      Json covj = Json::array();
      for (const auto& c : v.coverage)
        covj.push_back({{"level", c.level}, {"n", c.n}, {"realized", FiniteOrNull(c.realized)}, {"backtest", FiniteOrNull(c.backtest)}});
      t.Add({v.model, v.version, v.forecasts, v.evaluated, FiniteOrNull(v.realized_mase), FiniteOrNull(v.backtest_mase), covj,
             std::string(monitor::AccuracyVerdictName(v.verdict)), v.reason});
    } else {
      t.Add({v.model, v.version, v.forecasts, v.evaluated, FixedOrEmpty(v.realized_mase, 3), FixedOrEmpty(v.backtest_mase, 3), cov,
             std::string(monitor::AccuracyVerdictName(v.verdict)), v.reason});
    }
  }
  Print(std::cout, t, g.format);
  return kExitOk;
}

}  // namespace almanac::cli
