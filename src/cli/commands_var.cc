// almanac var: VAR/BVAR/ARIMAX forecasts, coefficients, lag selection, IRFs, FEVD, Granger
// tests and stability (issue 6).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "almanac/core/hash.h"
#include "almanac/data.h"
#include "almanac/data/transforms.h"
#include "almanac/models.h"
#include "almanac/registry.h"
#include "almanac/tracking.h"
#include "almanac/version.h"

#include "cli/commands_multi.h"
#include "cli/commands_pipeline.h"
#include "cli/commands_risk.h"
#include "cli/multi_data.h"

namespace almanac::cli {
namespace {

Json DescriptionJson(const models::MultiDescription& d) {
  return {{"type", d.type},
          {"method", d.method},
          {"variables", d.names},
          {"lags", d.lags},
          {"trend", d.trend},
          {"nobs", d.nobs},
          {"regressors", d.regressors},
          {"coefficients", d.coefficients},
          {"std_errors", d.std_errors},
          {"sigma_u", d.sigma_u},
          {"loglik", FiniteOrNull(d.loglik)},
          {"aic", FiniteOrNull(d.aic)},
          {"bic", FiniteOrNull(d.bic)},
          {"hqic", FiniteOrNull(d.hqic)},
          {"fpe", FiniteOrNull(d.fpe)},
          {"eigen_moduli", d.eigen_moduli},
          {"stable", d.stable},
          {"params", d.params},
          {"notes", d.notes}};
}

Json SelectionJson(const models::LagOrderSelection& s) {
  return {{"max_lags", s.max_lags},
          {"nobs", s.nobs},
          {"lags", s.lags},
          {"aic", s.aic},
          {"bic", s.bic},
          {"hqic", s.hqic},
          {"fpe", s.fpe},
          {"selected", {{"aic", s.aic_order}, {"bic", s.bic_order}, {"hqic", s.hqic_order}, {"fpe", s.fpe_order}}}};
}

// `var simulate`: simulates and writes the paths as long CSV (stdout or a.output); with a
// file, then prints `summary` plus the simulation fields.
int WritePaths(const GlobalOptions& g, const VarArgs& a, const models::MultivariateForecaster& model,
               const models::PathSimulationRequest& sim, Json summary) {
  auto paths = model.SimulatePaths(sim);
  if (!paths.ok()) return ReportError(paths.status());
  std::ofstream file;
  if (!a.output.empty()) {
    file.open(a.output, std::ios::binary);
    if (!file) return ReportError(UnavailableError("cannot write " + a.output));
  }
  std::ostream& csv = a.output.empty() ? std::cout : file;
  csv << "path,period,h,variable,value\n";
  for (int i = 0; i < paths->num_paths; ++i)
    for (int h = 0; h < paths->horizon; ++h) {
      const std::string period = paths->first_period ? (*paths->first_period + h).ToString() : std::string();
      for (int v = 0; v < paths->num_vars; ++v)
        csv << i + 1 << ',' << period << ',' << h + 1 << ',' << paths->names[v] << ','
            << FormatDouble(paths->at(i, h, v)) << '\n';
    }
  if (!csv)
    return ReportError(UnavailableError("cannot write the paths" + (a.output.empty() ? "" : " to " + a.output)));
  if (!a.output.empty()) {
    summary["paths"] = paths->num_paths;
    summary["horizon"] = paths->horizon;
    summary["simulation"] = paths->method;
    summary["output"] = a.output;
    if (g.format == OutputFormat::kJson)
      std::cout << PrettyJson(summary) << "\n";
    else if (!g.quiet)
      std::cout << paths->method << "\nwrote " << a.output << "\n";
  }
  return kExitOk;
}

// What --register made: the version (possibly an existing one with the identical package) and
// the run that recorded the fit.
struct Registration {
  store::ModelVersionRecord version;
  std::string run_id;
  bool unchanged = false;  // an identical package was already registered
};

// Params and metrics of the tracked run, the package, the version: `almanac var ... --register
// NAME` (issue 24). The snapshot of the workspace series (as of --as-of) is stored so that the
// version's lineage shows its data; --input data are recorded by the file's SHA-256. A run whose
// recording fails is marked failed and nothing is registered.
Result<Registration> RegisterFit(const GlobalOptions& g, const VarArgs& a, const DataSource& ds,
                                 const models::MultiInput& data, const models::MultivariateForecaster& model,
                                 const models::MultiDescription& desc, const std::vector<double>& levels) {
  ALMANAC_RETURN_IF_ERROR(ValidateName(a.register_model, "model name").WithContext("--register"));
  const std::string experiment = a.experiment.empty() ? a.register_model : a.experiment;
  ALMANAC_RETURN_IF_ERROR(ValidateName(experiment, "experiment").WithContext("--experiment"));
  ALMANAC_ASSIGN_OR_RETURN(Json envelope, models::MultivariateEnvelope(model));
  std::string input_sha;
  if (!a.data.input.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(std::string bytes, ReadInputFile(a.data.input, "--input"));
    input_sha = Sha256Hex(bytes);
  }
  auto env_or = OpenEnv(g, true);
  if (!env_or.ok()) return env_or.status().WithContext("--register: registering a version needs a workspace");
  Env& env = **env_or;
  tracking::Tracker tracker(env.ws->store().metadata(), *env.artifacts, SystemClock());
  registry::Registry reg(env.ws->store(), SystemClock());
  ALMANAC_ASSIGN_OR_RETURN(store::RunRecord run, tracker.StartRun({.experiment = experiment, .user = g.user}));
  Registration out;
  out.run_id = run.id;
  auto record = [&]() -> Status {
    registry::PackageManifest m;
    m.model_type = model.spec().type;
    m.model_spec = {{"type", model.spec().type}, {"params", model.spec().params}};
    if (a.data.input.empty()) {
      store::SnapshotRequest sr{"var-" + run.id, ds.keys, ds.as_of, g.user};
      ALMANAC_ASSIGN_OR_RETURN(store::SnapshotInfo snap, env.ws->store().series().CreateSnapshot(sr));
      m.snapshot_id = snap.id;
      ALMANAC_RETURN_IF_ERROR(tracker.SetSnapshot(run.id, snap.id));
    }
    m.frequency = std::string(FrequencyCode(data.start->frequency()));
    m.history_end = (*data.start + (data.size() - 1)).ToString();
    m.horizon = a.horizon;
    m.levels = levels;
    m.metrics = Json::object();
    for (const auto& [k, v] : {std::pair<const char*, double>{"aic", desc.aic}, {"bic", desc.bic}, {"hqic", desc.hqic},
                               {"fpe", desc.fpe}, {"loglik", desc.loglik}})
      if (std::isfinite(v)) m.metrics[k] = v;
    ALMANAC_ASSIGN_OR_RETURN(std::string op, data::CanonicalTransformName(a.data.transform.empty() ? "none"
                                                                                                    : a.data.transform));
    if (op != "none") {
      std::vector<data::TransformSpec> ts;
      for (const auto& key : ds.keys) ts.push_back({key, op, key, Json::object()});
      m.transforms = data::TransformsToJson(ts);
    }
    m.almanac_version = std::string(ALMANAC_VERSION) + "+" + ALMANAC_GIT_COMMIT;
    m.variables = desc.names;
    ALMANAC_ASSIGN_OR_RETURN(std::string package, registry::BuildPackage(m, envelope));
    std::vector<std::pair<std::string, std::string>> params = {
        {"command", "var"},
        {"model", CompactJson(m.model_spec)},
        {"series", CompactJson(Json(ds.keys))},
        {"as_of", ds.as_of ? ds.as_of->ToString() : std::string()},
        {"transform", op},
        {"sample", Span(data)},
        {"method", desc.method}};
    if (!input_sha.empty()) {
      params.emplace_back("input.file", a.data.input);
      params.emplace_back("input.sha256", input_sha);
    }
    ALMANAC_RETURN_IF_ERROR(tracker.LogParams(run.id, params));
    std::vector<store::MetricPoint> points;
    for (const auto& [k, v] : m.metrics.items()) points.push_back({k, 0, v.get<double>(), 0});
    ALMANAC_RETURN_IF_ERROR(tracker.LogMetrics(run.id, std::move(points)));
    // Content-addressed, as the pipeline's register step stores packages.
    ALMANAC_ASSIGN_OR_RETURN(store::ArtifactRecord rec,
                             env.artifacts->Put(store::ContentAddressedName(Sha256Hex(package)), package));
    rec.kind = "package.json";
    ALMANAC_RETURN_IF_ERROR(tracker.RecordArtifact(run.id, rec));
    ALMANAC_RETURN_IF_ERROR(reg.EnsureModel({a.register_model, "", "", Json::object()}, g.user).status());
    registry::NewVersion nv{a.register_model, run.id, rec, m.snapshot_id, m.metrics,
                            desc.method + " on " + Span(data) + " (almanac var --register)"};
    nv.reuse_identical_package = true;
    ALMANAC_ASSIGN_OR_RETURN(out.version, reg.CreateVersion(nv, g.user));
    out.unchanged = out.version.run_id != run.id;
    return Status::Ok();
  };
  if (Status s = record(); !s.ok()) {
    (void)tracker.FinishRun(run.id, store::RunStatus::kFailed, s.message());
    return s;
  }
  ALMANAC_RETURN_IF_ERROR(tracker.FinishRun(run.id, store::RunStatus::kFinished, ""));
  return out;
}

}  // namespace

int RunVar(const GlobalOptions& g, const VarArgs& a) {
  static const std::vector<std::string> kActions = {"forecast", "coef",    "select",    "irf",
                                                    "fevd",     "granger", "stability", "simulate"};
  if (std::find(kActions.begin(), kActions.end(), a.action) == kActions.end()) {
    std::string msg = "unknown var action " + QuoteForMessage(a.action);
    const std::string hint = DidYouMean(a.action, kActions);
    if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
    return ReportError(
        InvalidArgumentError(msg + "; expected forecast, coef, select, irf, fevd, granger, stability or simulate"));
  }
  if (!a.register_model.empty() && (a.action == "select" || !a.from.empty()))
    return ReportError(InvalidArgumentError("--register needs a fit: not with var select or simulate --from"));
  auto levels = ParseLevelList(a.levels);
  if (!levels.ok()) return ReportError(levels.status());
  auto params = BuildParams(a.model);
  if (!params.ok()) return ReportError(params.status());
  if (a.lags >= 0) (*params)["lags"] = a.lags;
  if (a.max_lags >= 0) (*params)["max_lags"] = a.max_lags;
  if (!a.ic.empty()) (*params)["ic"] = a.ic;
  if (!a.trend.empty()) (*params)["trend"] = a.trend;
  const models::ModelSpec spec{a.model.model, *params};
  if (Status s = models::ValidateMultivariateSpec(spec); !s.ok()) return ReportError(s);
  if (a.action == "forecast")
    if (Status s = CheckHorizon(a.horizon); !s.ok()) return ReportError(s);

  models::PathSimulationRequest sim;
  if (a.action == "simulate") {
    auto shocks = models::ParseShockDistribution(a.shocks);
    if (!shocks.ok()) return ReportError(shocks.status());
    if (a.seed < 0) return ReportError(InvalidArgumentError("--seed must be non-negative"));
    sim.num_paths = a.paths;
    sim.horizon = a.horizon;
    sim.shocks = *shocks;
    sim.t_dof = a.dof;
    sim.seed = static_cast<std::uint64_t>(a.seed);
    sim.parameter_uncertainty = a.parameter_uncertainty;
    if (!a.from.empty()) {
      std::ifstream in(a.from, std::ios::binary);
      if (!in) return ReportError(NotFoundError("cannot read model file " + a.from));
      std::stringstream bytes;
      bytes << in.rdbuf();
      auto saved = models::DeserializeMultivariate(bytes.str());
      if (!saved.ok()) return ReportError(Status(saved.status().code(), a.from + ": " + saved.status().message()));
      return WritePaths(g, a, **saved, sim, Json{{"model", (*saved)->spec().type}, {"model_file", a.from}});
    }
  }

  auto ds = OpenData(g, a.data);
  if (!ds.ok()) return ReportError(ds.status());
  auto data = ReadMulti(*ds->store, ds->keys, ds->as_of, a.data.transform);
  if (!data.ok()) return ReportError(data.status());

  if (a.action == "select") {
    int max_lags = a.max_lags >= 0 ? a.max_lags : params->value("max_lags", 8);
    auto trend = models::ParseVarTrend(params->value("trend", std::string("c")));
    if (!trend.ok()) return ReportError(trend.status());
    auto sel = models::SelectVarOrder(*data, max_lags, *trend);
    if (!sel.ok()) return ReportError(sel.status());
    Table t{{"lags", "aic", "bic", "hqic", "fpe"}, {}};
    for (size_t i = 0; i < sel->lags.size(); ++i) {
      auto mark = [&](double v, int chosen) {
        return g.format == OutputFormat::kTable && chosen == sel->lags[i] ? Json(FormatDouble(v) + " *")
                                                                          : FiniteOrNull(v);
      };
      t.Add({sel->lags[i], mark(sel->aic[i], sel->aic_order), mark(sel->bic[i], sel->bic_order),
             mark(sel->hqic[i], sel->hqic_order), mark(sel->fpe[i], sel->fpe_order)});
    }
    if (g.format == OutputFormat::kJson) {
      Json out = SelectionJson(*sel);
      out["variables"] = ds->keys;
      out["sample"] = Span(*data);
      std::cout << PrettyJson(out) << "\n";
      return kExitOk;
    }
    if (!g.quiet)
      std::cerr << "lag order selection on " << Span(*data) << ", common sample of " << sel->nobs
                << " obs; selected: aic " << sel->aic_order << ", bic " << sel->bic_order << ", hqic "
                << sel->hqic_order << ", fpe " << sel->fpe_order << "\n";
    Print(std::cout, t, g.format);
    return kExitOk;
  }

  auto model = models::CreateMultivariate(spec);
  if (!model.ok()) return ReportError(model.status());
  if (Status s = (*model)->Fit(*data); !s.ok()) return ReportError(s);
  auto desc = (*model)->Describe();
  if (!desc.ok()) return ReportError(desc.status());
  std::optional<Registration> registered;
  if (!a.register_model.empty()) {
    if (a.model.model != "var" && a.model.model != "bvar")
      return ReportError(InvalidArgumentError("--register: only var and bvar models are registered (got " +
                                              QuoteForMessage(a.model.model) + ")"));
    auto r = RegisterFit(g, a, *ds, *data, **model, *desc, *levels);
    if (!r.ok()) return ReportError(r.status());
    registered = std::move(*r);
  }
  if (!a.save.empty()) {
    auto bytes = models::SerializeMultivariate(**model);
    if (!bytes.ok()) return ReportError(bytes.status());
    std::ofstream out(a.save, std::ios::binary);
    out << *bytes;
    if (!out) return ReportError(UnavailableError("cannot write " + a.save));
  }
  if (!g.quiet && g.format != OutputFormat::kJson) {
    std::cerr << desc->method << " on " << Span(*data)
              << (ds->as_of ? " as known on " + ds->as_of->ToString() : std::string()) << "\n";
    PrintNotes(g, desc->notes);
  }
  Json out = {{"model", spec.type},
              {"method", desc->method},
              {"variables", ds->keys},
              {"sample", Span(*data)},
              {"as_of", ds->as_of ? Json(ds->as_of->ToString()) : Json(nullptr)},
              {"notes", desc->notes}};
  if (registered) {
    const std::string id = registered->version.model + "@" + std::to_string(registered->version.version);
    out["registered"] = {{"model", registered->version.model},
                         {"version", registered->version.version},
                         {"run_id", registered->run_id},
                         {"sha256", registered->version.artifact_sha256},
                         {"unchanged", registered->unchanged}};
    // On standard error in the other formats: standard output holds the table or the paths.
    if (g.format != OutputFormat::kJson)
      std::cerr << (registered->unchanged ? "unchanged: the package is identical to " : "registered ") << id
                << " (run " << registered->run_id << ", package sha256 " << registered->version.artifact_sha256 << ")\n";
  }
  if (a.action == "simulate") return WritePaths(g, a, **model, sim, std::move(out));
  Table t;
  if (a.action == "forecast") {
    auto fc = (*model)->Predict({.horizon = a.horizon, .levels = *levels});
    if (!fc.ok()) return ReportError(fc.status());
    t.columns = {"variable", "period", "h", "mean"};
    AddLevelColumns(&t, *levels);
    Json rows = Json::array();
    ForecastRows(*fc, {}, {}, &t, &rows);
    out["interval_method"] = fc->interval_method;
    out["forecasts"] = rows;
  } else if (a.action == "coef") {
    t.columns = {"regressor", "equation", "coefficient", "std_error"};
    for (size_t r = 0; r < desc->regressors.size(); ++r)
      for (size_t e = 0; e < desc->names.size(); ++e)
        t.Add({desc->regressors[r], desc->names[e], FiniteOrNull(desc->coefficients[r][e]),
               FiniteOrNull(desc->std_errors[r][e])});
    out["description"] = DescriptionJson(*desc);
    if (desc->selection) out["selection"] = SelectionJson(*desc->selection);
    if (!g.quiet && g.format == OutputFormat::kTable) {
      std::cerr << "log-likelihood " << FormatDouble(desc->loglik) << ", aic " << FormatDouble(desc->aic) << ", bic "
                << FormatDouble(desc->bic) << ", hqic " << FormatDouble(desc->hqic) << ", fpe "
                << FormatDouble(desc->fpe) << "\n";
    }
  } else if (a.action == "irf") {
    models::IrfOptions o{.periods = a.periods,
                         .orthogonal = !a.plain_irf,
                         .replications = a.replications,
                         .level = a.band_level,
                         .seed = static_cast<std::uint64_t>(std::max(0, a.seed))};
    auto irf = (*model)->ImpulseResponses(o);
    if (!irf.ok()) return ReportError(irf.status());
    t.columns = {"h", "response", "impulse", "value"};
    const bool bands = !irf->lower.empty();
    if (bands) {
      t.columns.push_back("lower");
      t.columns.push_back("upper");
    }
    Json rows = Json::array();
    for (size_t h = 0; h < irf->response.size(); ++h)
      for (size_t i = 0; i < irf->names.size(); ++i)
        for (size_t j = 0; j < irf->names.size(); ++j) {
          std::vector<Json> row{static_cast<int>(h), irf->names[i], irf->names[j],
                                FiniteOrNull(irf->response[h][i][j])};
          Json jr = {{"h", h},
                     {"response", irf->names[i]},
                     {"impulse", irf->names[j]},
                     {"value", FiniteOrNull(irf->response[h][i][j])}};
          if (bands) {
            row.push_back(FiniteOrNull(irf->lower[h][i][j]));
            row.push_back(FiniteOrNull(irf->upper[h][i][j]));
            jr["lower"] = FiniteOrNull(irf->lower[h][i][j]);
            jr["upper"] = FiniteOrNull(irf->upper[h][i][j]);
          }
          t.Add(std::move(row));
          rows.push_back(std::move(jr));
        }
    out["orthogonal"] = irf->orthogonal;
    out["band_level"] = bands ? Json(irf->level) : Json(nullptr);
    out["band_method"] = irf->band_method;
    out["responses"] = rows;
    if (!g.quiet && g.format == OutputFormat::kTable && bands)
      std::cerr << FormatDouble(irf->level) << "% bands: " << irf->band_method << "\n";
  } else if (a.action == "fevd") {
    auto fevd = (*model)->Fevd(a.periods);
    if (!fevd.ok()) return ReportError(fevd.status());
    t.columns = {"variable", "h", "shock", "share"};
    for (size_t i = 0; i < fevd->names.size(); ++i)
      for (size_t h = 0; h < fevd->share[i].size(); ++h)
        for (size_t j = 0; j < fevd->names.size(); ++j)
          t.Add({fevd->names[i], static_cast<int>(h + 1), fevd->names[j], FiniteOrNull(fevd->share[i][h][j])});
  } else if (a.action == "granger") {
    t.columns = {"caused", "causing", "F", "df_num", "df_den", "p_value", "crit_5pct"};
    std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> tests;
    const auto caused = SplitList(a.caused), causing = SplitList(a.causing);
    if (!caused.empty()) {
      tests.emplace_back(caused, causing);
    } else {
      for (const auto& x : desc->names)
        for (const auto& y : desc->names)
          if (x != y) tests.push_back({{x}, {y}});
    }
    for (const auto& [ed, ing] : tests) {
      auto r = (*model)->Granger(ed, ing);
      if (!r.ok()) return ReportError(r.status());
      auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
        return s;
      };
      t.Add({join(r->caused), join(r->causing), FiniteOrNull(r->statistic), r->df_num, r->df_den,
             FiniteOrNull(r->pvalue), FiniteOrNull(r->crit_value)});
    }
  } else if (a.action == "stability") {
    t.columns = {"root", "modulus"};
    for (size_t i = 0; i < desc->eigen_moduli.size(); ++i)
      t.Add({static_cast<int>(i + 1), FiniteOrNull(desc->eigen_moduli[i])});
    out["stable"] = desc->stable;
    if (!g.quiet && g.format == OutputFormat::kTable)
      std::cerr << (desc->stable ? "stable: every companion eigenvalue is inside the unit circle"
                                 : "NOT stable: a companion eigenvalue is on or outside the unit circle")
                << "\n";
  }
  if (g.format == OutputFormat::kJson) {
    if (!out.contains("forecasts") && !out.contains("responses")) {
      Json rows = Json::array();
      for (const auto& row : t.rows) {
        Json obj = Json::object();
        for (size_t i = 0; i < t.columns.size(); ++i) obj[t.columns[i]] = row[i];
        rows.push_back(std::move(obj));
      }
      out[a.action == "coef" ? "coefficients" : a.action] = rows;
    }
    std::cout << PrettyJson(out) << "\n";
  } else {
    Print(std::cout, t, g.format);
  }
  return kExitOk;
}

}  // namespace almanac::cli
