// Portfolio risk on simulated macro paths: positions and FX rates from files, per-asset factor
// models, the P&L distribution per horizon with VaR/ES (Monte Carlo, normal, t) and Euler
// contributions by position and by component (docs/risk.md, "Portfolio").
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "almanac/core/thread_pool.h"
#include "almanac/risk.h"
#include "risk/csv_text.h"
#include "risk/random.h"

namespace almanac::risk {
namespace {

// ------------------------------------------------------------------------------ text input

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}



Result<double> ParseExposure(std::string_view text, const std::string& where) {
  if (Trim(text).empty()) return InvalidArgumentError(where + ": empty exposure (every position needs a number)");
  auto v = ParseFiniteDouble(Trim(text));
  if (!v.ok())
    return InvalidArgumentError(where + ": exposure " + QuoteForMessage(text) + " is not a finite number");
  return *v;
}

Status CheckDuplicates(const std::vector<Position>& positions, std::string_view file_name, bool has_ids,
                       bool json) {
  std::map<std::string, int> seen;
  for (const auto& p : positions) {
    const std::string key = has_ids ? p.id : p.asset + "/" + p.currency;
    auto [it, inserted] = seen.emplace(key, p.line);
    if (!inserted) {
      const std::string where = std::string(file_name) + (json ? " position " : ":") + std::to_string(p.line);
      return InvalidArgumentError(where + ": duplicated position " + QuoteForMessage(has_ids ? p.id : p.asset) +
                                  (has_ids ? "" : " in currency " + QuoteForMessage(p.currency)) + " (first at " +
                                  (json ? "position " : "line ") + std::to_string(it->second) +
                                  "); give each position once, or an id column to tell them apart");
    }
  }
  return Status::Ok();
}

std::string DefaultId(const Position& p) { return p.currency.empty() ? p.asset : p.asset + "/" + p.currency; }

Result<std::vector<Position>> ParsePositionsCsv(std::string_view text, std::string_view file_name) {
  const std::string file(file_name);
  auto lines = CsvLines(text);
  if (lines.empty()) return InvalidArgumentError(file + ": empty file, expected a header line (asset,exposure[,currency][,id])");
  const auto header = SplitCsvLine(lines[0].second);
  int asset_col = -1, exposure_col = -1, currency_col = -1, id_col = -1;
  for (size_t c = 0; c < header.size(); ++c) {
    const std::string name = ToLower(header[c]);
    int* slot = name == "asset" ? &asset_col
                : name == "exposure" ? &exposure_col
                : name == "currency" ? &currency_col
                : name == "id" ? &id_col
                                  : nullptr;
    if (slot == nullptr) continue;
    if (*slot >= 0)
      return InvalidArgumentError(file + ":" + std::to_string(lines[0].first) + ": column " +
                                  QuoteForMessage(header[c]) + " appears twice");
    *slot = static_cast<int>(c);
  }
  if (asset_col < 0 || exposure_col < 0)
    return InvalidArgumentError(file + ":" + std::to_string(lines[0].first) + ": the header needs the columns " +
                                "asset and exposure (optional: currency, id); found " +
                                QuoteForMessage(lines[0].second));
  std::vector<Position> out;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto& [number, line] = lines[i];
    const std::string where = file + ":" + std::to_string(number);
    const auto cells = SplitCsvLine(line);
    if (cells.size() != header.size())
      return InvalidArgumentError(where + ": " + std::to_string(cells.size()) + " fields, the header has " +
                                  std::to_string(header.size()));
    Position p;
    p.line = number;
    p.asset = cells[asset_col];
    if (p.asset.empty()) return InvalidArgumentError(where + ": empty asset");
    ALMANAC_ASSIGN_OR_RETURN(p.exposure, ParseExposure(cells[exposure_col], where));
    if (currency_col >= 0) p.currency = Upper(cells[currency_col]);
    p.id = id_col >= 0 ? cells[id_col] : DefaultId(p);
    if (p.id.empty()) return InvalidArgumentError(where + ": empty id");
    out.push_back(std::move(p));
  }
  if (out.empty()) return InvalidArgumentError(file + ": no position (only a header line)");
  ALMANAC_RETURN_IF_ERROR(CheckDuplicates(out, file_name, id_col >= 0, false));
  return out;
}

