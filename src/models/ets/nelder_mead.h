// Nelder-Mead simplex minimiser in the variant of J. C. Nash, "Compact Numerical Methods for
// Computers" (2nd ed., 1990), Algorithm 19 -- the variant R's optim(method = "Nelder-Mead")
// documents and R forecast's ets() uses. Implemented from the published description so that
// ETS fits follow the same search path as R's and land on the same optima (including when
// the search stops at the evaluation limit, which happens for many seasonal fits).
//
// The variant's traits that matter for reproducing R:
//   * one scalar initial step for every coordinate: 0.1 * max_i |x0_i| (0.1 when x0 = 0),
//     multiplied by 10 until it changes the coordinate;
//   * reflection 1, contraction 0.5, expansion 2; a shrink towards the best vertex only when
//     both the reflected and the contracted points fail to beat the worst vertex;
//   * convergence when f(worst) <= f(best) + reltol * (|f(x0)| + reltol);
//   * non-finite values count as 1e35;
//   * the evaluation budget is checked once per iteration, and the vertex returned is the one
//     that was best at the start of the last iteration.
//
// The search is written as a resumable state machine (NelderMeadSearch: Pending() is the next
// point to evaluate, Tell() its value) so that a caller can look ahead: run a copy with a
// guessed value to learn the point that will probably be needed after the pending one, and
// evaluate both at once. For an ETS likelihood that nearly halves the cost of the passes
// over the data, because one pass is bound by the latency of the recursion and two
// independent recursions run side by side for little more than the cost of one (see
// NelderMeadSpeculative below). The search path itself never depends on the look-ahead.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstring>
#include <span>
#include <vector>

namespace almanac::models::ets {

struct NelderMeadOptions {
  double reltol = 1.4901161193847656e-08;  // sqrt(DBL_EPSILON), as R passes
  double abstol = -HUGE_VAL;
  double reflect = 1.0;
  double contract = 0.5;
  double expand = 2.0;
  int max_evals = 2000;
};

struct NelderMeadResult {
  std::vector<double> x;
  double value = HUGE_VAL;
  int evals = 0;
  // 0 converged, 1 evaluation limit reached, 10 the simplex stopped shrinking,
  // -1 the objective is not finite at the starting point (x holds the start).
  int fail = 0;
};

namespace internal {
inline constexpr double kBig = 1.0e35;
}

// Nash's Nelder-Mead as a state machine. Copyable (a copy is an independent search in the
// same state), which is what the look-ahead needs; copies reuse their vectors' memory.
class NelderMeadSearch {
 public:
  // Begins a search from x0; the first pending point is x0 itself.
  void Start(std::span<const double> x0, const NelderMeadOptions& opt) {
    opt_ = opt;
    n_ = static_cast<int>(x0.size());
    const int stride = n_ + 1;                                     // coordinates then the value
    simplex_.assign(static_cast<size_t>(stride) * (n_ + 2), 0.0);  // last slot: centroid/reflected
    trial_.assign(static_cast<size_t>(n_), 0.0);
    // Vertex 0 is the start; vertex j moves coordinate j-1 by the common step.
    double step = 0.0;
    for (int i = 0; i < n_; ++i) step = std::max(step, 0.1 * std::fabs(x0[i]));
    if (step == 0.0) step = 0.1;
    size_ = 0.0;
    for (int j = 0; j < n_ + 1; ++j) {
      double* v = Vertex(j);
      for (int i = 0; i < n_; ++i) v[i] = x0[i];
      if (j == 0) continue;
      double s = step;
      while (v[j - 1] == x0[j - 1]) {
        v[j - 1] = x0[j - 1] + s;
        s *= 10.0;
      }
      size_ += s;
    }
    phase_ = Phase::kStart;
    pending_ = 0;
    evals_ = 0;
    fail_ = 0;
    best_ = 0;
  }

  bool Done() const { return phase_ == Phase::kDone; }
  int n() const { return n_; }

