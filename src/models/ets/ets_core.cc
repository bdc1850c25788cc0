// The fit of one ETS form by maximum likelihood (R's etsmodel): starting values, bounds, the
// objective with admissibility checks and the optimiser's look-ahead; and the names of forms.
// The recursion is in ets_kernels.cc, admissibility in ets_admissible.cc, initial states in
// ets_init.cc.
#include "models/ets/ets_core.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "models/ets/ets_kernels.h"

namespace almanac::models::ets {
namespace {

// R's initparam(): starting values of the parameters to estimate.
struct StartParams {
  double alpha, beta, gamma, phi;
};

Result<StartParams> InitParams(const Form& form, const FitControl& ctl, const double* lower_in, const double* upper_in,
                               int m) {
  double lo[4], up[4];
  std::copy(lower_in, lower_in + 4, lo);
  std::copy(upper_in, upper_in + 4, up);
  if (ctl.bounds == Bounds::kAdmissible) {
    for (int i = 0; i < 3; ++i) {
      lo[i] = 0.0;
      up[i] = 0.001;
    }
  } else {
    for (int i = 0; i < 4; ++i)
      if (lo[i] > up[i])
        return InvalidArgumentError(
            "inconsistent parameter bounds (a fixed smoothing parameter leaves an empty range "
            "for another)");
  }
  StartParams s{};
  if (std::isnan(ctl.alpha)) {
    s.alpha = lo[0] + 0.2 * (up[0] - lo[0]) / m;
    if (s.alpha > 1 || s.alpha < 0) s.alpha = lo[0] + 0.002;
  } else {
    s.alpha = ctl.alpha;
  }
  if (form.trend != Comp::kN && std::isnan(ctl.beta)) {
    up[1] = std::min(up[1], s.alpha);
    s.beta = lo[1] + 0.1 * (up[1] - lo[1]);
    if (s.beta < 0 || s.beta > s.alpha) s.beta = s.alpha - 0.001;
  } else {
    s.beta = ctl.beta;
  }
  if (form.season != Comp::kN && std::isnan(ctl.gamma)) {
    up[2] = std::min(up[2], 1 - s.alpha);
    s.gamma = lo[2] + 0.05 * (up[2] - lo[2]);
    if (s.gamma < 0 || s.gamma > 1 - s.alpha) s.gamma = 1 - s.alpha - 0.001;
  } else {
    s.gamma = ctl.gamma;
  }
  if (form.damped && std::isnan(ctl.phi)) {
    s.phi = lo[3] + 0.99 * (up[3] - lo[3]);
    if (s.phi < 0 || s.phi > 1) s.phi = up[3] - 0.001;
  } else {
    s.phi = ctl.phi;
  }
  return s;
}

// The objective R's optimiser sees: parameters to estimate (alpha, beta, gamma, phi, in that
// order, those not fixed), then the initial states without the last seasonal one.
class Target {
 public:
  Target(const Form& form, std::span<const double> y, const FitControl& ctl, const double* lower, const double* upper,
         int nstate)
      : form_(form), y_(y), ctl_(ctl), nstate_(nstate) {
    std::copy(lower, lower + 4, lower_);
    std::copy(upper, upper + 4, upper_);
    m_ = form.season != Comp::kN ? form.m : 1;
    opt_alpha_ = std::isnan(ctl.alpha);
    opt_beta_ = form.trend != Comp::kN && std::isnan(ctl.beta);
    opt_gamma_ = form.season != Comp::kN && std::isnan(ctl.gamma);
    opt_phi_ = form.damped && std::isnan(ctl.phi);
    has_beta_ = form.trend != Comp::kN;
    has_gamma_ = form.season != Comp::kN;
    base_.alpha = ctl.alpha;
    base_.beta = has_beta_ ? ctl.beta : 0.0;
    base_.gamma = has_gamma_ ? ctl.gamma : 0.0;
    base_.phi = form.damped ? ctl.phi : 1.0;
    x0_.assign(static_cast<size_t>(form.NumStates()), 0.0);
    buf_.assign(static_cast<size_t>(m_), 0.0);
    x0_lanes_.assign(4 * x0_.size(), 0.0);
    buf_lanes_.assign(4 * buf_.size(), 0.0);
    if (ctl.crit != OptCrit::kLik) {
      e_.assign(y.size(), 0.0);
      amse_.assign(static_cast<size_t>(ctl.nmse), 0.0);
      denom_.assign(static_cast<size_t>(ctl.nmse), 0.0);
    }
  }

  int NumOpt() const { return opt_alpha_ + opt_beta_ + opt_gamma_ + opt_phi_; }

