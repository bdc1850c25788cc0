#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "almanac/data.h"
#include "data/csv_dialect.h"
#include "data/date_labels.h"

namespace almanac::data {
namespace {

using Clock = std::chrono::steady_clock;

bool IsMissingText(std::string_view t) { return t.empty() || t == "." || t == "NA" || t == "#N/A"; }

std::string Lower(std::string_view s) { return ToLower(Trim(s)); }

// Builds "file: line N, column C (name): message".
Status At(const CsvReader& r, size_t column, std::string_view column_name, const Status& s) {
  std::string where = r.name() + ": line " + std::to_string(r.line());
  if (column > 0) {
    where += ", column " + std::to_string(column);
    if (!column_name.empty()) where += " (" + std::string(column_name) + ")";
  }
  return s.WithContext(where);
}

Status AtLine(const CsvReader& r, const Status& s) { return At(r, 0, "", s); }

store::SeriesInfo MergeInfo(const std::string& key, Frequency f, const SeriesMetadata& defaults,
                            const SeriesMetadata* specific) {
  store::SeriesInfo info;
  info.key = key;
  info.frequency = f;
  auto pick = [&](std::string SeriesMetadata::*field) {
    if (specific != nullptr && !(specific->*field).empty()) return specific->*field;
    return defaults.*field;
  };
  info.title = pick(&SeriesMetadata::title);
  info.unit = pick(&SeriesMetadata::unit);
  info.seasonal_adjustment = pick(&SeriesMetadata::seasonal_adjustment);
  info.source = pick(&SeriesMetadata::source);
  return info;
}

class Ingester {
 public:
  Ingester(CsvReader& reader, const IngestOptions& options, store::SeriesStore& store)
      : r_(reader), opts_(options), store_(store), start_(Clock::now()) {}

  Result<IngestResult> Run() {
    const NumberFormat& nf = opts_.numbers;
    if ((nf.decimal != '.' && nf.decimal != ',') || (nf.thousands != 0 && nf.thousands != ',' && nf.thousands != '.'))
      return InvalidArgumentError("the decimal mark must be '.' or ',' and the thousands separator ',', '.' or none");
    if (nf.decimal == nf.thousands)
      return InvalidArgumentError(std::string("the decimal mark and the thousands separator are both '") + nf.decimal +
                                  "'");
    r_.set_delimiter(opts_.delimiter);
    std::vector<std::string_view> fields;
    ALMANAC_ASSIGN_OR_RETURN(bool any, r_.Next(&fields));
    if (!any) return InvalidArgumentError(r_.name() + " is empty (expected a CSV header line)");
    header_.assign(fields.begin(), fields.end());
    for (auto& h : header_) h = std::string(Trim(h));
    if (opts_.delimiter == 0 && r_.delimiter() != ',')
      notes_.push_back(r_.name() + ": fields are separated by " + (r_.delimiter() == '\t' ? "tabs" : "';'") +
                       " (detected from the header; --delimiter chooses)");
    ALMANAC_ASSIGN_OR_RETURN(format_, Detect());
    store::LoadOptions lo;
    lo.loader = opts_.loader;
    lo.source = r_.name();
    lo.default_realtime_start = opts_.realtime_start;
    ALMANAC_ASSIGN_OR_RETURN(session_, store_.BeginLoad(lo));
    Status s;
    switch (format_) {
      case FileFormat::kLong: s = RunLong(); break;
      case FileFormat::kWide:
      case FileFormat::kFred:
      case FileFormat::kAlfred: s = RunColumns(); break;
      case FileFormat::kAuto: s = InternalError("format not detected"); break;
    }
    ALMANAC_RETURN_IF_ERROR(s);
    if (data_rows_ == 0) return InvalidArgumentError(r_.name() + " has a header but no data rows; nothing was loaded");
    IngestResult result;
    result.format = format_;
    result.delimiter = r_.delimiter();
    if (!end_keys_.empty()) {
      // Wide forms date every series alike; long form says which series.
      std::string whose;
      if (format_ == FileFormat::kLong) {
        whose = " of series ";
        for (size_t i = 0; i < end_keys_.size() && i < 3; ++i) whose += (i > 0 ? ", " : "") + end_keys_[i];
        if (end_keys_.size() > 3) whose += " and " + std::to_string(end_keys_.size() - 3) + " more";
      }
      notes_.push_back(r_.name() + ": dates" + whose + " are the last day of each period (" + end_example_ +
                       "); each value is stored under the period its date ends");
    }
    result.notes = std::move(notes_);
    result.source_hash = r_.HexDigest();
    result.bytes = r_.bytes_read();
    session_->SetSourceHash(result.source_hash);
    ALMANAC_ASSIGN_OR_RETURN(result.report, session_->Commit());
    return result;
  }

