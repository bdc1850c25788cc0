// LoadSource: fetch every request of a source, parse, validate, then store everything in one
// load. HTTP validators (ETag / Last-Modified) live in the metadata store's step cache under
// a key derived from the source and the URL without credentials (docs/schema.md).
#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "almanac/core/hash.h"
#include "almanac/core/json.h"
#include "almanac/data.h"

namespace almanac::data {
namespace {

// Percent-encodes a query value or (path = true) a path segment. SDMX keys use '+' for
// "or" in the path, where it must stay literal; in a query it would read as a space.
std::string UrlEncode(std::string_view s, bool path = false) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == ';' || c == ',' || c == '/' ||
        (path && c == '+') || (path && c == '@')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

class Query {
 public:
  Query& Add(const std::string& k, const std::string& v) {
    if (!v.empty()) parts_.push_back(k + "=" + UrlEncode(v));
    return *this;
  }
  std::string On(const std::string& base) const {
    std::string u = base;
    for (size_t i = 0; i < parts_.size(); ++i) u += (i == 0 && base.find('?') == std::string::npos ? "?" : "&") + parts_[i];
    return u;
  }

 private:
  std::vector<std::string> parts_;
};

ValidationRules Merge(const ValidationRules& base, const ValidationRules& over) {
  ValidationRules r = base;
  if (over.frequency) r.frequency = over.frequency;
  if (over.min) r.min = over.min;
  if (over.max) r.max = over.max;
  if (over.max_revision) r.max_revision = over.max_revision;
  if (over.max_staleness_days) r.max_staleness_days = over.max_staleness_days;
  if (over.max_gap) r.max_gap = over.max_gap;
  return r;
}

struct Validator {
  std::string cache_key;
  std::string url;  // redacted
  std::string etag, last_modified;
  int64_t pages = 1;
};

class SourceLoader {
 public:
  SourceLoader(const SourceConfig& src, const SourceLoadOptions& opt, store::Store& store)
      : src_(src), opt_(opt), store_(store) {}

  Result<SourceLoadResult> Run() {
    result_.source = src_.name;
    HttpClientOptions http = src_.http;
    if (!src_.api_key_env.empty()) {
      auto getenv = opt_.getenv ? opt_.getenv : [](const std::string& n) -> std::optional<std::string> {
        const char* v = std::getenv(n.c_str());
        return v == nullptr ? std::nullopt : std::optional<std::string>(v);
      };
      auto key = getenv(src_.api_key_env);
      if (!key || key->empty())
        return FailedPreconditionError("source " + src_.name + ": the environment variable " + src_.api_key_env +
                                       " (api_key_env) is not set");
      api_key_ = *key;
      http.secrets.push_back(api_key_);
    }
    if (opt_.adjust_http) opt_.adjust_http(http);
    ALMANAC_ASSIGN_OR_RETURN(client_, HttpClient::Create(http));
    progress_.source = src_.name;
    progress_.requests_total = static_cast<int64_t>(std::max<size_t>(1, src_.series.size()));
    Status s;
    switch (src_.type) {
      case SourceType::kFred:
      case SourceType::kAlfred: s = FetchFred(); break;
      case SourceType::kSdmx: s = FetchSdmx(); break;
      case SourceType::kWorldBank: s = FetchWorldBank(); break;
      case SourceType::kHttpCsv:
      case SourceType::kHttpJson: s = FetchGeneric(); break;
    }
    if (!s.ok()) return Status(s.code(), client_->Redact(s.message())).WithContext("source " + src_.name);
    ALMANAC_RETURN_IF_ERROR(Store());
    return result_;
  }

 private:
  // ---------------------------------------------------------------- fetching helpers

