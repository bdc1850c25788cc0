// Parsers of the providers' response formats. Each one reads the whole body (connectors
// never store a partial response) and returns series ready for a load.
#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <unordered_map>

#include <simdjson.h>

#include "almanac/core/json.h"
#include "almanac/data.h"

namespace almanac::data {
namespace {

Status Bad(const std::string& name, const std::string& what) { return InvalidArgumentError(name + ": " + what); }

std::string Snippet(std::string_view body) {
  std::string s(body.substr(0, 80));
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = ' ';
  return s;
}

// Parses a decimal number; "." , "", "NaN", "NA" are missing.
Result<std::optional<double>> ParseValue(std::string_view t) {
  t = Trim(t);
  if (t.empty() || t == "." || t == "NaN" || t == "NA" || t == "nan" || t == "NAN" || t == ":")
    return std::optional<double>();
  double v = 0;
  const char* b = t.data();
  const char* e = t.data() + t.size();
  if (*b == '+') ++b;
  auto [ptr, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || ptr != e || !std::isfinite(v))
    return InvalidArgumentError("'" + std::string(t) + "' is not a number");
  return std::optional<double>(v);
}

// SDMX time periods: 2024, 2024-Q1, 2024-01, 2024-01-15, 2024-W05. Also World Bank's
// 2024Q1 and 2024M01.
Result<Period> ParseSdmxPeriod(std::string_view t, std::optional<Frequency> freq) {
  t = Trim(t);
  if (t.size() == 7 && t[4] == 'M') {
    std::string s = std::string(t.substr(0, 4)) + "-" + std::string(t.substr(5));
    return Period::Parse(s, Frequency::kMonthly);
  }
  if (freq) return Period::Parse(t, *freq);
  return Period::Parse(t);
}

std::optional<Frequency> SdmxFreq(std::string_view code) {
  if (code == "A" || code == "Y") return Frequency::kAnnual;
  if (code == "Q") return Frequency::kQuarterly;
  if (code == "M") return Frequency::kMonthly;
  if (code == "W") return Frequency::kWeekly;
  if (code == "D") return Frequency::kDaily;
  if (code == "B") return Frequency::kBusiness;
  return std::nullopt;
}

// Collects observations into series in first-seen order.
class SeriesCollector {
 public:
  ParsedSeries& Get(const std::string& key, Frequency f) {
    auto it = index_.find(key);
    if (it != index_.end()) return out_[it->second];
    index_.emplace(key, out_.size());
    out_.emplace_back();
    out_.back().info.key = key;
    out_.back().info.frequency = f;
    return out_.back();
  }
  std::vector<ParsedSeries> Take() { return std::move(out_); }

 private:
  std::unordered_map<std::string, size_t> index_;
  std::vector<ParsedSeries> out_;
};

Result<Json> ParseBody(std::string_view body, const std::string& name, std::string_view what) {
  auto j = ParseJson(body);
  if (!j.ok())
    return Bad(name, "the response is not valid " + std::string(what) + " (" + j.status().message() +
                         "); it starts with '" + Snippet(body) + "'");
  return j;
}

// ---- FRED observations: simdjson's DOM parser (runtime-dispatched SIMD kernels: stage 1
// indexes the structure and validates UTF-8 at GB/s, the tape is walked without allocating
// per value). nlohmann's lexer, even as a SAX handler without a DOM, topped out near
// 100 MB/s on these pages.

// Real-time dates repeat on almost every row (all of them outside ALFRED): parse each
// distinct text once.
class DateCache {
 public:
  Result<Date> Get(std::string_view text) {
    if (valid_ && text == text_) return date_;
    ALMANAC_ASSIGN_OR_RETURN(date_, Date::Parse(text));
    text_.assign(text);
    valid_ = true;
    return date_;
  }

