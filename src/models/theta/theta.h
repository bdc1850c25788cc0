// The Theta method and the M3 NAIVE2 benchmark: two forecasters built on the classical
// multiplicative decomposition of src/models/decompose/ (models-internal).
//
// theta   R forecast 8.20's thetaf() (Assimakopoulos & Nikolopoulos 2000, in the SES-with-drift
//         form of Hyndman & Billah 2003): seasonally adjust when the 90% autocorrelation test
//         at lag m says so (needs n > 2m), fit SES by maximum likelihood on the adjusted series,
//         add a drift of half the least-squares slope, reseasonalise. Intervals are thetaf's:
//         mean ± z·sigma·sqrt(1 + (h-1)·alpha²), not rescaled by the seasonal index.
// naive2  The M3 competition's NAIVE2: the naive method on the seasonally adjusted series (same
//         test, with the M4 benchmarks' n >= 3m), reseasonalised; intervals are those of the
//         naive method on the adjusted series, multiplied by the seasonal index.
#pragma once

#include "almanac/models.h"

namespace almanac::models {

ModelType ThetaModelType();
ModelType Naive2ModelType();

}  // namespace almanac::models
