// init, ingest, series and snapshot commands.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "almanac/data.h"
#include "cli/commands.h"
#include "cli/exports.h"

namespace almanac::cli {
namespace {

Result<std::unique_ptr<Workspace>> OpenWs(const GlobalOptions& g, bool write) {
  ALMANAC_ASSIGN_OR_RETURN(auto ws, Workspace::Open(g.workspace));
  if (write) ALMANAC_RETURN_IF_ERROR(ws->LockForWrite());
  return ws;
}

Json ValueJson(std::optional<double> v) { return v ? Json(*v) : Json(nullptr); }

}  // namespace

std::string ShortId(const std::string& id) { return id.size() > 12 ? id.substr(0, 12) : id; }

Result<Json> MergeModelParams(Json base, const std::string& params_json, const std::vector<std::string>& params,
                              std::string_view example) {
  Json out = base.is_object() ? std::move(base) : Json::object();
  if (!params_json.empty()) {
    ALMANAC_ASSIGN_OR_RETURN(Json p, ParseJson(params_json));
    if (!p.is_object()) return InvalidArgumentError("--params must be a JSON object, e.g. '" + std::string(example) + "'");
    for (auto it = p.begin(); it != p.end(); ++it) out[it.key()] = it.value();
  }
  for (const auto& kv : params) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return InvalidArgumentError("--param " + QuoteForMessage(kv) + ": expected KEY=VALUE");
    const std::string key = kv.substr(0, eq), text = kv.substr(eq + 1);
    auto parsed = ParseJson(text);
    out[key] = parsed.ok() ? *parsed : Json(text);
  }
  return out;
}

int ReportError(const Status& s) {
  std::cerr << "almanac: error: " << s.message() << "\n";
  switch (s.code()) {
    case StatusCode::kInternal:
    case StatusCode::kUnimplemented:
    case StatusCode::kDataLoss:
      return kExitInternal;
    default:
      return kExitUser;
  }
}

