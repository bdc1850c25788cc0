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
  if (!a.since.empty()) {
    auto d = Date::Parse(a.since);
    if (!d.ok()) return ReportError(d.status().WithContext("--since"));
    opts.since = *d;
  }
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
    t.Add({src->name, r->committed ? "loaded" : "unchanged", r->requests, r->not_modified, r->bytes, r->series_fetched,
           r->series_unchanged, r->report.vintages_created, r->report.observations_written});
  }
  if (!g.quiet || g.format != OutputFormat::kTable) Print(std::cout, t, g.format);
  return failed == 0 ? kExitOk : kExitUser;
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