Result<std::vector<Position>> ParsePositionsJson(std::string_view text, std::string_view file_name) {
  const std::string file(file_name);
  auto parsed = ParseJson(text);
  if (!parsed.ok()) return InvalidArgumentError(file + ": not valid JSON: " + parsed.status().message());
  const Json* list = &*parsed;
  if (parsed->is_object()) {
    if (!parsed->contains("positions"))
      return InvalidArgumentError(file + ": expected an array of positions or an object with \"positions\"");
    list = &(*parsed)["positions"];
  }
  if (!list->is_array()) return InvalidArgumentError(file + ": \"positions\" must be an array");
  if (list->empty()) return InvalidArgumentError(file + ": no position");
  std::vector<Position> out;
  bool any_id = false;
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& item = (*list)[i];
    const std::string where = file + " position " + std::to_string(i + 1);
    if (!item.is_object()) return InvalidArgumentError(where + ": expected an object {asset, exposure, currency?, id?}");
    for (const auto& [key, value] : item.items())
      if (key != "asset" && key != "exposure" && key != "currency" && key != "id")
        return InvalidArgumentError(where + ": unknown key " + QuoteForMessage(key) +
                                    " (expected asset, exposure, currency, id)");
    Position p;
    p.line = static_cast<int>(i + 1);
    if (!item.contains("asset") || !item["asset"].is_string() || item["asset"].get<std::string>().empty())
      return InvalidArgumentError(where + ": \"asset\" must be a non-empty string");
    p.asset = item["asset"].get<std::string>();
    if (!item.contains("exposure")) return InvalidArgumentError(where + ": no \"exposure\"");
    const Json& e = item["exposure"];
    if (e.is_number()) {
      p.exposure = e.get<double>();
      if (!std::isfinite(p.exposure)) return InvalidArgumentError(where + ": exposure is not a finite number");
    } else if (e.is_string()) {
      ALMANAC_ASSIGN_OR_RETURN(p.exposure, ParseExposure(e.get<std::string>(), where));
    } else {
      return InvalidArgumentError(where + ": exposure " + QuoteForMessage(e.dump()) + " is not a number");
    }
    if (item.contains("currency")) {
      if (!item["currency"].is_string()) return InvalidArgumentError(where + ": \"currency\" must be a string");
      p.currency = Upper(item["currency"].get<std::string>());
    }
    if (item.contains("id")) {
      if (!item["id"].is_string() || item["id"].get<std::string>().empty())
        return InvalidArgumentError(where + ": \"id\" must be a non-empty string");
      p.id = item["id"].get<std::string>();
      any_id = true;
    }
    out.push_back(std::move(p));
  }
  for (auto& p : out)
    if (p.id.empty()) p.id = DefaultId(p);
  ALMANAC_RETURN_IF_ERROR(CheckDuplicates(out, file_name, any_id, true));
  return out;
}

Result<std::string> ReadWholeFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + std::string(what) + " file " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// ------------------------------------------------------------------------------ the engine

Status CheckLevels(const std::vector<double>& levels) {
  if (levels.empty()) return InvalidArgumentError("portfolio risk: no confidence level");
  for (double l : levels)
    if (!(l > 0 && l < 1))
      return InvalidArgumentError("portfolio risk: level " + FormatDouble(l) + " is outside (0, 1) (write 0.99, not 99)");
  return Status::Ok();
}

// Positions resolved against the model and the FX rates.
struct Book {
  std::vector<int> used;           // model asset index of each used asset
  std::vector<int> position_used;  // used-asset index of each position
  std::vector<double> position_exposure;  // in the reporting currency
  std::vector<double> asset_exposure;     // per used asset: sum of its positions
};

Result<Book> ResolveBook(const std::vector<Position>& positions, const FxRates& fx,
                         const std::vector<std::string>& assets) {
  if (positions.empty()) return InvalidArgumentError("portfolio risk: no position");
  std::map<std::string, int> index;
  for (size_t a = 0; a < assets.size(); ++a) index.emplace(assets[a], static_cast<int>(a));
  std::string list;
  for (const auto& a : assets) list += (list.empty() ? "" : ", ") + a;
  Book b;
  std::map<int, int> used_of;
  for (const auto& p : positions) {
    auto it = index.find(p.asset);
    if (it == index.end())
      return InvalidArgumentError("position " + QuoteForMessage(p.id) + " (line " + std::to_string(p.line) +
                                  "): unknown asset " + QuoteForMessage(p.asset) + " (the factor model has: " + list +
                                  ")");
    if (!std::isfinite(p.exposure))
      return InvalidArgumentError("position " + QuoteForMessage(p.id) + ": exposure is not a finite number");
    auto rate = fx.Rate(p.currency);
    if (!rate.ok())
      return Status(rate.status().code(), "position " + QuoteForMessage(p.id) + " (line " + std::to_string(p.line) +
                                              "): " + rate.status().message());
    auto [u, inserted] = used_of.emplace(it->second, static_cast<int>(b.used.size()));
    if (inserted) {
      b.used.push_back(it->second);
      b.asset_exposure.push_back(0);
    }
    b.position_used.push_back(u->second);
    b.position_exposure.push_back(p.exposure * *rate);
    b.asset_exposure[u->second] += p.exposure * *rate;
  }
  return b;
}

// The per-path computation: factor values, coefficient draws, cumulative asset returns.
class PathEngine {
 public:
  int H = 0, F = 0, U = 0, K = 0;  // horizon, factors, used assets, coefficients (F + 1)