  std::optional<Validator> LookupValidator(const std::string& url) {
    Validator v;
    v.url = client_->Redact(url);
    v.cache_key = Sha256Hex("almanac-http-validator\n" + src_.name + "\n" + v.url);
    if (opt_.force) return v;
    std::optional<store::CacheEntry> e;
    Status s = store_.metadata().Run([&](store::MetadataTxn& t) -> Status {
      ALMANAC_ASSIGN_OR_RETURN(e, t.GetCache(v.cache_key));
      return Status::Ok();
    });
    if (s.ok() && e && e->outputs.is_object()) {
      v.etag = e->outputs.value("etag", "");
      v.last_modified = e->outputs.value("last_modified", "");
      v.pages = e->outputs.value("pages", int64_t{1});
    }
    return v;
  }

  // GETs `url`. With a validator of a one-page resource the request is conditional.
  Result<HttpResponse> Fetch(const std::string& url, std::string_view want, Validator* validator,
                             std::vector<std::string> headers = {}) {
    HttpRequest req;
    req.url = url;
    req.headers = std::move(headers);
    if (validator != nullptr && validator->pages == 1) {
      req.etag = validator->etag;
      req.last_modified = validator->last_modified;
    }
    ALMANAC_ASSIGN_OR_RETURN(HttpResponse r, client_->Get(req));
    ++result_.requests;
    result_.bytes += static_cast<int64_t>(r.body.size());
    payload_hash_.Update(r.body);  // the load's source_hash covers every body it read
    ++progress_.requests_done;
    progress_.bytes = result_.bytes;
    if (opt_.progress) opt_.progress(progress_);
    if (r.not_modified()) {
      if (req.etag.empty() && req.last_modified.empty())
        return DataLossError("GET " + client_->Redact(url) + ": 304 Not Modified to an unconditional request");
      ++result_.not_modified;
      return r;
    }
    ALMANAC_RETURN_IF_ERROR(CheckContentType(r, want, url));
    if (validator != nullptr) {
      validator->etag = r.etag;
      validator->last_modified = r.last_modified;
    }
    return r;
  }

  Status CheckContentType(const HttpResponse& r, std::string_view want, const std::string& url) {
    const std::string ct = ToLower(r.content_type);
    const std::string shown = client_->Redact(url);
    std::string snippet = r.body.substr(0, 60);
    for (char& c : snippet)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = ' ';
    if (ct.find("html") != std::string::npos)
      return InvalidArgumentError("GET " + shown + ": the server sent an HTML page (Content-Type " + r.content_type +
                                  ") instead of " + std::string(want) + ": '" + client_->Redact(snippet) + "'");
    if (ct.empty()) return Status::Ok();
    const bool ok = want == "JSON" ? ct.find("json") != std::string::npos || ct.find("javascript") != std::string::npos
                                   : ct.find("csv") != std::string::npos || ct.find("text/plain") != std::string::npos;
    if (!ok)
      return InvalidArgumentError("GET " + shown + ": expected " + std::string(want) + " but the Content-Type is " +
                                  r.content_type);
    return Status::Ok();
  }

  std::string Name(const std::string& url) const { return client_->Redact(url); }

  void Keep(std::vector<ParsedSeries> series, const SeriesSpec* spec) {
    for (auto& s : series) {
      specs_[s.info.key] = spec;
      fetched_.push_back(std::move(s));
    }
    ++result_.series_fetched;
  }

  // ---------------------------------------------------------------- FRED / ALFRED

