// The Open Inference Protocol (KServe V2), REST, as an adapter over the forecast path
// (docs/interop.md): GET /v2 (server metadata), /v2/health/live, /v2/health/ready,
// /v2/models/{name}[/versions/{version}] (model metadata with tensor metadata), .../ready,
// and POST .../infer, which answers exactly what POST /v1/forecast answers for the same
// model, version, horizon, levels and as_of (HttpApi::ServeForecast: one cache, one set of
// metrics and accuracy records), as FP64 output tensors.
//
// Inputs of infer: horizon (INT32 or INT64, shape [1]), optional as_of (BYTES, shape [1],
// "YYYY-MM-DD") and levels (FP64 or FP32, shape [k], 1 <= k <= 10). Outputs: mean, lower_L
// and upper_L for each level L (default: the package's levels, usually 80 and 95), periods
// (BYTES). No version in the path: the served production version. The request's id is
// echoed and its parameters are passed back; errors are {"error": "..."} (HttpApi::Error,
// chosen by the routes' ErrorFormat::kV2) with the statuses of HttpStatusFor.
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>

#include "almanac/version.h"

#include "serve/api_common.h"
#include "serve/json_out.h"

namespace almanac::serve {
namespace {
namespace oip {

constexpr size_t kMaxElements = 64;  // elements of one input tensor (levels has at most 10)

// The datatypes of the protocol's tensor data types table.
const std::set<std::string, std::less<>>& Datatypes() {
  static const std::set<std::string, std::less<>> kTypes = {"BOOL",   "UINT8", "UINT16", "UINT32", "UINT64",
                                                            "INT8",   "INT16", "INT32",  "INT64",  "FP16",
                                                            "FP32",   "FP64",  "BYTES"};
  return kTypes;
}

std::string LevelName(double level) {
  std::string s;
  json_out::Number(s, level);
  return s;
}

// One input tensor, its data flattened row-major.
struct Tensor {
  std::string name;
  std::string datatype;
  std::vector<int64_t> shape;
  std::vector<const Json*> data;
};

// Flattens nested arrays (the protocol allows the data as nested arrays in row-major order).
Status Flatten(const Json& data, const std::string& name, std::vector<const Json*>* out, int depth = 0) {
  if (depth > 8) return InvalidArgumentError("input " + QuoteForMessage(name) + ": data is nested too deeply");
  for (const Json& e : data) {
    if (e.is_array()) {
      ALMANAC_RETURN_IF_ERROR(Flatten(e, name, out, depth + 1));
    } else {
      if (out->size() >= kMaxElements)
        return InvalidArgumentError("input " + QuoteForMessage(name) + " has more than " +
                                    std::to_string(kMaxElements) + " elements");
      out->push_back(&e);
    }
  }
  return Status::Ok();
}

// $parameters: an object whose values are strings, numbers or booleans.
Status CheckParameters(const Json& p, const std::string& where) {
  if (!p.is_object()) return InvalidArgumentError(where + " must be an object");
  for (auto it = p.begin(); it != p.end(); ++it)
    if (!it.value().is_string() && !it.value().is_number() && !it.value().is_boolean())
      return InvalidArgumentError(where + "." + it.key() + " must be a string, a number or a boolean");
  return Status::Ok();
}

// binary_data / binary_data_output (the optional binary tensor data extension) is not
// supported: refused rather than ignored, so a client does not wait for binary output.
Status RefuseBinary(const Json& p, const std::string& where) {
  for (const char* k : {"binary_data", "binary_data_output"})
    if (p.contains(k) && p[k].is_boolean() && p[k].get<bool>())
      return InvalidArgumentError(where + "." + k +
                                  ": the binary tensor data extension is not supported; send JSON tensor data");
  return Status::Ok();
}

Status CheckKeys(const Json& o, const std::vector<std::string>& allowed, const std::string& where) {
  for (auto it = o.begin(); it != o.end(); ++it)
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return InvalidArgumentError("unknown field " + QuoteForMessage(where + "." + it.key()) +
                                  Hint(it.key(), allowed) + " (fields: " + list + ")");
    }
  return Status::Ok();
}

Result<Tensor> ParseInput(const Json& in, size_t index) {
  const std::string where = "inputs[" + std::to_string(index) + "]";
  if (!in.is_object()) return InvalidArgumentError(where + " must be an object {name, shape, datatype, data}");
  ALMANAC_RETURN_IF_ERROR(CheckKeys(in, {"name", "shape", "datatype", "parameters", "data"}, where));
  Tensor t;
  if (!in.contains("name") || !in["name"].is_string()) return InvalidArgumentError(where + ".name must be a string");
  t.name = in["name"].get<std::string>();
  const std::string label = "input " + QuoteForMessage(t.name);
  if (!in.contains("datatype") || !in["datatype"].is_string())
    return InvalidArgumentError(label + ": datatype must be a string");
  t.datatype = in["datatype"].get<std::string>();
  if (Datatypes().count(t.datatype) == 0)
    return InvalidArgumentError(label + ": unknown datatype " + QuoteForMessage(t.datatype));
  if (!in.contains("shape") || !in["shape"].is_array())
    return InvalidArgumentError(label + ": shape must be an array of non-negative integers");
  int64_t elements = 1;
  for (const Json& d : in["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > static_cast<int64_t>(kMaxElements))
      return InvalidArgumentError(label + ": shape must be an array of non-negative integers (at most " +
                                  std::to_string(kMaxElements) + " each)");
    t.shape.push_back(d.get<int64_t>());
    elements *= t.shape.back();
    if (elements > static_cast<int64_t>(kMaxElements))
      return InvalidArgumentError(label + " has more than " + std::to_string(kMaxElements) + " elements");
  }
  if (in.contains("parameters")) {
    ALMANAC_RETURN_IF_ERROR(CheckParameters(in["parameters"], where + ".parameters"));
    ALMANAC_RETURN_IF_ERROR(RefuseBinary(in["parameters"], where + ".parameters"));
  }
  if (!in.contains("data")) return InvalidArgumentError(label + ": missing field 'data'");
  const Json& data = in["data"];
  if (!data.is_array()) return InvalidArgumentError(label + ": data must be an array");
  ALMANAC_RETURN_IF_ERROR(Flatten(data, t.name, &t.data));
  if (static_cast<int64_t>(t.data.size()) != elements)
    return InvalidArgumentError(label + ": the shape says " + std::to_string(elements) + " elements, data has " +
                                std::to_string(t.data.size()));
  return t;
}

// A shape of exactly [n].
Status WantShape(const Tensor& t, int64_t n) {
  if (t.shape.size() == 1 && t.shape[0] == n) return Status::Ok();
  std::string got = "[";
  for (size_t i = 0; i < t.shape.size(); ++i) got += (i ? "," : "") + std::to_string(t.shape[i]);
  return InvalidArgumentError("input " + QuoteForMessage(t.name) + " must have shape [" + std::to_string(n) +
                              "], got " + got + "]");
}

Status WantDatatype(const Tensor& t, std::initializer_list<std::string_view> types) {
  std::string list;
  for (std::string_view d : types) {
    if (t.datatype == d) return Status::Ok();
    list += (list.empty() ? "" : " or ") + std::string(d);
  }
  return InvalidArgumentError("input " + QuoteForMessage(t.name) + " must be " + list + ", got " + t.datatype);
}

// What an infer request asks for.
struct InferRequest {
  std::optional<std::string> id;
  std::optional<Json> parameters;
  int horizon = 0;
  std::optional<Date> as_of;
  std::optional<std::vector<double>> levels;
  std::vector<std::string> outputs;  // requested by name; empty: all
};

const std::vector<std::string>& InputNames() {
  static const std::vector<std::string> kNames = {"horizon", "as_of", "levels"};
  return kNames;
}

Result<InferRequest> ParseInfer(std::string_view body, const Clock& clock) {
  ALMANAC_ASSIGN_OR_RETURN(api::Fields f, api::Fields::Parse(body, {"id", "parameters", "inputs", "outputs"}, false));
  InferRequest r;
  if (f.Has("id")) {
    ALMANAC_ASSIGN_OR_RETURN(r.id, f.String("id"));
  }
  if (f.Has("parameters")) {
    ALMANAC_RETURN_IF_ERROR(CheckParameters(f.Raw("parameters"), "parameters"));
    ALMANAC_RETURN_IF_ERROR(RefuseBinary(f.Raw("parameters"), "parameters"));
    r.parameters = f.Raw("parameters");
  }
  if (!f.Has("inputs") || !f.Raw("inputs").is_array())
    return InvalidArgumentError("missing field 'inputs' (an array of input tensors; 'horizon' is required)");
  std::map<std::string, Tensor> inputs;
  size_t index = 0;
  for (const Json& in : f.Raw("inputs")) {
    ALMANAC_ASSIGN_OR_RETURN(Tensor t, ParseInput(in, index++));
    if (std::find(InputNames().begin(), InputNames().end(), t.name) == InputNames().end())
      return InvalidArgumentError("unknown input " + QuoteForMessage(t.name) + Hint(t.name, InputNames()) +
                                  " (inputs: horizon, as_of, levels)");
    std::string name = t.name;
    if (!inputs.emplace(std::move(name), std::move(t)).second)
      return InvalidArgumentError("input " + QuoteForMessage(in["name"].get<std::string>()) + " is given twice");
  }
  auto h = inputs.find("horizon");
  if (h == inputs.end()) return InvalidArgumentError("missing input 'horizon' (INT32, shape [1])");
  ALMANAC_RETURN_IF_ERROR(WantDatatype(h->second, {"INT32", "INT64"}));
  ALMANAC_RETURN_IF_ERROR(WantShape(h->second, 1));
  const Json& hv = *h->second.data[0];
  if (!hv.is_number_integer() || (hv.is_number_unsigned() && hv.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)))
    return InvalidArgumentError("input 'horizon' must hold an integer");
  const int64_t horizon = hv.get<int64_t>();
  if (h->second.datatype == "INT32" && (horizon < INT32_MIN || horizon > INT32_MAX))
    return InvalidArgumentError("input 'horizon': " + std::to_string(horizon) + " is not an INT32 value");
  ALMANAC_ASSIGN_OR_RETURN(r.horizon, api::CheckHorizon(horizon));
  if (auto a = inputs.find("as_of"); a != inputs.end()) {
    ALMANAC_RETURN_IF_ERROR(WantDatatype(a->second, {"BYTES"}));
    ALMANAC_RETURN_IF_ERROR(WantShape(a->second, 1));
    if (!a->second.data[0]->is_string())
      return InvalidArgumentError("input 'as_of' must hold a date as a string, e.g. \"2010-02-01\"");
    ALMANAC_ASSIGN_OR_RETURN(r.as_of, api::ParseAsOf(a->second.data[0]->get<std::string>(), clock));
  }
  if (auto l = inputs.find("levels"); l != inputs.end()) {
    ALMANAC_RETURN_IF_ERROR(WantDatatype(l->second, {"FP64", "FP32"}));
    if (l->second.shape.size() != 1 || l->second.shape[0] < 1 || l->second.shape[0] > static_cast<int64_t>(api::kMaxLevels))
      return InvalidArgumentError("input 'levels' must have shape [k] with k in 1.." + std::to_string(api::kMaxLevels));
    std::vector<double> levels;
    for (const Json* v : l->second.data) {
      if (!v->is_number()) return InvalidArgumentError("input 'levels' must hold numbers");
      const double x = v->get<double>();
      ALMANAC_RETURN_IF_ERROR(api::CheckLevel(x));
      if (std::find(levels.begin(), levels.end(), x) != levels.end())
        return InvalidArgumentError("input 'levels' names level " + LevelName(x) + " twice");
      levels.push_back(x);
    }
    r.levels = std::move(levels);
  }
  if (f.Has("outputs")) {
    const Json& outs = f.Raw("outputs");
    if (!outs.is_array()) return InvalidArgumentError("field 'outputs' must be an array of {name, parameters}");
    for (size_t i = 0; i < outs.size(); ++i) {
      const std::string where = "outputs[" + std::to_string(i) + "]";
      const Json& o = outs[i];
      if (!o.is_object()) return InvalidArgumentError(where + " must be an object {name, parameters}");
      ALMANAC_RETURN_IF_ERROR(CheckKeys(o, {"name", "parameters"}, where));
      if (!o.contains("name") || !o["name"].is_string()) return InvalidArgumentError(where + ".name must be a string");
      if (o.contains("parameters")) {
        ALMANAC_RETURN_IF_ERROR(CheckParameters(o["parameters"], where + ".parameters"));
        ALMANAC_RETURN_IF_ERROR(RefuseBinary(o["parameters"], where + ".parameters"));
      }
      std::string name = o["name"].get<std::string>();
      if (std::find(r.outputs.begin(), r.outputs.end(), name) != r.outputs.end())
        return InvalidArgumentError("output " + QuoteForMessage(name) + " is requested twice");
      r.outputs.push_back(std::move(name));
    }
  }
  return r;
}

// The output tensors for `levels`: mean, lower_L and upper_L per level, periods.
std::vector<std::string> OutputNames(const std::vector<double>& levels) {
  std::vector<std::string> out = {"mean"};
  for (double l : levels) {
    out.push_back("lower_" + LevelName(l));
    out.push_back("upper_" + LevelName(l));
  }
  out.push_back("periods");
  return out;
}

void AppendTensorHead(std::string& out, std::string_view name, std::string_view datatype, int horizon) {
  out += "{\"name\":";
  json_out::String(out, name);
  out += ",\"datatype\":\"";
  out += datatype;
  out += "\",\"shape\":[";
  json_out::Int(out, horizon);
  out += "],\"data\":[";
}

void AppendFp64(std::string& out, std::string_view name, const std::vector<double>& v) {
  AppendTensorHead(out, name, "FP64", static_cast<int>(v.size()));
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    json_out::Number(out, v[i]);
  }
  out += "]}";
}

// The cacheable part of an infer response: {"model_name", "model_version", "outputs": [...]
// (no closing brace: the id and parameters of the request follow). `outputs` are valid names.
std::string RenderOutputs(const ForecastParts& p, const std::vector<double>& levels,
                          const std::vector<std::string>& outputs) {
  const models::Forecast& fc = p.forecast;
  std::string out;
  out.reserve(128 + static_cast<size_t>(p.horizon) * (24 + fc.intervals.size() * 48 + 12));
  out += "{\"model_name\":";
  json_out::String(out, p.version.model);
  out += ",\"model_version\":\"";
  json_out::Int(out, p.version.version);
  out += "\",\"outputs\":[";
  bool first = true;
  for (const std::string& name : outputs) {
    if (!first) out += ',';
    first = false;
    if (name == "mean") {
      AppendFp64(out, name, fc.mean);
    } else if (name == "periods") {
      AppendTensorHead(out, name, "BYTES", p.horizon);
      for (int i = 0; i < p.horizon; ++i) {
        if (i) out += ',';
        json_out::String(out, (p.first + i).ToString());
      }
      out += "]}";
    } else {
      // lower_L / upper_L: the interval of level L (the forecast's intervals follow `levels`).
      const bool lower = name.compare(0, 6, "lower_") == 0;
      const std::string level = name.substr(6);
      for (size_t i = 0; i < levels.size() && i < fc.intervals.size(); ++i)
        if (LevelName(levels[i]) == level) {
          AppendFp64(out, name, lower ? fc.intervals[i].lower : fc.intervals[i].upper);
          break;
        }
    }
  }
  out += ']';
  return out;
}

Json TensorMeta(const std::string& name, const std::string& datatype, int64_t dim) {
  return {{"name", name}, {"datatype", datatype}, {"shape", Json::array({dim})}};
}

}  // namespace oip
}  // namespace