  Status Init(const PortfolioFactorModel& model, const Book& book, const models::SimulatedPaths& paths,
              const PortfolioRiskOptions& options) {
    paths_ = &paths;
    options_ = &options;
    H = paths.horizon;
    F = static_cast<int>(model.factors.size());
    K = F + 1;
    U = static_cast<int>(book.used.size());
    if (paths.num_paths < 2) return InvalidArgumentError("portfolio risk: need at least 2 simulated paths");
    if (static_cast<int64_t>(paths.values.size()) !=
        static_cast<int64_t>(paths.num_paths) * paths.horizon * paths.num_vars)
      return InvalidArgumentError("portfolio risk: the simulated paths have an inconsistent size");
    std::string names;
    for (const auto& n : paths.names) names += (names.empty() ? "" : ", ") + n;
    for (const auto& f : model.factors) {
      auto it = std::find(paths.names.begin(), paths.names.end(), f.variable);
      if (it == paths.names.end())
        return InvalidArgumentError("factor " + QuoteForMessage(f.variable) +
                                    " is not a variable of the simulated paths (" + names + ")");
      var_.push_back(static_cast<int>(it - paths.names.begin()));
      double last = std::numeric_limits<double>::quiet_NaN();
      if (f.difference) {
        for (const auto& [name, value] : options.last_values)
          if (name == f.variable) last = value;
        if (!std::isfinite(last))
          return InvalidArgumentError("factor " + QuoteForMessage(f.variable) +
                                      " is a change (difference) but its last observed value is not given");
      }
      diff_.push_back(f.difference);
      last_.push_back(last);
    }
    for (int u = 0; u < U; ++u) {
      const FactorFit& fit = model.fits[book.used[u]];
      const std::string& asset = model.assets[book.used[u]];
      if (static_cast<int>(fit.coefficients.size()) != K || static_cast<int>(fit.covariance.size()) != K * K)
        return InvalidArgumentError("asset " + QuoteForMessage(asset) + ": its factor model has " +
                                    std::to_string(fit.coefficients.size()) + " coefficients, expected " +
                                    std::to_string(K) + " (intercept and one per factor)");
      Eigen::MatrixXd cov = Eigen::Map<const Eigen::MatrixXd>(fit.covariance.data(), K, K);
      cov = 0.5 * (cov + cov.transpose()).eval();
      Eigen::MatrixXd chol = Eigen::MatrixXd::Zero(K, K);
      if (options.parameter_uncertainty) {
        Eigen::LLT<Eigen::MatrixXd> llt(cov);
        if (llt.info() != Eigen::Success || !cov.allFinite())
          return InvalidArgumentError("asset " + QuoteForMessage(asset) +
                                      ": the coefficient covariance is not positive definite, so its coefficients "
                                      "cannot be drawn (refit with fewer factors, or without parameter uncertainty)");
        chol = llt.matrixL();
      }
      if (!(fit.residual_sd >= 0) || !std::isfinite(fit.residual_sd))
        return InvalidArgumentError("asset " + QuoteForMessage(asset) + ": residual standard deviation " +
                                    FormatDouble(fit.residual_sd) + " is not a finite non-negative number");
      coef_.insert(coef_.end(), fit.coefficients.begin(), fit.coefficients.end());
      for (int r = 0; r < K; ++r)
        for (int c = 0; c < K; ++c) chol_.push_back(chol(r, c));
      sd_.push_back(fit.residual_sd);
      model_index_.push_back(static_cast<std::uint64_t>(book.used[u]));
    }
    // The same tables with the asset innermost ([k * U + u], [(r * K + c) * U + u]), so the
    // per-path loops below run over contiguous assets (and vectorise).
    coef_t_.assign(static_cast<size_t>(K) * U, 0.0);
    chol_t_.assign(static_cast<size_t>(K) * K * U, 0.0);
    for (int u = 0; u < U; ++u)
      for (int r = 0; r < K; ++r) {
        coef_t_[static_cast<size_t>(r) * U + u] = coef_[static_cast<size_t>(u) * K + r];
        for (int c = 0; c < K; ++c)
          chol_t_[(static_cast<size_t>(r) * K + c) * U + u] = chol_[(static_cast<size_t>(u) * K + r) * K + c];
      }
    draws_ = (options.parameter_uncertainty ? K : 0) + (options.residuals ? H : 0);
    return Status::Ok();
  }

  // x[s * F + f]: the factor values of path i at steps s = 0..H-1.
  void Factors(int i, double* x) const {
    for (int f = 0; f < F; ++f) {
      double prev = last_[f];
      for (int s = 0; s < H; ++s) {
        const double v = paths_->at(i, s, var_[f]);
        x[s * F + f] = diff_[f] ? v - prev : v;
        prev = v;
      }
    }
  }