  // The point whose value Tell() expects next (n() coordinates; valid until the next Tell).
  const double* Pending() const { return pending_ >= 0 ? Vertex(pending_) : trial_.data(); }

  // Takes f(Pending()) and runs the search up to the next point to evaluate, or the end.
  void Tell(double v) {
    switch (phase_) {
      case Phase::kStart:
        evals_ = 1;
        Value(0) = v;
        if (!std::isfinite(v)) {
          fail_ = -1;
          phase_ = Phase::kDone;
          return;
        }
        tol_ = opt_.reltol * (std::fabs(v) + opt_.reltol);
        old_size_ = size_;
        recompute_ = true;
        Top();
        return;
      case Phase::kVertex:
        Value(pending_) = Finite(v);
        ++evals_;
        NextVertex(pending_ + 1);
        return;
      case Phase::kReflect:
        TellReflected(Finite(v));
        return;
      case Phase::kExpand: {
        const double v_exp = Finite(v);
        ++evals_;
        double* wv = Vertex(worst_);
        const double* centre = Vertex(n_ + 1);  // holds the reflected point now
        if (v_exp < v_refl_) {
          for (int i = 0; i < n_; ++i) wv[i] = trial_[i];
          Value(worst_) = v_exp;
        } else {
          for (int i = 0; i < n_; ++i) wv[i] = centre[i];
          Value(worst_) = v_refl_;
        }
        EndIteration();
        return;
      }
      case Phase::kContract:
        TellContracted(Finite(v));
        return;
      case Phase::kDone:
        return;
    }
  }

  // A value for Pending() that sends the search down its most likely branch, so that a
  // copy told this value shows the point most likely to be needed next. Any value is
  // correct; a good guess only saves work. Counted on the M3 ETS fits (points that need a
  // pass over the data): an expansion beats the reflected point 86% of the time, an
  // outside contraction fails 81% and an inside one succeeds 93%; a reflection contracts
  // outside 68% of the time and expands 30%, in runs (guessing the previous outcome hits
  // 65%).
  double Guess() const {
    switch (phase_) {
      case Phase::kReflect:
        // Like the previous reflection: a new best (expand), else between best and worst.
        return last_expanded_ ? std::nextafter(v_lo_, -HUGE_VAL) : v_lo_;
      case Phase::kExpand:
        return std::nextafter(v_refl_, -HUGE_VAL);  // the expansion succeeds
      case Phase::kContract:
        // Outside: fails (the worst vertex is the reflected point already). Inside: succeeds
        // without becoming the best.
        return v_refl_ < v_hi_ ? Value(worst_) : v_lo_;
      case Phase::kVertex:
        // The next vertex does not depend on it; after the last one, no new best or worst.
        return Value(best_);
      default:
        return 0.0;  // the start: only needs to be finite
    }
  }

  NelderMeadResult Result() const {
    NelderMeadResult res;
    const int b = fail_ == -1 ? 0 : best_;
    res.x.assign(Vertex(b), Vertex(b) + n_);
    res.value = Value(b);
    res.evals = evals_;
    res.fail = fail_;
    return res;
  }

 private:
  enum class Phase { kStart, kVertex, kReflect, kExpand, kContract, kDone };

  static double Finite(double v) { return std::isfinite(v) ? v : internal::kBig; }
  double* Vertex(int j) { return simplex_.data() + static_cast<size_t>(j) * (n_ + 1); }
  const double* Vertex(int j) const { return simplex_.data() + static_cast<size_t>(j) * (n_ + 1); }
  double& Value(int j) { return Vertex(j)[n_]; }
  double Value(int j) const { return Vertex(j)[n_]; }

  // The start of an iteration: values for the vertices that need them, then the reflection.
  void Top() {
    if (recompute_) {
      NextVertex(0);
      return;
    }
    Reflect();
  }

  // Asks for the value of the first vertex from j on other than the best, or moves on.
  void NextVertex(int j) {
    if (j == best_) ++j;
    if (j < n_ + 1) {
      phase_ = Phase::kVertex;
      pending_ = j;
      return;
    }
    recompute_ = false;
    Reflect();
  }