  Status FetchFred() {
    const bool alfred = src_.type == SourceType::kAlfred;
    for (const auto& spec : src_.series) {
      const std::string key = spec.key.empty() ? src_.key_prefix + ":" + spec.id : spec.key;
      ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(key));
      std::optional<store::SeriesInfo> stored;
      if (auto g = store_.series().GetSeries(key); g.ok()) stored = *g;
      store::SeriesInfo info;
      info.key = key;
      std::optional<Frequency> freq = spec.metadata.frequency;
      if (stored) {
        info = *stored;
        if (!freq) freq = stored->frequency;
      } else if (!freq) {
        // Only a new series without a configured `frequency:` needs fred/series (for its
        // frequency; title, units and seasonal adjustment come along). With `frequency:` the
        // descriptive fields are the configured ones (docs/connectors.md).

        const std::string url = Query()
                                    .Add("series_id", spec.id)
                                    .Add("api_key", api_key_)
                                    .Add("file_type", "json")
                                    .On(src_.base_url + "/fred/series");
        ALMANAC_ASSIGN_OR_RETURN(HttpResponse r, Fetch(url, "JSON", nullptr));
        ALMANAC_ASSIGN_OR_RETURN(FredSeriesMeta m, ParseFredSeries(r.body, Name(url)));
        info.title = m.title;
        info.unit = m.units;
        info.seasonal_adjustment = m.seasonal_adjustment;
        freq = m.frequency;
      }
      info.frequency = *freq;
      info.source = src_.name;
      ParsedSeries ps;
      ps.info = info;
      const int64_t limit = src_.page_size > 0 ? src_.page_size : 100000;
      int64_t offset = 0;
      std::optional<Validator> validator;
      bool unchanged = false;
      for (int64_t page = 0;; ++page) {
        Query q;
        q.Add("series_id", spec.id).Add("api_key", api_key_).Add("file_type", "json");
        if (alfred) {
          std::string rs = src_.realtime_start.empty() ? "1776-07-04" : src_.realtime_start;
          if (opt_.since) rs = opt_.since->ToString();
          q.Add("realtime_start", rs).Add("realtime_end", src_.realtime_end.empty() ? "9999-12-31" : src_.realtime_end);
        } else if (opt_.since) {
          q.Add("observation_start", opt_.since->ToString());
        }
        if (!src_.start_period.empty() && !(opt_.since && !alfred)) q.Add("observation_start", src_.start_period);
        for (const auto& [k, v] : src_.params) q.Add(k, v);
        q.Add("limit", std::to_string(limit)).Add("offset", std::to_string(offset));
        const std::string url = q.On(src_.base_url + "/fred/series/observations");
        if (page == 0) validator = LookupValidator(url);
        ALMANAC_ASSIGN_OR_RETURN(HttpResponse r, Fetch(url, "JSON", page == 0 ? &*validator : nullptr));
        if (r.not_modified()) {
          unchanged = true;
          break;
        }
        ALMANAC_ASSIGN_OR_RETURN(FredObservationsPage p, ParseFredObservations(r.body, Name(url)));
        for (size_t i = 0; i < p.observations.size(); ++i) {
          const auto& o = p.observations[i];
          auto period = Period::FromDate(o.date, *freq);
          if (!period.ok() || (period->StartDate() != o.date && *freq != Frequency::kWeekly))
            return InvalidArgumentError(Name(url) + ": observation " + std::to_string(offset + static_cast<int64_t>(i)) +
                                        ": date " + o.date.ToString() + " does not start a period of frequency " +
                                        std::string(FrequencyCode(*freq)));
          std::optional<Date> rt;
          if (o.realtime_start != Date()) rt = o.realtime_start;
          ps.observations.push_back({*period, o.value, rt});
        }
        offset += static_cast<int64_t>(p.observations.size());
        if (p.observations.empty() || offset >= p.count) {
          validator->pages = page + 1;
          break;
        }
      }
      if (unchanged) {
        ++result_.series_unchanged;
        continue;
      }
      validators_.push_back(*validator);
      Keep({std::move(ps)}, &spec);
    }
    return Status::Ok();
  }

  // ---------------------------------------------------------------- SDMX