 private:
  Result<FileFormat> Detect() {
    std::vector<std::string> lower;
    for (const auto& h : header_) lower.push_back(Lower(h));
    auto has = [&](std::initializer_list<const char*> names) {
      for (const auto& l : lower)
        for (const char* n : names)
          if (l == n) return true;
      return false;
    };
    const bool date_first = !lower.empty() && (lower[0] == "date" || lower[0] == "observation_date" ||
                                                lower[0] == "period" || lower[0] == "time");
    // A FRED download names its column by the series id (GDPC1, T10Y2Y); a column name in
    // another form (us:gdp, gdp) is an almanac series key of a wide file.
    auto fred_id = [](std::string_view h) {
      return !h.empty() && std::all_of(h.begin(), h.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      });
    };
    bool alfred = date_first && header_.size() >= 2;
    for (size_t i = 1; alfred && i < header_.size(); ++i) {
      const auto& h = header_[i];
      const size_t us = h.rfind('_');
      alfred = us != std::string::npos && us > 0 && h.size() - us == 9 && fred_id(std::string_view(h).substr(0, us)) &&
               std::all_of(h.begin() + static_cast<std::ptrdiff_t>(us) + 1, h.end(),
                           [](char c) { return c >= '0' && c <= '9'; });
    }
    FileFormat f = opts_.format;
    if (f == FileFormat::kAuto) {
      if (has({"series", "key", "series_id"})) f = FileFormat::kLong;
      else if (alfred) f = FileFormat::kAlfred;
      else if (date_first && header_.size() == 2 && (lower[0] == "observation_date" || lower[0] == "date") &&
               (fred_id(header_[1]) || lower[1] == "value"))
        f = FileFormat::kFred;
      else if (date_first && header_.size() >= 2) f = FileFormat::kWide;
      else
        return InvalidArgumentError(r_.name() + ": cannot tell the CSV form from the header " +
                                    QuoteForMessage(Join(header_), 120) +
                                    ": expected long (series,period,value[,realtime_start]), wide (date,SERIES,...), "
                                    "FRED (observation_date,SERIES) or ALFRED (observation_date,SERIES_YYYYMMDD,...); "
                                    "or pass --file-format long, wide, fred or alfred" +
                                    HeaderDelimiterHint(header_, r_.delimiter()));
    }
    if (f == FileFormat::kAlfred && !alfred)
      return InvalidArgumentError(r_.name() + ": ALFRED form needs a date column then SERIES_YYYYMMDD columns");
    if ((f == FileFormat::kWide || f == FileFormat::kFred) && header_.size() < 2)
      return InvalidArgumentError(r_.name() + ": expected a date column and at least one value column" +
                                  HeaderDelimiterHint(header_, r_.delimiter()));
    if (f == FileFormat::kFred && header_.size() != 2)
      return InvalidArgumentError(r_.name() + ": FRED form has exactly two columns (date, value), found " +
                                  std::to_string(header_.size()));
    return f;
  }

  static std::string Join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  }

  void MaybeProgress() { MaybeProgress(r_.bytes_read()); }
  void MaybeProgress(int64_t bytes_read) {
    if ((++tick_ & 0xFFFF) != 0 || !opts_.progress) return;
    auto now = Clock::now();
    if (now - last_progress_ < std::chrono::seconds(1)) return;
    last_progress_ = now;
    IngestProgress p;
    p.rows = rows_added_;
    p.bytes = bytes_read;
    p.total_bytes = r_.total_bytes();
    p.seconds = std::chrono::duration<double>(now - start_).count();
    opts_.progress(p);
  }