  void Reflect() {
    // Best and worst; ties keep the earlier choice (the previous best stays best).
    const int nv = n_ + 1;
    double v_lo = Value(best_), v_hi = v_lo;
    int worst = best_;
    for (int j = 0; j < nv; ++j) {
      if (j == best_) continue;
      const double v = Value(j);
      if (v < v_lo) {
        best_ = j;
        v_lo = v;
      }
      if (v > v_hi) {
        worst = j;
        v_hi = v;
      }
    }
    worst_ = worst;
    v_lo_ = v_lo;
    v_hi_ = v_hi;
    if (v_hi <= v_lo + tol_ || v_lo <= opt_.abstol) {
      Finish();
      return;
    }
    // Centroid of all vertices but the worst.
    double* centre = Vertex(nv);
    const double* w = Vertex(worst);
    Centroid(w, centre);
    for (int i = 0; i < n_; ++i) trial_[i] = (1.0 + opt_.reflect) * centre[i] - opt_.reflect * w[i];
    phase_ = Phase::kReflect;
    pending_ = -1;
  }

  // centre = (sum of all vertices - w) / n, each coordinate summed as -w, v_0, v_1, ... in
  // that order (R's order), but eight coordinates at a time in 2-wide vectors held in
  // registers: the plain loop was a tenth of an ETS fit. Element-wise vector arithmetic
  // rounds as the scalar one, so the sums are identical.
  void Centroid(const double* w, double* centre) const {
    using Vec2 = double __attribute__((vector_size(16)));
    auto load = [](const double* x) {
      Vec2 v;
      std::memcpy(&v, x, sizeof v);
      return v;
    };
    const int nv = n_ + 1;
    const double dn = n_;
    int i0 = 0;
    for (; i0 + 8 <= n_; i0 += 8) {
      Vec2 a0 = -load(w + i0), a1 = -load(w + i0 + 2), a2 = -load(w + i0 + 4), a3 = -load(w + i0 + 6);
      for (int j = 0; j < nv; ++j) {
        const double* v = Vertex(j) + i0;
        a0 += load(v);
        a1 += load(v + 2);
        a2 += load(v + 4);
        a3 += load(v + 6);
      }
      const Vec2 out[4] = {a0 / dn, a1 / dn, a2 / dn, a3 / dn};
      std::memcpy(centre + i0, out, sizeof out);
    }
    for (int i = i0; i < n_; ++i) {
      double s = -w[i];
      for (int j = 0; j < nv; ++j) s += Vertex(j)[i];
      centre[i] = s / n_;
    }
  }

  void TellReflected(double v_refl) {
    ++evals_;
    v_refl_ = v_refl;
    last_expanded_ = v_refl < v_lo_;
    double* centre = Vertex(n_ + 1);
    if (v_refl < v_lo_) {
      // Try to expand further; keep the reflected point in the centre slot meanwhile.
      centre[n_] = v_refl;
      for (int i = 0; i < n_; ++i) {
        const double e = opt_.expand * trial_[i] + (1.0 - opt_.expand) * centre[i];
        centre[i] = trial_[i];
        trial_[i] = e;
      }
      phase_ = Phase::kExpand;
      return;
    }
    double* wv = Vertex(worst_);
    if (v_refl < v_hi_) {
      for (int i = 0; i < n_; ++i) wv[i] = trial_[i];
      Value(worst_) = v_refl;
    }
    // Contract between the (possibly replaced) worst vertex and the centroid.
    for (int i = 0; i < n_; ++i) trial_[i] = (1.0 - opt_.contract) * wv[i] + opt_.contract * centre[i];
    phase_ = Phase::kContract;
  }