  // Unpacks a parameter vector into smoothing parameters and the full initial state.
  void Unpack(const double* par, Smoothing* p, double* x0) const {
    UnpackSmoothing(par, p);
    const int j = NumOpt();
    for (int i = 0; i < nstate_; ++i) x0[i] = par[j + i];
    if (form_.season != Comp::kN) {
      const int start = form_.trend != Comp::kN ? 2 : 1;
      double sum = 0;
      for (int i = start; i < nstate_; ++i) sum += x0[i];
      x0[nstate_] = m_ * (form_.season == Comp::kM ? 1.0 : 0.0) - sum;
    }
  }

  // The usual bounds and the admissibility conditions short of the root test; the
  // polynomial still to test, if any, in c[0..*degree] (kMaxPolyCoefs slots).
  // The smoothing parameters only (the bounds and admissibility need nothing else).
  void UnpackSmoothing(const double* par, Smoothing* p) const {
    *p = base_;
    int j = 0;
    if (opt_alpha_) p->alpha = par[j++];
    if (opt_beta_) p->beta = par[j++];
    if (opt_gamma_) p->gamma = par[j++];
    if (opt_phi_) p->phi = par[j++];
  }

  bool LinearOk(const Smoothing& p, double* c, int* degree) const {
    *degree = 0;
    if (ctl_.bounds != Bounds::kAdmissible) {
      if (opt_alpha_ && (p.alpha < lower_[0] || p.alpha > upper_[0])) return false;
      if (opt_beta_ && (p.beta < lower_[1] || p.beta > p.alpha || p.beta > upper_[1])) return false;
      if (opt_phi_ && (p.phi < lower_[3] || p.phi > upper_[3])) return false;
      if (opt_gamma_ && (p.gamma < lower_[2] || p.gamma > 1 - p.alpha || p.gamma > upper_[2])) return false;
    }
    if (ctl_.bounds != Bounds::kUsual) {
      return AdmissibleLinear(p.alpha, p.beta, has_beta_, p.gamma, has_gamma_, p.phi, m_, c, degree);
    }
    return true;
  }

  // Multiplicative seasonal states must not be negative (the last one included, which the
  // normalisation implies).
  bool SeasonsOk(const double* par) {
    if (form_.season != Comp::kM) return true;
    Smoothing unused;
    Unpack(par, &unused, x0_.data());
    const int start = form_.trend != Comp::kN ? 2 : 1;
    double mn = HUGE_VAL;
    for (int i = start; i <= nstate_; ++i) mn = std::min(mn, x0_[i]);
    return !(mn < 0);
  }

  // R's clean-up of the likelihood value.
  static double Clean(double lik) {
    if (lik < -1e10) lik = -1e10;
    if (std::isnan(lik)) lik = HUGE_VAL;
    if (std::fabs(lik - kNaForecast) < 1e-7) lik = HUGE_VAL;
    return lik;
  }

  // The objective at `par` (NelderMead's interface).
  double operator()(const double* par) {
    double v;
    return Cheap(par, &v) ? v : Full(par);
  }

  // NelderMeadSpeculative's interface (BatchObjective). Cheap: true, with the value
  // HUGE_VAL, when the parameters are rejected before any pass over the data.
  bool Cheap(const double* par, double* value) {
    Smoothing p;
    UnpackSmoothing(par, &p);
    double c[kMaxPolyCoefs];
    int d;
    if (LinearOk(p, c, &d) && SeasonsOk(par) &&
        (d == 0 || RootsWithin(std::span<const double>(c, static_cast<size_t>(d + 1)), kAdmissibleRadius)))
      return false;
    *value = HUGE_VAL;
    return true;
  }

  // Cheap() without the root test of the admissibility condition (the slow part).
  bool Quick(const double* par, double* value) {
    Smoothing p;
    UnpackSmoothing(par, &p);
    double c[kMaxPolyCoefs];
    int d;
    if (LinearOk(p, c, &d) && SeasonsOk(par)) return false;
    *value = HUGE_VAL;
    return true;
  }

  // The root tests of k points that passed Quick(), side by side: rejected[j] (with the
  // value HUGE_VAL) when point j fails.
  void SlowMany(const double* const* xs, int k, bool* rejected, double* values) {
    double c[kMaxLanes][kMaxPolyCoefs];
    const double* cs[kMaxLanes];
    int degree[kMaxLanes];
    bool same = true;
    for (int j = 0; j < k; ++j) {
      Smoothing p;
      UnpackSmoothing(xs[j], &p);
      LinearOk(p, c[j], &degree[j]);
      cs[j] = c[j];
      same = same && degree[j] == degree[0];
    }
    bool inside[kMaxLanes];
    if (same && degree[0] > 0) {
      RootsWithinMany(cs, k, degree[0], kAdmissibleRadius, inside);
    } else {
      for (int j = 0; j < k; ++j)
        inside[j] = degree[j] == 0 ||
                    RootsWithin(std::span<const double>(c[j], static_cast<size_t>(degree[j] + 1)), kAdmissibleRadius);
    }
    for (int j = 0; j < k; ++j) {
      rejected[j] = !inside[j];
      values[j] = HUGE_VAL;
    }
  }