  // The frequency given for a key (side file, then flags), if any.
  std::optional<Frequency> GivenFrequency(const std::string& key) const {
    auto it = opts_.metadata.find(key);
    if (it != opts_.metadata.end() && it->second.frequency) return it->second.frequency;
    return opts_.defaults.frequency;
  }

  bool HasMetadata(const std::string& key) const {
    const auto& d = opts_.defaults;
    return opts_.metadata.count(key) || d.frequency || !d.title.empty() || !d.unit.empty() ||
           !d.seasonal_adjustment.empty() || !d.source.empty();
  }

  Status Declare(const std::string& key, Frequency f) {
    auto it = opts_.metadata.find(key);
    return session_->DeclareSeries(MergeInfo(key, f, opts_.defaults, it == opts_.metadata.end() ? nullptr : &it->second));
  }

  // A value as the file writes numbers; errors name the other formats it would parse in.
  Result<double> ParseNumberText(std::string_view t) const {
    auto v = ParseNumber(t, opts_.numbers);
    if (!v.ok()) return Status(v.status().code(), v.status().message() + NumberFormatHint(t, opts_.numbers));
    return v;
  }

  Result<std::optional<double>> ParseValue(std::string_view text, size_t col, int64_t line) const {
    std::string_view t = Trim(text);
    if (IsMissingText(t)) return std::optional<double>();
    auto v = ParseNumberText(t);
    if (!v.ok()) return AtLineNo(line, col + 1, header_[col], v.status());
    return std::optional<double>(*v);
  }