  void TellContracted(double v_con) {
    ++evals_;
    double* wv = Vertex(worst_);
    if (v_con < Value(worst_)) {
      for (int i = 0; i < n_; ++i) wv[i] = trial_[i];
      Value(worst_) = v_con;
    } else if (v_refl_ >= v_hi_) {
      // Shrink every vertex towards the best one.
      recompute_ = true;
      // (Accumulated in a local: a member would make every step wait on a store.)
      double size = 0.0;
      const double contract = opt_.contract;
      const double* b = Vertex(best_);
      for (int j = 0; j < n_ + 1; ++j) {
        if (j == best_) continue;
        double* v = Vertex(j);
        for (int i = 0; i < n_; ++i) {
          v[i] = contract * (v[i] - b[i]) + b[i];
          size += std::fabs(v[i] - b[i]);
        }
      }
      size_ = size;
      if (size_ < old_size_) {
        old_size_ = size_;
      } else {
        fail_ = 10;
        Finish();
        return;
      }
    }
    EndIteration();
  }

  void EndIteration() {
    if (evals_ <= opt_.max_evals) {
      Top();
    } else {
      Finish();
    }
  }

  void Finish() {
    if (evals_ > opt_.max_evals && fail_ == 0) fail_ = 1;
    phase_ = Phase::kDone;
  }

