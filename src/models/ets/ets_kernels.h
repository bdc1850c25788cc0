// The filtering recursion of ETS (models-internal): R's etscalc for every form, scalar and in
// 2- or 4-lane vectors for the optimiser's look-ahead, behind one dispatch on the form. Used
// by the fit (ets_core.cc) and defined in ets_kernels.cc with RunPass, LikOnly and the
// forecast and state-update helpers of ets_core.h.
#pragma once

#include "models/ets/ets_core.h"

namespace almanac::models::ets {

// What a pass records besides the likelihood (null pointers: not recorded).
struct KernelOut {
  double* e = nullptr;      // n innovations
  double* amse = nullptr;   // nmse
  double* denom = nullptr;  // nmse scratch
  int nmse = 0;
  double* last = nullptr;  // final state (R layout)
};

// One likelihood pass of `form` over y[0..n) from the initial state x0 with smoothing `p`;
// `buf` holds max(1, m) seasonal states. Returns the criterion of Pass::lik.
double Dispatch(const Form& form, const double* y, int n, const double* x0, const Smoothing& p, double* buf,
                const KernelOut* out);
// Two (SSE2) or four (AVX; only when HasAvx()) passes at once, each as Dispatch without
// `out`, bit-identical to it: parameter sets p[j] from initial states x0[j], likelihoods in
// lik[j]; `buf` holds L m slots. Not for multiplicative trends.
void DispatchPair(const Form& form, const double* y, int n, const double* const* x0, const Smoothing* const* p,
                  double* buf, double* lik);
void DispatchQuad(const Form& form, const double* y, int n, const double* const* x0, const Smoothing* const* p,
                  double* buf, double* lik);
// Whether this processor runs DispatchQuad (AVX).
bool HasAvx();

}  // namespace almanac::models::ets
