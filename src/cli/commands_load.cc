// almanac load: fetch the sources of a YAML source configuration into the workspace.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "almanac/data.h"
#include "cli/commands.h"

namespace almanac::cli {

int RunLoad(const GlobalOptions& g, const LoadArgs& a) {
  auto cfg = data::ReadLoadConfig(a.config);
  if (!cfg.ok()) return ReportError(cfg.status());
  std::vector<const data::SourceConfig*> chosen;
  std::vector<std::string> names;
  for (const auto& s : cfg->sources) {
    names.push_back(s.name);
    if (a.sources.empty() || std::find(a.sources.begin(), a.sources.end(), s.name) != a.sources.end())
      chosen.push_back(&s);
  }
  for (const auto& want : a.sources) {
    if (std::find(names.begin(), names.end(), want) == names.end()) {
      std::string msg = a.config + " has no source " + QuoteForMessage(want);
      std::string hint = DidYouMean(want, names);
      if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
      return ReportError(NotFoundError(msg));
    }
  }
  data::SourceLoadOptions opts;
  opts.loader = g.user;
  opts.force = a.force;
  opts.quarantine = !a.no_quarantine;
  auto since = OptionalDate(a.since, "--since");
  if (!since.ok()) return ReportError(since.status());
  opts.since = *since;
  const bool tty = ::isatty(2);
  if (!g.quiet) {
    opts.progress = [tty](const data::SourceProgress& p) {
      if (!tty && p.requests_done % 100 != 0) return;
      std::cerr << (tty ? "\r\033[K" : "") << "load " << p.source << ": " << p.requests_done << " requests ("
                << p.requests_total << " series), " << p.bytes / 1024 << " KiB" << (tty ? "" : "\n") << std::flush;
    };
  }
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  if (Status s = (*ws)->LockForWrite(); !s.ok()) return ReportError(s);
  Table t{{"source", "status", "requests", "not_modified", "bytes", "series_fetched", "series_unchanged", "vintages",
           "observations"},
          {}};
  int failed = 0;
  for (const auto* src : chosen) {
    auto r = data::LoadSource(*src, opts, (*ws)->store());
    if (tty && !g.quiet) std::cerr << "\r\033[K" << std::flush;
    if (!r.ok()) {
      ++failed;
      std::cerr << "almanac: error: " << r.status().message() << "\n";
      // A refused load is an outcome too: record it (the message is already redacted).
      store::AuditEvent ev;
      ev.actor = g.user;
      ev.action = "source.load_failed";
      ev.object_type = "source";
      ev.object_id = src->name;
      ev.details = Json{{"config", a.config}, {"code", std::string(StatusCodeName(r.status().code()))},
                        {"error", r.status().message()}};
      Status as = (*ws)->store().metadata().Run([&](store::MetadataTxn& txn) { return txn.Audit(ev).status(); });
      if (!as.ok()) std::cerr << "almanac: warning: could not audit the failure: " << as.message() << "\n";
      t.Add({src->name, "failed: " + std::string(StatusCodeName(r.status().code())), 0, 0, 0, 0, 0, 0, 0});
      continue;
    }
    if (r->quarantine_id > 0) {
      // Not an error of the tool, but the data did not arrive: scripts must notice (exit 1).
      ++failed;
      std::cerr << "almanac: source " << src->name << ": the load broke " << r->violations.size()
                << (r->violations.size() == 1 ? " validation rule" : " validation rules") << " and is quarantined as "
                << r->quarantine_id << (r->quarantine_repeat ? " (the same data is already pending there)" : "")
                << "; nothing was stored:\n";
      for (const auto& v : r->violations) std::cerr << "  " << v << "\n";
      std::cerr << "  review it with 'almanac quarantine show " << r->quarantine_id << "', then release or drop it\n";
      t.Add({src->name, "quarantined #" + std::to_string(r->quarantine_id), r->requests, r->not_modified, r->bytes,
             r->series_fetched, r->series_unchanged, 0, 0});
      continue;
    }
    t.Add({src->name, r->committed ? "loaded" : "unchanged", r->requests, r->not_modified, r->bytes, r->series_fetched,
           r->series_unchanged, r->report.vintages_created, r->report.observations_written});
  }
  if (!g.quiet || g.format != OutputFormat::kTable) Print(std::cout, t, g.format);
  return failed == 0 ? kExitOk : kExitUser;
}

int RunQuarantineList(const GlobalOptions& g, const QuarantineArgs& a) {
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  std::vector<store::QuarantineState> states;
  if (!a.all) states.push_back(store::QuarantineState::kPending);
  auto list = (*ws)->store().metadata().Transact<std::vector<store::QuarantineRecord>>(
      [&](store::MetadataTxn& t) { return t.ListQuarantine(states); });
  if (!list.ok()) return ReportError(list.status());
  Table t{{"id", "source", "state", "created_at", "created_by", "series", "observations", "first_reason", "decided_by",
           "decided_at"},
          {}};
  for (const auto& q : *list)
    t.Add({q.id, q.source, std::string(store::QuarantineStateName(q.state)), Ts(q.created_at), q.created_by,
           static_cast<int64_t>(q.series.size()), q.observations, q.reasons.empty() ? std::string() : q.reasons[0],
           q.decided_by, Ts(q.decided_at)});
  Print(std::cout, t, g.format);
  return kExitOk;
}

int RunQuarantineShow(const GlobalOptions& g, const QuarantineArgs& a) {
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  auto q = (*ws)->store().metadata().Transact<store::QuarantineRecord>(
      [&](store::MetadataTxn& t) { return t.GetQuarantine(a.id); });
  if (!q.ok()) return ReportError(q.status());
  auto series = data::DecodeQuarantinePayload(q->payload);
  if (!series.ok()) return ReportError(series.status().WithContext("quarantined load " + std::to_string(a.id)));
  // Per series: what arrived, next to what is stored now.
  Table t{{"series", "observations", "first", "last", "min", "max", "stored_latest_last"}, {}};
  for (const auto& s : *series) {
    std::optional<Period> first, last;
    double lo = 0, hi = 0;
    bool any = false;
    for (const auto& o : s.observations) {
      if (!first || o.period < *first) first = o.period;
      if (!last || *last < o.period) last = o.period;
      if (!o.value) continue;
      lo = any ? std::min(lo, *o.value) : *o.value;
      hi = any ? std::max(hi, *o.value) : *o.value;
      any = true;
    }
    Json stored = nullptr;
    auto cur = (*ws)->store().series().ReadAsOf(s.info.key, std::nullopt);
    if (cur.ok() && !cur->empty()) stored = cur->end().ToString();
    t.Add({s.info.key, static_cast<int64_t>(s.observations.size()), first ? Json(first->ToString()) : Json(nullptr),
           last ? Json(last->ToString()) : Json(nullptr), any ? Json(lo) : Json(nullptr), any ? Json(hi) : Json(nullptr),
           stored});
  }
  std::vector<std::pair<std::string, Json>> f = {
      {"id", q->id},
      {"source", q->source},
      {"state", std::string(store::QuarantineStateName(q->state))},
      {"created_at", Ts(q->created_at)},
      {"created_by", q->created_by},
      {"observations", q->observations},
      {"payload_sha256", q->payload_sha256}};
  if (q->state != store::QuarantineState::kPending) {
    f.emplace_back("decided_at", Ts(q->decided_at));
    f.emplace_back("decided_by", q->decided_by);
    f.emplace_back("decision_reason", q->decision_reason);
    if (q->load_id > 0) f.emplace_back("load_id", q->load_id);
  }
  if (g.format == OutputFormat::kJson) {
    Json j = Json::object();
    for (auto& [k, v] : f) j[k] = v;
    j["reasons"] = q->reasons;
    j["series"] = Json::array();
    for (const auto& row : t.rows) {
      Json o = Json::object();
      for (size_t i = 0; i < t.columns.size(); ++i) o[t.columns[i]] = row[i];
      j["series"].push_back(std::move(o));
    }
    std::cout << PrettyJson(j) << "\n";
    return kExitOk;
  }
  PrintRecord(std::cout, f, g.format);
  std::cout << "\nreasons:\n";
  for (const auto& r : q->reasons) std::cout << "  " << r << "\n";
  std::cout << "\n";
  Print(std::cout, t, g.format);
  return kExitOk;
}

int RunQuarantineRelease(const GlobalOptions& g, const QuarantineArgs& a) {
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  if (Status s = (*ws)->LockForWrite(); !s.ok()) return ReportError(s);
  data::QuarantineDecision d{g.user, a.reason, a.force};
  auto r = data::ReleaseQuarantined(a.id, d, (*ws)->store());
  if (!r.ok()) return ReportError(r.status());
  if (!g.quiet)
    std::cout << "released quarantined load " << a.id << " as load " << r->load_id << ": " << r->vintages_created
              << " vintages, " << r->observations_written << " observations\n";
  return kExitOk;
}

int RunQuarantineDrop(const GlobalOptions& g, const QuarantineArgs& a) {
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  if (Status s = (*ws)->LockForWrite(); !s.ok()) return ReportError(s);
  data::QuarantineDecision d{g.user, a.reason, false};
  if (Status s = data::DropQuarantined(a.id, d, (*ws)->store()); !s.ok()) return ReportError(s);
  if (!g.quiet) std::cout << "dropped quarantined load " << a.id << "; nothing was stored\n";
  return kExitOk;
}

}  // namespace almanac::cli

