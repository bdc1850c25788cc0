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
// point to evaluate, Tell() its value) so that a caller can look ahead: run a copy with
// guessed values to learn the points that will probably be needed after the pending one,
// and evaluate them all at once. For an ETS likelihood that cuts the cost of the passes over
// the data by about 60%, because one pass is bound by the latency of the recursion and
// independent recursions run side by side in vector lanes for little more than the cost of
// one (see NelderMeadSpeculative below). The search path never depends on the look-ahead.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
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

// Centroids computed by a look-ahead copy of a search, for the search itself to reuse
// (NelderMeadSearch::ShareCentroids). Each is tagged with the copy's change log since the
// two were last synchronised (which vertex was replaced, by which kind of point) and the
// worst vertex it leaves out. Both start from the same simplex, and every new vertex is a
// function of the simplex, the worst vertex and the kind of point, so the same log means
// the same coordinates and the same tag the same centroid, bit for bit.
struct CentroidCache {
  static constexpr int kSize = 8;
  int count = 0;
  std::uint64_t log[kSize] = {};
  int log_len[kSize] = {};
  int worst[kSize] = {};
  std::vector<double> centre;  // kSize x n
};

// Nash's Nelder-Mead as a state machine. Copyable (a copy is an independent search in the
// same state), which is what the look-ahead needs; SyncFrom() makes such a copy cheaply.
class NelderMeadSearch {
 public:
  // Begins a search from x0; the first pending point is x0 itself.
  void Start(std::span<const double> x0, const NelderMeadOptions& opt) {
    st_ = State{};
    st_.opt = opt;
    n_ = static_cast<int>(x0.size());
    const int stride = n_ + 1;                                     // coordinates then the value
    simplex_.assign(static_cast<size_t>(stride) * (n_ + 2), 0.0);  // last slot: centroid/reflected
    trial_.assign(static_cast<size_t>(n_), 0.0);
    // Vertex 0 is the start; vertex j moves coordinate j-1 by the common step.
    double step = 0.0;
    for (int i = 0; i < n_; ++i) step = std::max(step, 0.1 * std::fabs(x0[i]));
    if (step == 0.0) step = 0.1;
    double size = 0.0;
    for (int j = 0; j < n_ + 1; ++j) {
      double* v = Vertex(j);
      for (int i = 0; i < n_; ++i) v[i] = x0[i];
      if (j == 0) continue;
      double s = step;
      while (v[j - 1] == x0[j - 1]) {
        v[j - 1] = x0[j - 1] + s;
        s *= 10.0;
      }
      size += s;
    }
    st_.size = size;
    dirty_ = kAllDirty;
    ResetLog();
    cache_ = nullptr;
    record_ = false;
  }

  bool Done() const { return st_.phase == Phase::kDone; }
  int n() const { return n_; }

  // The point whose value Tell() expects next (n() coordinates; valid until the next Tell).
  const double* Pending() const { return st_.pending >= 0 ? Vertex(st_.pending) : trial_.data(); }