  // The objective at a point that Cheap() accepted.
  double Full(const double* par) {
    Smoothing p;
    double* x0 = x0_.data();
    Unpack(par, &p, x0);
    const int n = static_cast<int>(y_.size());
    if (ctl_.crit == OptCrit::kLik) return Clean(Dispatch(form_, y_.data(), n, x0, p, buf_.data(), nullptr));
    KernelOut out;
    out.e = e_.data();
    out.amse = amse_.data();
    out.denom = denom_.data();
    out.nmse = ctl_.nmse;
    const double lik = Clean(Dispatch(form_, y_.data(), n, x0, p, buf_.data(), &out));
    switch (ctl_.crit) {
      case OptCrit::kLik:
        return lik;
      case OptCrit::kMse:
        return amse_[0];
      case OptCrit::kAmse: {
        double s = 0;
        for (double a : amse_) s += a;
        return s / ctl_.nmse;
      }
      case OptCrit::kSigma: {
        double s = 0;
        for (double e : e_) s += e * e;
        return s / n;
      }
      case OptCrit::kMae: {
        double s = 0;
        for (double e : e_) s += std::fabs(e);
        return s / n;
      }
    }
    return lik;
  }

  // How many points FullMany() evaluates in one pass: 4 with AVX, else 2, or 1 where the
  // kernel has no multi-lane version (multiplicative trends, criteria other than the
  // likelihood), capped by FitControl::lanes.
  int Lanes() const {
    if (ctl_.crit != OptCrit::kLik || form_.trend == Comp::kM || ctl_.lanes < 2) return 1;
    return ctl_.lanes >= 3 && HasAvx() ? std::min(ctl_.lanes, 4) : 2;
  }

  // Full() at k <= Lanes() points that Cheap() accepted, in one pass.
  void FullMany(const double* const* xs, int k, double* out) {
    if (k == 1 || Lanes() == 1) {
      for (int j = 0; j < k; ++j) out[j] = Full(xs[j]);
      return;
    }
    const int lanes = k == 2 ? 2 : 4;
    Smoothing par[4];
    const double* x0[4];
    const Smoothing* pp[4];
    for (int j = 0; j < lanes; ++j) {
      // Unused lanes repeat the first point (any valid input will do).
      const int src = j < k ? j : 0;
      double* x = x0_lanes_.data() + static_cast<size_t>(j) * x0_.size();
      Unpack(xs[src], &par[j], x);
      x0[j] = x;
      pp[j] = &par[j];
    }
    double lik[4];
    if (lanes == 2) {
      DispatchPair(form_, y_.data(), static_cast<int>(y_.size()), x0, pp, buf_lanes_.data(), lik);
    } else {
      DispatchQuad(form_, y_.data(), static_cast<int>(y_.size()), x0, pp, buf_lanes_.data(), lik);
    }
    for (int j = 0; j < k; ++j) out[j] = Clean(lik[j]);
  }