  NelderMeadOptions opt_;
  int n_ = 0;
  std::vector<double> simplex_;  // n + 2 slots of n + 1 numbers: vertices, then centroid
  std::vector<double> trial_;
  Phase phase_ = Phase::kDone;
  int pending_ = 0;  // vertex index, or -1: the trial point
  int evals_ = 0, fail_ = 0;
  int best_ = 0, worst_ = 0;
  bool recompute_ = true;       // vertices other than the best need values
  bool last_expanded_ = false;  // for Guess()
  double tol_ = 0, size_ = 0, old_size_ = 0;
  double v_lo_ = 0, v_hi_ = 0, v_refl_ = 0;
};

// Reusable memory for NelderMead() and NelderMeadSpeculative(): the search, the look-ahead
// copy and its results. Keep one per thread (or per fit) to avoid allocations.
struct NelderMeadWorkspace {
  NelderMeadSearch search, ahead;
  std::vector<double> memo_x;  // points evaluated ahead of need, n numbers each
  std::vector<double> memo_v;  // their values
};

// Minimises f over R^n starting at x0. `f` is any callable double(const double*), called
// with a pointer to n coordinates. Deterministic: the same f and x0 give the same result.
template <typename F>
NelderMeadResult NelderMead(F&& f, std::span<const double> x0, const NelderMeadOptions& opt, NelderMeadWorkspace& ws) {
  if (opt.max_evals <= 0) {
    NelderMeadResult res;
    res.x.assign(x0.begin(), x0.end());
    res.value = f(res.x.data());
    return res;
  }
  NelderMeadSearch& s = ws.search;
  s.Start(x0, opt);
  while (!s.Done()) s.Tell(f(s.Pending()));
  return s.Result();
}

// An objective that can evaluate several points in one go, for NelderMeadSpeculative:
//   bool Cheap(const double* x, double* value): true when f(x) is known without the
//     expensive part (e.g. the parameters are out of bounds), with the value set;
//   bool Quick(const double* x, double* value): the fast part of Cheap() (true: settled);
//   void SlowMany(const double* const* xs, int k, bool* settled, double* values): the rest
//     of Cheap() for k <= Lanes() points that passed Quick(), at once;
//   double Full(const double* x): f(x) for a point where Cheap() was false;
//   int Lanes(): how many such points FullMany() takes at once (1..kMaxLanes);
//   void FullMany(const double* const* xs, int k, double* values): k <= Lanes() of them.
// Each must give exactly f(x), so the search is the same as NelderMead's with f.
inline constexpr int kMaxLanes = 4;

template <typename F>
concept BatchObjective = requires(F f, const double* x, const double* const* xs, double* v, bool* b) {
  { f.Cheap(x, v) } -> std::convertible_to<bool>;
  { f.Quick(x, v) } -> std::convertible_to<bool>;
  f.SlowMany(xs, 1, b, v);
  { f.Full(x) } -> std::convertible_to<double>;
  { f.Lanes() } -> std::convertible_to<int>;
  f.FullMany(xs, 1, v);
};

// NelderMead() with look-ahead: whenever a point needs the expensive evaluation, a copy of
// the search is told a guessed value (NelderMeadSearch::Guess) and run on, through points
// that are cheap to evaluate, to the next expensive point; that one is guessed in turn, and
// so on until Lanes() points are found, which are evaluated in one go. When the real search
// asks for one of them, bit for bit, its value is taken from the memo. Same result,
// evaluation count and path as NelderMead(); only the number of expensive passes changes
// (auto_ets on all M3 series: 29.5 million evaluations take 16.2 million passes with 2
// lanes).
template <BatchObjective F>
NelderMeadResult NelderMeadSpeculative(F& f, std::span<const double> x0, const NelderMeadOptions& opt,
                                       NelderMeadWorkspace& ws) {
  auto one = [&f](const double* x) {
    double v;
    return f.Cheap(x, &v) ? v : f.Full(x);
  };
  const int lanes = std::clamp(f.Lanes(), 1, kMaxLanes);
  if (opt.max_evals <= 0 || lanes == 1) return NelderMead(one, x0, opt, ws);
  NelderMeadSearch& s = ws.search;
  NelderMeadSearch& ahead = ws.ahead;
  s.Start(x0, opt);
  const int n = s.n();
  const size_t bytes = sizeof(double) * static_cast<size_t>(n);
  // The memo holds the look-ahead's points: the expensive ones and the cheap ones between.
  constexpr int kMemo = 16;
  ws.memo_x.assign(static_cast<size_t>(n) * kMemo, 0.0);
  ws.memo_v.assign(kMemo, 0.0);
  int memo_size = 0;
  while (!s.Done()) {
    const double* p = s.Pending();
    double v;
    bool found = false;
    for (int k = 0; k < memo_size && !found; ++k) {
      const double* mx = &ws.memo_x[static_cast<size_t>(k) * n];
      // Bit for bit (the first coordinate, compared inline, settles most misses).
      if (std::memcmp(mx, p, sizeof(double)) == 0 && std::memcmp(mx, p, bytes) == 0) {
        v = ws.memo_v[k];
        found = true;
      }
    }
    if (!found && !f.Cheap(p, &v)) {
      memo_size = 0;
      const double* xs[kMaxLanes] = {p};
      int slot_of[kMaxLanes] = {};
      int k = 1;
      ahead = s;
      ahead.Tell(ahead.Guess());
      // Look-ahead points pass Quick() here and the slow rest of Cheap() below, all at once.
      while (k < lanes && !ahead.Done() && memo_size < kMemo) {
        double* slot = &ws.memo_x[static_cast<size_t>(memo_size) * n];
        std::memcpy(slot, ahead.Pending(), bytes);
        double va;
        if (f.Quick(slot, &va)) {
          ws.memo_v[memo_size++] = va;
          ahead.Tell(va);
          continue;
        }
        xs[k] = slot;
        slot_of[k++] = memo_size++;
        if (k < lanes) ahead.Tell(ahead.Guess());
      }
      if (k > 1) {
        bool settled[kMaxLanes];
        double sv[kMaxLanes];
        f.SlowMany(xs + 1, k - 1, settled, sv);
        // A point settled here was cheap after all, and the look-ahead went on from it with
        // a guess: keep its value, drop what follows.
        for (int j = 1; j < k; ++j) {
          if (!settled[j - 1]) continue;
          ws.memo_v[slot_of[j]] = sv[j - 1];
          memo_size = slot_of[j] + 1;
          k = j;
          break;
        }
      }
      double vals[kMaxLanes];
      f.FullMany(xs, k, vals);
      v = vals[0];
      for (int j = 1; j < k; ++j) ws.memo_v[slot_of[j]] = vals[j];
    }
    s.Tell(v);
  }
  return s.Result();
}

}  // namespace almanac::models::ets