  Status FetchSdmx() {
    const bool csv = src_.format == "csv";
    for (const auto& spec : src_.series) {
      const size_t slash = spec.id.find('/');
      if (slash == std::string::npos || slash == 0)
        return InvalidArgumentError("series " + QuoteForMessage(spec.id) + ": an SDMX series id is FLOW/KEY (e.g. EXR/D.USD.EUR.SP00.A)");
      const std::string flow = spec.id.substr(0, slash);
      Query q;
      q.Add("startPeriod", src_.start_period);
      q.Add("updatedAfter", opt_.since ? opt_.since->ToString() : src_.updated_after);
      for (const auto& [k, v] : src_.params) q.Add(k, v);
      const std::string url = q.On(src_.base_url + "/data/" + UrlEncode(flow, true) + "/" + UrlEncode(spec.id.substr(slash + 1), true));
      Validator v = *LookupValidator(url);
      std::vector<std::string> headers = {csv ? "Accept: application/vnd.sdmx.data+csv;version=1.0.0, text/csv;q=0.9"
                                              : "Accept: application/vnd.sdmx.data+json;version=1.0.0, application/json;q=0.9"};
      ALMANAC_ASSIGN_OR_RETURN(HttpResponse r, Fetch(url, csv ? "CSV" : "JSON", &v, headers));
      if (r.not_modified()) {
        ++result_.series_unchanged;
        continue;
      }
      SdmxParseOptions po;
      po.key_prefix = src_.key_prefix;
      po.name = Name(url);
      po.flow = flow;
      std::vector<ParsedSeries> series;
      if (csv) {
        ALMANAC_ASSIGN_OR_RETURN(series, ParseSdmxCsv(r.body, po));
      } else {
        ALMANAC_ASSIGN_OR_RETURN(series, ParseSdmxJson(r.body, po));
      }
      if (!spec.key.empty()) {
        if (series.size() != 1)
          return InvalidArgumentError(po.name + ": series " + spec.id + " has key " + spec.key + " but the query returned " +
                                      std::to_string(series.size()) + " series (a key needs exactly one)");
        series[0].info.key = spec.key;
      }
      for (auto& s : series) {
        ALMANAC_RETURN_IF_ERROR_CTX(ValidateSeriesKey(s.info.key), po.name);
        s.info.source = src_.name;
      }
      validators_.push_back(v);
      Keep(std::move(series), &spec);
    }
    return Status::Ok();
  }

  // ---------------------------------------------------------------- World Bank

  Status FetchWorldBank() {
    for (const auto& spec : src_.series) {
      std::string indicator = spec.id, country = src_.country;
      if (size_t slash = spec.id.find('/'); slash != std::string::npos) {
        indicator = spec.id.substr(0, slash);
        country = spec.id.substr(slash + 1);
      }
      std::map<std::string, ParsedSeries> merged;
      std::vector<std::string> order;
      Validator validator;
      bool unchanged = false;
      for (int64_t page = 1;; ++page) {
        Query q;
        q.Add("format", "json").Add("per_page", std::to_string(src_.page_size > 0 ? src_.page_size : 20000));
        q.Add("page", std::to_string(page));
        if (opt_.since) q.Add("date", std::to_string(opt_.since->year()) + ":9999");
        else if (!src_.start_period.empty()) q.Add("date", src_.start_period + ":9999");
        for (const auto& [k, v] : src_.params) q.Add(k, v);
        const std::string url = q.On(src_.base_url + "/country/" + UrlEncode(country) + "/indicator/" + UrlEncode(indicator));
        if (page == 1) validator = *LookupValidator(url);
        ALMANAC_ASSIGN_OR_RETURN(HttpResponse r, Fetch(url, "JSON", page == 1 ? &validator : nullptr));
        if (r.not_modified()) {
          unchanged = true;
          break;
        }
        ALMANAC_ASSIGN_OR_RETURN(WorldBankPage p, ParseWorldBankPage(r.body, src_.key_prefix, Name(url)));
        for (auto& s : p.series) {
          auto it = merged.find(s.info.key);
          if (it == merged.end()) {
            order.push_back(s.info.key);
            merged.emplace(s.info.key, std::move(s));
          } else {
            auto& obs = it->second.observations;
            obs.insert(obs.end(), s.observations.begin(), s.observations.end());
          }
        }
        if (p.pages <= page) {
          validator.pages = page;
          break;
        }
        if (page > 10000) return InvalidArgumentError(Name(url) + ": more than 10000 pages");
      }
      if (unchanged) {
        ++result_.series_unchanged;
        continue;
      }
      std::vector<ParsedSeries> series;
      for (const auto& k : order) {
        auto& s = merged[k];
        ALMANAC_RETURN_IF_ERROR(ValidateSeriesKey(s.info.key));
        s.info.source = src_.name;
        std::sort(s.observations.begin(), s.observations.end(),
                  [](const ParsedObservation& a, const ParsedObservation& b) { return a.period < b.period; });
        series.push_back(std::move(s));
      }
      if (!spec.key.empty()) {
        if (series.size() != 1)
          return InvalidArgumentError("series " + spec.id + " has key " + spec.key + " but the query returned " +
                                      std::to_string(series.size()) + " series");
        series[0].info.key = spec.key;
      }
      validators_.push_back(validator);
      Keep(std::move(series), &spec);
    }
    return Status::Ok();
  }

