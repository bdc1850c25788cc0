#include "models/arima/auto_arima.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "models/arima/unit_root_tests.h"

namespace almanac::models::arima {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// One fitted candidate (forecast's myarima()).
struct Candidate {
  bool ok = false;  // false: the fit failed (ic = Inf)
  double ic = kInf;
  ArimaSpec spec;
  ArimaFit fit;
  bool checked = false;  // the coefficient-variance check has been applied
};

// A row of R's `results` matrix.
struct Row {
  int p, q, P, Q;
  bool constant;
  double ic;
};

std::vector<double> DiffLag(const std::vector<double>& x, int lag, int times) {
  std::vector<double> out = x;
  for (int k = 0; k < times; ++k) {
    std::vector<double> next;
    for (size_t i = static_cast<size_t>(lag); i < out.size(); ++i) next.push_back(out[i] - out[i - lag]);
    out = std::move(next);
  }
  return out;
}

bool AllMissing(const std::vector<double>& x) {
  return std::all_of(x.begin(), x.end(), [](double v) { return std::isnan(v); });
}

double MeanNonMissing(const std::vector<double>& x) {
  double s = 0;
  int n = 0;
  for (double v : x)
    if (!std::isnan(v)) {
      s += v;
      ++n;
    }
  return s / n;
}

class Searcher {
 public:
  Searcher(std::vector<double> x, int m, int period, const AutoArimaOptions& opt)
      : x_(std::move(x)), m_(m), period_(period), opt_(opt) {}

  Result<AutoArimaResult> Run();

 private:
  // forecast's myarima(): fits one candidate and computes its information criterion.
  Candidate Fit(int p, int q, int P, int Q, bool constant, bool approximation) {
    ++models_fitted_;
    Candidate c;
    ArimaSpec& spec = c.spec;
    spec.orders = Orders{p, d_, q, P, D_, Q, m_};
    spec.method = approximation ? Method::kCss : Method::kCssMl;
    const int diffs = d_ + D_;
    if (diffs == 1 && constant) {
      spec.include_drift = true;
      spec.include_mean = true;
    } else {
      spec.include_mean = constant;
    }
    // Only approximate fits need the variance for every candidate (their ic ranks the
    // refits); otherwise it is checked when a candidate would become the best.
    spec.compute_hessian = approximation;
    auto fit = FitArima(x_, spec);
    if (!fit.ok()) return c;
    c.ok = true;
    c.fit = std::move(*fit);
    ArimaFit& f = c.fit;
    const double nstar = serieslength_ - d_ - D_ * m_;
    const double npar = f.npar;
    double aic = f.aic;
    if (spec.method == Method::kCss) aic = offset_ + nstar * std::log(f.sigma2_css) + 2 * npar;
    if (!std::isnan(aic)) {
      f.aic = aic;
      f.bic = aic + npar * (std::log(nstar) - 2);
      f.aicc = aic + 2 * npar * (npar + 1) / (nstar - npar - 1);
      c.ic = ic_ == "bic" ? f.bic : ic_ == "aic" ? f.aic : f.aicc;
    } else {
      f.aic = f.bic = f.aicc = c.ic = kInf;
    }
    if (MinRootModulus(f) < 1 + 1e-2) c.ic = kInf;
    if (approximation) {
      c.checked = true;
      if (f.var_bad) c.ic = kInf;
    }
    return c;
  }

  // Applies forecast's checkarima() (a negative or undefined coefficient variance, or a
  // singular Hessian, rejects the model) when not done yet.
  void Check(Candidate& c) {
    if (c.checked || !c.ok || c.ic == kInf) return;
    c.checked = true;
    Status st = ComputeVariance(x_, c.spec, c.fit);
    if (!st.ok() || c.fit.var_bad) c.ic = kInf;
  }

  // `fit$ic < bestfit$ic`, checking the challenger only when it could win.
  bool Better(Candidate& c, const Candidate& best) {
    if (!(c.ic < best.ic)) return false;
    Check(c);
    return c.ic < best.ic;
  }

