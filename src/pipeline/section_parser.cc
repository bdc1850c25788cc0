// The shared section-parsing helpers (moved out of risk_step.cc for the `simulate` step).
#include "pipeline/section_parser.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace almanac::pipeline {

Status SectionParser::Error(const YAML::Node& node, const std::string& key, const std::string& msg) const {
  std::string where = file_;
  if (node.IsDefined() && node.Mark().line >= 0) where += ":" + std::to_string(node.Mark().line + 1);
  return InvalidArgumentError(where + ": " + key + ": " + msg);
}

Status SectionParser::Keys(const YAML::Node& map, const std::string& path, const std::vector<std::string>& known) const {
  if (!map.IsMap()) return Error(map, path, "expected a mapping");
  for (const auto& kv : map) {
    const std::string k = kv.first.as<std::string>("");
    if (std::find(known.begin(), known.end(), k) != known.end()) continue;
    std::string msg = "unknown key '" + k + "'";
    const std::string hint = DidYouMean(k, known);
    if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
    return Error(kv.first, path + "." + k, msg);
  }
  return Status::Ok();
}

Result<std::string> SectionParser::Text(const YAML::Node& n, const std::string& key) const {
  if (!n.IsScalar()) return Error(n, key, "expected a text value");
  const std::string s = n.as<std::string>();
  if (s.empty()) return Error(n, key, "must not be empty");
  return s;
}

// A file name relative to the pipeline file's folder: no absolute path, no '..'.
Result<std::string> SectionParser::FileName(const YAML::Node& n, const std::string& key) const {
  ALMANAC_ASSIGN_OR_RETURN(std::string s, Text(n, key));
  if (s.find('\0') != std::string::npos || s.find('\\') != std::string::npos)
    return Error(n, key, "file name " + QuoteForMessage(s) + " has a backslash or NUL");
  const std::filesystem::path p(s);
  if (p.is_absolute() || s[0] == '/' || s[0] == '~')
    return Error(n, key, "file " + QuoteForMessage(s) + " must be relative to the pipeline file's folder");
  for (const auto& part : p)
    if (part == "..")
      return Error(n, key, "file " + QuoteForMessage(s) + " must not leave the pipeline file's folder ('..')");
  return s;
}

Result<int64_t> SectionParser::Int(const YAML::Node& n, const std::string& key, int64_t lo, int64_t hi) const {
  if (!n.IsScalar()) return Error(n, key, "expected an integer");
  auto v = ParseInt(n.as<std::string>());
  if (!v.ok()) return Error(n, key, "expected an integer, got '" + n.as<std::string>() + "'");
  if (*v < lo || *v > hi) return Error(n, key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return *v;
}

Result<double> SectionParser::Number(const YAML::Node& n, const std::string& key, double lo, double hi, bool open) const {
  if (!n.IsScalar()) return Error(n, key, "expected a number");
  auto v = ParseFiniteDouble(n.as<std::string>());
  if (!v.ok()) return Error(n, key, v.status().message());
  const bool inside = open ? (*v > lo && *v < hi) : (*v >= lo && *v <= hi);
  if (!inside)
    return Error(n, key, "must be in " + std::string(open ? "(" : "[") + FormatDouble(lo) + ", " + FormatDouble(hi) +
                             (open ? ")" : "]") + ", got " + n.as<std::string>());
  return *v;
}

Result<bool> SectionParser::Bool(const YAML::Node& n, const std::string& key) const {
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) return Error(n, key, "expected true or false");
  return v;
}

// A data series or transform of the pipeline.
Status SectionParser::Known(const YAML::Node& n, const std::string& key, const std::string& name) const {
  if (available_.count(name)) return Status::Ok();
  std::vector<std::string> names(available_.begin(), available_.end());
  std::string msg = "'" + name + "' is neither a data series nor a transform of this pipeline";
  const std::string hint = DidYouMean(name, names);
  if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
  return Error(n, key, msg);
}

Result<std::vector<std::string>> SectionParser::Names(const YAML::Node& n, const std::string& key, bool must_be_known) const {
  if (!n.IsSequence() || n.size() == 0) return Error(n, key, "expected a list of names");
  std::vector<std::string> out;
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string k = key + "[" + std::to_string(i) + "]";
    ALMANAC_ASSIGN_OR_RETURN(std::string s, Text(n[i], k));
    if (std::find(out.begin(), out.end(), s) != out.end()) return Error(n[i], k, "'" + s + "' is listed twice");
    if (must_be_known) ALMANAC_RETURN_IF_ERROR(Known(n[i], k, s));
    out.push_back(std::move(s));
  }
  return out;
}

// YAML params as JSON: numbers, booleans and text (what the model parameters take).
Result<Json> SectionParser::Params(const YAML::Node& n, const std::string& key) const {
  if (!n.IsMap()) return Error(n, key, "expected a mapping of parameters");
  Json o = Json::object();
  for (const auto& kv : n) {
    const std::string k = kv.first.as<std::string>("");
    const YAML::Node& v = kv.second;
    if (!v.IsScalar()) return Error(v, key + "." + k, "expected a number, true/false or a text value");
    const std::string s = v.as<std::string>();
    bool b = false;
    if (v.Tag() == "!") o[k] = s;
    else if (auto i = ParseInt(s); i.ok()) o[k] = *i;
    else if (auto d = ParseFiniteDouble(s); d.ok()) o[k] = *d;
    else if (ToLower(s).find("nan") != std::string::npos || ToLower(s).find("inf") != std::string::npos)
      return Error(v, key + "." + k, "NaN and infinities are not allowed");
    else if (YAML::convert<bool>::decode(v, b)) o[k] = b;
    else o[k] = s;
  }
  return o;
}

namespace {

Result<std::string> ReadSectionFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path.string());
  std::stringstream s;
  s << in.rdbuf();
  if (in.bad()) return NotFoundError("cannot read " + path.string());
  return s.str();
}

}  // namespace

Result<std::string> ReadSectionInputFile(const PipelineSpec& spec, const RunOptions& options, const std::string& label,
                                         const std::string& key, const std::string& name) {
  if (auto it = options.recorded_inputs.find(label); it != options.recorded_inputs.end()) return it->second;
  if (!options.reproduces.empty())
    return FailedPreconditionError(key + ": run " + options.reproduces + " did not store its file '" + name + "' (" +
                                   label + ")");
  // The parser refused absolute names and '..'; a symbolic link must not lead out either.
  const std::filesystem::path dir = std::filesystem::path(spec.file).parent_path();
  std::error_code e1, e2;
  const std::filesystem::path base = std::filesystem::weakly_canonical(dir.empty() ? "." : dir, e1);
  const std::filesystem::path target = std::filesystem::weakly_canonical(dir / name, e2);
  if (e1 || e2) return NotFoundError(key + ": cannot resolve " + (dir / name).string());
  const auto rel = target.lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..")
    return InvalidArgumentError(key + ": file '" + name + "' resolves to " + target.string() +
                                ", outside the pipeline file's folder " + base.string());
  auto bytes = ReadSectionFileBytes(dir / name);
  if (!bytes.ok()) return bytes.status().WithContext(key);
  return bytes;
}

}  // namespace almanac::pipeline