 private:
  Form form_;
  std::span<const double> y_;
  FitControl ctl_;
  int nstate_;
  int m_ = 1;
  double lower_[4], upper_[4];
  bool opt_alpha_, opt_beta_, opt_gamma_, opt_phi_, has_beta_, has_gamma_;
  Smoothing base_;
  std::vector<double> x0_, buf_, e_, amse_, denom_;
  std::vector<double> x0_lanes_, buf_lanes_;  // FullMany's initial states and seasonal buffers
};

}  // namespace

char CompChar(Comp c) {
  switch (c) {
    case Comp::kN:
      return 'N';
    case Comp::kA:
      return 'A';
    case Comp::kM:
      return 'M';
  }
  return '?';
}

std::string Form::Name() const {
  std::string s = "ETS(";
  s += CompChar(error);
  s += ',';
  s += CompChar(trend);
  if (damped) s += 'd';
  s += ',';
  s += CompChar(season);
  s += ')';
  return s;
}

std::string Form::Code() const {
  std::string s;
  s += CompChar(error);
  s += CompChar(trend);
  if (damped) s += 'd';
  s += CompChar(season);
  return s;
}

Result<FitResult> FitForm(std::span<const double> y, const Form& form, const FitControl& ctl, NelderMeadWorkspace& ws) {
  const int n = static_cast<int>(y.size());
  const int m = form.season != Comp::kN ? form.m : 1;
  double lower[4], upper[4];
  std::copy(ctl.lower, ctl.lower + 4, lower);
  std::copy(ctl.upper, ctl.upper + 4, upper);
  if (!std::isnan(ctl.alpha)) {
    upper[1] = std::min(ctl.alpha, upper[1]);
    upper[2] = std::min(1 - ctl.alpha, upper[2]);
  }
  if (!std::isnan(ctl.beta)) lower[0] = std::max(ctl.beta, lower[0]);
  if (!std::isnan(ctl.gamma)) upper[0] = std::min(1 - ctl.gamma, upper[0]);

  ALMANAC_ASSIGN_OR_RETURN(StartParams sp, InitParams(form, ctl, lower, upper, m));
  const bool has_beta = form.trend != Comp::kN;
  const bool has_gamma = form.season != Comp::kN;
  // R's check.param on the starting values.
  {
    bool ok = true;
    if (ctl.bounds != Bounds::kAdmissible) {
      if (sp.alpha < lower[0] || sp.alpha > upper[0]) ok = false;
      if (has_beta && (sp.beta < lower[1] || sp.beta > sp.alpha || sp.beta > upper[1])) ok = false;
      if (form.damped && (sp.phi < lower[3] || sp.phi > upper[3])) ok = false;
      if (has_gamma && (sp.gamma < lower[2] || sp.gamma > 1 - sp.alpha || sp.gamma > upper[2])) ok = false;
    }
    if (ok && ctl.bounds != Bounds::kUsual) {
      ok = Admissible(sp.alpha, has_beta ? sp.beta : 0, has_beta, has_gamma ? sp.gamma : 0, has_gamma,
                      form.damped ? sp.phi : 1.0, m);
    }
    if (!ok) return InvalidArgumentError("smoothing parameters out of range for " + form.Name());
  }
  ALMANAC_ASSIGN_OR_RETURN(std::vector<double> init, InitialState(y, form.trend, form.season, form.m));
  const int nstate = static_cast<int>(init.size());

  Target target(form, y, ctl, lower, upper, nstate);
  std::vector<double> par;
  if (std::isnan(ctl.alpha)) par.push_back(sp.alpha);
  if (has_beta && std::isnan(ctl.beta)) par.push_back(sp.beta);
  if (has_gamma && std::isnan(ctl.gamma)) par.push_back(sp.gamma);
  if (form.damped && std::isnan(ctl.phi)) par.push_back(sp.phi);
  const int nopt = static_cast<int>(par.size());
  par.insert(par.end(), init.begin(), init.end());
  const int np = static_cast<int>(par.size());
  if (np >= n - 1)
    return FailedPreconditionError(form.Name() + " has " + std::to_string(np) + " parameters, too many for " +
                                   std::to_string(n) + " observations");

  NelderMeadOptions nmo;
  nmo.max_evals = ctl.max_evals;
  // With the look-ahead when two points can share a pass: the same search, fewer passes.
  NelderMeadResult nm =
      target.Lanes() > 1 ? NelderMeadSpeculative(target, par, nmo, ws) : NelderMead(target, par, nmo, ws);
  if (nm.fail == -1)
    return FailedPreconditionError(form.Name() + ": the likelihood is not finite at the starting values");

  FitResult fr;
  fr.form = form;
  fr.x0.assign(static_cast<size_t>(form.NumStates()), 0.0);
  target.Unpack(nm.x.data(), &fr.par, fr.x0.data());
  Pass pass = RunPass(form, fr.par, y, fr.x0, /*record=*/true);
  fr.lik = pass.lik;
  fr.e = std::move(pass.e);
  fr.last_state = std::move(pass.last_state);
  fr.np = np + 1;
  fr.loglik = -0.5 * pass.lik;
  fr.aic = pass.lik + 2.0 * fr.np;
  fr.bic = pass.lik + std::log(static_cast<double>(n)) * fr.np;
  fr.aicc = fr.aic + 2.0 * fr.np * (fr.np + 1) / static_cast<double>(n - fr.np - 1);
  int nfixed = 0;
  for (double v : {ctl.alpha, ctl.beta, ctl.gamma, ctl.phi}) nfixed += !std::isnan(v);
  fr.n_par_sigma = nopt + nstate + nfixed;
  fr.evals = nm.evals;
  fr.nm_fail = nm.fail;
  return fr;
}

}  // namespace almanac::models::ets