  Status RunLong() {
    int key_col = -1, period_col = -1, value_col = -1, rt_col = -1;
    for (size_t i = 0; i < header_.size(); ++i) {
      const std::string l = Lower(header_[i]);
      int* slot = nullptr;
      if (l == "series" || l == "key" || l == "series_id") slot = &key_col;
      else if (l == "period" || l == "date" || l == "observation_date") slot = &period_col;
      else if (l == "value") slot = &value_col;
      else if (l == "realtime_start" || l == "vintage" || l == "vintage_date") slot = &rt_col;
      if (slot == nullptr) {
        std::string msg = r_.name() + ": unknown column " + QuoteForMessage(header_[i]) +
                          " in long form (expected series, period, value, realtime_start)";
        std::string hint = DidYouMean(l, {"series", "period", "value", "realtime_start"});
        if (!hint.empty()) msg += "; did you mean '" + hint + "'?";
        return InvalidArgumentError(msg);
      }
      if (*slot >= 0) return InvalidArgumentError(r_.name() + ": column " + QuoteForMessage(header_[i]) + " appears twice");
      *slot = static_cast<int>(i);
    }
    if (key_col < 0 || period_col < 0 || value_col < 0)
      return InvalidArgumentError(r_.name() + ": long form needs the columns series, period and value (found " +
                                  QuoteForMessage(Join(header_), 120) + ")");
    // Two threads: this one reads and parses the file (CSV fields, periods, values) into
    // batches while the calling thread hands the previous batches to the load session, whose
    // vintage planning and writes to the store (a COPY stream on PostgreSQL) then overlap with
    // the parsing instead of waiting for it. Items keep the file's order, and errors from
    // either side stop the load at the line they name, as a single thread would.
    const Columns cols{key_col, period_col, value_col, rt_col};
    std::thread parser;
    try {
      parser = std::thread([this, cols] { ParseLong(cols); });
    } catch (const std::system_error& e) {
      return ResourceExhaustedError(std::string("cannot start the CSV parser thread: ") + e.what());
    }
    Status s = ApplyLong(cols);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;  // the parser stops at its next batch if it has not finished
    }
    cv_.notify_all();
    parser.join();
    return s;
  }

  struct Columns {
    int key, period, value, rt;
  };
  // One parsed line: a row to add or, before a key's first row, a series to declare.
  struct LongItem {
    bool declare = false;
    bool has_value = false;
    bool has_rt = false;
    uint32_t key = 0;  // index into LongBatch::keys
    Period period;     // the declared frequency for a declaration
    double value = 0;
    Date rt;
    int64_t line = 0;
  };
  struct LongBatch {
    std::vector<std::string> keys;
    std::vector<LongItem> items;
    Status error;  // the parser stopped here (after the items)
    bool last = false;
    int64_t bytes = 0;  // read up to the batch's end
  };
  // Small batches stay in the cache between the threads; the queue lets the parser run about
  // 100,000 rows ahead while the session waits for the store.
  static constexpr size_t kBatchItems = 2048, kMaxQueuedBatches = 48;

  // Runs on the parser thread; owns the reader until it returns.
  void ParseLong(const Columns c) {
    LongBatch batch = TakeFreeBatch();
    std::vector<std::string_view> f;
    std::string cur_key;
    SeriesLabels* cur = nullptr;  // labels_[cur_key]
    bool have_key = false;
    int64_t rows = 0;
    // The first rows of a series dated by ISO dates whose frequency is neither given nor
    // stored: held until its dates tell the frequency (kInferenceDates of them, the series'
    // last row in a run, or kMaxHeldRows for many vintages of few dates).
    struct HeldRow {
      std::string period, value, rt;
      int64_t line;
    };
    static constexpr size_t kMaxHeldRows = 4096;
    std::vector<HeldRow> held;
    std::set<Date> held_dates;
    auto push = [&](bool last) {
      batch.last = last;
      batch.bytes = r_.bytes_read();
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || queue_.size() < kMaxQueuedBatches; });
      if (stop_) return false;
      queue_.push_back(std::move(batch));
      lock.unlock();
      cv_.notify_all();
      batch = TakeFreeBatch();
      return true;
    };
    auto fail = [&](Status s) {
      batch.error = std::move(s);
      push(true);
    };
    auto key_slot = [&] {
      if (batch.keys.empty() || batch.keys.back() != cur_key) batch.keys.push_back(cur_key);
      return static_cast<uint32_t>(batch.keys.size() - 1);
    };
    // Adds a row of cur_key. False: stop (an error is queued, or the load stopped).
    auto add = [&](std::string_view ptext, std::string_view vtext, std::string_view rtext, int64_t line) {
      Result<Period> p = cur->frequency ? ParseDateLabel(ptext, *cur->frequency, &cur->anchor) : Period::Parse(ptext);
      if (!p.ok()) {
        fail(AtLineNo(line, c.period + 1, header_[c.period], p.status()));
        return false;
      }
      if (!cur->frequency) cur->frequency = p->frequency();
      if (cur->anchor == DateAnchor::kEnd && !cur->noted_end) {
        cur->noted_end = true;
        if (end_keys_.empty()) end_example_ = std::string(Trim(ptext)) + " is " + p->ToString();
        end_keys_.push_back(cur_key);
      }
      LongItem item;
      item.key = key_slot();
      item.period = *p;
      item.line = line;
      auto v = ParseValue(vtext, c.value, line);
      if (!v.ok()) {
        fail(v.status());
        return false;
      }
      if (*v) {
        item.has_value = true;
        item.value = **v;
      }
      rtext = Trim(rtext);
      if (!rtext.empty()) {
        auto d = Date::Parse(rtext);
        if (!d.ok()) {
          fail(AtLineNo(line, c.rt + 1, header_[c.rt], d.status()));
          return false;
        }
        item.has_rt = true;
        item.rt = *d;
      }
      batch.items.push_back(item);
      return batch.items.size() < kBatchItems || push(false);
    };
    // Infers the frequency of cur_key from its held dates (as the wide form does; daily, as
    // before inference, when they tell nothing else) and adds the held rows.
    auto release_held = [&] {
      if (held.empty()) return true;
      auto inferred = InferDateFrequency(std::vector<Date>(held_dates.begin(), held_dates.end()), r_.name());
      cur->frequency = inferred.ok() ? *inferred : Frequency::kDaily;
      for (const HeldRow& h : held)
        if (!add(h.period, h.value, h.rt, h.line)) return false;
      held.clear();
      held_dates.clear();
      return true;
    };
    for (;;) {
      auto more = r_.Next(&f);
      if (!more.ok()) return fail(more.status());
      if (!*more) break;
      data_rows_ = ++rows;
      if (f.size() != header_.size())
        return fail(
            AtLine(r_, InvalidArgumentError("has " + std::to_string(f.size()) + " fields, the header has " +
                                            std::to_string(header_.size()) + DelimiterHint(f, r_.delimiter()))));
      std::string_view key = Trim(f[c.key]);
      if (!have_key || key != cur_key) {
        if (!release_held()) return;
        Status ks = ValidateSeriesKey(key);
        if (!ks.ok()) return fail(At(r_, c.key + 1, header_[c.key], ks));
        cur_key = std::string(key);
        have_key = true;
        auto known = labels_.find(cur_key);
        if (known == labels_.end()) {
          std::optional<Frequency> fq = GivenFrequency(cur_key);
          if (fq || HasMetadata(cur_key)) {
            if (!fq) {
              auto stored = store_.GetSeries(cur_key);
              if (stored.ok()) fq = stored->frequency;
            }
            if (fq) {
              LongItem d;
              d.declare = true;
              d.key = key_slot();
              d.period = Period(*fq, 0);
              d.line = r_.line();
              batch.items.push_back(d);
            }
          } else {
            auto stored = store_.GetSeries(cur_key);
            if (stored.ok()) fq = stored->frequency;
          }
          SeriesLabels labels;
          labels.frequency = fq;
          labels.anchor = opts_.any_day_in_period ? DateAnchor::kAnyDay : DateAnchor::kUnknown;
          known = labels_.emplace(cur_key, labels).first;
        }
        cur = &known->second;
      }
      const std::string_view ptext = Trim(f[c.period]);
      const std::string_view rtext = c.rt >= 0 ? f[c.rt] : std::string_view();
      if (!cur->frequency && (!held.empty() || LooksLikeIsoDate(ptext))) {
        held.push_back({std::string(ptext), std::string(f[c.value]), std::string(rtext), r_.line()});
        if (auto d = Date::Parse(ptext); d.ok()) held_dates.insert(*d);  // a bad date fails when its row is added
        if ((held_dates.size() >= kInferenceDates || held.size() >= kMaxHeldRows) && !release_held()) return;
        continue;
      }
      if (!add(ptext, f[c.value], rtext, r_.line())) return;
    }
    if (!release_held()) return;
    push(true);
  }

  LongBatch TakeFreeBatch() {
    std::lock_guard<std::mutex> lock(mu_);
    LongBatch b;
    if (!free_.empty()) {
      b = std::move(free_.back());
      free_.pop_back();
      b.keys.clear();
      b.items.clear();
      b.error = Status::Ok();
      b.last = false;
    } else {
      b.items.reserve(kBatchItems + 1);
    }
    return b;
  }

  // Runs on the calling thread: hands the parsed rows to the load session, in file order.
  Status ApplyLong(const Columns c) {
    for (;;) {
      LongBatch batch;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !queue_.empty(); });
        batch = std::move(queue_.front());
        queue_.pop_front();
      }
      cv_.notify_all();
      for (const LongItem& it : batch.items) {
        const std::string& key = batch.keys[it.key];
        if (it.declare) {
          Status ds = Declare(key, it.period.frequency());
          if (!ds.ok()) return AtLineNo(it.line, c.key + 1, header_[c.key], ds);
          continue;
        }
        Status s = session_->Add(key, it.period, it.has_value ? std::optional<double>(it.value) : std::nullopt,
                                 it.has_rt ? std::optional<Date>(it.rt) : std::nullopt);
        if (!s.ok()) return AtLineNo(it.line, 0, "", s);
        ++rows_added_;
        MaybeProgress(batch.bytes);
      }
      if (!batch.error.ok()) return batch.error;
      if (batch.last) return Status::Ok();
      std::lock_guard<std::mutex> lock(mu_);
      if (free_.size() < 4) free_.push_back(std::move(batch));
    }
  }

  // At() for a line the parser read earlier (the reader has moved on).
  Status AtLineNo(int64_t line, size_t column, std::string_view column_name, const Status& s) const {
    std::string where = r_.name() + ": line " + std::to_string(line);
    if (column > 0) {
      where += ", column " + std::to_string(column);
      if (!column_name.empty()) where += " (" + std::string(column_name) + ")";
    }
    return s.WithContext(where);
  }

  // Wide, FRED and ALFRED: a date/period column, then one column per series (or vintage).
  Status RunColumns() {
    struct Column {
      std::string key;
      std::optional<Date> rt;
    };
    std::vector<Column> cols;
    for (size_t i = 1; i < header_.size(); ++i) {
      Column c;
      const std::string& h = header_[i];
      if (format_ == FileFormat::kAlfred) {
        const size_t us = h.rfind('_');
        c.key = opts_.series_key.empty() ? "fred:" + h.substr(0, us) : opts_.series_key;
        auto d = Date::Parse(h.substr(us + 1, 4) + "-" + h.substr(us + 5, 2) + "-" + h.substr(us + 7, 2));
        if (!d.ok()) return At(r_, i + 1, h, d.status().WithContext("vintage date"));
        c.rt = *d;
      } else if (format_ == FileFormat::kFred) {
        if (!opts_.series_key.empty()) c.key = opts_.series_key;
        else if (Lower(h) == "value")
          return InvalidArgumentError(r_.name() + ": the value column is named VALUE; pass --series KEY to name the series");
        else c.key = "fred:" + h;
      } else {
        // --series names the one series of a file (as it does a FRED download's).
        c.key = !opts_.series_key.empty() && header_.size() == 2 ? opts_.series_key : h;
      }
      Status ks = ValidateSeriesKey(c.key);
      if (!ks.ok()) return At(r_, i + 1, h, ks);
      cols.push_back(std::move(c));
    }
    if (format_ == FileFormat::kWide) {
      std::set<std::string> seen;
      for (size_t i = 0; i < cols.size(); ++i)
        if (!seen.insert(cols[i].key).second)
          return InvalidArgumentError(r_.name() + ": series " + cols[i].key + " has two columns (" +
                                      std::to_string(i + 2) + " and an earlier one)");
    }
    // Look ahead at the first rows to infer the frequency of date labels.
    std::vector<std::vector<std::string>> ahead;
    std::vector<int64_t> ahead_lines;
    std::vector<std::string_view> f;
    bool eof = false;
    while (ahead.size() < kInferenceDates) {
      ALMANAC_ASSIGN_OR_RETURN(bool more, r_.Next(&f));
      if (!more) {
        eof = true;
        break;
      }
      ahead.emplace_back(f.begin(), f.end());
      ahead_lines.push_back(r_.line());
    }
    std::optional<Frequency> freq = opts_.defaults.frequency;
    if (!freq) {
      for (const auto& c : cols)
        if (auto g = GivenFrequency(c.key)) freq = g;
    }
    if (!freq) {
      for (const auto& c : cols) {
        auto stored = store_.GetSeries(c.key);
        if (stored.ok()) {
          freq = stored->frequency;
          break;
        }
      }
    }
    if (!freq && !ahead.empty()) {
      auto p = Period::Parse(Trim(ahead[0][0]));
      if (p.ok() && p->frequency() != Frequency::kDaily) {
        freq = p->frequency();
      } else {
        std::vector<Date> dates;
        for (size_t k = 0; k < ahead.size(); ++k) {
          auto d = Date::Parse(Trim(ahead[k][0]));
          if (!d.ok()) {
            return Status(d.status().code(), r_.name() + ": line " + std::to_string(ahead_lines[k]) + ", column 1 (" +
                                                 header_[0] + "): " + d.status().message());
          }
          if (!dates.empty() && *d <= dates.back())
            return InvalidArgumentError(r_.name() + ": dates are not increasing (" + dates.back().ToString() +
                                        " then " + d->ToString() + "); pass --frequency");
          dates.push_back(*d);
        }
        ALMANAC_ASSIGN_OR_RETURN(freq, InferDateFrequency(dates, r_.name()));
      }
    }
    std::set<std::string> declared;
    for (const auto& c : cols) {
      if (freq && declared.insert(c.key).second) {
        Status s = Declare(c.key, *freq);
        if (!s.ok()) return InvalidArgumentError(r_.name() + ": " + s.message());
      }
    }
    DateAnchor anchor = opts_.any_day_in_period ? DateAnchor::kAnyDay : DateAnchor::kUnknown;
    size_t next_ahead = 0;
    std::vector<std::string_view> row;
    for (;;) {
      int64_t line;
      if (next_ahead < ahead.size()) {
        row.assign(ahead[next_ahead].begin(), ahead[next_ahead].end());
        line = ahead_lines[next_ahead];
        ++next_ahead;
      } else {
        if (eof) break;
        ALMANAC_ASSIGN_OR_RETURN(bool more, r_.Next(&row));
        if (!more) break;
        line = r_.line();
      }
      ++data_rows_;
      auto where = [&](size_t col) {
        std::string w = r_.name() + ": line " + std::to_string(line);
        if (col > 0) w += ", column " + std::to_string(col) + " (" + header_[col - 1] + ")";
        return w;
      };
      if (row.size() != header_.size())
        return InvalidArgumentError(where(0) + ": has " + std::to_string(row.size()) + " fields, the header has " +
                                    std::to_string(header_.size()) + DelimiterHint(row, r_.delimiter()));
      std::string_view ptext = Trim(row[0]);
      Result<Period> p = ParseDateLabel(ptext, *freq, &anchor);
      if (!p.ok()) return p.status().WithContext(where(1));
      if (anchor == DateAnchor::kEnd && end_keys_.empty()) {
        end_example_ = std::string(ptext) + " is " + p->ToString();
        end_keys_.push_back(cols[0].key);
      }
      for (size_t i = 0; i < cols.size(); ++i) {
        std::string_view t = Trim(row[i + 1]);
        if (t.empty()) continue;  // no observation for this series (or vintage) at this date
        if (format_ == FileFormat::kAlfred && IsMissingText(t)) continue;  // not in that vintage
        std::optional<double> v;
        if (!IsMissingText(t)) {
          auto d = ParseNumberText(t);
          if (!d.ok()) return d.status().WithContext(where(i + 2));
          v = *d;
        }
        Status s = session_->Add(cols[i].key, *p, v, cols[i].rt);
        if (!s.ok()) return s.WithContext(where(0));
        ++rows_added_;
      }
      MaybeProgress();
    }
    return Status::Ok();
  }

  CsvReader& r_;
  const IngestOptions& opts_;
  store::SeriesStore& store_;
  std::vector<std::string> header_;
  FileFormat format_ = FileFormat::kAuto;
  std::unique_ptr<store::LoadSession> session_;
  // Long form, per series: its frequency (given, stored, or from its first labels) and which
  // day of the period its dates name.
  struct SeriesLabels {
    std::optional<Frequency> frequency;
    DateAnchor anchor = DateAnchor::kUnknown;
    bool noted_end = false;
  };
  std::unordered_map<std::string, SeriesLabels> labels_;
  // Series dated by period ends, in the order first seen, and the first such date.
  std::vector<std::string> end_keys_;
  std::string end_example_;
  std::vector<std::string> notes_;
  int64_t data_rows_ = 0;
  int64_t rows_added_ = 0;
  // The long form's parser thread and the calling thread (ParseLong / ApplyLong).
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<LongBatch> queue_;
  std::vector<LongBatch> free_;
  bool stop_ = false;
  uint64_t tick_ = 0;
  Clock::time_point start_;
  Clock::time_point last_progress_ = Clock::now();
};

}  // namespace

std::string_view FileFormatName(FileFormat f) {
  switch (f) {
    case FileFormat::kAuto: return "auto";
    case FileFormat::kLong: return "long";
    case FileFormat::kWide: return "wide";
    case FileFormat::kFred: return "fred";
    case FileFormat::kAlfred: return "alfred";
  }
  return "?";
}

Result<FileFormat> ParseFileFormat(std::string_view text) {
  const std::string t = ToLower(Trim(text));
  for (FileFormat f : {FileFormat::kAuto, FileFormat::kLong, FileFormat::kWide, FileFormat::kFred, FileFormat::kAlfred})
    if (t == FileFormatName(f)) return f;
  return InvalidArgumentError("unknown file format " + QuoteForMessage(text) + ": expected auto, long, wide, fred or alfred");
}

Result<IngestResult> IngestReader(CsvReader& reader, const IngestOptions& options, store::SeriesStore& store) {
  return Ingester(reader, options, store).Run();
}

Result<IngestResult> IngestFile(const std::string& path, const IngestOptions& options, store::SeriesStore& store) {
  ALMANAC_ASSIGN_OR_RETURN(auto reader, CsvReader::Open(path));
  return IngestReader(*reader, options, store);
}

}  // namespace almanac::data
