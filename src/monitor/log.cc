// Structured logging: ECS JSON lines or text, with secrets redacted.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <unordered_map>

#include "almanac/monitor.h"

namespace almanac::monitor {
namespace {

// Appends `s` as a JSON string. Control characters are \u-escaped and bytes that are not
// valid UTF-8 become U+FFFD, so every line parses even when a message quotes binary input.
void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t min = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      min = 0x10000;
    }
    bool ok = len > 0 && i + len <= s.size();
    uint32_t cp = len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    ok = ok && cp >= min && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  out += '"';
}

void AppendNumber(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  // Prefer the shortest form that reads back the same.
  for (int prec = 1; prec <= 17; ++prec) {
    char b[32];
    std::snprintf(b, sizeof(b), "%.*g", prec, v);
    if (std::strtod(b, nullptr) == v) {
      out += b;
      return;
    }
  }
  out += buf;
}

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool StartsWithIgnoreCase(std::string_view s, size_t at, std::string_view word) {
  if (at + word.size() > s.size()) return false;
  for (size_t k = 0; k < word.size(); ++k) {
    char a = s[at + k];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != word[k]) return false;
  }
  return true;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

Result<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "json") return LogFormat::kJson;
  if (text == "text") return LogFormat::kText;
  return InvalidArgumentError("unknown log format '" + std::string(text) + "' (expected json or text)");
}

std::string RedactSecrets(std::string_view text) {
  // Parameter names whose values are secrets (compared case-insensitively, followed by '=').
  static constexpr std::string_view kSecretParams[] = {"api_key", "apikey", "access_token", "token", "password", "secret"};
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (StartsWithIgnoreCase(text, i, "bearer ")) {
      out.append(text.substr(i, 7));
      i += 7;
      while (i < text.size() && text[i] == ' ') out += text[i++];
      // The words of messages about tokens ("missing bearer token", "Bearer <token>") are
      // not secrets; anything else after "bearer " is taken for one.
      size_t end = i;
      while (end < text.size() && text[end] != ' ' && text[end] != '\n' && text[end] != '"' && text[end] != ',' &&
             text[end] != ';' && text[end] != ')' && text[end] != '\'')
        ++end;
      const std::string_view word = text.substr(i, end - i);
      if ((word.size() == 5 && StartsWithIgnoreCase(word, 0, "token")) ||
          (word.size() == 6 && StartsWithIgnoreCase(word, 0, "tokens")) || word == "<token>") continue;
      if (i < text.size() && text[i] != '\n' && text[i] != '"') {
        out += "[REDACTED]";
        while (i < text.size() && text[i] != ' ' && text[i] != '\n' && text[i] != '"' && text[i] != ',' && text[i] != ';') ++i;
      }
      continue;
    }
    if (text.compare(i, 4, "alm_") == 0 && (i == 0 || !IsNameChar(text[i - 1]))) {
      size_t n = 0;
      while (i + 4 + n < text.size() && IsHex(text[i + 4 + n])) ++n;
      if (n >= 32) {
        out += "alm_[REDACTED]";
        i += 4 + n;
        continue;
      }
    }
    if (i == 0 || !IsNameChar(text[i - 1])) {
      bool done = false;
      for (std::string_view p : kSecretParams) {
        if (StartsWithIgnoreCase(text, i, p) && i + p.size() < text.size() && text[i + p.size()] == '=') {
          out.append(text.substr(i, p.size() + 1));
          out += "[REDACTED]";
          i += p.size() + 1;
          while (i < text.size() && text[i] != '&' && text[i] != ' ' && text[i] != '\n' && text[i] != '"' && text[i] != ',' &&
                 text[i] != ';')
            ++i;
          done = true;
          break;
        }
      }
      if (done) continue;
    }
    out += text[i++];
  }
  return out;
}

// ------------------------------------------------------------------- repeated lines

struct Logger::Suppressed {
  LogLevel level;
  std::string message;
  std::string client_ip;
  int64_t count;
};

// Per (level, message, client.ip): lines written and suppressed in the current second.
// Keyed by a hash; the strings are kept to tell collisions apart (a colliding line is simply
// not limited) and to write the summary.
struct Logger::Repeats {
  static constexpr size_t kMaxKeys = 4096;
  static constexpr int64_t kWindowMicros = 1'000'000;
  struct State {
    LogLevel level = LogLevel::kWarning;
    std::string message;
    std::string client_ip;
    int64_t window_start = 0;
    int64_t written = 0;
    int64_t suppressed = 0;
  };
  std::mutex mu;
  std::unordered_map<uint64_t, State> states;  // GUARDED_BY(mu)
  State overflow;                              // GUARDED_BY(mu): pairs beyond kMaxKeys
  int64_t next_sweep = 0;                      // GUARDED_BY(mu)

