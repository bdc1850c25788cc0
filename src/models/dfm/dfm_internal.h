// Internals of the dynamic factor model shared by dfm.cc and news.cc (models-internal).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "almanac/models/nowcast.h"
#include "models/dfm/kalman.h"

namespace almanac::models::dfm {

// Mariano-Murasawa weights of a quarterly series on the monthly latent series, lags 0..4.
inline constexpr double kTent[5] = {1, 2, 3, 2, 1};

// Where everything sits in the state vector (statsmodels' order): factor blocks (each lag-major,
// max(order, 5) lags when there are quarterly series), then one idiosyncratic AR(1) state per
// monthly variable, then five lags of the idiosyncratic state of each quarterly variable.
struct Layout {
  struct Block {
    std::string name;
    int k = 1, p = 1, lags = 1, offset = 0;
    std::vector<int> factors;  // global factor indices
  };
  int num_vars = 0, num_factors = 0, num_states = 0;
  std::vector<bool> quarterly;
  std::vector<Block> blocks;
  std::vector<int> factor_block, factor_pos;
  std::vector<std::string> factor_names;
  std::vector<std::vector<int>> var_factors;  // factors each variable loads on
  std::vector<int> idio_state;                // first (lag-0) idiosyncratic state of each variable

  int FactorState(int f, int lag) const {
    const Block& b = blocks[static_cast<size_t>(factor_block[static_cast<size_t>(f)])];
    return b.offset + lag * b.k + factor_pos[static_cast<size_t>(f)];
  }
};

struct Params {
  Eigen::MatrixXd loadings;                   // vars x factors
  std::vector<Eigen::MatrixXd> factor_ar;     // per block k x kp
  std::vector<Eigen::MatrixXd> factor_cov;    // per block k x k
  Eigen::VectorXd idio_ar, idio_var;
};

StateSpace BuildStateSpace(const Layout& layout, const Params& params, const Eigen::VectorXd& a0,
                           const Eigen::MatrixXd& P0);

}  // namespace almanac::models::dfm

namespace almanac::models {

struct DynamicFactorModel::Impl {
  DfmOptions options;
  std::vector<std::string> names;
  dfm::Layout layout;
  dfm::Params params;
  DfmParameters public_params;
  std::vector<double> means, stds;
  Period start{Frequency::kMonthly, 0};
  Eigen::VectorXd a0;
  Eigen::MatrixXd P0;
  DfmFitReport report;

  // Standardized k x n matrix of `data` padded with NaN to at least `min_months` months.
  Result<Eigen::MatrixXd> Prepare(const MixedFrequencyData& data, int64_t min_months) const;
  dfm::StateSpace System() const { return dfm::BuildStateSpace(layout, params, a0, P0); }
};

namespace dfm {
// The variable index and the month index of `target` (a quarter's last month for quarterly
// variables). NotFound for an unknown variable, InvalidArgument for a target of the wrong
// frequency, before the start or more than 100 years ahead.
Result<std::pair<int, int64_t>> TargetIndex(const DynamicFactorModel::Impl& impl, std::string_view variable,
                                           Period target);
// Layout, validation and parameter conversions (dfm.cc), for serialization.
Result<Layout> MakeLayout(const std::vector<std::string>& names, const std::vector<bool>& quarterly,
                          const DfmOptions& options);
Status CheckPublic(const Layout& layout, const DfmParameters& params);
Params FromPublic(const Layout& layout, const DfmParameters& params);
DfmParameters ToPublic(const Layout& layout, const std::vector<std::string>& names, const Params& params);
Status ValidateData(const MixedFrequencyData& data);
}  // namespace dfm

}  // namespace almanac::models