 private:
  std::string text_;
  Date date_;
  bool valid_ = false;
};

// A count/offset/limit field: FRED sends numbers, some mirrors strings of digits; anything
// else is ignored (the numbers only size a vector and drive paging).
void ReadPageNumber(simdjson::dom::element v, int64_t* out) {
  int64_t n = 0;
  if (v.get_int64().get(n) == simdjson::SUCCESS) {
    *out = n;
    return;
  }
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec == std::errc() && p == s.data() + s.size()) *out = n;
}

}  // namespace

// ------------------------------------------------------------------------------ FRED

Result<FredSeriesMeta> ParseFredSeries(std::string_view body, const std::string& name) {
  ALMANAC_ASSIGN_OR_RETURN(Json j, ParseBody(body, name, "FRED JSON"));
  if (!j.is_object()) return Bad(name, "expected a JSON object with \"seriess\"");
  if (j.contains("error_message"))
    return Bad(name, "FRED replied with an error: " + j["error_message"].get<std::string>());
  auto it = j.find("seriess");
  if (it == j.end() || !it->is_array() || it->empty() || !(*it)[0].is_object())
    return Bad(name, "expected a non-empty \"seriess\" array");
  const Json& s = (*it)[0];
  auto str = [&](const char* k) { return s.contains(k) && s[k].is_string() ? s[k].get<std::string>() : ""; };
  FredSeriesMeta m;
  m.id = str("id");
  m.title = str("title");
  m.units = str("units");
  m.seasonal_adjustment = str("seasonal_adjustment_short");
  const std::string f = str("frequency_short");
  auto freq = SdmxFreq(f);
  if (!freq) return Bad(name, "series " + m.id + " has frequency '" + f + "', which almanac does not store (A, Q, M, W, D)");
  m.frequency = *freq;
  if (m.id.empty()) return Bad(name, "the series has no \"id\"");
  return m;
}

