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
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>

#include "almanac/version.h"

#include "serve/api_common.h"
#include "serve/json_out.h"

namespace almanac::serve {
namespace {
namespace oip {

constexpr size_t kMaxElements = 64;  // elements of one input tensor (levels has at most 10)

// The datatypes of the protocol's tensor data types table.
bool KnownDatatype(std::string_view d) {
  static constexpr std::string_view kTypes[] = {"BOOL",  "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16",
                                                "INT32", "INT64", "FP16",   "FP32",   "FP64",   "BYTES"};
  return std::find(std::begin(kTypes), std::end(kTypes), d) != std::end(kTypes);
}

std::string LevelName(double level) {
  std::string s;
  json_out::Number(s, level);
  return s;
}

// A JSON value of a request as the adapter uses it: a tensor element or a parameter value.
struct Scalar {
  enum class Kind { kInt, kUint, kDouble, kString, kBool, kOther } kind = Kind::kOther;
  int64_t i = 0;
  uint64_t u = 0;  // kUint: above INT64_MAX
  double d = 0;
  bool b = false;
  std::string s;
  bool integer() const { return kind == Kind::kInt || kind == Kind::kUint; }
  bool number() const { return integer() || kind == Kind::kDouble; }
  double as_double() const {
    return kind == Kind::kInt ? static_cast<double>(i) : kind == Kind::kUint ? static_cast<double>(u) : d;
  }
};
// $parameters, by name (rendered back in name order).
using Parameters = std::map<std::string, Scalar, std::less<>>;

// The request as read, before its meaning is checked (Check): the same from both readers.
struct RawTensor {
  std::string name;
  std::string datatype;
  std::vector<int64_t> shape;
  Parameters parameters;
  std::vector<Scalar> data;  // flattened row-major
};
struct RawOutput {
  std::string name;
  Parameters parameters;
};
struct RawRequest {
  std::optional<std::string> id;
  std::optional<Parameters> parameters;
  std::vector<RawTensor> inputs;
  std::vector<RawOutput> outputs;
};

// ---------------------------------------------------------------- the general reader
// Any JSON body, through the DOM, with a message for every way it can be wrong.

Scalar ScalarOf(const Json& v) {
  Scalar s;
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    s.kind = Scalar::Kind::kUint;
    s.u = v.get<uint64_t>();
  } else if (v.is_number_integer()) {
    s.kind = Scalar::Kind::kInt;
    s.i = v.get<int64_t>();
  } else if (v.is_number()) {
    s.kind = Scalar::Kind::kDouble;
    s.d = v.get<double>();
  } else if (v.is_string()) {
    s.kind = Scalar::Kind::kString;
    s.s = v.get<std::string>();
  } else if (v.is_boolean()) {
    s.kind = Scalar::Kind::kBool;
    s.b = v.get<bool>();
  }
  return s;
}

// Flattens nested arrays (the protocol allows the data as nested arrays in row-major order).
Status Flatten(const Json& data, const std::string& name, std::vector<Scalar>* out, int depth = 0) {
  if (depth > 8) return InvalidArgumentError("input " + QuoteForMessage(name) + ": data is nested too deeply");
  for (const Json& e : data) {
    if (e.is_array()) {
      ALMANAC_RETURN_IF_ERROR(Flatten(e, name, out, depth + 1));
    } else {
      if (out->size() >= kMaxElements)
        return InvalidArgumentError("input " + QuoteForMessage(name) + " has more than " +
                                    std::to_string(kMaxElements) + " elements");
      out->push_back(ScalarOf(e));
    }
  }
  return Status::Ok();
}

// $parameters: an object whose values are strings, numbers or booleans.
Result<Parameters> ReadParameters(const Json& p, const std::string& where) {
  if (!p.is_object()) return InvalidArgumentError(where + " must be an object");
  Parameters out;
  for (auto it = p.begin(); it != p.end(); ++it) {
    if (!it.value().is_string() && !it.value().is_number() && !it.value().is_boolean())
      return InvalidArgumentError(where + "." + it.key() + " must be a string, a number or a boolean");
    out[it.key()] = ScalarOf(it.value());
  }
  return out;
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

Result<RawTensor> ReadInput(const Json& in, size_t index) {
  const std::string where = "inputs[" + std::to_string(index) + "]";
  if (!in.is_object()) return InvalidArgumentError(where + " must be an object {name, shape, datatype, data}");
  ALMANAC_RETURN_IF_ERROR(CheckKeys(in, {"name", "shape", "datatype", "parameters", "data"}, where));
  RawTensor t;
  if (!in.contains("name") || !in["name"].is_string()) return InvalidArgumentError(where + ".name must be a string");
  t.name = in["name"].get<std::string>();
  const std::string label = "input " + QuoteForMessage(t.name);
  if (!in.contains("datatype") || !in["datatype"].is_string())
    return InvalidArgumentError(label + ": datatype must be a string");
  t.datatype = in["datatype"].get<std::string>();
  if (!in.contains("shape") || !in["shape"].is_array())
    return InvalidArgumentError(label + ": shape must be an array of non-negative integers");
  for (const Json& d : in["shape"]) {
    if (!d.is_number_integer() || (d.is_number_unsigned() && d.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)))
      return InvalidArgumentError(label + ": shape must be an array of non-negative integers");
    t.shape.push_back(d.get<int64_t>());
  }
  if (in.contains("parameters")) {
    ALMANAC_ASSIGN_OR_RETURN(t.parameters, ReadParameters(in["parameters"], where + ".parameters"));
  }
  if (!in.contains("data")) return InvalidArgumentError(label + ": missing field 'data'");
  const Json& data = in["data"];
  if (!data.is_array()) return InvalidArgumentError(label + ": data must be an array");
  ALMANAC_RETURN_IF_ERROR(Flatten(data, t.name, &t.data));
  return t;
}

Result<RawRequest> ReadGeneral(std::string_view body) {
  ALMANAC_ASSIGN_OR_RETURN(api::Fields f, api::Fields::Parse(body, {"id", "parameters", "inputs", "outputs"}, false));
  RawRequest r;
  if (f.Has("id")) {
    ALMANAC_ASSIGN_OR_RETURN(r.id, f.String("id"));
  }
  if (f.Has("parameters")) {
    ALMANAC_ASSIGN_OR_RETURN(r.parameters, ReadParameters(f.Raw("parameters"), "parameters"));
  }
  if (!f.Has("inputs") || !f.Raw("inputs").is_array())
    return InvalidArgumentError("missing field 'inputs' (an array of input tensors; 'horizon' is required)");
  size_t index = 0;
  for (const Json& in : f.Raw("inputs")) {
    ALMANAC_ASSIGN_OR_RETURN(RawTensor t, ReadInput(in, index++));
    r.inputs.push_back(std::move(t));
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
      RawOutput out;
      out.name = o["name"].get<std::string>();
      if (o.contains("parameters")) {
        ALMANAC_ASSIGN_OR_RETURN(out.parameters, ReadParameters(o["parameters"], where + ".parameters"));
      }
      r.outputs.push_back(std::move(out));
    }
  }
  return r;
}

// ---------------------------------------------------------------- the fast reader
// The common well-formed request, read in one pass without a DOM (the infer hot path:
// docs/benchmarks.md "Issue 22"). It gives up (false) on anything else: escapes or non-ASCII
// in strings, null, nested data, big or odd numbers, unknown or repeated keys, more than
// kMaxElements elements, malformed JSON; the general reader then reads the body and says
// what is wrong. It reads only what the general reader reads the same way.
class FastReader {
 public:
  explicit FastReader(std::string_view text) : t_(text) {}