  bool NewModel(int p, int q, int P, int Q, bool constant) const {
    for (const auto& r : results_)
      if (r.p == p && r.q == q && r.P == P && r.Q == Q && r.constant == constant) return false;
    return true;
  }

  Status ChooseDifferences(std::vector<std::string>& notes);
  Result<AutoArimaResult> FitDegenerate(const std::vector<double>& dx);
  Result<Candidate> Stepwise(bool approximation);
  Result<Candidate> Exhaustive(bool approximation);

  std::vector<double> x_;
  int m_, period_;
  AutoArimaOptions opt_;
  int d_ = 0, D_ = 0;
  int serieslength_ = 0;
  int max_p_ = 0, max_q_ = 0, max_P_ = 0, max_Q_ = 0;
  bool constant_ = false, allowdrift_ = false, allowmean_ = false;
  double offset_ = 0;
  std::string ic_;
  std::vector<Row> results_;
  std::vector<std::string> notes_;
  int models_fitted_ = 0;
};

Result<AutoArimaResult> Searcher::FitDegenerate(const std::vector<double>& dx) {
  // The (differenced) series is constant: R fits the implied deterministic model.
  ArimaSpec spec;
  spec.orders = Orders{0, d_, 0, 0, D_, 0, m_};
  if (D_ > 0 && d_ == 0) {
    std::vector<double> scaled(dx);
    for (double& v : scaled) v /= m_;
    spec.include_mean = true;
    spec.include_drift = D_ == 1;
    spec.fixed = {MeanNonMissing(scaled)};
  } else if (D_ > 0 || d_ == 2) {
    spec.include_mean = true;  // no constant is possible with these differences
  } else if (d_ < 2) {
    spec.include_mean = true;
    spec.include_drift = d_ == 1;
    spec.fixed = {MeanNonMissing(dx)};
  } else {
    return InvalidArgumentError("the data follow a simple polynomial and are not suitable for ARIMA modelling");
  }
  ALMANAC_ASSIGN_OR_RETURN(ArimaFit fit, FitArima(x_, spec));
  AutoArimaResult out;
  out.fit = std::move(fit);
  out.spec = spec;
  out.models_fitted = 1;
  out.notes.push_back("the differenced series is constant: fitted the deterministic model " + out.fit.Description());
  return out;
}

Status Searcher::ChooseDifferences(std::vector<std::string>& notes) {
  const int n = static_cast<int>(x_.size());
  if (opt_.stationary) {
    opt_.d = 0;
    opt_.D = 0;
  }
  if (m_ == 1) {
    D_ = 0;
    max_P_ = max_Q_ = 0;
  } else if (!opt_.D && n <= 2 * m_) {
    D_ = 0;
  } else if (!opt_.D) {
    D_ = NSDiffs(x_, m_, opt_.max_D);
    if (D_ > 0 && AllMissing(DiffLag(x_, m_, D_))) --D_;
  } else {
    D_ = *opt_.D;
  }
  std::vector<double> dx = D_ > 0 ? DiffLag(x_, m_, D_) : x_;
  if (!opt_.d) {
    d_ = NDiffs(dx, 0.05, opt_.max_d);
    if (d_ > 0 && AllMissing(DiffLag(dx, 1, d_))) --d_;
  } else {
    d_ = *opt_.d;
  }
  if (D_ >= 2)
    notes.push_back("more than one seasonal difference is not recommended");
  else if (D_ + d_ > 2)
    notes.push_back("3 or more differencing operations are not recommended");
  return Status::Ok();
}

Result<Candidate> Searcher::Stepwise(bool approximation) {
  int start_p = opt_.start_p, start_q = opt_.start_q, start_P = opt_.start_P, start_Q = opt_.start_Q;
  if (x_.size() < 10) {
    start_p = std::min(start_p, 1);
    start_q = std::min(start_q, 1);
    start_P = 0;
    start_Q = 0;
  }
  int p = std::min(start_p, max_p_), q = std::min(start_q, max_q_);
  int P = std::min(start_P, max_P_), Q = std::min(start_Q, max_Q_);
  bool constant = constant_;
  const int nmodels = opt_.nmodels;

  Candidate best = Fit(p, q, P, Q, constant, approximation);
  Check(best);
  results_.push_back({p, q, P, Q, constant, best.ic});
  {
    Candidate c = Fit(0, 0, 0, 0, constant, approximation);
    const bool better = Better(c, best);
    results_.push_back({0, 0, 0, 0, constant, c.ic});
    if (better) {
      best = std::move(c);
      p = q = P = Q = 0;
    }
  }
  if (max_p_ > 0 || max_P_ > 0) {
    const int np = max_p_ > 0, nP = (m_ > 1) && (max_P_ > 0);
    Candidate c = Fit(np, 0, nP, 0, constant, approximation);
    const bool better = Better(c, best);
    results_.push_back({np, 0, nP, 0, constant, c.ic});
    if (better) {
      best = std::move(c);
      p = np;
      P = nP;
      q = Q = 0;
    }
  }
  if (max_q_ > 0 || max_Q_ > 0) {
    const int nq = max_q_ > 0, nQ = (m_ > 1) && (max_Q_ > 0);
    Candidate c = Fit(0, nq, 0, nQ, constant, approximation);
    const bool better = Better(c, best);
    results_.push_back({0, nq, 0, nQ, constant, c.ic});
    if (better) {
      best = std::move(c);
      p = P = 0;
      Q = nQ;
      q = nq;
    }
  }
  if (constant) {
    Candidate c = Fit(0, 0, 0, 0, false, approximation);
    const bool better = Better(c, best);
    results_.push_back({0, 0, 0, 0, false, c.ic});
    if (better) {
      // As forecast 8.20: the orders reset but `constant` stays as it was.
      best = std::move(c);
      p = q = P = Q = 0;
    }
  }

  int k = static_cast<int>(results_.size());
  int startk = 0;
  // Tries one neighbour; true when it became the best (R's `next`).
  auto attempt = [&](int np, int nq, int nP, int nQ, bool nconst) -> bool {
    if (!NewModel(np, nq, nP, nQ, nconst)) return false;
    ++k;
    if (k > nmodels) return false;
    Candidate c = Fit(np, nq, nP, nQ, nconst, approximation);
    const bool better = Better(c, best);
    results_.push_back({np, nq, nP, nQ, nconst, c.ic});
    if (better) {
      best = std::move(c);
      p = np;
      q = nq;
      P = nP;
      Q = nQ;
      constant = nconst;
      return true;
    }
    return false;
  };
  while (startk < k && k < nmodels) {
    startk = k;
    if (P > 0 && attempt(p, q, P - 1, Q, constant)) continue;
    if (k > nmodels) continue;
    if (Q > 0 && attempt(p, q, P, Q - 1, constant)) continue;
    if (k > nmodels) continue;
    if (P < max_P_ && attempt(p, q, P + 1, Q, constant)) continue;
    if (k > nmodels) continue;
    if (Q < max_Q_ && attempt(p, q, P, Q + 1, constant)) continue;
    if (k > nmodels) continue;
    if (Q > 0 && P > 0 && attempt(p, q, P - 1, Q - 1, constant)) continue;
    if (k > nmodels) continue;
    if (Q < max_Q_ && P > 0 && attempt(p, q, P - 1, Q + 1, constant)) continue;
    if (k > nmodels) continue;
    if (Q > 0 && P < max_P_ && attempt(p, q, P + 1, Q - 1, constant)) continue;
    if (k > nmodels) continue;
    if (Q < max_Q_ && P < max_P_ && attempt(p, q, P + 1, Q + 1, constant)) continue;
    if (k > nmodels) continue;
    if (p > 0 && attempt(p - 1, q, P, Q, constant)) continue;
    if (k > nmodels) continue;
    if (q > 0 && attempt(p, q - 1, P, Q, constant)) continue;
    if (k > nmodels) continue;
    if (p < max_p_ && attempt(p + 1, q, P, Q, constant)) continue;
    if (k > nmodels) continue;
    if (q < max_q_ && attempt(p, q + 1, P, Q, constant)) continue;
    if (k > nmodels) continue;
    if (q > 0 && p > 0 && attempt(p - 1, q - 1, P, Q, constant)) continue;
    if (k > nmodels) continue;
    if (q < max_q_ && p > 0 && attempt(p - 1, q + 1, P, Q, constant)) continue;
    if (k > nmodels) continue;
    if (q > 0 && p < max_p_ && attempt(p + 1, q - 1, P, Q, constant)) continue;
    if (k > nmodels) continue;
    if (q < max_q_ && p < max_p_ && attempt(p + 1, q + 1, P, Q, constant)) continue;
    if (k > nmodels) continue;
    if (allowdrift_ || allowmean_) attempt(p, q, P, Q, !constant);
  }
  if (k > nmodels) notes_.push_back("the stepwise search stopped at the model limit nmodels = " + std::to_string(nmodels));

  if (approximation && best.ok) {
    // Refit the candidates by ML in order of their approximate ic; the first that passes
    // the checks wins.
    std::vector<size_t> order(results_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return results_[a].ic < results_[b].ic; });
    for (size_t idx : order) {
      const Row& r = results_[idx];
      Candidate c = Fit(r.p, r.q, r.P, r.Q, r.constant, false);
      Check(c);
      if (c.ic < kInf) {
        best = std::move(c);
        break;
      }
    }
  }
  return best;
}