Result<FredObservationsPage> ParseFredObservations(std::string_view body, const std::string& name) {
  auto invalid = [&](simdjson::error_code e) {
    return Bad(name, std::string("invalid JSON (") + simdjson::error_message(e) + "); it starts with '" + Snippet(body) + "'");
  };
  FredObservationsPage page;
  // One parser per thread: its buffers are reused by the next page of a load instead of being
  // allocated and faulted in again (which cost as much as parsing). A parser grown past 64 MB
  // by an unusually large page is dropped afterwards.
  // The body is copied into a reused buffer with simdjson's padding (letting the parser copy it
  // allocates and faults in a new buffer per page).
  struct Buffers {
    simdjson::dom::parser parser;
    std::vector<char> padded;
  };
  thread_local std::unique_ptr<Buffers> tls;
  if (!tls) tls = std::make_unique<Buffers>();
  struct Trim64 {
    std::unique_ptr<Buffers>& b;
    ~Trim64() {
      if (b && (b->parser.capacity() > (size_t{64} << 20) || b->padded.size() > (size_t{64} << 20))) b.reset();
    }
  } trim{tls};
  if (tls->padded.size() < body.size() + simdjson::SIMDJSON_PADDING) tls->padded.resize(body.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(tls->padded.data(), body.data(), body.size());
  std::memset(tls->padded.data() + body.size(), 0, simdjson::SIMDJSON_PADDING);
  simdjson::dom::element doc;
  if (auto e = tls->parser.parse(tls->padded.data(), body.size(), /*realloc_if_needed=*/false).get(doc)) return invalid(e);
  simdjson::dom::object top;
  if (auto e = doc.get_object().get(top)) return invalid(e);
  std::string_view provider_error;
  if (top["error_message"].get_string().get(provider_error) == simdjson::SUCCESS)
    return Bad(name, "FRED replied with an error: " + std::string(provider_error));
  for (const char* k : {"count", "offset", "limit"}) {
    simdjson::dom::element v;
    if (top[k].get(v) == simdjson::SUCCESS)
      ReadPageNumber(v, k[0] == 'c' ? &page.count : k[0] == 'o' ? &page.offset : &page.limit);
  }
  simdjson::dom::array arr;
  if (top["observations"].get_array().get(arr) != simdjson::SUCCESS)
    return Bad(name, "expected an \"observations\" array; it starts with '" + Snippet(body) + "'");
  page.observations.reserve(arr.size());
  DateCache rs_cache, re_cache;
  for (simdjson::dom::element elem : arr) {
    const size_t index = page.observations.size();
    simdjson::dom::object obj;
    if (elem.get_object().get(obj) != simdjson::SUCCESS)
      return Bad(name, "observation " + std::to_string(index) + " is not an object");
    FredObservation cur;
    bool have_date = false, have_rs = false, have_re = false, have_value = false;
    for (auto [k, v] : obj) {
      enum { kDate, kStart, kEnd, kValue, kOther } which = k == "date"             ? kDate
                                                           : k == "realtime_start" ? kStart
                                                           : k == "realtime_end"   ? kEnd
                                                           : k == "value"          ? kValue
                                                                                   : kOther;
      std::string_view text;
      if (which == kOther || v.get_string().get(text) != simdjson::SUCCESS) continue;  // FRED sends strings
      Status st;
      if (which == kDate) {
        auto d = Date::Parse(text);
        if (d.ok()) cur.date = *d, have_date = true;
        else st = d.status();
      } else if (which == kStart) {
        auto d = rs_cache.Get(text);
        if (d.ok()) cur.realtime_start = *d, have_rs = true;
        else st = d.status();
      } else if (which == kEnd) {
        auto d = re_cache.Get(text);
        if (d.ok()) cur.realtime_end = *d, have_re = true;
        else st = d.status();
      } else {
        auto val = ParseValue(text);
        if (val.ok()) cur.value = *val, have_value = true;
        else st = val.status();
      }
      if (!st.ok())
        return Bad(name, "observation " + std::to_string(index) + ", field " + std::string(k) + ": " + st.message());
    }
    if (!have_date || !have_value) return Bad(name, "observation " + std::to_string(index) + " lacks date or value");
    if (!have_rs) cur.realtime_start = Date();
    if (!have_re) cur.realtime_end = cur.realtime_start;
    page.observations.push_back(cur);
  }
  return page;
}

// ------------------------------------------------------------------------------ SDMX-CSV

Result<std::vector<ParsedSeries>> ParseSdmxCsv(std::string_view body, const SdmxParseOptions& o) {
  auto reader = CsvReader::FromString(std::string(body), o.name);
  std::vector<std::string_view> f;
  ALMANAC_ASSIGN_OR_RETURN(bool any, reader->Next(&f));
  if (!any) return Bad(o.name, "the SDMX-CSV response is empty");
  std::vector<std::string> header;
  for (auto h : f) {
    // Eurostat and OECD may label columns "freq: Frequency"; keep the code part.
    std::string s(Trim(h));
    if (size_t c = s.find(':'); c != std::string::npos && s.rfind("STRUCTURE", 0) != 0) s = s.substr(0, c);
    header.push_back(std::string(Trim(s)));
  }
  int flow_col = -1, key_col = -1, action_col = -1, time_col = -1, value_col = -1, freq_col = -1;
  int first_dim = 0;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string u = ToLower(header[i]);
    if (u == "dataflow" || u == "structure_id") flow_col = static_cast<int>(i);
    else if (u == "key") key_col = static_cast<int>(i);
    else if (u == "action") action_col = static_cast<int>(i);
    else if (u == "time_period") time_col = static_cast<int>(i);
    else if (u == "obs_value") value_col = static_cast<int>(i);
    else if (u == "freq") freq_col = static_cast<int>(i);
    if (u == "dataflow" || u == "structure" || u == "structure_id" || u == "action" || u == "key" ||
        u == "last update")
      first_dim = static_cast<int>(i) + 1;
  }
  if (time_col < 0 || value_col < 0)
    return Bad(o.name, "not SDMX-CSV: the header lacks TIME_PERIOD or OBS_VALUE (header: '" + Snippet(body) + "')");
  if (first_dim > time_col) first_dim = time_col;
  SeriesCollector out;
  std::string key;
  while (true) {
    ALMANAC_ASSIGN_OR_RETURN(bool more, reader->Next(&f));
    if (!more) break;
    auto at = [&](const std::string& what) {
      return Bad(o.name, "line " + std::to_string(reader->line()) + ": " + what);
    };
    if (f.size() != header.size())
      return at("expected " + std::to_string(header.size()) + " fields, found " + std::to_string(f.size()));
    key = o.key_prefix + ":";
    if (key_col >= 0) {
      key += std::string(Trim(f[key_col]));
    } else {
      if (flow_col >= 0) {
        std::string_view flow = Trim(f[flow_col]);
        // "AGENCY:FLOW(1.0)" -> FLOW
        if (size_t c = flow.find(':'); c != std::string_view::npos) flow = flow.substr(c + 1);
        if (size_t p = flow.find('('); p != std::string_view::npos) flow = flow.substr(0, p);
        // OECD names flows DSD@DF; '@' cannot be part of a series key.
        if (size_t a = flow.rfind('@'); a != std::string_view::npos) flow = flow.substr(a + 1);
        key += std::string(flow);
      } else {
        key += o.flow;
      }
      for (int i = first_dim; i < time_col; ++i) {
        if (key.back() != ':') key += '.';
        key += std::string(Trim(f[i]));
      }
    }
    std::optional<Frequency> freq;
    if (freq_col >= 0) freq = SdmxFreq(Trim(f[freq_col]));
    auto period = ParseSdmxPeriod(f[time_col], freq);
    if (!period.ok()) return at("TIME_PERIOD: " + period.status().message());
    std::optional<double> value;
    const bool deletion = action_col >= 0 && Trim(f[action_col]) == "D";
    if (!deletion) {
      auto v = ParseValue(f[value_col]);
      if (!v.ok()) return at("OBS_VALUE: " + v.status().message());
      value = *v;
    }
    ParsedSeries& s = out.Get(key, period->frequency());
    if (s.info.frequency != period->frequency())
      return at("series " + key + " mixes frequencies (" + std::string(FrequencyCode(s.info.frequency)) + " and " +
                std::string(FrequencyCode(period->frequency())) + ")");
    s.observations.push_back({*period, value, std::nullopt});
  }
  return out.Take();
}

