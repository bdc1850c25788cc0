// MLflow's search filter and order_by grammar (serve-internal), written from MLflow's REST API
// and search documentation: clauses joined by AND, each `identifier comparator value`.
//
//   metrics.rmse < 1 and params.model = 'ets' and tags.x != 'y' and attributes.status = 'FINISHED'
//
// An identifier is `kind.key` (metrics/metric, params/param/parameters, tags/tag,
// attributes/attribute/attr/run) or a bare attribute name; a key may be quoted with backticks
// or double quotes (`metrics."my metric"`). Comparators: = != < <= > >= for numbers (metrics,
// time attributes); = != LIKE ILIKE for strings, IN / NOT IN ('a', 'b') for attributes. Strings
// are single- or double-quoted. OR is not part of the grammar (as in MLflow).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"

namespace almanac::serve::mlflow {

enum class FilterKind { kMetric, kParam, kTag, kAttribute };

struct FilterClause {
  FilterKind kind = FilterKind::kAttribute;
  std::string key;         // attribute keys are canonical: status, run_name, start_time, ...
  std::string op;          // "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN"
  bool numeric = false;    // the value is a number (metrics and time attributes)
  double number = 0;
  std::vector<std::string> strings;  // one value, or the list of IN / NOT IN
};

// What a filter may name: the attributes of runs or of experiments / registered models.
enum class FilterTarget { kRuns, kExperiments, kModels, kModelVersions };

// InvalidArgument with the position and what was expected for anything malformed.
Result<std::vector<FilterClause>> ParseFilter(std::string_view text, FilterTarget target);

struct OrderKey {
  FilterKind kind = FilterKind::kAttribute;
  std::string key;
  bool ascending = true;
};
// One order_by entry: `identifier [ASC|DESC]`. InvalidArgument when malformed.
Result<OrderKey> ParseOrderBy(std::string_view text, FilterTarget target);

// SQL LIKE: % any run, _ one character; `ignore_case` for ILIKE.
bool LikeMatch(std::string_view text, std::string_view pattern, bool ignore_case);

// Whether a value satisfies the clause. `value` is absent when the run lacks the key (never
// matches, as in MLflow); numbers compare numerically, strings as text.
bool MatchString(const FilterClause& c, const std::optional<std::string>& value);
bool MatchNumber(const FilterClause& c, std::optional<double> value);

}  // namespace almanac::serve::mlflow