Result<Candidate> Searcher::Exhaustive(bool approximation) {
  const int max_k = (allowdrift_ || allowmean_) ? 1 : 0;
  Candidate best;
  bool found = false;
  bool best_constant = false;
  for (int i = 0; i <= max_p_; ++i)
    for (int j = 0; j <= max_q_; ++j)
      for (int I = 0; I <= max_P_; ++I)
        for (int J = 0; J <= max_Q_; ++J) {
          if (i + j + I + J > opt_.max_order) continue;
          for (int K = 0; K <= max_k; ++K) {
            Candidate c = Fit(i, j, I, J, K == 1, approximation);
            if (Better(c, best)) {
              best = std::move(c);
              found = true;
              best_constant = K == 1;
            }
          }
        }
  if (!found) return InvalidArgumentError("no ARIMA model could be estimated");
  if (approximation) {
    const Orders o = best.spec.orders;
    Candidate c = Fit(o.p, o.q, o.P, o.Q, best_constant, false);
    Check(c);
    if (c.ic == kInf) return Exhaustive(false);
    best = std::move(c);
  }
  return best;
}

Result<AutoArimaResult> Searcher::Run() {
  AutoArimaResult out;
  const int n = static_cast<int>(x_.size());
  int last = n - 1;
  while (last >= 0 && std::isnan(x_[last])) --last;
  for (int i = 0; i <= last; ++i) serieslength_ += !std::isnan(x_[i]);

  if (IsConstant(x_)) {
    ArimaSpec spec;
    spec.orders = Orders{0, 0, 0, 0, 0, 0, std::max(1, period_)};
    spec.include_mean = opt_.allow_mean;
    if (opt_.allow_mean) spec.fixed = {MeanNonMissing(x_)};
    ALMANAC_ASSIGN_OR_RETURN(ArimaFit fit, FitArima(x_, spec));
    out.fit = std::move(fit);
    out.spec = spec;
    out.models_fitted = 1;
    out.notes.push_back("the series is constant: fitted " + out.fit.Description());
    return out;
  }
  ic_ = opt_.ic;
  max_p_ = std::min(opt_.max_p, serieslength_ / 3);
  max_q_ = std::min(opt_.max_q, serieslength_ / 3);
  max_P_ = std::min(opt_.max_P, static_cast<int>(std::floor(serieslength_ / 3.0 / m_)));
  max_Q_ = std::min(opt_.max_Q, static_cast<int>(std::floor(serieslength_ / 3.0 / m_)));
  if (serieslength_ <= 3) ic_ = "aic";

  std::vector<std::string> notes;
  ALMANAC_RETURN_IF_ERROR(ChooseDifferences(notes));
  std::vector<double> dx = D_ > 0 ? DiffLag(x_, m_, D_) : x_;
  if (d_ > 0) dx = DiffLag(dx, 1, d_);
  if (dx.empty()) return InvalidArgumentError("not enough data to proceed (" + std::to_string(n) + " observations)");
  if (IsConstant(dx)) {
    ALMANAC_ASSIGN_OR_RETURN(out, FitDegenerate(dx));
    out.notes.insert(out.notes.begin(), notes.begin(), notes.end());
    return out;
  }
  if (m_ > 1) {
    if (max_P_ > 0) max_p_ = std::min(max_p_, m_ - 1);
    if (max_Q_ > 0) max_q_ = std::min(max_q_, m_ - 1);
  }
  const bool approximation = opt_.approximation ? *opt_.approximation : (n > 150 || period_ > 12);
  if (approximation) {
    ArimaSpec spec;
    spec.orders = Orders{0, d_, 0, 0, D_, 0, m_};
    auto fit = FitArima(x_, spec);
    offset_ = fit.ok() ? -2 * fit->loglik - serieslength_ * std::log(fit->sigma2_css) : 0.0;
    notes.push_back("models were compared using CSS approximations (n > 150 or period > 12), as R's auto.arima");
  }
  allowdrift_ = opt_.allow_drift && d_ + D_ == 1;
  allowmean_ = opt_.allow_mean && d_ + D_ == 0;
  constant_ = allowdrift_ || allowmean_;

  Candidate best;
  if (opt_.stepwise) {
    ALMANAC_ASSIGN_OR_RETURN(best, Stepwise(approximation));
  } else {
    ALMANAC_ASSIGN_OR_RETURN(best, Exhaustive(approximation));
  }
  if (!best.ok || best.ic == kInf) {
    // R stops with "No suitable ARIMA model found". almanac falls back to the differenced
    // white-noise model, which has nothing to estimate but sigma2, and says so.
    ArimaSpec spec;
    spec.orders = Orders{0, d_, 0, 0, D_, 0, m_};
    spec.include_mean = false;
    auto fit = FitArima(x_, spec);
    if (!fit.ok())
      return InvalidArgumentError("no suitable ARIMA model found (and the fallback failed: " +
                                  fit.status().message() + ")");
    best.fit = std::move(*fit);
    best.spec = spec;
    notes_.push_back("no candidate model passed the checks (R: \"No suitable ARIMA model found\"); fell back to " +
                     best.fit.Description());
  }
  out.fit = std::move(best.fit);
  out.spec = best.spec;
  out.models_fitted = models_fitted_;
  out.notes = notes;
  for (const auto& s : notes_) out.notes.push_back(s);
  return out;
}

}  // namespace

Result<AutoArimaResult> AutoArima(std::span<const double> y, int m, const AutoArimaOptions& opt) {
  int first = 0;
  const int n = static_cast<int>(y.size());
  while (first < n && std::isnan(y[first])) ++first;
  if (first == n) return InvalidArgumentError("all values are missing");
  std::vector<double> x(y.begin() + first, y.end());
  const int mm = opt.seasonal ? std::max(1, m) : 1;
  Searcher s(std::move(x), mm, std::max(1, m), opt);
  ALMANAC_ASSIGN_OR_RETURN(AutoArimaResult res, s.Run());
  res.offset = first;
  if (first > 0) res.notes.push_back(std::to_string(first) + " leading missing values were dropped");
  return res;
}

}  // namespace almanac::models::arima