// ------------------------------------------------------------------------------ SDMX-JSON

Result<std::vector<ParsedSeries>> ParseSdmxJson(std::string_view body, const SdmxParseOptions& o) {
  ALMANAC_ASSIGN_OR_RETURN(Json j, ParseBody(body, o.name, "SDMX-JSON"));
  try {
    if (!j.is_object()) return Bad(o.name, "expected an SDMX-JSON object");
    if (j.contains("errors") && j["errors"].is_array() && !j["errors"].empty())
      return Bad(o.name, "the provider replied with an error: " + CompactJson(j["errors"][0]));
    const Json& root = j.contains("data") && j["data"].is_object() ? j["data"] : j;
    const Json* structure = nullptr;
    if (root.contains("structure")) structure = &root["structure"];
    else if (root.contains("structures") && root["structures"].is_array() && !root["structures"].empty())
      structure = &root["structures"][0];
    else if (j.contains("structure")) structure = &j["structure"];
    if (structure == nullptr || !root.contains("dataSets") || !root["dataSets"].is_array())
      return Bad(o.name, "not an SDMX-JSON data message (no dataSets/structure)");
    const Json& dims = (*structure)["dimensions"];
    const Json& sdims = dims.value("series", Json::array());
    const Json& odims = dims.value("observation", Json::array());
    if (odims.size() != 1) return Bad(o.name, "expected exactly one observation-level dimension (TIME_PERIOD)");
    const Json& times = odims[0]["values"];
    std::string flow;
    if (structure->contains("name") && (*structure)["name"].is_string()) flow = "";
    // The flow id comes from header.id-like fields inconsistently; use the links' dataflow
    // id when present, else no flow prefix.
    if (structure->contains("links") && (*structure)["links"].is_array()) {
      for (const auto& l : (*structure)["links"]) {
        if (l.value("rel", "") == "dataflow" && l.contains("id")) flow = l["id"].get<std::string>();
      }
    }
    if (flow.empty()) flow = o.flow;
    int freq_dim = -1;
    for (size_t i = 0; i < sdims.size(); ++i)
      if (sdims[i].value("id", "") == "FREQ") freq_dim = static_cast<int>(i);
    SeriesCollector out;
    for (const auto& ds : root["dataSets"]) {
      const bool deletion = ToLower(ds.value("action", "")) == "delete";
      if (!ds.contains("series")) continue;
      for (const auto& [skey, sv] : ds["series"].items()) {
        std::vector<std::string> codes;
        std::optional<Frequency> freq;
        size_t start = 0;
        size_t d = 0;
        while (start <= skey.size()) {
          size_t colon = skey.find(':', start);
          if (colon == std::string::npos) colon = skey.size();
          const std::string idx = skey.substr(start, colon - start);
          size_t n = 0;
          auto [p, ec] = std::from_chars(idx.data(), idx.data() + idx.size(), n);
          if (ec != std::errc() || p != idx.data() + idx.size() || d >= sdims.size() ||
              n >= sdims[d]["values"].size())
            return Bad(o.name, "series key '" + skey + "' does not match the structure's dimensions");
          const std::string code = sdims[d]["values"][n]["id"].get<std::string>();
          if (static_cast<int>(d) == freq_dim) freq = SdmxFreq(code);
          codes.push_back(code);
          ++d;
          start = colon + 1;
        }
        std::string key = o.key_prefix + ":" + flow;
        for (const auto& c : codes) {
          if (key.back() != ':') key += '.';
          key += c;
        }
        if (!sv.contains("observations")) continue;
        ParsedSeries* s = nullptr;
        for (const auto& [okey, ov] : sv["observations"].items()) {
          size_t n = 0;
          auto [p, ec] = std::from_chars(okey.data(), okey.data() + okey.size(), n);
          if (ec != std::errc() || n >= times.size())
            return Bad(o.name, "series " + key + ": observation index '" + okey + "' is outside the time dimension");
          auto period = ParseSdmxPeriod(times[n]["id"].get<std::string>(), freq);
          if (!period.ok()) return Bad(o.name, "series " + key + ": " + period.status().message());
          std::optional<double> value;
          if (!deletion && ov.is_array() && !ov.empty()) {
            const Json& v = ov[0];
            if (v.is_number()) value = v.get<double>();
            else if (v.is_string()) {
              auto pv = ParseValue(v.get<std::string>());
              if (!pv.ok()) return Bad(o.name, "series " + key + ", " + period->ToString() + ": " + pv.status().message());
              value = *pv;
            } else if (!v.is_null()) {
              return Bad(o.name, "series " + key + ", " + period->ToString() + ": the value is not a number");
            }
          }
          if (s == nullptr) s = &out.Get(key, period->frequency());
          if (s->info.frequency != period->frequency())
            return Bad(o.name, "series " + key + " mixes frequencies");
          s->observations.push_back({*period, value, std::nullopt});
        }
      }
    }
    return out.Take();
  } catch (const std::exception& e) {
    return Bad(o.name, std::string("malformed SDMX-JSON (") + e.what() + ")");
  }
}