Result<HttpResponse> HttpApi::V2Server(ApiCall& call) const {
  (void)call;
  HttpResponse res;
  res.body = "{\"name\":\"almanac\",\"version\":";
  json_out::String(res.body, ALMANAC_VERSION);
  res.body += ",\"extensions\":[]}";
  return res;
}

Result<HttpResponse> HttpApi::V2Live(ApiCall& call) const {
  (void)call;
  HttpResponse res;
  res.body = "{\"live\":true}";
  return res;
}

// Ready as /readyz is (the store reachable, every version the policy wants loaded); not
// ready is a 4xx, as the protocol's health API says (400, with the reason).
Result<HttpResponse> HttpApi::V2Ready(ApiCall& call) const {
  auto [store_ok, store_error] = ctx_.store_status ? ctx_.store_status() : std::make_pair(true, std::string());
  if (store_ok && ctx_.manager->Ready()) {
    HttpResponse res;
    res.body = "{\"ready\":true}";
    return res;
  }
  HttpResponse res = Error(UnavailableError(!store_ok ? "not ready: the store is unreachable: " + store_error
                                                      : "not ready: a version the policy selects is not loaded"),
                           call.req.request_id, false, ErrorFormat::kV2);
  res.status = 400;
  return res;
}

namespace {
// The version a V2 model route names: the one in the path, else the served production one.
Result<VersionRef> V2VersionRef(const ApiCall& call) {
  ALMANAC_RETURN_IF_ERROR(ValidateName(call.params[0], "model name"));
  VersionRef ref;
  if (call.params.size() > 1) {
    ALMANAC_ASSIGN_OR_RETURN(ref.version, api::VersionParam(call.params[1]));
  }
  return ref;
}
}  // namespace

