// The version policy: which versions a server keeps loaded. Pure functions over the
// registry's state, so every rule is a row in a table test (policy_test.cc).
#include <algorithm>

#include "almanac/serve.h"

namespace almanac::serve {

Result<VersionPolicy> ParseVersionPolicy(std::string_view text) {
  VersionPolicy p;
  p.production = false;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string_view item =
        Trim(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (item.empty()) return InvalidArgumentError("--policy: empty item in " + QuoteForMessage(text));
    if (item == "production") {
      p.production = true;
    } else if (item == "staging") {
      p.staging = true;
    } else if (const size_t at = item.find('@'); at != std::string_view::npos) {
      const std::string model(item.substr(0, at));
      ALMANAC_RETURN_IF_ERROR(ValidateName(model, "model").WithContext("--policy"));
      auto v = ParseInt(item.substr(at + 1));
      if (!v.ok() || *v < 1)
        return InvalidArgumentError("--policy: " + QuoteForMessage(item) + " must pin a positive version (MODEL@VERSION)");
      p.pinned.emplace_back(model, *v);
    } else {
      return InvalidArgumentError("--policy: unknown item " + QuoteForMessage(item) +
                                  " (use production, staging or MODEL@VERSION, comma-separated)");
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::sort(p.pinned.begin(), p.pinned.end());
  p.pinned.erase(std::unique(p.pinned.begin(), p.pinned.end()), p.pinned.end());
  return p;
}

std::string FormatVersionPolicy(const VersionPolicy& p) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : ",") + s; };
  if (p.production) add("production");
  if (p.staging) add("staging");
  for (const auto& [m, v] : p.pinned) add(m + "@" + std::to_string(v));
  return out;
}

std::vector<AspiredVersion> AspiredVersions(const VersionPolicy& policy, const std::vector<RegistryVersion>& registry) {
  std::map<std::pair<std::string, int64_t>, AspiredVersion> out;
  auto want = [&](const RegistryVersion& v, const std::string& label) {
    AspiredVersion& a = out[{v.model, v.version}];
    a.model = v.model;
    a.version = v.version;
    a.artifact_name = v.artifact_name;
    a.artifact_sha256 = v.artifact_sha256;
    a.labels.push_back(label);
  };
  // The latest entrant of each stage per model (the registry keeps one production version;
  // staging may hold several, of which the last promoted is "the" staging version).
  std::map<std::pair<std::string, store::Stage>, const RegistryVersion*> stage_head;
  for (const auto& v : registry) {
    if (v.stage != store::Stage::kProduction && v.stage != store::Stage::kStaging) continue;
    const RegistryVersion*& head = stage_head[{v.model, v.stage}];
    if (head == nullptr || v.stage_changed_at > head->stage_changed_at ||
        (v.stage_changed_at == head->stage_changed_at && v.version > head->version))
      head = &v;
  }
  for (const auto& [key, v] : stage_head) {
    if (key.second == store::Stage::kProduction && policy.production) want(*v, "production");
    if (key.second == store::Stage::kStaging && policy.staging) want(*v, "staging");
  }
  for (const auto& [model, version] : policy.pinned)
    for (const auto& v : registry)
      if (v.model == model && v.version == version) want(v, "pinned");
  std::vector<AspiredVersion> list;
  for (auto& [k, a] : out) {
    std::sort(a.labels.begin(), a.labels.end());
    list.push_back(std::move(a));
  }
  return list;
}

Result<std::vector<RegistryVersion>> ReadRegistryState(store::MetadataStore& metadata) {
  return metadata.Transact<std::vector<RegistryVersion>>([](store::MetadataTxn& t) -> Result<std::vector<RegistryVersion>> {
    std::vector<RegistryVersion> out;
    ALMANAC_ASSIGN_OR_RETURN(auto models, t.ListModels());
    for (const auto& m : models) {
      ALMANAC_ASSIGN_OR_RETURN(auto versions, t.ListVersions(m.name));
      for (const auto& v : versions)
        out.push_back({v.model, v.version, v.stage, v.stage_changed_at, v.artifact_name, v.artifact_sha256});
    }
    return out;
  });
}

}  // namespace almanac::serve
