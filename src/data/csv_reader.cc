#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "almanac/data.h"

namespace almanac::data {
namespace {
constexpr size_t kChunk = 1 << 20;
constexpr size_t kMaxRecord = 64u << 20;
}  // namespace

CsvReader::~CsvReader() {
  if (own_fd_ && fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<CsvReader>> CsvReader::Open(const std::string& path, char delimiter) {
  std::unique_ptr<CsvReader> r(new CsvReader());
  r->delimiter_ = delimiter;
  r->name_ = path;
  if (path == "-") {
    r->fd_ = 0;
    r->name_ = "<stdin>";
  } else {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      if (e == ENOENT) return NotFoundError("cannot open " + path + ": no such file");
      if (e == EACCES) return PermissionDeniedError("cannot open " + path + ": permission denied");
      return InvalidArgumentError("cannot open " + path + ": " + std::strerror(e));
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        return FailedPreconditionError(path + " is a directory, not a file");
      }
      if (S_ISREG(st.st_mode)) r->total_bytes_ = st.st_size;
    }
    r->fd_ = fd;
    r->own_fd_ = true;
  }
  r->buf_.resize(kChunk);
  return r;
}

std::unique_ptr<CsvReader> CsvReader::FromString(std::string data, std::string name, char delimiter) {
  std::unique_ptr<CsvReader> r(new CsvReader());
  r->delimiter_ = delimiter;
  r->name_ = std::move(name);
  r->total_bytes_ = static_cast<int64_t>(data.size());
  r->hash_.Update(data);
  r->end_ = data.size();
  r->buf_ = std::move(data);
  r->eof_ = true;
  return r;
}

std::string CsvReader::HexDigest() { return hash_.HexDigest(); }

// Reads more input after end_. Returns false at end of input.
Result<bool> CsvReader::Fill() {
  if (eof_) return false;
  if (end_ + kChunk > buf_.size()) {
    // Move the unread part to the front, growing the buffer for very long records.
    const size_t keep = end_ - pos_;
    if (keep + kChunk > buf_.size()) {
      if (keep + kChunk > kMaxRecord)
        return InvalidArgumentError(name_ + ": line " + std::to_string(line_) + " is longer than " +
                                    std::to_string(kMaxRecord >> 20) + " MiB (unbalanced quote?)");
      buf_.resize(std::max(buf_.size() * 2, keep + kChunk));
    }
    std::memmove(buf_.data(), buf_.data() + pos_, keep);
    pos_ = 0;
    end_ = keep;
  }
  ssize_t n;
  do {
    n = ::read(fd_, buf_.data() + end_, kChunk);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return InvalidArgumentError("cannot read " + name_ + ": " + std::strerror(errno));
  if (n == 0) {
    eof_ = true;
    return false;
  }
  const char* start = buf_.data() + end_;
  if (std::memchr(start, '\0', static_cast<size_t>(n)) != nullptr) {
    const int64_t offset = bytes_consumed_ + static_cast<int64_t>(end_ - pos_) +
                           (static_cast<const char*>(std::memchr(start, '\0', static_cast<size_t>(n))) - start);
    return InvalidArgumentError(name_ + " is not a text file (NUL byte at offset " + std::to_string(offset) + ")");
  }
  hash_.Update(std::string_view(start, static_cast<size_t>(n)));
  end_ += static_cast<size_t>(n);
  return true;
}

// Picks the separator from the first line: ';' or tab when the line has no comma outside
// quotes and only one of the two, else ','. Reads until that line is in the buffer (at most a
// chunk of it).
Status CsvReader::DetectDelimiter() {
  while (std::memchr(buf_.data() + pos_, '\n', end_ - pos_) == nullptr && end_ - pos_ < kChunk) {
    ALMANAC_ASSIGN_OR_RETURN(bool more, Fill());
    if (!more) break;
  }
  size_t commas = 0, semicolons = 0, tabs = 0;
  bool quoted = false;
  for (size_t i = pos_; i < end_; ++i) {
    const char c = buf_[i];
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted) {
      if (c == '\n' || c == '\r') break;
      commas += c == ',';
      semicolons += c == ';';
      tabs += c == '\t';
    }
  }
  delimiter_ = ',';
  if (commas == 0 && (semicolons > 0) != (tabs > 0)) delimiter_ = semicolons > 0 ? ';' : '\t';
  return Status::Ok();
}

Result<bool> CsvReader::Next(std::vector<std::string_view>* fields) {
  if (!checked_start_) {
    checked_start_ = true;
    if (fd_ >= 0) {
      ALMANAC_RETURN_IF_ERROR(Fill());
    } else if (std::memchr(buf_.data(), '\0', end_) != nullptr) {
      return InvalidArgumentError(name_ + " is not a text file (it contains NUL bytes)");
    }
    if (end_ - pos_ >= 3 && std::memcmp(buf_.data() + pos_, "\xEF\xBB\xBF", 3) == 0) {  // UTF-8 BOM
      pos_ += 3;
      bytes_consumed_ += 3;
    }
    if (delimiter_ == 0) ALMANAC_RETURN_IF_ERROR(DetectDelimiter());
  }
  const char sep = delimiter_;
  for (;;) {
    // Try to parse one complete record from buf_[pos_, end_).
    spans_.clear();
    from_unescaped_.clear();
    unescaped_.clear();
    size_t i = pos_;
    int64_t newlines = 0;
    bool complete = false;
    bool in_field_start = true;
    size_t field_start = i;
    Status error;
    while (i < end_ || eof_) {
      if (i >= end_) {  // end of input: the record ends here
        if (i > pos_ || !spans_.empty()) {
          spans_.emplace_back(field_start, i - field_start);
          from_unescaped_.push_back(false);
        }
        complete = true;
        break;
      }
      char c = buf_[i];
      if (in_field_start && c == '"') {
        // Quoted field: copy into unescaped_ ("" is a quote).
        const size_t u0 = unescaped_.size();
        size_t j = i + 1;
        bool closed = false;
        int64_t nl = 0;
        while (j < end_) {
          char d = buf_[j];
          if (d == '"') {
            if (j + 1 >= end_ && !eof_) break;  // need more input to decide
            if (j + 1 < end_ && buf_[j + 1] == '"') {
              unescaped_ += '"';
              j += 2;
              continue;
            }
            closed = true;
            ++j;
            break;
          }
          if (d == '\n') ++nl;
          unescaped_ += d;
          ++j;
        }
        if (!closed) {
          if (eof_ && j >= end_) {
            error = InvalidArgumentError(name_ + ": line " + std::to_string(line_ + newlines) +
                                         ": unbalanced quote (a quoted field is never closed)");
          }
          break;  // need more input (or error)
        }
        newlines += nl;
        if (j < end_ && buf_[j] != sep && buf_[j] != '\n' && buf_[j] != '\r') {
          error = InvalidArgumentError(name_ + ": line " + std::to_string(line_ + newlines) + ", column " +
                                       std::to_string(spans_.size() + 1) +
                                       ": unexpected characters after a closing quote");
          break;
        }
        spans_.emplace_back(u0, unescaped_.size() - u0);
        from_unescaped_.push_back(true);
        i = j;
        if (i >= end_) {
          if (eof_) {
            complete = true;
            break;
          }
          break;  // need more input
        }
        // fallthrough to separator handling below
        c = buf_[i];
        if (c == sep) {
          ++i;
          field_start = i;
          in_field_start = true;
          if (i >= end_ && eof_) {
            spans_.emplace_back(i, 0);
            from_unescaped_.push_back(false);
            complete = true;
            break;
          }
          continue;
        }
        if (c == '\r' && i + 1 < end_ && buf_[i + 1] == '\n') ++i;
        else if (c == '\r' && i + 1 >= end_ && !eof_) break;
        ++i;
        ++newlines;
        complete = true;
        break;
      }
      in_field_start = false;
      if (c == sep) {
        spans_.emplace_back(field_start, i - field_start);
        from_unescaped_.push_back(false);
        ++i;
        field_start = i;
        in_field_start = true;
        if (i >= end_ && eof_) {
          spans_.emplace_back(i, 0);
          from_unescaped_.push_back(false);
          complete = true;
          break;
        }
        continue;
      }
      if (c == '\n' || c == '\r') {
        if (c == '\r') {
          if (i + 1 >= end_ && !eof_) break;  // need more input to see a possible \n
        }
        spans_.emplace_back(field_start, i - field_start);
        from_unescaped_.push_back(false);
        if (c == '\r' && i + 1 < end_ && buf_[i + 1] == '\n') ++i;
        ++i;
        ++newlines;
        complete = true;
        break;
      }
      if (c == '"') {
        error = InvalidArgumentError(name_ + ": line " + std::to_string(line_ + newlines) + ", column " +
                                     std::to_string(spans_.size() + 1) +
                                     ": unexpected quote inside an unquoted field");
        break;
      }
      ++i;
    }
    if (!error.ok()) return error;
    if (!complete) {
      ALMANAC_ASSIGN_OR_RETURN(bool more, Fill());
      (void)more;
      if (pos_ == end_ && eof_) return false;
      continue;
    }
    if (spans_.empty() && i == pos_) return false;  // nothing left
    // Validate UTF-8 of the raw record.
    std::string_view raw(buf_.data() + pos_, i - pos_);
    record_line_ = line_;
    line_ += newlines;
    bytes_consumed_ += static_cast<int64_t>(i - pos_);
    pos_ = i;
    if (!IsValidUtf8(raw))
      return InvalidArgumentError(name_ + ": line " + std::to_string(record_line_) + " is not valid UTF-8 text");
    // Skip blank lines.
    if (spans_.size() == 1 && spans_[0].second == 0 && !from_unescaped_[0]) {
      if (pos_ >= end_ && eof_) return false;
      continue;
    }
    fields->clear();
    for (size_t k = 0; k < spans_.size(); ++k) {
      const std::string& src = from_unescaped_[k] ? unescaped_ : buf_;
      fields->emplace_back(src.data() + spans_[k].first, spans_[k].second);
    }
    return true;
  }
}

}  // namespace almanac::data