Result<HttpResponse> HttpApi::V2Model(ApiCall& call) const {
  ALMANAC_ASSIGN_OR_RETURN(VersionRef ref, V2VersionRef(call));
  ALMANAC_ASSIGN_OR_RETURN(ServableHandle handle, ctx_.manager->Get(call.params[0], ref));
  const LoadedVersion& lv = *handle.version;
  Json versions = Json::array();
  if (ref.version) {
    versions.push_back(std::to_string(lv.version));
  } else {
    const auto loaded = ctx_.manager->Loaded();
    if (auto it = loaded.find(lv.model); it != loaded.end())
      for (const auto& h : it->second) versions.push_back(std::to_string(h.version->version));
  }
  Json outputs = Json::array();
  for (const std::string& name : oip::OutputNames(api::DefaultLevels(lv.manifest.levels)))
    outputs.push_back(oip::TensorMeta(name, name == "periods" ? "BYTES" : "FP64", -1));
  Json j = {{"name", lv.model},
            {"versions", versions},
            {"platform", "almanac_" + lv.manifest.model_type},
            {"inputs", Json::array({oip::TensorMeta("horizon", "INT32", 1), oip::TensorMeta("as_of", "BYTES", 1),
                                    oip::TensorMeta("levels", "FP64", -1)})},
            {"outputs", outputs},
            {"parameters",
             {{"version", std::to_string(lv.version)},
              {"served_as", handle.label},
              {"method", lv.method},
              {"frequency", std::string(FrequencyCode(lv.frequency))},
              {"history_end", lv.manifest.history_end},
              {"snapshot_id", lv.manifest.snapshot_id},
              {"package_sha256", lv.package_sha256}}}};
  HttpResponse res;
  res.body = CompactJson(j);
  return res;
}