int RunInit(const GlobalOptions& g) {
  auto ws = Workspace::Init(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  if (!g.quiet) {
    if ((*ws)->shared()) std::cout << "Initialised almanac store in " << (*ws)->path() << "\n";
    else std::cout << "Initialised almanac workspace at " << (*ws)->path() << "\n";
  }
  return kExitOk;
}

int RunMigrate(const GlobalOptions& g, const MigrateArgs& a) {
  namespace fs = std::filesystem;
  if (!store::IsPostgresUri(a.to))
    return ReportError(InvalidArgumentError("--to must be a postgresql:// URI, not " + QuoteForMessage(a.to)));
  // A workspace folder, or sqlite:PATH (its artifacts beside it, in artifacts/).
  std::string db = a.from;
  if (db.rfind("sqlite:", 0) == 0) {
    db = db.substr(7);
    if (db.rfind("//", 0) == 0) db = db.substr(2);
  } else if (fs::is_directory(db)) {
    db = (fs::path(db) / "almanac.db").string();
  }
  if (!fs::is_regular_file(db))
    return ReportError(NotFoundError("no SQLite almanac store at " + db + " (--from takes a workspace folder or sqlite:PATH)"));
  const std::string artifacts = (fs::path(db).parent_path() / "artifacts").string();
  auto progress = [&](const std::string& line) {
    if (!g.quiet) std::cerr << line << "\n";
  };
  auto report = store::CopySqliteToPostgres(db, artifacts, a.to, progress);
  if (!report.ok()) return ReportError(report.status());
  Table t{{"table", "rows"}, {}};
  for (const auto& [table, n] : report->tables) t.Add({table, n});
  t.Add({"artifacts", report->artifacts});
  Print(std::cout, t, g.format);
  if (!g.quiet && g.format == OutputFormat::kTable)
    std::cout << "verified: row counts, audit chain (" << report->audit_entries << " entries, head "
              << report->audit_head.substr(0, 16) << "), " << report->snapshots_verified << " snapshots, "
              << report->series_verified << " series, " << report->artifacts_verified << " referenced artifacts\n";
  return kExitOk;
}

int RunIngest(const GlobalOptions& g, const IngestArgs& a) {
  data::IngestOptions opts;
  opts.loader = g.user;
  opts.series_key = a.series;
  opts.any_day_in_period = a.any_day;
  auto fmt = data::ParseFileFormat(a.format);
  if (!fmt.ok()) return ReportError(fmt.status());
  opts.format = *fmt;
  auto delimiter = data::ParseDelimiter(a.delimiter);
  if (!delimiter.ok()) return ReportError(delimiter.status().WithContext("--delimiter"));
  opts.delimiter = *delimiter;
  auto decimal = data::ParseDecimalMark(a.decimal);
  if (!decimal.ok()) return ReportError(decimal.status().WithContext("--decimal"));
  auto thousands = data::ParseThousandsSeparator(a.thousands);
  if (!thousands.ok()) return ReportError(thousands.status().WithContext("--thousands"));
  if (*decimal == *thousands)
    return ReportError(InvalidArgumentError(std::string("--decimal and --thousands are both '") + *decimal + "'"));
  opts.numbers = data::NumberFormat{*decimal, *thousands};
  if (!a.frequency.empty()) {
    auto f = ParseFrequency(a.frequency);
    if (!f.ok()) return ReportError(f.status().WithContext("--frequency"));
    opts.defaults.frequency = *f;
  }
  opts.defaults.title = a.title;
  opts.defaults.unit = a.unit;
  opts.defaults.seasonal_adjustment = a.seasonal_adjustment;
  opts.defaults.source = a.source;
  if (!a.series.empty()) {
    Status ks = ValidateSeriesKey(a.series);
    if (!ks.ok()) return ReportError(ks.WithContext("--series"));
  }
  if (!a.metadata_file.empty()) {
    auto m = data::ReadMetadataFile(a.metadata_file);
    if (!m.ok()) return ReportError(m.status());
    opts.metadata = std::move(*m);
  }
  auto rt = OptionalDate(a.realtime_start, "--realtime-start");
  if (!rt.ok()) return ReportError(rt.status());
  opts.realtime_start = *rt;
  const bool tty = ::isatty(2);
  if (!g.quiet) {
    opts.progress = [tty](const data::IngestProgress& p) {
      if (p.seconds < 2) return;
      char buf[160];
      const double mb = p.bytes / 1048576.0;
      if (p.total_bytes > 0)
        std::snprintf(buf, sizeof(buf), "ingest: %lld rows, %.1f of %.1f MiB (%.0f%%), %.2f M rows/s",
                      static_cast<long long>(p.rows), mb, p.total_bytes / 1048576.0, 100.0 * p.bytes / p.total_bytes,
                      p.rows / p.seconds / 1e6);
      else
        std::snprintf(buf, sizeof(buf), "ingest: %lld rows, %.1f MiB, %.2f M rows/s", static_cast<long long>(p.rows), mb,
                      p.rows / p.seconds / 1e6);
      std::cerr << (tty ? "\r" : "") << buf << (tty ? "" : "\n") << std::flush;
    };
  }
  auto ws = OpenWs(g, true);
  if (!ws.ok()) return ReportError(ws.status());
  Table t{{"file", "format", "rows", "series", "new_series", "unchanged_series", "vintages", "observations", "sha256"}, {}};
  for (const auto& file : a.files) {
    auto r = data::IngestFile(file, opts, (*ws)->store().series());
    if (tty && !g.quiet) std::cerr << "\r\033[K" << std::flush;
    if (!r.ok()) return ReportError(r.status());
    if (!g.quiet)
      for (const auto& note : r->notes) std::cerr << "almanac: note: " << note << "\n";
    const auto& rep = r->report;
    t.Add({file, std::string(data::FileFormatName(r->format)), rep.rows_read, rep.series_seen, rep.series_created,
           rep.series_unchanged, rep.vintages_created, rep.observations_written, r->source_hash});
  }
  if (!g.quiet) Print(std::cout, t, g.format);
  return kExitOk;
}

int RunSeriesList(const GlobalOptions& g) {
  auto ws = OpenWs(g, false);
  if (!ws.ok()) return ReportError(ws.status());
  auto list = (*ws)->store().series().ListSeries();
  if (!list.ok()) return ReportError(list.status());
  if (g.format == OutputFormat::kJson) {  // the API's object (GET /v1/series)
    std::cout << PrettyJson(store::SeriesListJson(*list)) << "\n";
    return kExitOk;
  }
  Table t{{"key", "frequency", "title", "unit", "seasonal_adjustment", "source"}, {}};
  for (const auto& s : *list)
    t.Add({s.key, std::string(FrequencyCode(s.frequency)), s.title, s.unit, s.seasonal_adjustment, s.source});
  Print(std::cout, t, g.format);
  return kExitOk;
}

namespace {

// The `series` sheet of a workbook: the series' metadata.
XlsxTable SeriesMetadataSheet(const std::vector<store::SeriesInfo>& infos,
                              const std::vector<const TimeSeries*>& values) {
  XlsxTable t{"series",
              {"key", "frequency", "title", "unit", "seasonal_adjustment", "source", "first", "last", "observations"},
              {},
              {}};
  for (size_t i = 0; i < infos.size(); ++i) {
    const auto& s = infos[i];
    const TimeSeries* v = values[i];
    const bool empty = v == nullptr || v->empty();
    t.rows.push_back({s.key, std::string(FrequencyCode(s.frequency)), s.title, s.unit, s.seasonal_adjustment, s.source,
                      empty ? Json(nullptr) : Json(v->start().ToString()),
                      empty ? Json(nullptr) : Json(v->end().ToString()),
                      v == nullptr ? Json(nullptr) : Json(v->size() - v->CountMissing())});
  }
  return t;
}

// Writes a matrix to -o FILE or standard output: CSV, or the result table in --format.
Status PrintMatrix(const GlobalOptions& g, const PeriodMatrix& m, const std::string& output) {
  ALMANAC_ASSIGN_OR_RETURN(auto target, OutputTarget::Open(output));
  std::ostream& out = target->stream();
  if (g.format == OutputFormat::kCsv)
    WriteMatrixCsv(out, m);
  else
    Print(out, MatrixTable(m), g.format);
  out.flush();
  if (!out)
    return ResourceExhaustedError("writing " + (output.empty() || output == "-" ? std::string("the output") : output) +
                                  " failed");
  return Status::Ok();
}

Status SeriesShow(const GlobalOptions& g, const SeriesShowArgs& a) {
  ALMANAC_ASSIGN_OR_RETURN(std::optional<Date> as_of, ParseAsOfOption(a.as_of));
  ALMANAC_ASSIGN_OR_RETURN(bool xlsx, WantsXlsx(a.output, a.xlsx));
  if (xlsx && g.format == OutputFormat::kJson)
    return InvalidArgumentError("--format json and an .xlsx workbook exclude each other");
  ALMANAC_ASSIGN_OR_RETURN(auto ws, OpenWs(g, false));
  store::SeriesStore& series = ws->store().series();
  ALMANAC_ASSIGN_OR_RETURN(store::SeriesInfo info, series.GetSeries(a.key));
  if (a.vintages) {
    std::vector<Date> dates;
    ALMANAC_ASSIGN_OR_RETURN(PeriodMatrix m, VintageMatrix(series, a.key, as_of, &dates));
    if (m.empty()) return FailedPreconditionError("series " + a.key + " has no observations in any vintage");
    if (!xlsx) return PrintMatrix(g, m, a.output);
    ALMANAC_ASSIGN_OR_RETURN(std::vector<store::VintageInfo> vs, series.ListVintages(a.key));
    XlsxTable list{
        "vintage_list",
        {"realtime_start", "vintage", "loaded_at", "kind", "observations", "loader", "source", "source_sha256"},
        {},
        {0}};
    for (const auto& v : vs)
      if (!as_of || v.realtime_start <= *as_of)
        list.rows.push_back({v.realtime_start.ToString(), v.id, FormatTimestamp(v.loaded_at), v.kind,
                             v.num_observations, v.loader, v.source, v.source_hash});
    return WriteXlsx(a.output, {{"vintages", &m}}, {SeriesMetadataSheet({info}, {nullptr}), list});
  }
  ALMANAC_ASSIGN_OR_RETURN(TimeSeries ts, series.ReadAsOf(a.key, as_of));
  if (a.wide || xlsx) {
    if (ts.empty())
      return FailedPreconditionError("series " + a.key + " has no observations as of " +
                                     (as_of ? as_of->ToString() : std::string("now")) + ": nothing to export");
    const PeriodMatrix m = SeriesWideMatrix(a.key, ts);
    if (!xlsx) return PrintMatrix(g, m, a.output);
    return WriteXlsx(a.output, {{"data", &m}}, {SeriesMetadataSheet({info}, {&ts})});
  }
  ALMANAC_ASSIGN_OR_RETURN(auto target, OutputTarget::Open(a.output));
  std::ostream& out = target->stream();
  if (g.format == OutputFormat::kJson) {  // the API's object (GET /v1/series/{key}): columnar
    out << PrettyJson(store::SeriesJson(info, ts, as_of)) << "\n";
    return Status::Ok();
  }
  if (g.format == OutputFormat::kTable) {
    out << "# " << info.key << " (" << FrequencyCode(info.frequency) << ")"
        << (info.title.empty() ? "" : " " + info.title) << (info.unit.empty() ? "" : ", " + info.unit) << ", as of "
        << (as_of ? as_of->ToString() : std::string("latest")) << "\n";
  }
  Table t{{"period", "value"}, {}};
  for (int64_t i = 0; i < ts.size(); ++i) t.Add({ts.PeriodAt(i).ToString(), ValueJson(ts.at(i))});
  Print(out, t, g.format);
  return Status::Ok();
}

}  // namespace

int RunSeriesShow(const GlobalOptions& g, const SeriesShowArgs& a) {
  Status s = SeriesShow(g, a);
  return s.ok() ? kExitOk : ReportError(s);
}

int RunSeriesVintages(const GlobalOptions& g, const std::string& key) {
  auto ws = OpenWs(g, false);
  if (!ws.ok()) return ReportError(ws.status());
  auto vs = (*ws)->store().series().ListVintages(key);
  if (!vs.ok()) return ReportError(vs.status());
  if (g.format == OutputFormat::kJson) {  // the API's object (GET /v1/series/{key}/vintages)
    std::cout << PrettyJson(store::VintagesJson(key, *vs)) << "\n";
    return kExitOk;
  }
  Table t{{"vintage", "realtime_start", "loaded_at", "kind", "observations", "loader", "source", "source_sha256"}, {}};
  for (const auto& v : *vs)
    t.Add({v.id, v.realtime_start.ToString(), FormatTimestamp(v.loaded_at), v.kind, v.num_observations, v.loader, v.source,
           v.source_hash});
  Print(std::cout, t, g.format);
  return kExitOk;
}

int RunSeriesHistory(const GlobalOptions& g, const std::string& key, const std::string& period_text) {
  auto ws = OpenWs(g, false);
  if (!ws.ok()) return ReportError(ws.status());
  auto info = (*ws)->store().series().GetSeries(key);
  if (!info.ok()) return ReportError(info.status());
  auto p = Period::Parse(period_text, info->frequency);
  if (!p.ok()) return ReportError(p.status());
  auto hist = (*ws)->store().series().RevisionHistory(key, *p);
  if (!hist.ok()) return ReportError(hist.status());
  Table t{{"realtime_start", "loaded_at", "vintage", "value"}, {}};
  for (const auto& e : *hist) t.Add({e.realtime_start.ToString(), FormatTimestamp(e.loaded_at), e.vintage_id, ValueJson(e.value)});
  Print(std::cout, t, g.format);
  return kExitOk;
}

int RunSnapshotCreate(const GlobalOptions& g, const SnapshotCreateArgs& a) {
  auto as_of = ParseAsOfOption(a.as_of);
  if (!as_of.ok()) return ReportError(as_of.status());
  auto ws = OpenWs(g, true);
  if (!ws.ok()) return ReportError(ws.status());
  store::SnapshotRequest req{a.name, SplitList(a.series), *as_of, g.user};
  auto info = (*ws)->store().series().CreateSnapshot(req);
  if (!info.ok()) return ReportError(info.status());
  if (g.format == OutputFormat::kJson) {
    PrintRecord(std::cout, {{"id", info->id}, {"name", info->name}, {"as_of", *as_of ? Json((*as_of)->ToString()) : Json(nullptr)},
                            {"series", info->num_series}, {"observations", info->num_observations}}, g.format);
  } else {
    std::cout << info->id << "\n";
    if (!g.quiet)
      std::cerr << "snapshot " << info->name << ": " << info->num_series << " series, " << info->num_observations
                << " observations, as of " << (*as_of ? (*as_of)->ToString() : std::string("latest")) << "\n";
  }
  return kExitOk;
}

int RunSnapshotList(const GlobalOptions& g) {
  auto ws = OpenWs(g, false);
  if (!ws.ok()) return ReportError(ws.status());
  auto list = (*ws)->store().series().ListSnapshots();
  if (!list.ok()) return ReportError(list.status());
  Table t{{"name", "id", "as_of", "series", "observations", "created_at", "created_by"}, {}};
  for (const auto& s : *list)
    t.Add({s.name, g.format == OutputFormat::kTable ? ShortId(s.id) : s.id, s.as_of ? Json(s.as_of->ToString()) : Json("latest"),
           s.num_series, s.num_observations, FormatTimestamp(s.created_at), s.created_by});
  Print(std::cout, t, g.format);
  return kExitOk;
}

int RunSnapshotShow(const GlobalOptions& g, const std::string& id) {
  auto ws = OpenWs(g, false);
  if (!ws.ok()) return ReportError(ws.status());
  auto snap = (*ws)->store().series().GetSnapshot(id);
  if (!snap.ok()) return ReportError(snap.status());
  const auto& i = snap->info;
  Table t{{"series", "frequency", "first", "last", "observations", "missing"}, {}};
  for (const auto& s : snap->series) {
    const bool empty = s.values.empty();
    t.Add({s.key, std::string(FrequencyCode(s.values.frequency())), empty ? Json(nullptr) : Json(s.values.start().ToString()),
           empty ? Json(nullptr) : Json(s.values.end().ToString()), s.values.size() - s.values.CountMissing(),
           s.values.CountMissing()});
  }
  if (g.format == OutputFormat::kJson) {
    Json series = Json::array();
    for (const auto& row : t.rows)
      series.push_back({{"key", row[0]}, {"frequency", row[1]}, {"first", row[2]}, {"last", row[3]}, {"observations", row[4]}, {"missing", row[5]}});
    std::cout << PrettyJson({{"id", i.id}, {"name", i.name}, {"as_of", i.as_of ? Json(i.as_of->ToString()) : Json(nullptr)},
                             {"created_at", FormatTimestamp(i.created_at)}, {"created_by", i.created_by}, {"series", series}})
              << "\n";
    return kExitOk;
  }
  if (g.format == OutputFormat::kTable) {
    PrintRecord(std::cout, {{"id", i.id}, {"name", i.name}, {"as_of", i.as_of ? i.as_of->ToString() : "latest"},
                            {"created_at", FormatTimestamp(i.created_at)}, {"created_by", i.created_by}}, g.format);
    std::cout << "\n";
  }
  Print(std::cout, t, g.format);
  return kExitOk;
}

namespace {

Status SnapshotExport(const GlobalOptions& g, const SnapshotExportArgs& a) {
  ALMANAC_ASSIGN_OR_RETURN(bool xlsx, WantsXlsx(a.output, a.xlsx));
  if ((xlsx || a.wide) && g.format == OutputFormat::kJson)
    return InvalidArgumentError(std::string("--format json writes the canonical content; it excludes ") +
                                (xlsx ? "an .xlsx workbook" : "--wide"));
  ALMANAC_ASSIGN_OR_RETURN(auto ws, OpenWs(g, false));
  ALMANAC_ASSIGN_OR_RETURN(store::Snapshot snap, ws->store().series().GetSnapshot(a.id));
  if (xlsx) {
    ALMANAC_ASSIGN_OR_RETURN(PeriodMatrix m, SnapshotWideMatrix(snap));
    std::vector<store::SeriesInfo> infos;
    std::vector<const TimeSeries*> values;
    for (const auto& s : snap.series) {
      ALMANAC_ASSIGN_OR_RETURN(store::SeriesInfo info, ws->store().series().GetSeries(s.key));
      infos.push_back(std::move(info));
      values.push_back(&s.values);
    }
    const auto& i = snap.info;
    XlsxTable about{"snapshot", {"field", "value"}, {}, {}};
    about.rows = {{"name", i.name},
                  {"id", i.id},
                  {"as_of", i.as_of ? Json(i.as_of->ToString()) : Json("latest")},
                  {"created_at", FormatTimestamp(i.created_at)},
                  {"created_by", i.created_by},
                  {"series", static_cast<int64_t>(snap.series.size())}};
    return WriteXlsx(a.output, {{"data", &m}}, {SeriesMetadataSheet(infos, values), about});
  }
  if (a.wide) {
    ALMANAC_ASSIGN_OR_RETURN(PeriodMatrix m, SnapshotWideMatrix(snap));
    ALMANAC_ASSIGN_OR_RETURN(auto target, OutputTarget::Open(a.output));
    WriteMatrixCsv(target->stream(), m);
    target->stream().flush();
    if (!target->stream()) return ResourceExhaustedError("writing the export failed");
    return Status::Ok();
  }
  ALMANAC_ASSIGN_OR_RETURN(auto target, OutputTarget::Open(a.output));
  std::ostream* out = &target->stream();
  if (g.format == OutputFormat::kJson) {
    // The canonical content: hashing this output (without the final newline) gives the id.
    ALMANAC_ASSIGN_OR_RETURN(std::string bytes, store::SnapshotCanonicalContent(snap.series));
    *out << bytes << "\n";
  } else {
    *out << "series,period,value\n";
    for (const auto& s : snap.series)
      for (int64_t k = 0; k < s.values.size(); ++k) {
        auto v = s.values.at(k);
        *out << s.key << "," << s.values.PeriodAt(k).ToString() << "," << (v ? FormatDouble(*v) : ".") << "\n";
      }
  }
  out->flush();
  if (!*out) return ResourceExhaustedError("writing the export failed");
  return Status::Ok();
}

}  // namespace

int RunSnapshotExport(const GlobalOptions& g, const SnapshotExportArgs& a) {
  Status s = SnapshotExport(g, a);
  return s.ok() ? kExitOk : ReportError(s);
}

int RunSnapshotDiff(const GlobalOptions& g, const std::string& a_id, const std::string& b_id) {
  auto ws = OpenWs(g, false);
  if (!ws.ok()) return ReportError(ws.status());
  auto a = (*ws)->store().series().GetSnapshot(a_id);
  if (!a.ok()) return ReportError(a.status());
  auto b = (*ws)->store().series().GetSnapshot(b_id);
  if (!b.ok()) return ReportError(b.status());
  std::map<std::string, const TimeSeries*> sa, sb;
  for (const auto& s : a->series) sa[s.key] = &s.values;
  for (const auto& s : b->series) sb[s.key] = &s.values;
  Table t{{"series", "period", "change", "a", "b"}, {}};
  std::map<std::string, int> keys;
  for (const auto& [k, v] : sa) keys[k] |= 1;
  for (const auto& [k, v] : sb) keys[k] |= 2;
  for (const auto& [k, where] : keys) {
    if (where == 1) {
      t.Add({k, nullptr, "series removed", nullptr, nullptr});
      continue;
    }
    if (where == 2) {
      t.Add({k, nullptr, "series added", nullptr, nullptr});
      continue;
    }
    const TimeSeries& x = *sa[k];
    const TimeSeries& y = *sb[k];
    if (x.frequency() != y.frequency()) {
      t.Add({k, nullptr, "frequency changed", std::string(FrequencyCode(x.frequency())), std::string(FrequencyCode(y.frequency()))});
      continue;
    }
    std::map<int64_t, std::pair<std::optional<std::optional<double>>, std::optional<std::optional<double>>>> cells;
    for (int64_t i = 0; i < x.size(); ++i) cells[x.PeriodAt(i).ordinal()].first = x.at(i);
    for (int64_t i = 0; i < y.size(); ++i) cells[y.PeriodAt(i).ordinal()].second = y.at(i);
    for (const auto& [ord, ab] : cells) {
      const Period p(x.frequency(), ord);
      if (!ab.first) t.Add({k, p.ToString(), "added", nullptr, ValueJson(*ab.second)});
      else if (!ab.second) t.Add({k, p.ToString(), "removed", ValueJson(*ab.first), nullptr});
      else if (*ab.first != *ab.second) t.Add({k, p.ToString(), "changed", ValueJson(*ab.first), ValueJson(*ab.second)});
    }
  }
  if (g.format == OutputFormat::kTable && t.rows.empty()) {
    std::cout << "snapshots " << ShortId(a->info.id) << " and " << ShortId(b->info.id) << " hold the same data\n";
    return kExitOk;
  }
  Print(std::cout, t, g.format);
  return kExitOk;
}

}  // namespace almanac::cli
