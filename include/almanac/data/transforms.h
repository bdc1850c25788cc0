// File: almanac/data/transforms.h
//
// Transformations that derive a series from others (log, differences, percent changes,
// resampling, ...) and "a model package's target as of a date". One engine and one set of
// names serve the pipeline's `transforms:` steps, the multivariate commands' --transform,
// the as_of refits of serve and the actuals of monitoring.
//
//   data::TransformSpec t{"gdp_growth", "pct_change", "us:gdp", {{"periods", 1}}};
//   ALMANAC_ASSIGN_OR_RETURN(TimeSeries g, data::ApplyTransform(t, {{"us:gdp", gdp}}));
//
//   data::TargetRecipe r{"gdp_growth", transforms_json, {"us:gdp"}};
//   ALMANAC_ASSIGN_OR_RETURN(data::TargetAsOfResult now, data::TargetAsOf(store.series(), r, as_of));
//
// Departure from CONVENTIONS §2 (as for almanac/core/json.h): this header is public but not
// included by almanac/data.h, because nlohmann/json costs ~1.6 s per translation unit.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "almanac/store.h"

namespace almanac::data {

// One transformation: `name` = op(`input`, params).
struct TransformSpec {
  std::string name;   // the derived series' name
  std::string op;     // a canonical name or an alias (TransformOps)
  std::string input;  // a data series or an earlier transform
  Json params = Json::object();  // op-specific: periods, window, to, how, by, scale, base, method
};

// The operations, one row each: the canonical name, the parameters it takes and the other
// names it accepts (older spellings users type: the CLI's `pct` and `dlog`).
struct TransformOp {
  std::string_view name;
  std::vector<std::string_view> params;
  std::vector<std::string_view> aliases;
  std::string_view summary;
  bool needs_params = false;  // resample, moving_average, deflate: unusable without parameters
};
std::span<const TransformOp> TransformOps();

// The canonical name of `op` (itself, or what the alias stands for). InvalidArgument
// "unknown transformation 'X' (did you mean 'Y'?)" or listing the names when none is close.
Result<std::string> CanonicalTransformName(std::string_view op);

// Applies one transform. `inputs` holds every series available so far (data and earlier
// transforms; `deflate` reads its `by` series there). The result is trimmed of leading and
// trailing missing values; missing values inside stay missing. InvalidArgument starting
// "transform 'NAME' (OP of INPUT): " for unknown inputs or ops, bad parameters, log of
// non-positive values, percent changes from zero, mismatched frequencies, too few values.
Result<TimeSeries> ApplyTransform(const TransformSpec& t, const std::map<std::string, TimeSeries>& inputs);

// One series transformed by `op` ("none" or "" returns it trimmed). Errors as ApplyTransform,
// the series named by `key`. `deflate` needs ApplyTransform (two series).
Result<TimeSeries> TransformSeries(const TimeSeries& x, std::string_view op, const std::string& key,
                                   const Json& params = Json::object());

// The recorded form of a list of transforms (a model package's manifest, the pipeline's step
// hashes): [{"name","op","input","params"}, ...]. Changing it changes content hashes.
Json TransformsToJson(const std::vector<TransformSpec>& transforms);
// The inverse. InvalidArgument "malformed transform in the package: ..." for anything else
// than a list of such objects (null is an empty list).
Result<std::vector<TransformSpec>> TransformsFromJson(const Json& transforms);

// The operation recorded transforms derive a model's variables with, as a multivariate model's
// package records it (`almanac var --register --transform OP`: one spec per variable, all with
// OP): the canonical name of the last spec's op, "none" when there are none. Errors as
// TransformsFromJson and CanonicalTransformName (for any spec's op).
Result<std::string> RecordedSeriesTransform(const Json& transforms);

// Applies recorded transforms (TransformsToJson form) in order and returns every series:
// the inputs and the derived ones. Errors as TransformsFromJson and ApplyTransform.
Result<std::map<std::string, TimeSeries>> ApplyRecordedTransforms(const Json& transforms,
                                                                  std::map<std::string, TimeSeries> series);

// ------------------------------------------------------------------- a package's target

// What a model package records about its target: a series key, or the name of one of its
// recorded `transforms` applied to the `inputs` series (its training snapshot's series).
struct TargetRecipe {
  std::string target;
  Json transforms = Json::array();   // TransformsToJson form; empty or null: no transforms
  std::vector<std::string> inputs;   // series keys; may be empty without transforms
  bool has_transforms() const { return !transforms.empty(); }  // null, [] and {} are none
};

// The target derived from given input series (trimmed). FailedPrecondition "the package's
// target T cannot be derived from its inputs" when neither an input nor a transform gives it;
// errors of the transforms as ApplyRecordedTransforms.
Result<TimeSeries> DeriveTarget(const TargetRecipe& recipe, std::map<std::string, TimeSeries> inputs);

struct TargetAsOfResult {
  TimeSeries target;                           // trimmed
  std::map<std::string, TimeSeries> inputs;    // every series read, as read
};
// Reads the recipe's inputs (and the target itself when it has no transforms) as known on
// `as_of` (nullopt: everything loaded) and derives the target. Errors of the reads (NotFound
// for an unknown series) carry the context "as of DATE"; then as DeriveTarget.
Result<TargetAsOfResult> TargetAsOf(store::SeriesStore& store, const TargetRecipe& recipe, std::optional<Date> as_of);

}  // namespace almanac::data