Result<HttpResponse> HttpApi::V2ModelReady(ApiCall& call) const {
  ALMANAC_ASSIGN_OR_RETURN(VersionRef ref, V2VersionRef(call));
  const std::string& model = call.params[0];
  auto handle = ctx_.manager->Get(model, ref);
  if (handle.ok()) {
    HttpResponse res;
    res.body = "{\"name\":";
    json_out::String(res.body, model);
    res.body += ",\"version\":\"";
    json_out::Int(res.body, handle->version->version);
    res.body += "\",\"ready\":true}";
    return res;
  }
  if (handle.status().code() != StatusCode::kNotFound) return handle.status();
  // Known to this server but not serving (loading, or failed to load): not ready, a 400 as
  // the protocol's health API says. Unknown: 404.
  for (const auto& s : ctx_.manager->Statuses()) {
    if (s.model != model || (ref.version && s.version != *ref.version) || s.state == ServableState::kDisabled) continue;
    if (!ref.version && std::find(s.labels.begin(), s.labels.end(), "production") == s.labels.end()) continue;
    HttpResponse res = Error(UnavailableError("model " + model + "@" + std::to_string(s.version) + " is not ready: " +
                                              std::string(ServableStateName(s.state)) +
                                              (s.error.empty() ? "" : " (" + s.error + ")")),
                             call.req.request_id, false, ErrorFormat::kV2);
    res.status = 400;
    return res;
  }
  return handle.status();
}