  // r[s * U + u]: used asset u's cumulative return to the end of step s on path i; x as
  // Factors. z (draws x U) and b (K x U) are scratch. Asset u's draws are its own counter-based
  // stream (seed, path, model asset index): the coefficient normals first, then the residuals.
  // Every sum below runs in a fixed order, so a path's returns are the same bits wherever it
  // is computed.
  void Returns(int i, const double* x, double* r, double* z, double* b) const {
    const size_t Us = static_cast<size_t>(U);
    if (draws_ > 0) {
      double d[64];
      double* dz = draws_ <= 64 ? d : z + static_cast<size_t>(draws_) * Us;  // z has room after the draws
      for (int u = 0; u < U; ++u) {
        internal::NormalStream(zig_, internal::StreamKey(options_->seed, static_cast<std::uint64_t>(i), model_index_[u]))
            .Fill(draws_, dz);
        for (int j = 0; j < draws_; ++j) z[j * Us + u] = dz[j];
      }
    }
    if (options_->parameter_uncertainty) {
      for (int k = 0; k < K; ++k) {
        double* bk = b + k * Us;
        const double* ck = &coef_t_[k * Us];
        for (size_t u = 0; u < Us; ++u) bk[u] = ck[u];
        for (int c = 0; c <= k; ++c) {
          const double* l = &chol_t_[(static_cast<size_t>(k) * K + c) * Us];
          const double* zc = z + c * Us;
          for (size_t u = 0; u < Us; ++u) bk[u] += l[u] * zc[u];
        }
      }
    } else {
      std::copy(coef_t_.begin(), coef_t_.end(), b);
    }
    const double* e = z + (options_->parameter_uncertainty ? K : 0) * Us;
    for (int s = 0; s < H; ++s) {
      double* rs = r + s * Us;
      const double* prev = s > 0 ? rs - Us : nullptr;
      for (size_t u = 0; u < Us; ++u) rs[u] = b[u];
      for (int f = 0; f < F; ++f) {
        const double xf = x[s * F + f];
        const double* bf = b + (1 + f) * Us;
        for (size_t u = 0; u < Us; ++u) rs[u] += bf[u] * xf;
      }
      if (options_->residuals) {
        const double* es = e + s * Us;
        for (size_t u = 0; u < Us; ++u) rs[u] += sd_[u] * es[u];
      }
      if (prev != nullptr)
        for (size_t u = 0; u < Us; ++u) rs[u] += prev[u];
    }
  }

  const double* coef(int u) const { return &coef_[static_cast<size_t>(u) * K]; }

 private:
  const internal::ZigguratTable& zig_ = internal::Ziggurat();
  const models::SimulatedPaths* paths_ = nullptr;
  const PortfolioRiskOptions* options_ = nullptr;
  std::vector<int> var_;
  std::vector<bool> diff_;
  std::vector<double> last_, coef_, chol_, sd_, coef_t_, chol_t_;
  int draws_ = 0;
  std::vector<std::uint64_t> model_index_;
};

// Per-thread scratch for PathEngine.
struct Scratch {
  std::vector<double> x, r, z, b;
  explicit Scratch(const PathEngine& e)
      : x(static_cast<size_t>(e.H) * std::max(e.F, 1)),
        r(static_cast<size_t>(e.U) * e.H),
        z(static_cast<size_t>(e.K + e.H + 1) * (e.U + 1)),
        b(static_cast<size_t>(e.K) * e.U) {}
};

constexpr int kChunk = 1024;
constexpr size_t kTailGroup = 512;  // tail paths per group of the contribution pass
const double kPercentiles[] = {0.01, 0.05, 0.25, 0.50, 0.75, 0.95, 0.99};

}  // namespace

Result<double> FxRates::Rate(std::string_view currency) const {
  if (currency.empty() || currency == base) return 1.0;
  for (const auto& [c, r] : rates)
    if (c == currency) return r;
  std::string known = base.empty() ? "" : base + " (base)";
  for (const auto& [c, r] : rates) known += (known.empty() ? "" : ", ") + c;
  return NotFoundError("no FX rate for currency " + QuoteForMessage(currency) + " (known: " +
                       (known.empty() ? std::string("none; give an FX rates file") : known) + ")");
}

Result<std::vector<Position>> ParsePositions(std::string_view text, std::string_view file_name) {
  const std::string_view t = Trim(text);
  if (!t.empty() && (t[0] == '[' || t[0] == '{')) return ParsePositionsJson(text, file_name);
  return ParsePositionsCsv(text, file_name);
}

Result<std::vector<Position>> ReadPositionsFile(const std::string& path) {
  ALMANAC_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path, "positions"));
  return ParsePositions(text, path);
}