  // ---------------------------------------------------------------- generic HTTP

  Status FetchGeneric() {
    const bool csv = src_.type == SourceType::kHttpCsv;
    Query q;
    for (const auto& [k, v] : src_.params) q.Add(k, v);
    const std::string url = q.On(src_.base_url);
    Validator v = *LookupValidator(url);
    ALMANAC_ASSIGN_OR_RETURN(HttpResponse r, Fetch(url, csv ? "CSV" : "JSON", &v));
    if (r.not_modified()) {
      ++result_.series_unchanged;
      return Status::Ok();
    }
    std::vector<ParsedSeries> series;
    if (csv) {
      ALMANAC_ASSIGN_OR_RETURN(series, ParseMappedCsv(r.body, src_.mapping, Name(url)));
    } else {
      ALMANAC_ASSIGN_OR_RETURN(series, ParseMappedJson(r.body, src_.mapping, Name(url)));
    }
    validators_.push_back(v);
    for (auto& s : series) {
      s.info.source = src_.name;
      const SeriesSpec* spec = nullptr;
      for (const auto& sp : src_.series)
        if (sp.key == s.info.key || src_.key_prefix + ":" + sp.id == s.info.key || sp.id == s.info.key) spec = &sp;
      std::vector<ParsedSeries> one;
      one.push_back(std::move(s));
      Keep(std::move(one), spec);
    }
    return Status::Ok();
  }

  // ---------------------------------------------------------------- storing

  Status Store() {
    if (fetched_.empty()) return Status::Ok();
    const Date today = SystemClock().Today();
    for (auto& s : fetched_) {
      const SeriesSpec* spec = specs_[s.info.key];
      if (spec != nullptr) {
        const SeriesMetadata& m = spec->metadata;
        if (!m.title.empty()) s.info.title = m.title;
        if (!m.unit.empty()) s.info.unit = m.unit;
        if (!m.seasonal_adjustment.empty()) s.info.seasonal_adjustment = m.seasonal_adjustment;
      }
      const ValidationRules rules = spec != nullptr ? Merge(src_.rules, spec->rules) : src_.rules;
      Status v = ValidateSeries(s, rules, store_.series(), today);
      if (v.ok()) continue;
      if (v.code() != StatusCode::kInvalidArgument || !opt_.quarantine) return v.WithContext("source " + src_.name);
      result_.violations.push_back(v.message());
    }
    if (!result_.violations.empty()) return Quarantine();
    store::LoadOptions lo;
    lo.loader = opt_.loader;
    lo.source = "source:" + src_.name + " " + client_->Redact(src_.base_url);
    lo.audit_details = Json{{"connector", std::string(SourceTypeName(src_.type))},
                            {"source", src_.name},
                            {"base_url", client_->Redact(src_.base_url)},
                            {"requests", result_.requests},
                            {"not_modified", result_.not_modified},
                            {"bytes", result_.bytes}};
    // The session holds the store's write lock until destroyed: commit in its own scope.
    ALMANAC_RETURN_IF_ERROR(CommitLoad(lo));
    result_.committed = true;
    // Validators only after the commit: a failed load must be fetched in full next time.
    Status vs = store_.metadata().Run([&](store::MetadataTxn& t) -> Status {
      for (const auto& v : validators_) {
        if (v.etag.empty() && v.last_modified.empty()) continue;
        store::CacheEntry e;
        e.key = v.cache_key;
        e.step = "http_validator:" + src_.name;
        e.run_id = "load-" + std::to_string(result_.report.load_id);
        e.outputs = Json{{"url", v.url}, {"etag", v.etag}, {"last_modified", v.last_modified}, {"pages", v.pages}};
        e.created_at = t.clock().NowMicros();
        ALMANAC_RETURN_IF_ERROR(t.PutCache(e));
      }
      return Status::Ok();
    });
    // The data is stored; losing validators only costs a full fetch next time.
    (void)vs;
    return Status::Ok();
  }

