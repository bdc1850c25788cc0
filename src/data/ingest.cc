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

// Infers a frequency from consecutive period-start dates.
Result<Frequency> InferFrequency(const std::vector<Date>& dates, const std::string& name) {
  if (dates.size() < 2)
    return InvalidArgumentError(name + ": cannot infer the frequency from fewer than two dates; pass --frequency");
  int64_t min_days = INT64_MAX;
  bool month_starts = true, weekdays_only = true;
  for (size_t i = 0; i < dates.size(); ++i) {
    if (dates[i].day() != 1) month_starts = false;
    if (dates[i].weekday() > 5) weekdays_only = false;
    if (i > 0) {
      const int64_t gap = dates[i] - dates[i - 1];
      if (gap <= 0)
        return InvalidArgumentError(name + ": dates are not increasing (" + dates[i - 1].ToString() + " then " +
                                    dates[i].ToString() + "); pass --frequency");
      min_days = std::min(min_days, gap);
    }
  }
  if (month_starts && min_days >= 28) {
    int64_t min_months = INT64_MAX;
    for (size_t i = 1; i < dates.size(); ++i)
      min_months = std::min<int64_t>(min_months, (dates[i].year() - dates[i - 1].year()) * 12 +
                                                     (dates[i].month() - dates[i - 1].month()));
    if (min_months == 12) return Frequency::kAnnual;
    if (min_months == 3) return Frequency::kQuarterly;
    if (min_months == 1) return Frequency::kMonthly;
  }
  if (min_days == 7) return Frequency::kWeekly;
  if (min_days == 1) return weekdays_only ? Frequency::kBusiness : Frequency::kDaily;
  return InvalidArgumentError(name + ": cannot infer the frequency from dates " + dates[0].ToString() + ", " +
                              dates[1].ToString() + ", ...; pass --frequency");
}

class Ingester {
 public:
  Ingester(CsvReader& reader, const IngestOptions& options, store::SeriesStore& store)
      : r_(reader), opts_(options), store_(store), start_(Clock::now()) {}

  Result<IngestResult> Run() {
    std::vector<std::string_view> fields;
    ALMANAC_ASSIGN_OR_RETURN(bool any, r_.Next(&fields));
    if (!any) return InvalidArgumentError(r_.name() + " is empty (expected a CSV header line)");
    header_.assign(fields.begin(), fields.end());
    for (auto& h : header_) h = std::string(Trim(h));
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
    bool alfred = date_first && header_.size() >= 2;
    for (size_t i = 1; alfred && i < header_.size(); ++i) {
      const auto& h = header_[i];
      const size_t us = h.rfind('_');
      alfred = us != std::string::npos && us > 0 && h.size() - us == 9 &&
               std::all_of(h.begin() + static_cast<std::ptrdiff_t>(us) + 1, h.end(), [](char c) { return c >= '0' && c <= '9'; });
    }
    FileFormat f = opts_.format;
    if (f == FileFormat::kAuto) {
      if (has({"series", "key", "series_id"})) f = FileFormat::kLong;
      else if (alfred) f = FileFormat::kAlfred;
      else if (date_first && header_.size() == 2 && (lower[0] == "observation_date" || lower[0] == "date")) f = FileFormat::kFred;
      else if (date_first && header_.size() >= 2) f = FileFormat::kWide;
      else
        return InvalidArgumentError(r_.name() + ": cannot tell the CSV form from the header " +
                                    QuoteForMessage(Join(header_), 120) +
                                    ": expected long (series,period,value[,realtime_start]), wide (date,SERIES,...), "
                                    "FRED (observation_date,SERIES) or ALFRED (observation_date,SERIES_YYYYMMDD,...); "
                                    "or pass --format");
    }
    if (f == FileFormat::kAlfred && !alfred)
      return InvalidArgumentError(r_.name() + ": ALFRED form needs a date column then SERIES_YYYYMMDD columns");
    if ((f == FileFormat::kWide || f == FileFormat::kFred) && header_.size() < 2)
      return InvalidArgumentError(r_.name() + ": expected a date column and at least one value column");
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

  Result<std::optional<double>> ParseValue(std::string_view text, size_t col) {
    std::string_view t = Trim(text);
    if (IsMissingText(t)) return std::optional<double>();
    auto v = ParseFiniteDouble(t);
    if (!v.ok()) return At(r_, col + 1, header_[col], v.status());
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
    std::optional<Frequency> cur_freq;
    bool have_key = false;
    int64_t rows = 0;
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
    for (;;) {
      auto more = r_.Next(&f);
      if (!more.ok()) return fail(more.status());
      if (!*more) break;
      data_rows_ = ++rows;
      if (f.size() != header_.size())
        return fail(AtLine(r_, InvalidArgumentError("has " + std::to_string(f.size()) + " fields, the header has " +
                                                    std::to_string(header_.size()))));
      std::string_view key = Trim(f[c.key]);
      if (!have_key || key != cur_key) {
        Status ks = ValidateSeriesKey(key);
        if (!ks.ok()) return fail(At(r_, c.key + 1, header_[c.key], ks));
        cur_key = std::string(key);
        have_key = true;
        auto known = freq_.find(cur_key);
        if (known == freq_.end()) {
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
          known = freq_.emplace(cur_key, fq).first;
        }
        cur_freq = known->second;
      }
      std::string_view ptext = Trim(f[c.period]);
      Result<Period> p = cur_freq ? Period::Parse(ptext, *cur_freq, !opts_.any_day_in_period) : Period::Parse(ptext);
      if (!p.ok()) return fail(At(r_, c.period + 1, header_[c.period], p.status()));
      if (!cur_freq) {
        cur_freq = p->frequency();
        freq_[cur_key] = cur_freq;
      }
      LongItem item;
      item.key = key_slot();
      item.period = *p;
      item.line = r_.line();
      auto v = ParseValue(f[c.value], c.value);
      if (!v.ok()) return fail(v.status());
      if (*v) {
        item.has_value = true;
        item.value = **v;
      }
      if (c.rt >= 0 && !Trim(f[c.rt]).empty()) {
        auto d = Date::Parse(Trim(f[c.rt]));
        if (!d.ok()) return fail(At(r_, c.rt + 1, header_[c.rt], d.status()));
        item.has_rt = true;
        item.rt = *d;
      }
      batch.items.push_back(item);
      if (batch.items.size() >= kBatchItems && !push(false)) return;
    }
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
        c.key = h;
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
    while (ahead.size() < 13) {
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
          dates.push_back(*d);
        }
        ALMANAC_ASSIGN_OR_RETURN(freq, InferFrequency(dates, r_.name()));
      }
    }
    std::set<std::string> declared;
    for (const auto& c : cols) {
      if (freq && declared.insert(c.key).second) {
        Status s = Declare(c.key, *freq);
        if (!s.ok()) return InvalidArgumentError(r_.name() + ": " + s.message());
      }
    }
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
                                    std::to_string(header_.size()));
      std::string_view ptext = Trim(row[0]);
      Result<Period> p = Period::Parse(ptext, *freq, !opts_.any_day_in_period);
      if (!p.ok()) return p.status().WithContext(where(1));
      for (size_t i = 0; i < cols.size(); ++i) {
        std::string_view t = Trim(row[i + 1]);
        if (t.empty()) continue;  // no observation for this series (or vintage) at this date
        if (format_ == FileFormat::kAlfred && IsMissingText(t)) continue;  // not in that vintage
        std::optional<double> v;
        if (!IsMissingText(t)) {
          auto d = ParseFiniteDouble(t);
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
  std::unordered_map<std::string, std::optional<Frequency>> freq_;
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