Result<FxRates> ParseFxRates(std::string_view text, std::string_view file_name, std::string base) {
  const std::string file(file_name);
  FxRates fx;
  fx.base = Upper(base);
  auto lines = CsvLines(text);
  if (lines.empty()) return InvalidArgumentError(file + ": empty file, expected a header line currency,rate");
  const auto header = SplitCsvLine(lines[0].second);
  if (header.size() != 2 || ToLower(header[0]) != "currency" || ToLower(header[1]) != "rate")
    return InvalidArgumentError(file + ":" + std::to_string(lines[0].first) +
                                ": expected the header currency,rate, found " + QuoteForMessage(lines[0].second));
  std::map<std::string, int> seen;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string where = file + ":" + std::to_string(lines[i].first);
    const auto cells = SplitCsvLine(lines[i].second);
    if (cells.size() != 2) return InvalidArgumentError(where + ": expected 2 fields (currency,rate)");
    const std::string cur = Upper(cells[0]);
    if (cur.empty()) return InvalidArgumentError(where + ": empty currency");
    auto rate = ParseFiniteDouble(cells[1]);
    if (!rate.ok() || !(*rate > 0))
      return InvalidArgumentError(where + ": rate " + QuoteForMessage(cells[1]) + " is not a positive number");
    if (!seen.emplace(cur, lines[i].first).second)
      return InvalidArgumentError(where + ": currency " + QuoteForMessage(cur) + " appears twice");
    if (cur == fx.base && std::abs(*rate - 1.0) > 1e-12)
      return InvalidArgumentError(where + ": the reporting currency " + cur + " must have rate 1");
    fx.rates.emplace_back(cur, *rate);
  }
  return fx;
}

Result<PortfolioFactorModel> FitPortfolioFactorModel(const std::vector<std::string>& assets,
                                                     const std::vector<std::vector<double>>& asset_returns,
                                                     const std::vector<FactorSpec>& factors,
                                                     const std::vector<std::vector<double>>& factor_history,
                                                     const FactorModelOptions& options) {
  if (assets.empty()) return InvalidArgumentError("factor model: no asset");
  if (assets.size() != asset_returns.size())
    return InvalidArgumentError("factor model: " + std::to_string(assets.size()) + " asset names but " +
                                std::to_string(asset_returns.size()) + " return columns");
  if (factors.size() != factor_history.size())
    return InvalidArgumentError("factor model: " + std::to_string(factors.size()) + " factors but " +
                                std::to_string(factor_history.size()) + " factor histories");
  std::set<std::string> seen;
  for (const auto& f : factors)
    if (!seen.insert(f.variable).second)
      return InvalidArgumentError("factor model: factor " + QuoteForMessage(f.variable) + " appears twice");
  seen.clear();
  PortfolioFactorModel m;
  m.factors = factors;
  FactorModelOptions o = options;
  o.intercept = true;
  for (size_t a = 0; a < assets.size(); ++a) {
    if (!seen.insert(assets[a]).second)
      return InvalidArgumentError("factor model: asset " + QuoteForMessage(assets[a]) + " appears twice");
    auto fit = FitFactorModel(asset_returns[a], factor_history, o);
    if (!fit.ok())
      return Status(fit.status().code(), "asset " + QuoteForMessage(assets[a]) + ": " + fit.status().message());
    m.assets.push_back(assets[a]);
    m.fits.push_back(std::move(*fit));
  }
  return m;
}