  // Keeps the whole load out of the series, in the quarantine, with its violations. An
  // identical load already pending (the provider sends the same bad data again) is not kept
  // twice. HTTP validators are not updated: the next load fetches the source in full.
  Status Quarantine() {
    store::QuarantineRecord q;
    q.source = src_.name;
    q.reasons = result_.violations;
    for (const auto& s : fetched_) {
      q.series.push_back(s.info.key);
      q.observations += static_cast<int64_t>(s.observations.size());
    }
    q.payload = EncodeQuarantinePayload(fetched_);
    q.payload_sha256 = Sha256Hex(q.payload);
    q.created_by = opt_.loader;
    return store_.metadata().Run([&](store::MetadataTxn& t) -> Status {
      result_.quarantine_repeat = false;
      ALMANAC_ASSIGN_OR_RETURN(auto pending, t.ListQuarantine({store::QuarantineState::kPending}));
      for (const auto& p : pending) {
        if (p.source == q.source && p.payload_sha256 == q.payload_sha256) {
          result_.quarantine_id = p.id;
          result_.quarantine_repeat = true;
        }
      }
      if (!result_.quarantine_repeat) {
        q.created_at = t.clock().NowMicros();
        ALMANAC_ASSIGN_OR_RETURN(result_.quarantine_id, t.InsertQuarantine(q));
      }
      store::AuditEvent ev;
      ev.actor = opt_.loader;
      ev.action = "load.quarantine";
      ev.object_type = "quarantine";
      ev.object_id = std::to_string(result_.quarantine_id);
      ev.details = Json{{"source", src_.name},
                        {"base_url", client_->Redact(src_.base_url)},
                        {"reasons", q.reasons},
                        {"series", static_cast<int64_t>(q.series.size())},
                        {"observations", q.observations},
                        {"payload_sha256", q.payload_sha256},
                        {"repeat", result_.quarantine_repeat}};
      return t.Audit(ev).status();
    });
  }

  Status CommitLoad(const store::LoadOptions& lo) {
    ALMANAC_ASSIGN_OR_RETURN(auto session, store_.series().BeginLoad(lo));
    for (const auto& s : fetched_) {
      ALMANAC_RETURN_IF_ERROR_CTX(session->DeclareSeries(s.info), "source " + src_.name);
      for (const auto& o : s.observations) {
        ALMANAC_RETURN_IF_ERROR_CTX(session->Add(s.info.key, o.period, o.value, o.realtime_start),
                                    "source " + src_.name + ", series " + s.info.key + ", " + o.period.ToString());
      }
    }
    session->SetSourceHash(payload_hash_.HexDigest());
    ALMANAC_ASSIGN_OR_RETURN(result_.report, session->Commit());
    return Status::Ok();
  }