  bool Read(RawRequest* r) {
    bool id = false, parameters = false, inputs = false, outputs = false;
    if (!Object([&](std::string_view key) {
          if (key == "id" && !id) return id = true, String(&r->id.emplace());
          if (key == "parameters" && !parameters) return parameters = true, Params(&r->parameters.emplace());
          if (key == "inputs" && !inputs) return inputs = true, Array([&] { return Input(&r->inputs.emplace_back()); });
          if (key == "outputs" && !outputs) return outputs = true, Array([&] { return Output(&r->outputs.emplace_back()); });
          return false;
        }))
      return false;
    Ws();
    return inputs && p_ == t_.size();
  }

 private:
  void Ws() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\n' || t_[p_] == '\r' || t_[p_] == '\t')) ++p_;
  }
  bool Eat(char c) {
    Ws();
    if (p_ < t_.size() && t_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool Peek(char c) {
    Ws();
    return p_ < t_.size() && t_[p_] == c;
  }
  // A string of printable ASCII without escapes.
  bool RawString(std::string_view* out) {
    if (!Eat('"')) return false;
    const size_t start = p_;
    while (p_ < t_.size() && t_[p_] != '"') {
      const unsigned char c = static_cast<unsigned char>(t_[p_]);
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
      ++p_;
    }
    if (p_ == t_.size()) return false;
    *out = t_.substr(start, p_++ - start);
    return true;
  }
  bool String(std::string* out) {
    std::string_view s;
    if (!RawString(&s)) return false;
    out->assign(s);
    return true;
  }
  // {"key": value, ...}; `member` reads the value of each key.
  template <typename F>
  bool Object(F&& member) {
    if (!Eat('{')) return false;
    if (Eat('}')) return true;
    do {
      std::string_view key;
      if (!RawString(&key) || !Eat(':') || !member(key)) return false;
    } while (Eat(','));
    return Eat('}');
  }
  template <typename F>
  bool Array(F&& element) {
    if (!Eat('[')) return false;
    if (Eat(']')) return true;
    do {
      if (!element()) return false;
    } while (Eat(','));
    return Eat(']');
  }
  // A JSON number in the grammar of RFC 8259, as an int64 or a finite double.
  bool Number(Scalar* s) {
    Ws();
    const size_t start = p_;
    auto digits = [&] {
      const size_t d = p_;
      while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
      return p_ > d;
    };
    if (p_ < t_.size() && t_[p_] == '-') ++p_;
    if (p_ < t_.size() && t_[p_] == '0') {
      ++p_;
    } else if (!digits()) {
      return false;
    }
    bool integer = true;
    if (p_ < t_.size() && t_[p_] == '.') {
      ++p_;
      integer = false;
      if (!digits()) return false;
    }
    if (p_ < t_.size() && (t_[p_] == 'e' || t_[p_] == 'E')) {
      ++p_;
      integer = false;
      if (p_ < t_.size() && (t_[p_] == '+' || t_[p_] == '-')) ++p_;
      if (!digits()) return false;
    }
    const char* first = t_.data() + start;
    const char* last = t_.data() + p_;
    if (integer) {
      s->kind = Scalar::Kind::kInt;
      auto [ptr, ec] = std::from_chars(first, last, s->i);
      return ec == std::errc() && ptr == last;  // beyond int64: the general reader
    }
    s->kind = Scalar::Kind::kDouble;
    auto [ptr, ec] = std::from_chars(first, last, s->d);
    return ec == std::errc() && ptr == last && std::isfinite(s->d);
  }
  bool Literal(std::string_view word) {
    Ws();
    if (t_.substr(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }
  // A string, a number or a boolean.
  bool Value(Scalar* s) {
    if (Peek('"')) {
      s->kind = Scalar::Kind::kString;
      return String(&s->s);
    }
    if (Peek('t') || Peek('f')) {
      s->kind = Scalar::Kind::kBool;
      s->b = Peek('t');
      return Literal(s->b ? "true" : "false");
    }
    return Number(s);
  }
  bool Params(Parameters* out) {
    return Object([&](std::string_view key) {
      auto [it, added] = out->try_emplace(std::string(key));
      return added && Value(&it->second);
    });
  }
  bool Input(RawTensor* t) {
    bool name = false, datatype = false, shape = false, parameters = false, data = false;
    return Object([&](std::string_view key) {
             if (key == "name" && !name) return name = true, String(&t->name);
             if (key == "datatype" && !datatype) return datatype = true, String(&t->datatype);
             if (key == "shape" && !shape)
               return shape = true, Array([&] {
                        Scalar d;
                        if (!Number(&d) || d.kind != Scalar::Kind::kInt) return false;
                        t->shape.push_back(d.i);
                        return true;
                      });
             if (key == "parameters" && !parameters) return parameters = true, Params(&t->parameters);
             if (key == "data" && !data)
               return data = true, Array([&] { return t->data.size() < kMaxElements && Value(&t->data.emplace_back()); });
             return false;
           }) &&
           name && datatype && shape && data;
  }
  bool Output(RawOutput* o) {
    bool name = false, parameters = false;
    return Object([&](std::string_view key) {
             if (key == "name" && !name) return name = true, String(&o->name);
             if (key == "parameters" && !parameters) return parameters = true, Params(&o->parameters);
             return false;
           }) &&
           name;
  }

  std::string_view t_;
  size_t p_ = 0;
};

// ---------------------------------------------------------------- the meaning

// binary_data / binary_data_output (the optional binary tensor data extension) is not
// supported: refused rather than ignored, so a client does not wait for binary output.
Status RefuseBinary(const Parameters& p, const char* where) {
  for (const char* k : {"binary_data", "binary_data_output"})
    if (auto it = p.find(std::string_view(k));
        it != p.end() && it->second.kind == Scalar::Kind::kBool && it->second.b)
      return InvalidArgumentError(std::string(where) + "." + k +
                                  ": the binary tensor data extension is not supported; send JSON tensor data");
  return Status::Ok();
}

// A shape of exactly [n].
Status WantShape(const RawTensor& t, int64_t n) {
  if (t.shape.size() == 1 && t.shape[0] == n) return Status::Ok();
  std::string got = "[";
  for (size_t i = 0; i < t.shape.size(); ++i) got += (i ? "," : "") + std::to_string(t.shape[i]);
  return InvalidArgumentError("input " + QuoteForMessage(t.name) + " must have shape [" + std::to_string(n) +
                              "], got " + got + "]");
}

Status WantDatatype(const RawTensor& t, std::initializer_list<std::string_view> types) {
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
  std::optional<Parameters> parameters;
  int horizon = 0;
  std::optional<Date> as_of;
  std::optional<std::vector<double>> levels;
  std::vector<std::string> outputs;  // requested by name; empty: all
};

const std::vector<std::string>& InputNames() {
  static const std::vector<std::string> kNames = {"horizon", "as_of", "levels"};
  return kNames;
}

// The checks of a tensor that do not depend on its name: datatype, shape, element count.
Status CheckTensor(const RawTensor& t, size_t index) {
  if (!KnownDatatype(t.datatype))
    return InvalidArgumentError("input " + QuoteForMessage(t.name) + ": unknown datatype " +
                                QuoteForMessage(t.datatype));
  int64_t elements = 1;
  for (int64_t d : t.shape) {
    if (d < 0 || d > static_cast<int64_t>(kMaxElements))
      return InvalidArgumentError("input " + QuoteForMessage(t.name) +
                                  ": shape must be an array of non-negative integers (at most " +
                                  std::to_string(kMaxElements) + " each)");
    elements *= d;
    if (elements > static_cast<int64_t>(kMaxElements))
      return InvalidArgumentError("input " + QuoteForMessage(t.name) + " has more than " +
                                  std::to_string(kMaxElements) + " elements");
  }
  if (!t.parameters.empty()) {
    ALMANAC_RETURN_IF_ERROR(RefuseBinary(t.parameters, ("inputs[" + std::to_string(index) + "].parameters").c_str()));
  }
  if (static_cast<int64_t>(t.data.size()) != elements)
    return InvalidArgumentError("input " + QuoteForMessage(t.name) + ": the shape says " + std::to_string(elements) +
                                " elements, data has " + std::to_string(t.data.size()));
  return Status::Ok();
}

Result<InferRequest> CheckInfer(RawRequest raw, const Clock& clock) {
  InferRequest r;
  r.id = std::move(raw.id);
  if (raw.parameters) {
    ALMANAC_RETURN_IF_ERROR(RefuseBinary(*raw.parameters, "parameters"));
  }
  r.parameters = std::move(raw.parameters);
  const RawTensor* horizon = nullptr;
  const RawTensor* as_of = nullptr;
  const RawTensor* levels = nullptr;
  for (size_t i = 0; i < raw.inputs.size(); ++i) {
    const RawTensor& t = raw.inputs[i];
    ALMANAC_RETURN_IF_ERROR(CheckTensor(t, i));
    const RawTensor** slot = t.name == "horizon" ? &horizon : t.name == "as_of" ? &as_of : t.name == "levels" ? &levels
                                                                                                               : nullptr;
    if (slot == nullptr)
      return InvalidArgumentError("unknown input " + QuoteForMessage(t.name) + Hint(t.name, InputNames()) +
                                  " (inputs: horizon, as_of, levels)");
    if (*slot != nullptr) return InvalidArgumentError("input " + QuoteForMessage(t.name) + " is given twice");
    *slot = &t;
  }
  if (horizon == nullptr) return InvalidArgumentError("missing input 'horizon' (INT32, shape [1])");
  ALMANAC_RETURN_IF_ERROR(WantDatatype(*horizon, {"INT32", "INT64"}));
  ALMANAC_RETURN_IF_ERROR(WantShape(*horizon, 1));
  const Scalar& hv = horizon->data[0];
  if (hv.kind != Scalar::Kind::kInt) return InvalidArgumentError("input 'horizon' must hold an integer");
  if (horizon->datatype == "INT32" && (hv.i < INT32_MIN || hv.i > INT32_MAX))
    return InvalidArgumentError("input 'horizon': " + std::to_string(hv.i) + " is not an INT32 value");
  ALMANAC_ASSIGN_OR_RETURN(r.horizon, api::CheckHorizon(hv.i));
  if (as_of != nullptr) {
    ALMANAC_RETURN_IF_ERROR(WantDatatype(*as_of, {"BYTES"}));
    ALMANAC_RETURN_IF_ERROR(WantShape(*as_of, 1));
    if (as_of->data[0].kind != Scalar::Kind::kString)
      return InvalidArgumentError("input 'as_of' must hold a date as a string, e.g. \"2010-02-01\"");
    ALMANAC_ASSIGN_OR_RETURN(r.as_of, api::ParseAsOf(as_of->data[0].s, clock));
  }
  if (levels != nullptr) {
    ALMANAC_RETURN_IF_ERROR(WantDatatype(*levels, {"FP64", "FP32"}));
    if (levels->shape.size() != 1 || levels->shape[0] < 1 || levels->shape[0] > static_cast<int64_t>(api::kMaxLevels))
      return InvalidArgumentError("input 'levels' must have shape [k] with k in 1.." + std::to_string(api::kMaxLevels));
    std::vector<double> out;
    for (const Scalar& v : levels->data) {
      if (!v.number()) return InvalidArgumentError("input 'levels' must hold numbers");
      const double x = v.as_double();
      ALMANAC_RETURN_IF_ERROR(api::CheckLevel(x));
      if (std::find(out.begin(), out.end(), x) != out.end())
        return InvalidArgumentError("input 'levels' names level " + LevelName(x) + " twice");
      out.push_back(x);
    }
    r.levels = std::move(out);
  }
  for (size_t i = 0; i < raw.outputs.size(); ++i) {
    RawOutput& o = raw.outputs[i];
    ALMANAC_RETURN_IF_ERROR(RefuseBinary(o.parameters, ("outputs[" + std::to_string(i) + "].parameters").c_str()));
    if (std::find(r.outputs.begin(), r.outputs.end(), o.name) != r.outputs.end())
      return InvalidArgumentError("output " + QuoteForMessage(o.name) + " is requested twice");
    r.outputs.push_back(std::move(o.name));
  }
  return r;
}

// Reads and checks an infer request body: the fast reader, else the general one.
Result<InferRequest> ParseInfer(std::string_view body, const Clock& clock) {
  RawRequest raw;
  if (!FastReader(body).Read(&raw)) {
    ALMANAC_ASSIGN_OR_RETURN(raw, ReadGeneral(body));
  }
  return CheckInfer(std::move(raw), clock);
}

// The request's parameters, passed back.
void AppendParameters(std::string& out, const Parameters& p) {
  out += '{';
  bool first = true;
  for (const auto& [k, v] : p) {
    if (!first) out += ',';
    first = false;
    json_out::Key(out, k);
    switch (v.kind) {
      case Scalar::Kind::kInt:
        json_out::Int(out, v.i);
        break;
      case Scalar::Kind::kUint:
        out += std::to_string(v.u);
        break;
      case Scalar::Kind::kDouble:
        json_out::NumberOrNull(out, v.d);
        break;
      case Scalar::Kind::kString:
        json_out::String(out, v.s);
        break;
      case Scalar::Kind::kBool:
        out += v.b ? "true" : "false";
        break;
      case Scalar::Kind::kOther:
        out += "null";
        break;
    }
  }
  out += '}';
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
  // The outputs asked for, checked, and in the cache key; none asked: all, in the order of
  // OutputNames (named only when rendered, on a cache miss).
  std::string tag = "v2";
  if (!in.outputs.empty()) {
    const std::vector<std::string> all = oip::OutputNames(levels);
    for (const std::string& name : in.outputs) {
      if (std::find(all.begin(), all.end(), name) == all.end()) {
        std::string list;
        for (const auto& a : all) list += (list.empty() ? "" : ", ") + a;
        return InvalidArgumentError("unknown output " + QuoteForMessage(name) + Hint(name, all) + " (outputs: " +
                                    list + "; intervals follow the levels asked for)");
      }
      tag += '\x1f';
      tag += name;
    }
  }
  const ForecastRenderer render = [&levels, &in](const ForecastParts& p) -> Result<std::string> {
    return oip::RenderOutputs(p, levels, in.outputs.empty() ? oip::OutputNames(levels) : in.outputs);
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
    oip::AppendParameters(res.body, *in.parameters);
  }
  res.body += '}';
  return res;
}

}  // namespace almanac::serve