Result<PortfolioRisk> SimulatePortfolioRisk(const std::vector<Position>& positions, const FxRates& fx,
                                            const PortfolioFactorModel& model, const models::SimulatedPaths& paths,
                                            const PortfolioRiskOptions& options) {
  ALMANAC_RETURN_IF_ERROR(CheckLevels(options.levels));
  if (!(options.t_dof > 2) || !std::isfinite(options.t_dof))
    return InvalidArgumentError("portfolio risk: t degrees of freedom " + FormatDouble(options.t_dof) +
                                " must be > 2 (finite variance)");
  if (model.assets.size() != model.fits.size())
    return InvalidArgumentError("portfolio risk: the factor model's assets and fits disagree");
  ALMANAC_ASSIGN_OR_RETURN(Book book, ResolveBook(positions, fx, model.assets));
  PathEngine eng;
  ALMANAC_RETURN_IF_ERROR(eng.Init(model, book, paths, options));
  const int N = paths.num_paths, H = eng.H, U = eng.U, F = eng.F;
  const size_t UH = static_cast<size_t>(U) * H;

  // Pass 1: the portfolio P&L of every path and horizon, and per chunk (fixed boundaries, so the
  // sums do not depend on the thread count) the sums of R_u(h) and R_u(h) * P(h).
  std::vector<double> pnl(static_cast<size_t>(N) * H);
  const size_t chunks = (static_cast<size_t>(N) + kChunk - 1) / kChunk;
  std::vector<double> sum_r(chunks * UH, 0.0), sum_rp(chunks * UH, 0.0);
  ParallelFor(chunks, options.threads, [&](size_t c) {
    Scratch s(eng);
    double* sr = &sum_r[c * UH];
    double* srp = &sum_rp[c * UH];
    const int end = static_cast<int>(std::min<size_t>(static_cast<size_t>(N), (c + 1) * kChunk));
    for (int i = static_cast<int>(c * kChunk); i < end; ++i) {
      eng.Factors(i, s.x.data());
      eng.Returns(i, s.x.data(), s.r.data(), s.z.data(), s.b.data());
      double* p = &pnl[static_cast<size_t>(i) * H];
      // P(h) = sum_u E_u R_u(h), the H sums side by side (independent chains), each in asset order.
      for (int h = 0; h < H; ++h) p[h] = 0;
      for (int u = 0; u < U; ++u) {
        const double eu = book.asset_exposure[u];
        for (int h = 0; h < H; ++h) p[h] += eu * s.r[static_cast<size_t>(h) * U + u];
      }
      for (int h = 0; h < H; ++h) {
        const double* rh = &s.r[static_cast<size_t>(h) * U];
        double* srh = sr + static_cast<size_t>(h) * U;
        double* srph = srp + static_cast<size_t>(h) * U;
        const double ph = p[h];
        for (int u = 0; u < U; ++u) {
          srh[u] += rh[u];
          srph[u] += rh[u] * ph;
        }
      }
    }
  });
  std::vector<double> mean_r(UH, 0.0), mean_rp(UH, 0.0);
  for (size_t c = 0; c < chunks; ++c)
    for (size_t j = 0; j < UH; ++j) {
      mean_r[j] += sum_r[c * UH + j];
      mean_rp[j] += sum_rp[c * UH + j];
    }
  for (size_t j = 0; j < UH; ++j) {
    mean_r[j] /= N;
    mean_rp[j] /= N;
  }

  // The mean factor path (for the point P&L), in path order.
  std::vector<double> mean_x(static_cast<size_t>(H) * std::max(F, 1), 0.0);
  {
    std::vector<double> x(mean_x.size());
    for (int i = 0; i < N; ++i) {
      eng.Factors(i, x.data());
      for (size_t j = 0; j < x.size(); ++j) mean_x[j] += x[j];
    }
    for (double& v : mean_x) v /= N;
  }
  // Factor weights w_f = sum_u E_u beta_uf and the drift weight sum_u E_u alpha_u.
  std::vector<double> w(F, 0.0);
  double drift_w = 0;
  for (int u = 0; u < U; ++u) {
    drift_w += book.asset_exposure[u] * eng.coef(u)[0];
    for (int f = 0; f < F; ++f) w[f] += book.asset_exposure[u] * eng.coef(u)[1 + f];
  }

  PortfolioRisk out;
  out.currency = fx.base;
  out.num_paths = N;
  for (const auto& p : positions) out.position_ids.push_back(p.id);
  out.position_exposures = book.position_exposure;
  out.method = "monte carlo over " + std::to_string(N) + " paths (" + paths.method + "); factor coefficients " +
               (options.parameter_uncertainty ? "drawn per path from N(estimate, Newey-West covariance)"
                                              : "fixed at their estimates") +
               (options.residuals ? ", residuals N(0, residual sd^2)" : ", no residuals") + ", seed " +
               std::to_string(options.seed);
  std::vector<std::string> components{"drift"};
  for (const auto& f : model.factors) components.push_back(f.variable);
  components.push_back("specific");
  const size_t J = positions.size();

  std::vector<double> ph(N);
  // The k_max worst paths of each horizon (k_max: the largest tail count of the levels); the
  // tail of every level is a prefix.
  int64_t k_max = 0;
  std::vector<int64_t> tail_counts;
  for (double level : options.levels) {
    ALMANAC_ASSIGN_OR_RETURN(int64_t k, TailCount(N, level));
    tail_counts.push_back(k);
    k_max = std::max(k_max, k);
  }
  // Order the paths of each horizon by (P&L, index), a total order, so the result does not
  // depend on the thread that sorts: the tail sets of every level are prefixes.
  std::vector<std::vector<int>> orders(H);
  ParallelFor(static_cast<size_t>(H), options.threads, [&](size_t h) {
    std::vector<double> v(N);
    for (int i = 0; i < N; ++i) v[i] = pnl[static_cast<size_t>(i) * H + h];
    std::vector<int>& o = orders[h];
    o.resize(N);
    std::iota(o.begin(), o.end(), 0);
    std::sort(o.begin(), o.end(), [&](int a, int b) { return v[a] < v[b] || (v[a] == v[b] && a < b); });
  });
  std::vector<std::vector<int>> tails(H);
  for (int h = 0; h < H; ++h) {
    const std::vector<int>& order = orders[h];
    HorizonRisk hr;
    hr.h = h + 1;
    if (paths.first_period) hr.period = (*paths.first_period + h).ToString();
    for (int i = 0; i < N; ++i) ph[i] = pnl[static_cast<size_t>(i) * H + h];
    double m = 0;
    for (double v : ph) m += v;
    m /= N;
    double ss = 0;
    for (double v : ph) ss += (v - m) * (v - m);
    const double sd = std::sqrt(ss / (N - 1));
    hr.mean = m;
    hr.sd = sd;
    double cum_x_w = 0;
    for (int s2 = 0; s2 <= h; ++s2)
      for (int f = 0; f < F; ++f) cum_x_w += w[f] * mean_x[s2 * F + f];
    hr.point = drift_w * (h + 1) + cum_x_w;
    tails[h].assign(order.begin(), order.begin() + k_max);
    for (double q : kPercentiles) {
      int64_t idx = static_cast<int64_t>(std::ceil(q * N - 1e-9)) - 1;
      idx = std::clamp<int64_t>(idx, 0, N - 1);
      hr.percentiles.push_back(ph[order[idx]]);
    }
    if (options.histogram_bins > 0) {
      const double lo = ph[order.front()], hi = ph[order.back()];
      const int bins = options.histogram_bins;
      const double width = hi > lo ? (hi - lo) / bins : 1.0;
      for (int b = 0; b <= bins; ++b) hr.histogram_edges.push_back(lo + width * b);
      hr.histogram_counts.assign(bins, 0);
      for (double v : ph) hr.histogram_counts[std::clamp(static_cast<int>((v - lo) / width), 0, bins - 1)]++;
    }
    // Parametric pieces: per position mean and covariance with the portfolio.
    std::vector<double> pos_mean(J), pos_cov(J);
    for (size_t j = 0; j < J; ++j) {
      const size_t k = static_cast<size_t>(h) * U + book.position_used[j];
      pos_mean[j] = book.position_exposure[j] * mean_r[k];
      pos_cov[j] = book.position_exposure[j] * (mean_rp[k] - mean_r[k] * m) * N / (N - 1);
    }
    for (double level : options.levels) {
      ALMANAC_ASSIGN_OR_RETURN(int64_t k, TailCount(N, level));
      // Monte Carlo: the historical estimator on the simulated P&Ls, contributions from the tail.
      RiskFigure mc;
      mc.method = "monte_carlo";
      mc.level = level;
      double tail_sum = 0;
      for (int64_t t = 0; t < k; ++t) tail_sum += ph[order[t]];
      mc.var = -ph[order[k - 1]];
      mc.es = -tail_sum / static_cast<double>(k);
      mc.position_var.assign(J, 0);
      mc.position_es.assign(J, 0);
      mc.components = components;
      mc.component_var.assign(components.size(), 0);
      mc.component_es.assign(components.size(), 0);
      hr.figures.push_back(std::move(mc));
      // Parametric normal and t on the simulated P&L's mean and sd, Euler by position.
      for (Distribution d : {Distribution::kNormal, Distribution::kStudentT}) {
        RiskFigure pf;
        pf.method = d == Distribution::kNormal ? "normal" : "t";
        pf.level = level;
        if (sd > 1e-12 * std::max(1.0, std::abs(m))) {
          const double scale = d == Distribution::kNormal ? sd : sd * std::sqrt((options.t_dof - 2) / options.t_dof);
          ALMANAC_ASSIGN_OR_RETURN(VaREs ve, ClosedFormVaREs(m, scale, level, {.distribution = d, .dof = options.t_dof}));
          pf.var = ve.var;
          pf.es = ve.es;
          for (size_t j = 0; j < J; ++j) {
            pf.position_var.push_back(-pos_mean[j] + pos_cov[j] / sd * (ve.var + m) / sd);
            pf.position_es.push_back(-pos_mean[j] + pos_cov[j] / sd * (ve.es + m) / sd);
          }
        } else {
          // A degenerate (constant) P&L: every quantile is the mean.
          pf.var = pf.es = -m;
          pf.position_var = pf.position_es = std::vector<double>(pos_mean.size());
          for (size_t j = 0; j < J; ++j) pf.position_var[j] = pf.position_es[j] = -pos_mean[j];
        }
        hr.figures.push_back(std::move(pf));
      }
    }
    out.horizons.push_back(std::move(hr));
  }

  // Monte Carlo contributions: recompute the asset returns of every path in some tail once and
  // add them to the tails (horizon, level) it is in. ES_j = -exposure_j * mean over the tail of
  // R_asset(j)(h); VaR_j from the k-th worst path alone; components likewise. The tail paths,
  // in path order, are cut into groups of kTailGroup paths (fixed boundaries) summed on their
  // own and then added in group order, so the sums do not depend on the thread count.
  const size_t L = options.levels.size(), C = components.size();
  struct Member {
    int path, h;
    int64_t rank;
  };
  std::vector<Member> members;
  for (int h = 0; h < H; ++h)
    for (int64_t t = 0; t < k_max; ++t) members.push_back({tails[h][t], h, t});
  std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
    return a.path < b.path || (a.path == b.path && a.h < b.h);
  });
  std::vector<size_t> group_start{0};
  for (size_t m = 1, distinct = 0; m < members.size(); ++m)
    if (members[m].path != members[m - 1].path && ++distinct % kTailGroup == 0) group_start.push_back(m);
  group_start.push_back(members.size());
  const size_t groups = group_start.size() - 1;
  const size_t TR = static_cast<size_t>(H) * L * U, TC = static_cast<size_t>(H) * L * C;
  std::vector<double> group_r(groups * TR, 0.0), group_c(groups * TC, 0.0);
  ParallelFor(groups, options.threads, [&](size_t g) {
    Scratch s(eng);
    std::vector<double> comp(C);
    double* gr = &group_r[g * TR];
    double* gc = &group_c[g * TC];
    int current = -1;
    for (size_t m = group_start[g]; m < group_start[g + 1]; ++m) {
      const Member& mb = members[m];
      if (mb.path != current) {
        current = mb.path;
        eng.Factors(current, s.x.data());
        eng.Returns(current, s.x.data(), s.r.data(), s.z.data(), s.b.data());
      }
      const int h = mb.h;
      const double p = pnl[static_cast<size_t>(current) * H + h];
      comp[0] = drift_w * (h + 1);
      double rest = p - comp[0];
      for (int f = 0; f < F; ++f) {
        double cx = 0;
        for (int s2 = 0; s2 <= h; ++s2) cx += s.x[s2 * F + f];
        comp[1 + f] = w[f] * cx;
        rest -= comp[1 + f];
      }
      comp[C - 1] = rest;
      const double* rh = &s.r[static_cast<size_t>(h) * U];
      for (size_t l = 0; l < L; ++l) {
        if (mb.rank >= tail_counts[l]) continue;
        double* tr = gr + (static_cast<size_t>(h) * L + l) * U;
        double* tc = gc + (static_cast<size_t>(h) * L + l) * C;
        for (int u = 0; u < U; ++u) tr[u] += rh[u];
        for (size_t c = 0; c < C; ++c) tc[c] += comp[c];
        if (mb.rank == tail_counts[l] - 1) {  // the VaR scenario of (h, l): in exactly one group
          RiskFigure& mc = out.horizons[h].figures[l * 3];
          for (size_t c = 0; c < C; ++c) mc.component_var[c] = -comp[c];
          for (size_t j = 0; j < J; ++j) mc.position_var[j] = -book.position_exposure[j] * rh[book.position_used[j]];
        }
      }
    }
  });
  std::vector<double> tail_r(TR, 0.0), tail_c(TC, 0.0);
  for (size_t g = 0; g < groups; ++g) {
    for (size_t j = 0; j < TR; ++j) tail_r[j] += group_r[g * TR + j];
    for (size_t j = 0; j < TC; ++j) tail_c[j] += group_c[g * TC + j];
  }
  for (int h = 0; h < H; ++h)
    for (size_t l = 0; l < L; ++l) {
      RiskFigure& mc = out.horizons[h].figures[l * 3];
      const double k = static_cast<double>(tail_counts[l]);
      const double* tr = &tail_r[(static_cast<size_t>(h) * L + l) * U];
      const double* tc = &tail_c[(static_cast<size_t>(h) * L + l) * C];
      for (size_t j = 0; j < J; ++j) mc.position_es[j] = -book.position_exposure[j] * tr[book.position_used[j]] / k;
      for (size_t c = 0; c < C; ++c) mc.component_es[c] = -tc[c] / k;
    }
  return out;
}