// ------------------------------------------------------------------------------ World Bank

Result<WorldBankPage> ParseWorldBankPage(std::string_view body, const std::string& prefix, const std::string& name) {
  ALMANAC_ASSIGN_OR_RETURN(Json j, ParseBody(body, name, "World Bank JSON"));
  try {
    if (!j.is_array() || j.empty()) return Bad(name, "expected the [metadata, data] array of the World Bank API v2");
    if (j.size() == 1 && j[0].is_object() && j[0].contains("message")) {
      std::string msg;
      for (const auto& m : j[0]["message"]) msg += (msg.empty() ? "" : "; ") + m.value("key", "") + ": " + m.value("value", "");
      return Bad(name, "the World Bank API replied with an error: " + msg);
    }
    if (j.size() != 2 || !j[0].is_object()) return Bad(name, "expected the [metadata, data] array of the World Bank API v2");
    WorldBankPage page;
    auto num = [](const Json& v) -> int64_t {
      if (v.is_number_integer()) return v.get<int64_t>();
      if (v.is_string()) return std::atoll(v.get<std::string>().c_str());
      return 0;
    };
    page.page = num(j[0].value("page", Json(0)));
    page.pages = num(j[0].value("pages", Json(0)));
    page.total = num(j[0].value("total", Json(0)));
    if (j[1].is_null()) return page;  // no data in range
    if (!j[1].is_array()) return Bad(name, "the data element is not an array");
    SeriesCollector out;
    size_t i = 0;
    for (const auto& r : j[1]) {
      const std::string where = "record " + std::to_string(i++);
      if (!r.is_object() || !r.contains("indicator") || !r.contains("date"))
        return Bad(name, where + ": expected indicator, country and date");
      const std::string ind = r["indicator"].value("id", "");
      std::string iso = r.value("countryiso3code", "");
      if (iso.empty() && r.contains("country")) iso = r["country"].value("id", "");
      if (ind.empty() || iso.empty()) return Bad(name, where + ": no indicator id or country code");
      auto period = ParseSdmxPeriod(r["date"].get<std::string>(), std::nullopt);
      if (!period.ok()) return Bad(name, where + ": " + period.status().message());
      std::optional<double> value;
      if (r.contains("value") && r["value"].is_number()) value = r["value"].get<double>();
      else if (r.contains("value") && !r["value"].is_null())
        return Bad(name, where + ": the value is not a number");
      ParsedSeries& s = out.Get(prefix + ":" + ind + "." + iso, period->frequency());
      if (s.info.title.empty()) {
        s.info.title = r["indicator"].value("value", "");
        if (r.contains("country")) s.info.title += " - " + r["country"].value("value", "");
        s.info.unit = r.value("unit", "");
      }
      if (s.info.frequency != period->frequency()) return Bad(name, where + ": series mixes frequencies");
      s.observations.push_back({*period, value, std::nullopt});
    }
    page.series = out.Take();
    // The API lists the latest year first; stores do not care, but tests read easier sorted.
    for (auto& s : page.series)
      std::sort(s.observations.begin(), s.observations.end(),
                [](const ParsedObservation& a, const ParsedObservation& b) { return a.period < b.period; });
    return page;
  } catch (const std::exception& e) {
    return Bad(name, std::string("malformed World Bank JSON (") + e.what() + ")");
  }
}