  const SourceConfig& src_;
  const SourceLoadOptions& opt_;
  store::Store& store_;
  std::unique_ptr<HttpClient> client_;
  std::string api_key_;
  SourceLoadResult result_;
  SourceProgress progress_;
  std::vector<ParsedSeries> fetched_;
  std::map<std::string, const SeriesSpec*> specs_;
  std::vector<Validator> validators_;
  Sha256 payload_hash_;
};

}  // namespace

Status ValidateSeries(const ParsedSeries& s, const ValidationRules& rules, store::SeriesStore& store, Date today) {
  const std::string& key = s.info.key;
  if (rules.frequency && *rules.frequency != s.info.frequency)
    return InvalidArgumentError("series " + key + ": expected frequency " + std::string(FrequencyCode(*rules.frequency)) +
                                ", the source sends " + std::string(FrequencyCode(s.info.frequency)) + " (rule frequency)");
  for (const auto& o : s.observations) {
    if (!o.value) continue;
    if (rules.min && *o.value < *rules.min)
      return InvalidArgumentError("series " + key + ", " + o.period.ToString() + ": value " + FormatDouble(*o.value) +
                                  " is below the allowed minimum " + FormatDouble(*rules.min) + " (rule min)");
    if (rules.max && *o.value > *rules.max)
      return InvalidArgumentError("series " + key + ", " + o.period.ToString() + ": value " + FormatDouble(*o.value) +
                                  " is above the allowed maximum " + FormatDouble(*rules.max) + " (rule max)");
  }
  // The latest value per period in this load (highest realtime_start; unset counts as latest).
  std::map<Period, std::pair<std::optional<Date>, std::optional<double>>> latest;
  for (const auto& o : s.observations) {
    auto it = latest.find(o.period);
    if (it == latest.end() || !o.realtime_start || (it->second.first && *o.realtime_start >= *it->second.first))
      latest[o.period] = {o.realtime_start, o.value};
  }
  if (rules.max_revision) {
    auto stored = store.ReadAsOf(key, std::nullopt);
    if (stored.ok() && !stored->empty()) {
      for (const auto& [p, v] : latest) {
        if (!v.second || p < stored->start() || p > stored->end()) continue;
        auto old = stored->at(p);
        if (old && std::abs(*v.second - *old) > *rules.max_revision)
          return InvalidArgumentError("series " + key + ", " + p.ToString() + ": revision from " + FormatDouble(*old) +
                                      " to " + FormatDouble(*v.second) + " exceeds the maximum revision " +
                                      FormatDouble(*rules.max_revision) + " (rule max_revision)");
      }
    }
  }
  std::optional<Period> first, last;
  for (const auto& [p, v] : latest)
    if (v.second) {
      if (!first) first = p;
      last = p;
    }
  if (rules.max_staleness_days) {
    if (!last)
      return InvalidArgumentError("series " + key + ": no values at all (rule max_staleness_days)");
    const int64_t age = today - last->EndDate();
    if (age > *rules.max_staleness_days)
      return InvalidArgumentError("series " + key + ": the latest value is for " + last->ToString() + ", " +
                                  std::to_string(age) + " days old, more than " + std::to_string(*rules.max_staleness_days) +
                                  " (rule max_staleness_days)");
  }
  if (rules.max_gap && first) {
    int64_t run = 0;
    for (Period p = *first; p <= *last; p += 1) {
      auto it = latest.find(p);
      if (it == latest.end() || !it->second.second) {
        if (++run > *rules.max_gap)
          return InvalidArgumentError("series " + key + ": more than " + std::to_string(*rules.max_gap) +
                                      " consecutive missing periods ending at " + p.ToString() + " (rule max_gap)");
      } else {
        run = 0;
      }
    }
  }
  return Status::Ok();
}

Result<SourceLoadResult> LoadSource(const SourceConfig& source, const SourceLoadOptions& options, store::Store& store) {
  SourceLoader loader(source, options, store);
  return loader.Run();
}

}  // namespace almanac::data