  // Takes f(Pending()) and runs the search up to the next point to evaluate, or the end.
  void Tell(double v) {
    switch (st_.phase) {
      case Phase::kStart:
        st_.evals = 1;
        SetValue(0, v);
        if (!std::isfinite(v)) {
          st_.fail = -1;
          st_.phase = Phase::kDone;
          return;
        }
        st_.tol = st_.opt.reltol * (std::fabs(v) + st_.opt.reltol);
        st_.old_size = st_.size;
        st_.recompute = true;
        Top();
        return;
      case Phase::kVertex:
        SetValue(st_.pending, Finite(v));
        ++st_.evals;
        NextVertex(st_.pending + 1);
        return;
      case Phase::kReflect:
        TellReflected(Finite(v));
        return;
      case Phase::kExpand: {
        const double v_exp = Finite(v);
        ++st_.evals;
        const double* centre = Vertex(n_ + 1);  // holds the reflected point now
        if (v_exp < st_.v_refl) {
          Replace(st_.worst, trial_.data(), v_exp, kLogExpanded);
        } else {
          Replace(st_.worst, centre, st_.v_refl, kLogReflected);
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
    switch (st_.phase) {
      case Phase::kReflect:
        // Like the previous reflection: a new best (expand), else between best and worst.
        return st_.last_expanded ? std::nextafter(st_.v_lo, -HUGE_VAL) : st_.v_lo;
      case Phase::kExpand:
        return std::nextafter(st_.v_refl, -HUGE_VAL);  // the expansion succeeds
      case Phase::kContract:
        // Outside: fails (the worst vertex is the reflected point already). Inside: succeeds
        // without becoming the best.
        return st_.v_refl < st_.v_hi ? Value(st_.worst) : st_.v_lo;
      case Phase::kVertex:
        // The next vertex does not depend on it; after the last one, no new best or worst.
        return Value(st_.best);
      default:
        return 0.0;  // the start: only needs to be finite
    }
  }

  NelderMeadResult Result() const {
    NelderMeadResult res;
    const int b = st_.fail == -1 ? 0 : st_.best;
    res.x.assign(Vertex(b), Vertex(b) + n_);
    res.value = Value(b);
    res.evals = st_.evals;
    res.fail = st_.fail;
    return res;
  }

  // Makes this search a copy of `src` (as `*this = src`), copying only the vertices that
  // either changed since the two were last synchronised; both start new change logs.
  void SyncFrom(NelderMeadSearch& src) {
    const std::uint64_t changed = dirty_ | src.dirty_;
    if (n_ != src.n_ || simplex_.size() != src.simplex_.size() || changed == kAllDirty) {
      CentroidCache* const cache = cache_;
      const bool record = record_;
      *this = src;
      cache_ = cache;
      record_ = record;
    } else {
      const size_t stride = static_cast<size_t>(n_) + 1;
      for (int j = 0; j < n_ + 1; ++j) {
        if ((changed >> j) & 1) std::memcpy(Vertex(j), src.Vertex(j), stride * sizeof(double));
      }
      std::memcpy(Vertex(n_ + 1), src.Vertex(n_ + 1), stride * sizeof(double));
      std::memcpy(trial_.data(), src.trial_.data(), static_cast<size_t>(n_) * sizeof(double));
      st_ = src.st_;
    }
    dirty_ = src.dirty_ = 0;
    ResetLog();
    src.ResetLog();
  }

  // Look-ahead support: with `record`, this search (a copy) stores the centroids it
  // computes in `cache`; without, this search takes a centroid from `cache` when its own
  // change log and worst vertex match one there. nullptr: neither.
  void ShareCentroids(CentroidCache* cache, bool record) {
    cache_ = cache;
    record_ = record;
  }

 private:
  enum class Phase { kStart, kVertex, kReflect, kExpand, kContract, kDone };
  // Everything but the simplex and the trial point (what SyncFrom copies wholesale).
  struct State {
    NelderMeadOptions opt;
    Phase phase = Phase::kStart;
    int pending = 0;  // vertex index, or -1: the trial point
    int evals = 0, fail = 0;
    int best = 0, worst = 0;
    bool recompute = true;       // vertices other than the best need values
    bool last_expanded = false;  // for Guess()
    double tol = 0, size = 0, old_size = 0;
    double v_lo = 0, v_hi = 0, v_refl = 0;
  };
  // Change-log entries: how a vertex was replaced (the vertex index is logged with it).
  enum LogOp : std::uint64_t {
    kLogExpanded = 1,
    kLogReflected = 2,
    kLogAccepted = 3,
    kLogContracted = 4,
    kLogShrunk = 5
  };
  static constexpr std::uint64_t kAllDirty = ~std::uint64_t{0};

  static double Finite(double v) { return std::isfinite(v) ? v : internal::kBig; }
  double* Vertex(int j) { return simplex_.data() + static_cast<size_t>(j) * (n_ + 1); }
  const double* Vertex(int j) const { return simplex_.data() + static_cast<size_t>(j) * (n_ + 1); }
  double Value(int j) const { return Vertex(j)[n_]; }
  void MarkDirty(int j) { dirty_ |= j < 63 ? std::uint64_t{1} << j : kAllDirty; }
  void SetValue(int j, double v) {
    Vertex(j)[n_] = v;
    MarkDirty(j);
  }
  // Vertex j := x with value v, logged as `op`.
  void Replace(int j, const double* x, double v, LogOp op) {
    double* dst = Vertex(j);
    for (int i = 0; i < n_; ++i) dst[i] = x[i];
    dst[n_] = v;
    MarkDirty(j);
    Log(op, j);
  }
  void ResetLog() {
    log_ = 0;
    log_len_ = 0;
    log_ok_ = n_ + 1 < 64;  // 6 bits per vertex index
  }
  // Appends (op, vertex) to the change log; 9 bits each, so 7 fit (then no more reuse).
  void Log(LogOp op, int j) {
    if (log_len_ >= 7) log_ok_ = false;
    if (!log_ok_) return;
    log_ = (log_ << 9) | (static_cast<std::uint64_t>(op) << 6) | static_cast<std::uint64_t>(j);
    ++log_len_;
  }

  // The start of an iteration: values for the vertices that need them, then the reflection.
  void Top() {
    if (st_.recompute) {
      NextVertex(0);
      return;
    }
    Reflect();
  }

  // Asks for the value of the first vertex from j on other than the best, or moves on.
  void NextVertex(int j) {
    if (j == st_.best) ++j;
    if (j < n_ + 1) {
      st_.phase = Phase::kVertex;
      st_.pending = j;
      return;
    }
    st_.recompute = false;
    Reflect();
  }

  void Reflect() {
    // Best and worst; ties keep the earlier choice (the previous best stays best).
    const int nv = n_ + 1;
    int best = st_.best;
    double v_lo = Value(best), v_hi = v_lo;
    int worst = best;
    for (int j = 0; j < nv; ++j) {
      if (j == best) continue;
      const double v = Value(j);
      if (v < v_lo) {
        best = j;
        v_lo = v;
      }
      if (v > v_hi) {
        worst = j;
        v_hi = v;
      }
    }
    st_.best = best;
    st_.worst = worst;
    st_.v_lo = v_lo;
    st_.v_hi = v_hi;
    if (v_hi <= v_lo + st_.tol || v_lo <= st_.opt.abstol) {
      Finish();
      return;
    }
    // Centroid of all vertices but the worst (from the look-ahead when it has this one).
    double* centre = Vertex(nv);
    const double* w = Vertex(worst);
    if (!ReuseCentroid(worst, centre)) {
      Centroid(w, centre);
      RecordCentroid(worst, centre);
    }
    for (int i = 0; i < n_; ++i) trial_[i] = (1.0 + st_.opt.reflect) * centre[i] - st_.opt.reflect * w[i];
    st_.phase = Phase::kReflect;
    st_.pending = -1;
  }

  bool ReuseCentroid(int worst, double* centre) const {
    if (cache_ == nullptr || record_ || !log_ok_) return false;
    for (int k = 0; k < cache_->count; ++k) {
      if (cache_->log[k] == log_ && cache_->log_len[k] == log_len_ && cache_->worst[k] == worst) {
        std::memcpy(centre, &cache_->centre[static_cast<size_t>(k) * n_], static_cast<size_t>(n_) * sizeof(double));
        return true;
      }
    }
    return false;
  }

  void RecordCentroid(int worst, const double* centre) {
    if (cache_ == nullptr || !record_ || !log_ok_) return;
    CentroidCache& c = *cache_;
    if (c.count == CentroidCache::kSize) return;
    const int k = c.count++;
    c.log[k] = log_;
    c.log_len[k] = log_len_;
    c.worst[k] = worst;
    c.centre.resize(static_cast<size_t>(CentroidCache::kSize) * n_);
    std::memcpy(&c.centre[static_cast<size_t>(k) * n_], centre, static_cast<size_t>(n_) * sizeof(double));
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
    ++st_.evals;
    st_.v_refl = v_refl;
    st_.last_expanded = v_refl < st_.v_lo;
    double* centre = Vertex(n_ + 1);
    if (v_refl < st_.v_lo) {
      // Try to expand further; keep the reflected point in the centre slot meanwhile.
      centre[n_] = v_refl;
      for (int i = 0; i < n_; ++i) {
        const double e = st_.opt.expand * trial_[i] + (1.0 - st_.opt.expand) * centre[i];
        centre[i] = trial_[i];
        trial_[i] = e;
      }
      st_.phase = Phase::kExpand;
      return;
    }
    if (v_refl < st_.v_hi) Replace(st_.worst, trial_.data(), v_refl, kLogAccepted);
    // Contract between the (possibly replaced) worst vertex and the centroid.
    const double* wv = Vertex(st_.worst);
    for (int i = 0; i < n_; ++i) trial_[i] = (1.0 - st_.opt.contract) * wv[i] + st_.opt.contract * centre[i];
    st_.phase = Phase::kContract;
  }

  void TellContracted(double v_con) {
    ++st_.evals;
    if (v_con < Value(st_.worst)) {
      Replace(st_.worst, trial_.data(), v_con, kLogContracted);
    } else if (st_.v_refl >= st_.v_hi) {
      // Shrink every vertex towards the best one.
      st_.recompute = true;
      // (Accumulated in a local: a member would make every step wait on a store.)
      double size = 0.0;
      const double contract = st_.opt.contract;
      const double* b = Vertex(st_.best);
      for (int j = 0; j < n_ + 1; ++j) {
        if (j == st_.best) continue;
        double* v = Vertex(j);
        for (int i = 0; i < n_; ++i) {
          v[i] = contract * (v[i] - b[i]) + b[i];
          size += std::fabs(v[i] - b[i]);
        }
        MarkDirty(j);
      }
      Log(kLogShrunk, st_.best);
      st_.size = size;
      if (st_.size < st_.old_size) {
        st_.old_size = st_.size;
      } else {
        st_.fail = 10;
        Finish();
        return;
      }
    }
    EndIteration();
  }

  void EndIteration() {
    if (st_.evals <= st_.opt.max_evals) {
      Top();
    } else {
      Finish();
    }
  }

  void Finish() {
    if (st_.evals > st_.opt.max_evals && st_.fail == 0) st_.fail = 1;
    st_.phase = Phase::kDone;
  }

  State st_;
  int n_ = 0;
  std::vector<double> simplex_;  // n + 2 slots of n + 1 numbers: vertices, then centroid
  std::vector<double> trial_;
  // Look-ahead support (not part of the search's state): the vertices changed since the
  // last SyncFrom (bit j: vertex j; all bits: everything), the change log since then, and
  // the centroid cache.
  std::uint64_t dirty_ = kAllDirty;
  std::uint64_t log_ = 0;
  int log_len_ = 0;
  bool log_ok_ = false;
  CentroidCache* cache_ = nullptr;
  bool record_ = false;
};

// Reusable memory for NelderMead() and NelderMeadSpeculative(): the search, the look-ahead
// copy and its results. Keep one per thread (or per fit) to avoid allocations.
struct NelderMeadWorkspace {
  NelderMeadSearch search, ahead;
  CentroidCache centroids;     // computed by `ahead`, reused by `search`
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
  s.ShareCentroids(&ws.centroids, /*record=*/false);
  ahead.ShareCentroids(&ws.centroids, /*record=*/true);
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
      ws.centroids.count = 0;
      ahead.SyncFrom(s);
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
