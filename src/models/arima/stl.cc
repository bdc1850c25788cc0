#include "models/arima/stl.h"

#include <algorithm>
#include <cmath>

namespace almanac::models::arima {
namespace {

// The routines below index arrays from 1, as the published algorithm does: a Vec1 wraps a
// pointer so that v(1) is its first element. This keeps the window arithmetic readable and
// identical to the reference description.
class Vec1 {
 public:
  explicit Vec1(double* base) : p_(base - 1) {}
  double& operator()(int i) const { return p_[i]; }
  Vec1 Shift(int k) const { return Vec1(p_ + 1 + k); }

 private:
  double* p_;
};

int NextOdd(double x) {
  int v = static_cast<int>(std::lround(x));
  if (v % 2 == 0) ++v;
  return v;
}

// Local weighted (degree 0 or 1) regression at abscissa xs using points nleft..nright with
// tricube weights; false when all weights vanish.
bool LoessPoint(Vec1 y, int n, int len, int ideg, double xs, double& ys, int nleft, int nright, Vec1 w) {
  const double range = static_cast<double>(n) - 1.0;
  double h = std::max(xs - nleft, nright - xs);
  if (len > n) h += static_cast<double>((len - n) / 2);
  const double h9 = 0.999 * h, h1 = 0.001 * h;
  double a = 0;
  for (int j = nleft; j <= nright; ++j) {
    w(j) = 0;
    const double r = std::abs(j - xs);
    if (r <= h9) {
      if (r <= h1) {
        w(j) = 1;
      } else {
        const double u = r / h;
        const double t = 1.0 - u * u * u;
        w(j) = t * t * t;
      }
      a += w(j);
    }
  }
  if (a <= 0) return false;
  for (int j = nleft; j <= nright; ++j) w(j) /= a;
  if (h > 0 && ideg > 0) {
    double mean = 0;
    for (int j = nleft; j <= nright; ++j) mean += w(j) * j;
    double b = xs - mean;
    double c = 0;
    for (int j = nleft; j <= nright; ++j) c += w(j) * (j - mean) * (j - mean);
    if (std::sqrt(c) > 0.001 * range) {
      b /= c;
      for (int j = nleft; j <= nright; ++j) w(j) *= b * (j - mean) + 1.0;
    }
  }
  double s = 0;
  for (int j = nleft; j <= nright; ++j) s += w(j) * y(j);
  ys = s;
  return true;
}

// Loess smoothing of y(1..n) into ys(1..n), evaluated every `njump` points and linearly
// interpolated in between.
void LoessSmooth(Vec1 y, int n, int len, int ideg, int njump, Vec1 ys, Vec1 res) {
  if (n < 2) {
    ys(1) = y(1);
    return;
  }
  const int newnj = std::min(njump, n - 1);
  int nleft = 1, nright = n;
  if (len >= n) {
    nleft = 1;
    nright = n;
    for (int i = 1; i <= n; i += newnj)
      if (!LoessPoint(y, n, len, ideg, i, ys(i), nleft, nright, res)) ys(i) = y(i);
  } else if (newnj == 1) {
    const int nsh = (len + 1) / 2;
    nleft = 1;
    nright = len;
    for (int i = 1; i <= n; ++i) {
      if (i > nsh && nright != n) {
        ++nleft;
        ++nright;
      }
      if (!LoessPoint(y, n, len, ideg, i, ys(i), nleft, nright, res)) ys(i) = y(i);
    }
  } else {
    const int nsh = (len + 1) / 2;
    for (int i = 1; i <= n; i += newnj) {
      if (i < nsh) {
        nleft = 1;
        nright = len;
      } else if (i >= n - nsh + 1) {
        nleft = n - len + 1;
        nright = n;
      } else {
        nleft = i - nsh + 1;
        nright = len + i - nsh;
      }
      if (!LoessPoint(y, n, len, ideg, i, ys(i), nleft, nright, res)) ys(i) = y(i);
    }
  }
  if (newnj != 1) {
    for (int i = 1; i <= n - newnj; i += newnj) {
      const double delta = (ys(i + newnj) - ys(i)) / newnj;
      for (int j = i + 1; j <= i + newnj - 1; ++j) ys(j) = ys(i) + delta * (j - i);
    }
    const int k = ((n - 1) / newnj) * newnj + 1;
    if (k != n) {
      // The last point reuses the window of the last evaluated point.
      if (!LoessPoint(y, n, len, ideg, n, ys(n), nleft, nright, res)) ys(n) = y(n);
      if (k != n - 1) {
        const double delta = (ys(n) - ys(k)) / (n - k);
        for (int j = k + 1; j <= n - 1; ++j) ys(j) = ys(k) + delta * (j - k);
      }
    }
  }
}

// Moving average of length len: ave(1..n-len+1).
void MovingAverage(Vec1 x, int n, int len, Vec1 ave) {
  const int newn = n - len + 1;
  const double flen = len;
  double v = 0;
  for (int i = 1; i <= len; ++i) v += x(i);
  ave(1) = v / flen;
  int k = len, m = 0;
  for (int j = 2; j <= newn; ++j) {
    ++k;
    ++m;
    v = v - x(m) + x(k);
    ave(j) = v / flen;
  }
}

// Smooths each cycle-subseries, extending it by one point at each end; season(1..n+2np).
void CycleSubseries(Vec1 y, int n, int np, int ns, int isdeg, int nsjump, Vec1 season, Vec1 work1, Vec1 work2,
                    Vec1 work3) {
  for (int j = 1; j <= np; ++j) {
    const int k = (n - j) / np + 1;
    for (int i = 1; i <= k; ++i) work1(i) = y((i - 1) * np + j);
    LoessSmooth(work1, k, ns, isdeg, nsjump, work2.Shift(1), work3);
    const int nright = std::min(ns, k);
    if (!LoessPoint(work1, k, ns, isdeg, 0.0, work2(1), 1, nright, work3)) work2(1) = work2(2);
    const int nleft = std::max(1, k - ns + 1);
    if (!LoessPoint(work1, k, ns, isdeg, k + 1.0, work2(k + 2), nleft, k, work3)) work2(k + 2) = work2(k + 1);
    for (int m = 1; m <= k + 2; ++m) season((m - 1) * np + j) = work2(m);
  }
}

}  // namespace

Result<StlResult> Stl(std::span<const double> yv, int m, const StlOptions& opt) {
  const int n = static_cast<int>(yv.size());
  if (m < 2 || n <= 2 * m) return InvalidArgumentError("STL needs a period of at least 2 and more than two periods of data");
  for (double v : yv)
    if (!std::isfinite(v)) return InvalidArgumentError("STL needs a series without missing values");
  const int np = m;
  auto odd3 = [](int w) {
    w = std::max(3, w);
    return w % 2 == 0 ? w + 1 : w;
  };
  const int s_window = opt.s_window;
  const int t_window =
      opt.t_window > 0 ? opt.t_window : NextOdd(std::ceil(1.5 * m / (1.0 - 1.5 / s_window)));
  const int l_window = opt.l_window > 0 ? opt.l_window : NextOdd(m);
  const int l_degree = opt.l_degree >= 0 ? opt.l_degree : opt.t_degree;
  const int s_jump = opt.s_jump > 0 ? opt.s_jump : static_cast<int>(std::ceil(s_window / 10.0));
  const int t_jump = opt.t_jump > 0 ? opt.t_jump : static_cast<int>(std::ceil(t_window / 10.0));
  const int l_jump = opt.l_jump > 0 ? opt.l_jump : static_cast<int>(std::ceil(l_window / 10.0));
  const int ns = odd3(s_window), nt = odd3(t_window), nl = odd3(l_window);

  std::vector<double> ybuf(yv.begin(), yv.end()), season(n, 0.0), trend(n, 0.0);
  const int wlen = n + 2 * np;
  std::vector<double> work(static_cast<size_t>(wlen) * 5, 0.0);
  Vec1 y(ybuf.data()), s(season.data()), t(trend.data());
  Vec1 w1(work.data()), w2(work.data() + wlen), w3(work.data() + 2 * wlen), w4(work.data() + 3 * wlen),
      w5(work.data() + 4 * wlen);
  for (int iter = 0; iter < opt.inner; ++iter) {
    for (int i = 1; i <= n; ++i) w1(i) = y(i) - t(i);
    CycleSubseries(w1, n, np, ns, opt.s_degree, s_jump, w2, w3, w4, w5);
    // Low-pass filter of the seasonal: moving averages of lengths np, np, 3, then loess.
    MovingAverage(w2, wlen, np, w3);
    MovingAverage(w3, wlen - np + 1, np, w1);
    MovingAverage(w1, wlen - 2 * np + 2, 3, w3);
    LoessSmooth(w3, n, nl, l_degree, l_jump, w1, w5);
    for (int i = 1; i <= n; ++i) s(i) = w2(np + i) - w1(i);
    for (int i = 1; i <= n; ++i) w1(i) = y(i) - s(i);
    LoessSmooth(w1, n, nt, opt.t_degree, t_jump, t, w3);
  }
  StlResult out;
  out.seasonal = season;
  out.trend = trend;
  out.remainder.resize(n);
  for (int i = 0; i < n; ++i) out.remainder[i] = yv[i] - season[i] - trend[i];
  return out;
}

}  // namespace almanac::models::arima