  static void Close(State& s, std::vector<Suppressed>* due) {
    if (s.suppressed > 0) due->push_back({s.level, s.message, s.client_ip, s.suppressed});
    s.written = 0;
    s.suppressed = 0;
  }
  // Moves the summaries of every window that is over to *due and forgets idle pairs; at
  // most once a second unless `force`d (the flusher, every buffer_ms).
  void Sweep(int64_t now, std::vector<Suppressed>* due, bool force = false) {
    if (now < next_sweep && !force) return;
    next_sweep = now + kWindowMicros;
    for (auto it = states.begin(); it != states.end();) {
      if (now - it->second.window_start >= kWindowMicros) {
        Close(it->second, due);
        it = states.erase(it);
      } else {
        ++it;
      }
    }
    if (now - overflow.window_start >= kWindowMicros) Close(overflow, due);
  }
  // Whether a line may be written; counts it either way.
  bool Admit(LogLevel level, std::string_view message, std::string_view client_ip, int limit, int64_t now,
             std::vector<Suppressed>* due) {
    Sweep(now, due);
    uint64_t key = std::hash<std::string_view>()(message);
    key ^= std::hash<std::string_view>()(client_ip) * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(level);
    State* s = nullptr;
    if (auto it = states.find(key); it != states.end()) {
      s = &it->second;
      if (s->level != level || s->message != message || s->client_ip != client_ip) return true;  // a collision
    } else if (states.size() < kMaxKeys) {
      s = &states[key];
      s->level = level;
      s->message = std::string(message);
      s->client_ip = std::string(client_ip);
      s->window_start = now;
    } else {
      s = &overflow;
      if (s->written == 0 && s->suppressed == 0) {
        s->level = level;
        s->message = "(more distinct warnings than tracked)";
        s->client_ip.clear();
      }
    }
    if (now - s->window_start >= kWindowMicros) {
      Close(*s, due);
      s->window_start = now;
    }
    if (s->written < limit) {
      ++s->written;
      return true;
    }
    ++s->suppressed;
    return false;
  }
};

Logger::Logger(Options options) : options_(std::move(options)) {
  text_prefix_ = options_.service;
  for (char& c : text_prefix_)
    if (c == '-') c = ' ';
  text_prefix_ += ": ";
  if (options_.repeat_limit > 0) repeats_ = std::make_unique<Repeats>();
  if (options_.buffer_ms > 0 && !options_.sink) flusher_ = std::thread([this] { FlushLoop(); });
}

Logger::~Logger() {
  if (flusher_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    flush_cv_.notify_all();
    flusher_.join();
  }
  {
    std::lock_guard lock(mu_);
    WritePending();
  }
  if (repeats_) {
    // Whatever was suppressed is reported, even if its second is not over.
    std::vector<Suppressed> due;
    {
      std::lock_guard lock(repeats_->mu);
      for (auto& [key, state] : repeats_->states) Repeats::Close(state, &due);
      Repeats::Close(repeats_->overflow, &due);
    }
    WriteSuppressed(due);  // written at once: the flusher has stopped
  }
}

void Logger::FlushSuppressed() const {
  if (!repeats_) return;
  const Clock& clock = options_.clock != nullptr ? *options_.clock : SystemClock();
  std::vector<Suppressed> due;
  {
    std::lock_guard lock(repeats_->mu);
    repeats_->Sweep(clock.NowMicros(), &due, /*force=*/true);
  }
  WriteSuppressed(due);
}

void Logger::WriteSuppressed(const std::vector<Suppressed>& due) const {
  for (const auto& d : due) {
    const std::string message = "suppressed " + std::to_string(d.count) + " similar line" + (d.count == 1 ? "" : "s") +
                                " in the last second: " + d.message;
    std::string line =
        d.client_ip.empty() ? Format(d.level, message, {}) : Format(d.level, message, {{"client.ip", d.client_ip}});
    line += '\n';
    Write(d.level, line);
  }
}

void Logger::WritePending() const {
  if (pending_.empty()) return;
  std::FILE* f = options_.format == LogFormat::kJson ? stdout : stderr;
  std::fwrite(pending_.data(), 1, pending_.size(), f);
  std::fflush(f);
  pending_.clear();
}

void Logger::FlushLoop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    flush_cv_.wait_for(lock, std::chrono::milliseconds(options_.buffer_ms));
    if (repeats_) {
      lock.unlock();  // lock order: repeats_->mu, then mu_
      FlushSuppressed();
      lock.lock();
    }
    WritePending();
  }
}

