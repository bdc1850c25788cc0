// Rolling-origin evaluation of one model candidate (pipeline-internal).
#pragma once

#include "almanac/pipeline.h"

namespace almanac::pipeline {

struct CandidateEvaluation {
  Json metrics = Json::object();           // metric -> mean over origins
  Json by_origin = Json::array();          // per origin: {"origin": period, metric: value, ...}
  std::vector<std::string> notes;
};

// Backtests `model` on `y` with the settings of `ev` (levels 80 and 95 for coverage/winkler).
Result<CandidateEvaluation> EvaluateCandidate(const models::ForecasterRegistry& registry, const models::ModelSpec& model,
                                              const TimeSeries& y, const EvaluationSpec& ev, int threads);

}  // namespace almanac::pipeline