// ------------------------------------------------------------------------------ ingest --follow

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace almanac::cli {
namespace {

std::atomic<bool> g_follow_stop{false};
void OnStopSignal(int) { g_follow_stop = true; }

}  // namespace

int RunIngestFollow(const GlobalOptions& g, const IngestArgs& a) {
  if (a.files.size() != 1) {
    std::cerr << "almanac: error: --follow reads one stream: a FILE or '-'\n";
    return kExitUsage;
  }
  if (a.batch_lines < 1 || a.flush_ms < 1) {
    std::cerr << "almanac: error: --batch-lines and --flush-ms must be positive\n";
    return kExitUsage;
  }
  const std::string& path = a.files[0];
  int fd = 0;
  bool regular = false;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ReportError(NotFoundError("cannot open " + path));
    struct stat st {};
    regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  }
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  if (Status s = (*ws)->LockForWrite(); !s.ok()) return ReportError(s);
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  const std::string source = path == "-" ? "<stdin> (ndjson)" : path + " (ndjson)";
  std::string buf;
  std::vector<data::NdjsonRecord> batch;
  int64_t line_no = 0, first_line = 0, batches = 0, rejected = 0, records = 0, vintages = 0;
  int batch_count = 0;  // non-empty lines in the current batch, valid or not
  std::string batch_error;
  auto last_data = std::chrono::steady_clock::now();
  auto flush = [&]() {
    if (batch.empty() && batch_error.empty()) return;
    const std::string lines = "lines " + std::to_string(first_line) + "-" + std::to_string(line_no);
    if (batch_error.empty()) {
      auto r = data::IngestBatch(batch, g.user, source, (*ws)->store().series());
      if (!r.ok()) batch_error = r.status().message();
      else {
        ++batches;
        records += static_cast<int64_t>(batch.size());
        vintages += r->vintages_created;
        if (!g.quiet)
          std::cerr << "ingest: batch " << lines << ": " << batch.size() << " records, " << r->vintages_created
                    << " vintages\n";
      }
    }
    if (!batch_error.empty()) {
      ++rejected;
      std::cerr << "almanac: error: " << source << ": batch " << lines << " rejected, nothing stored: " << batch_error
                << "\n";
    }
    batch.clear();
    batch_error.clear();
    first_line = 0;
    batch_count = 0;
  };
  char chunk[65536];
  bool eof = false;
  while (!eof && !g_follow_stop) {
    pollfd p{fd, POLLIN, 0};
    const int ready = regular ? 1 : ::poll(&p, 1, 100);
    ssize_t n = 0;
    if (ready > 0) {
      n = ::read(fd, chunk, sizeof(chunk));
      if (n < 0 && errno != EINTR && errno != EAGAIN) {
        std::cerr << "almanac: error: reading " << path << ": " << std::strerror(errno) << "\n";
        break;
      }
      if (n == 0) {
        if (regular) std::this_thread::sleep_for(std::chrono::milliseconds(100));  // tail -f
        else eof = true;
      }
    }
    if (n > 0) {
      buf.append(chunk, static_cast<size_t>(n));
      last_data = std::chrono::steady_clock::now();
      size_t start = 0, nl;
      while ((nl = buf.find('\n', start)) != std::string::npos) {
        std::string_view line = Trim(std::string_view(buf).substr(start, nl - start));
        start = nl + 1;
        ++line_no;
        if (line.empty()) continue;
        if (first_line == 0) first_line = line_no;
        ++batch_count;
        if (batch_error.empty()) {
          auto rec = data::ParseNdjsonRecord(line);
          if (rec.ok()) batch.push_back(std::move(*rec));
          else batch_error = "line " + std::to_string(line_no) + ": " + rec.status().message();
        }
        if (batch_count >= a.batch_lines) flush();
      }
      buf.erase(0, start);
    }
    const auto idle = std::chrono::steady_clock::now() - last_data;
    if (eof || idle >= std::chrono::milliseconds(a.flush_ms)) flush();
  }
  if (!buf.empty() && !Trim(buf).empty()) {  // a last line without a newline
    ++line_no;
    if (first_line == 0) first_line = line_no;
    auto rec = data::ParseNdjsonRecord(Trim(buf));
    if (rec.ok()) batch.push_back(std::move(*rec));
    else if (batch_error.empty()) batch_error = "line " + std::to_string(line_no) + ": " + rec.status().message();
  }
  flush();
  if (fd > 0) ::close(fd);
  Table t{{"stream", "batches", "rejected_batches", "records", "vintages"}, {}};
  t.Add({path, batches, rejected, records, vintages});
  if (!g.quiet || g.format != OutputFormat::kTable) Print(std::cout, t, g.format);
  return rejected == 0 ? kExitOk : kExitUser;
}

}  // namespace almanac::cli
