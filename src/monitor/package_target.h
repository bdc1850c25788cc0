// A model package's target as data::TargetAsOf reads it (monitor-internal): the manifest's
// target, its recorded transforms and the series of its training snapshot.
#pragma once

#include "almanac/data/transforms.h"
#include "almanac/registry.h"
#include "almanac/store.h"

namespace almanac::monitor {

// The recipe of `m`. With transforms, the inputs are the training snapshot's series (NotFound
// when the snapshot is not in `store`); without, the target alone is read and the snapshot is
// not needed.
Result<data::TargetRecipe> PackageTargetRecipe(store::SeriesStore& store, const registry::PackageManifest& m);

}  // namespace almanac::monitor