Result<HttpResponse> HttpApi::V2Infer(ApiCall& call) const {
  ALMANAC_ASSIGN_OR_RETURN(VersionRef ref, V2VersionRef(call));
  ALMANAC_ASSIGN_OR_RETURN(oip::InferRequest in, oip::ParseInfer(call.req.body, *ctx_.clock));
  ALMANAC_ASSIGN_OR_RETURN(ServableHandle handle, ctx_.manager->Get(call.params[0], ref));
  const std::vector<double> levels = in.levels ? *in.levels : api::DefaultLevels(handle.version->manifest.levels);
  const std::vector<std::string> all = oip::OutputNames(levels);
  std::string tag = "v2";
  for (const std::string& name : in.outputs) {
    if (std::find(all.begin(), all.end(), name) == all.end()) {
      std::string list;
      for (const auto& a : all) list += (list.empty() ? "" : ", ") + a;
      return InvalidArgumentError("unknown output " + QuoteForMessage(name) + Hint(name, all) + " (outputs: " + list +
                                  "; intervals follow the levels asked for)");
    }
    tag += '\x1f';
    tag += name;
  }
  const std::vector<std::string>& outputs = in.outputs.empty() ? all : in.outputs;
  const ForecastRenderer render = [&levels, &outputs](const ForecastParts& p) -> Result<std::string> {
    return oip::RenderOutputs(p, levels, outputs);
  };
  bool cache_hit = false;
  ALMANAC_ASSIGN_OR_RETURN(auto rendered,
                           ServeForecast(call, handle, in.horizon, levels, in.as_of, tag, render, &cache_hit));
  if (rendered == nullptr) return HttpResponse();  // call.needs_worker
  HttpResponse res;
  res.cache_hit = cache_hit;
  res.body.reserve(rendered->size() + 64);
  res.body = *rendered;
  if (in.id) {
    res.body += ",\"id\":";
    json_out::String(res.body, *in.id);
  }
  if (in.parameters) {
    res.body += ",\"parameters\":";
    res.body += CompactJson(*in.parameters);
  }
  res.body += '}';
  return res;
}

}  // namespace almanac::serve