// ------------------------------------------------------------------------------ mapped

namespace {

Result<Period> MappedPeriod(std::string_view text, const FieldMapping& m) {
  if (m.frequency) return Period::Parse(Trim(text), *m.frequency, false);
  return ParseSdmxPeriod(text, std::nullopt);
}

Status AddMapped(SeriesCollector& out, const FieldMapping& m, std::string_view code, std::string_view period_text,
                 std::optional<double> value, std::string_view rt_text) {
  std::string key = m.series_key;
  if (!m.series.empty()) {
    code = Trim(code);
    if (code.empty()) return InvalidArgumentError("empty series code");
    key = m.key_prefix.empty() ? std::string(code) : m.key_prefix + ":" + std::string(code);
  }
  ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(key));
  ALMANAC_ASSIGN_OR_RETURN(Period p, MappedPeriod(period_text, m));
  std::optional<Date> rt;
  if (!Trim(rt_text).empty()) {
    ALMANAC_ASSIGN_OR_RETURN(Date d, Date::Parse(Trim(rt_text)));
    rt = d;
  }
  ParsedSeries& s = out.Get(key, p.frequency());
  if (s.info.frequency != p.frequency()) return InvalidArgumentError("series " + key + " mixes frequencies");
  s.observations.push_back({p, value, rt});
  return Status::Ok();
}

}  // namespace