Result<std::vector<RiskFigure>> HistoricalPortfolioRisk(const std::vector<Position>& positions, const FxRates& fx,
                                                        const std::vector<std::string>& assets,
                                                        const std::vector<std::vector<double>>& asset_returns,
                                                        const PortfolioRiskOptions& options) {
  ALMANAC_RETURN_IF_ERROR(CheckLevels(options.levels));
  if (assets.size() != asset_returns.size())
    return InvalidArgumentError("historical risk: " + std::to_string(assets.size()) + " asset names but " +
                                std::to_string(asset_returns.size()) + " return columns");
  ALMANAC_ASSIGN_OR_RETURN(Book book, ResolveBook(positions, fx, assets));
  const size_t T = asset_returns[book.used[0]].size();
  for (int a : book.used)
    if (asset_returns[a].size() != T)
      return InvalidArgumentError("historical risk: asset " + QuoteForMessage(assets[a]) + " has " +
                                  std::to_string(asset_returns[a].size()) + " returns, expected " + std::to_string(T));
  PositionPnl data;
  data.scenarios = static_cast<int64_t>(T);
  data.positions = static_cast<int64_t>(positions.size());
  data.pnl.resize(T * positions.size());
  for (size_t t = 0; t < T; ++t)
    for (size_t j = 0; j < positions.size(); ++j)
      data.pnl[t * positions.size() + j] = book.position_exposure[j] * asset_returns[book.used[book.position_used[j]]][t];
  std::vector<RiskFigure> out;
  for (double level : options.levels) {
    auto add = [&](const std::string& method, const Contributions& c) {
      RiskFigure f;
      f.method = method;
      f.level = level;
      f.var = c.total.var;
      f.es = c.total.es;
      f.position_var = c.var;
      f.position_es = c.es;
      out.push_back(std::move(f));
    };
    ALMANAC_ASSIGN_OR_RETURN(Contributions hist, HistoricalContributions(data, level));
    add("historical", hist);
    ALMANAC_ASSIGN_OR_RETURN(Contributions normal, ParametricContributions(data, level, {.distribution = Distribution::kNormal}));
    add("normal", normal);
    ALMANAC_ASSIGN_OR_RETURN(Contributions t, ParametricContributions(data, level, {.distribution = Distribution::kStudentT, .dof = options.t_dof}));
    add("t", t);
  }
  return out;
}

}  // namespace almanac::risk