namespace {

// False when RedactSecrets would return `text` unchanged: it changes only text after
// "bearer ", "alm_" or a parameter name followed by '='. Most log lines have none of them,
// and the check costs less than the copy (an access line per request).
bool MayHoldSecret(std::string_view text) {
  if (text.find('=') != std::string_view::npos || text.find("alm_") != std::string_view::npos) return true;
  for (size_t i = 0; i + 7 <= text.size(); ++i)
    if ((text[i] == 'b' || text[i] == 'B') && StartsWithIgnoreCase(text, i, "bearer ")) return true;
  return false;
}

void AppendRedactedJson(std::string& out, std::string_view text) {
  if (MayHoldSecret(text)) {
    AppendJsonString(out, RedactSecrets(text));
  } else {
    AppendJsonString(out, text);
  }
}

void AppendRedacted(std::string& out, std::string_view text) {
  if (MayHoldSecret(text)) {
    out += RedactSecrets(text);
  } else {
    out += text;
  }
}

}  // namespace

std::string Logger::FormatFields(LogLevel level, std::string_view message, std::span<const LogField> fields) const {
  const Clock& clock = options_.clock != nullptr ? *options_.clock : SystemClock();
  const std::string ts = FormatTimestamp(clock.NowMicros());
  std::string out;
  out.reserve(160 + message.size());
  if (options_.format == LogFormat::kJson) {
    // ECS wants millisecond (or finer) ISO 8601 in UTC; ours has microseconds.
    out += "{\"@timestamp\":\"";
    out += ts;
    out += "\",\"log.level\":\"";
    out += LogLevelName(level);
    out += "\",\"message\":";
    AppendRedactedJson(out, message);
    out += ",\"service.name\":";
    AppendJsonString(out, options_.service);
    out += ",\"ecs.version\":\"8.11.0\"";
    for (const auto& f : fields) {
      out += ',';
      AppendJsonString(out, f.key);
      out += ':';
      if (const auto* s = std::get_if<std::string_view>(&f.value)) {
        AppendRedactedJson(out, *s);
      } else if (const auto* n = std::get_if<int64_t>(&f.value)) {
        out += std::to_string(*n);
      } else {
        AppendNumber(out, std::get<double>(f.value));
      }
    }
    out += '}';
    return out;
  }
  out += ts;
  out += ' ';
  out += text_prefix_;
  if (level == LogLevel::kError) out += "ERROR: ";
  if (level == LogLevel::kWarning) out += "WARNING: ";
  AppendRedacted(out, message);
  for (const auto& f : fields) {
    out += ' ';
    out += f.key;
    out += '=';
    if (const auto* s = std::get_if<std::string_view>(&f.value)) {
      AppendRedacted(out, *s);
    } else if (const auto* n = std::get_if<int64_t>(&f.value)) {
      out += std::to_string(*n);
    } else {
      AppendNumber(out, std::get<double>(f.value));
    }
  }
  // One record per line, even for multi-line messages.
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

void Logger::LogFields(LogLevel level, std::string_view message, std::span<const LogField> fields) const {
  if (static_cast<int>(level) < static_cast<int>(options_.min_level)) return;
  if (repeats_ && static_cast<int>(level) >= static_cast<int>(LogLevel::kWarning)) {
    std::string_view client_ip;
    for (const auto& f : fields)
      if (f.key == "client.ip")
        if (const auto* v = std::get_if<std::string_view>(&f.value)) client_ip = *v;
    const Clock& clock = options_.clock != nullptr ? *options_.clock : SystemClock();
    std::vector<Suppressed> due;
    bool admit;
    {
      std::lock_guard lock(repeats_->mu);
      admit = repeats_->Admit(level, message, client_ip, options_.repeat_limit, clock.NowMicros(), &due);
    }
    WriteSuppressed(due);
    if (!admit) return;
  }
  std::string line = FormatFields(level, message, fields);
  line += '\n';
  Write(level, line);
}

void Logger::Write(LogLevel level, std::string_view line) const {
  std::lock_guard lock(mu_);
  if (options_.sink) {
    options_.sink(line);
    return;
  }
  if (flusher_.joinable()) {
    pending_ += line;
    // Problems are seen at once; a full buffer is handed to the flusher.
    if (static_cast<int>(level) >= static_cast<int>(LogLevel::kWarning)) WritePending();
    else if (pending_.size() >= 64 * 1024) flush_cv_.notify_one();
    return;
  }
  std::FILE* f = options_.format == LogFormat::kJson ? stdout : stderr;
  std::fwrite(line.data(), 1, line.size(), f);
  std::fflush(f);
}

void Logger::Line(std::string_view line, std::initializer_list<LogField> fields) const {
  if (line.starts_with("ERROR: ")) return Log(LogLevel::kError, line.substr(7), fields);
  if (line.starts_with("WARNING: ")) return Log(LogLevel::kWarning, line.substr(9), fields);
  Log(LogLevel::kInfo, line, fields);
}

}  // namespace almanac::monitor