Result<std::vector<ParsedSeries>> ParseMappedCsv(std::string_view body, const FieldMapping& m, const std::string& name) {
  auto reader = CsvReader::FromString(std::string(body), name);
  std::vector<std::string_view> f;
  ALMANAC_ASSIGN_OR_RETURN(bool any, reader->Next(&f));
  if (!any) return Bad(name, "the CSV response is empty");
  auto col = [&](const std::string& want) -> int {
    if (want.empty()) return -1;
    for (size_t i = 0; i < f.size(); ++i)
      if (Trim(f[i]) == want) return static_cast<int>(i);
    return -2;
  };
  const int pc = col(m.period), vc = col(m.value), sc = col(m.series), rc = col(m.realtime_start);
  for (auto [c, what] : {std::pair{pc, &m.period}, {vc, &m.value}, {sc, &m.series}, {rc, &m.realtime_start}})
    if (c == -2) return Bad(name, "the mapped column '" + *what + "' is not in the header");
  if (pc < 0 || vc < 0) return Bad(name, "the mapping needs period and value columns");
  const size_t ncols = f.size();
  SeriesCollector out;
  while (true) {
    ALMANAC_ASSIGN_OR_RETURN(bool more, reader->Next(&f));
    if (!more) break;
    const std::string where = "line " + std::to_string(reader->line());
    if (f.size() != ncols) return Bad(name, where + ": expected " + std::to_string(ncols) + " fields");
    auto v = ParseValue(f[vc]);
    if (!v.ok()) return Bad(name, where + ", column " + m.value + ": " + v.status().message());
    Status s = AddMapped(out, m, sc >= 0 ? f[sc] : std::string_view(), f[pc], *v, rc >= 0 ? f[rc] : std::string_view());
    if (!s.ok()) return Bad(name, where + ": " + s.message());
  }
  return out.Take();
}

Result<std::vector<ParsedSeries>> ParseMappedJson(std::string_view body, const FieldMapping& m, const std::string& name) {
  ALMANAC_ASSIGN_OR_RETURN(Json j, ParseBody(body, name, "JSON"));
  try {
    const Json& records = j.at(Json::json_pointer(m.records));
    if (!records.is_array()) return Bad(name, "the records pointer '" + m.records + "' is not an array");
    SeriesCollector out;
    auto text = [](const Json& r, const std::string& ptr, bool* found) -> std::string {
      *found = false;
      if (ptr.empty()) return "";
      Json::json_pointer p(ptr);
      if (!r.contains(p)) return "";
      *found = true;
      const Json& v = r.at(p);
      if (v.is_string()) return v.get<std::string>();
      if (v.is_null()) return "";
      return v.dump();
    };
    for (size_t i = 0; i < records.size(); ++i) {
      const Json& r = records[i];
      const std::string where = "record " + std::to_string(i);
      bool found = false;
      const std::string period = text(r, m.period, &found);
      if (!found) return Bad(name, where + ": no field at '" + m.period + "'");
      const std::string vt = text(r, m.value, &found);
      if (!found) return Bad(name, where + ": no field at '" + m.value + "'");
      auto v = ParseValue(vt);
      if (!v.ok()) return Bad(name, where + ": " + v.status().message());
      const std::string code = text(r, m.series, &found);
      if (!m.series.empty() && !found) return Bad(name, where + ": no field at '" + m.series + "'");
      const std::string rt = text(r, m.realtime_start, &found);
      Status s = AddMapped(out, m, code, period, *v, rt);
      if (!s.ok()) return Bad(name, where + ": " + s.message());
    }
    return out.Take();
  } catch (const std::exception& e) {
    return Bad(name, std::string("the mapping does not fit the JSON (") + e.what() + ")");
  }
}

}  // namespace almanac::data
