// Deterministic partitioning of series sets (--shard I/N, Kubernetes Indexed Jobs).
#include <cstdlib>

#include "almanac/core/hash.h"
#include "almanac/pipeline.h"

namespace almanac::pipeline {

Result<Shard> ParseShard(std::string_view text) {
  const size_t slash = text.find('/');
  auto bad = [&] {
    return InvalidArgumentError("shard must be I/N with 0 <= I < N (e.g. 0/4), not '" + std::string(text) + "'");
  };
  if (slash == std::string_view::npos) return bad();
  auto index = ParseInt(text.substr(0, slash));
  auto count = ParseInt(text.substr(slash + 1));
  if (!index.ok() || !count.ok() || *count < 1 || *count > 100000 || *index < 0 || *index >= *count) return bad();
  return Shard{static_cast<int>(*index), static_cast<int>(*count)};
}

Result<std::optional<Shard>> ShardFromEnvironment() {
  const char* index = std::getenv("JOB_COMPLETION_INDEX");
  if (index == nullptr || *index == '\0') return std::optional<Shard>();
  const char* count = std::getenv("ALMANAC_SHARD_COUNT");
  if (count == nullptr || *count == '\0')
    return InvalidArgumentError("JOB_COMPLETION_INDEX is set but ALMANAC_SHARD_COUNT is not: set it to the Job's completions");
  auto s = ParseShard(std::string(index) + "/" + count);
  if (!s.ok()) return s.status().WithContext("JOB_COMPLETION_INDEX / ALMANAC_SHARD_COUNT");
  return std::optional<Shard>(*s);
}

int ShardOf(std::string_view key, int count) {
  if (count <= 1) return 0;
  const std::string hex = Sha256Hex(key);
  const uint64_t h = std::strtoull(hex.substr(0, 16).c_str(), nullptr, 16);
  return static_cast<int>(h % static_cast<uint64_t>(count));
}

std::string ShardKey(const PipelineSpec& spec) {
  std::string key;
  for (const auto& s : spec.series) key += (key.empty() ? "" : ",") + s;
  return key.empty() ? spec.name : key;
}

}  // namespace almanac::pipeline
