// Artifact stores: a folder on disk ("file:") and memory ("memory:").
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <random>

#include "almanac/store.h"
#ifdef ALMANAC_WITH_POSTGRES
#include "store/postgres/pg_store.h"
#endif

namespace almanac::store {
namespace {

std::vector<std::string> Segments(std::string_view name) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) slash = name.size();
    out.emplace_back(name.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

// A folder of files. Every path component is opened relative to the root with O_NOFOLLOW, so
// neither a name nor a symbolic link planted inside the folder can lead outside it.
class FileArtifactStore : public ArtifactStore {
 public:
  FileArtifactStore(std::string root, int root_fd) : root_(std::move(root)), root_fd_(root_fd) {}
  ~FileArtifactStore() override { ::close(root_fd_); }

  Result<ArtifactRecord> Put(std::string_view name, std::string_view bytes) override {
    ALMANAC_RETURN_IF_ERROR(ValidateArtifactName(name));
    const auto segs = Segments(name);
    ALMANAC_ASSIGN_OR_RETURN(int dir_fd, OpenDirs(segs, /*create=*/true, name));
    FdCloser dir(dir_fd);
    const std::string sha = Sha256Hex(bytes);
    ArtifactRecord rec{std::string(name), sha, static_cast<int64_t>(bytes.size()), ""};
    // Existing artifact: identical bytes are fine, anything else is a conflict.
    int existing = ::openat(dir.get(), segs.back().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (existing >= 0) {
      FdCloser ex(existing);
      ALMANAC_ASSIGN_OR_RETURN(std::string old, ReadAll(ex.get(), name));
      if (Sha256Hex(old) == sha) return rec;
      return AlreadyExistsError("artifact " + std::string(name) + " already exists with other content (artifacts are immutable)");
    }
    if (errno == ELOOP) return InvalidArgumentError("artifact " + std::string(name) + " is a symbolic link");
    // Write a temporary file, flush it, then rename it into place.
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    const std::string tmp = ".tmp-" + std::to_string(rng());
    int fd = ::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("cannot create artifact " + std::string(name));
    {
      FdCloser f(fd);
      size_t off = 0;
      while (off < bytes.size()) {
        ssize_t n = ::write(f.get(), bytes.data() + off, bytes.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          Status s = Errno("cannot write artifact " + std::string(name));
          ::unlinkat(dir.get(), tmp.c_str(), 0);
          return s;
        }
        off += static_cast<size_t>(n);
      }
      if (::fsync(f.get()) != 0) {
        Status s = Errno("cannot flush artifact " + std::string(name));
        ::unlinkat(dir.get(), tmp.c_str(), 0);
        return s;
      }
    }
    if (::renameat(dir.get(), tmp.c_str(), dir.get(), segs.back().c_str()) != 0) {
      Status s = Errno("cannot store artifact " + std::string(name));
      ::unlinkat(dir.get(), tmp.c_str(), 0);
      return s;
    }
    return rec;
  }

  Result<std::string> Get(std::string_view name, std::string_view expected_sha256) override {
    ALMANAC_RETURN_IF_ERROR(ValidateArtifactName(name));
    const auto segs = Segments(name);
    ALMANAC_ASSIGN_OR_RETURN(int dir_fd, OpenDirs(segs, /*create=*/false, name));
    FdCloser dir(dir_fd);
    int fd = ::openat(dir.get(), segs.back().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return NotFoundError("no artifact " + std::string(name) + " in " + root_);
      if (errno == ELOOP) return InvalidArgumentError("artifact " + std::string(name) + " is a symbolic link");
      return Errno("cannot open artifact " + std::string(name));
    }
    FdCloser f(fd);
    struct stat st {};
    if (::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode))
      return InvalidArgumentError("artifact " + std::string(name) + " is not a regular file");
    ALMANAC_ASSIGN_OR_RETURN(std::string bytes, ReadAll(f.get(), name));
    if (Sha256Hex(bytes) != expected_sha256)
      return DataLossError("artifact " + std::string(name) + " in " + root_ +
                           " was altered: its SHA-256 no longer matches the recorded " + std::string(expected_sha256));
    return bytes;
  }

  Result<bool> Exists(std::string_view name) override {
    ALMANAC_RETURN_IF_ERROR(ValidateArtifactName(name));
    const auto segs = Segments(name);
    auto dir_fd = OpenDirs(segs, false, name);
    if (!dir_fd.ok()) return dir_fd.status().code() == StatusCode::kNotFound ? Result<bool>(false) : dir_fd.status();
    FdCloser dir(*dir_fd);
    struct stat st {};
    return ::fstatat(dir.get(), segs.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  }

  std::string Describe() const override { return root_; }

 private:
  static Status Errno(const std::string& what) { return InternalError(what + ": " + std::strerror(errno)); }

  // Opens (and creates) every directory of `segs` but the last; returns the last one's fd.
  Result<int> OpenDirs(const std::vector<std::string>& segs, bool create, std::string_view name) {
    int fd = ::dup(root_fd_);
    if (fd < 0) return Errno("cannot open the artifact folder");
    for (size_t i = 0; i + 1 < segs.size(); ++i) {
      int next = ::openat(fd, segs[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0 && errno == ENOENT && create) {
        if (::mkdirat(fd, segs[i].c_str(), 0755) != 0 && errno != EEXIST) {
          Status s = Errno("cannot create a folder for artifact " + std::string(name));
          ::close(fd);
          return s;
        }
        next = ::openat(fd, segs[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      }
      const int err = errno;
      ::close(fd);
      if (next < 0) {
        if (err == ENOENT) return NotFoundError("no artifact " + std::string(name) + " in " + root_);
        if (err == ELOOP || err == ENOTDIR)
          return InvalidArgumentError("artifact " + std::string(name) + " leads through a symbolic link or a file");
        errno = err;
        return Errno("cannot open a folder of artifact " + std::string(name));
      }
      fd = next;
    }
    return fd;
  }

  static Result<std::string> ReadAll(int fd, std::string_view name) {
    std::string out;
    char buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return InternalError("cannot read artifact " + std::string(name) + ": " + std::strerror(errno));
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  std::string root_;
  int root_fd_;
};

class MemoryArtifactStore : public ArtifactStore {
 public:
  Result<ArtifactRecord> Put(std::string_view name, std::string_view bytes) override {
    ALMANAC_RETURN_IF_ERROR(ValidateArtifactName(name));
    std::lock_guard lock(mu_);
    const std::string sha = Sha256Hex(bytes);
    auto [it, inserted] = blobs_.emplace(std::string(name), std::string(bytes));
    if (!inserted && Sha256Hex(it->second) != sha)
      return AlreadyExistsError("artifact " + std::string(name) + " already exists with other content (artifacts are immutable)");
    return ArtifactRecord{std::string(name), sha, static_cast<int64_t>(bytes.size()), ""};
  }
  Result<std::string> Get(std::string_view name, std::string_view expected_sha256) override {
    ALMANAC_RETURN_IF_ERROR(ValidateArtifactName(name));
    std::lock_guard lock(mu_);
    auto it = blobs_.find(std::string(name));
    if (it == blobs_.end()) return NotFoundError("no artifact " + std::string(name));
    if (Sha256Hex(it->second) != expected_sha256) return DataLossError("artifact " + std::string(name) + " was altered");
    return it->second;
  }
  Result<bool> Exists(std::string_view name) override {
    ALMANAC_RETURN_IF_ERROR(ValidateArtifactName(name));
    std::lock_guard lock(mu_);
    return blobs_.count(std::string(name)) > 0;
  }
  std::string Describe() const override { return "memory"; }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> blobs_;
};

}  // namespace

Status ValidateArtifactName(std::string_view name) {
  auto bad = [&](const std::string& why) {
    return InvalidArgumentError("invalid artifact name " + QuoteForMessage(name) + ": " + why);
  };
  if (name.empty() || name.size() > 512) return bad("must be 1 to 512 characters");
  if (name.front() == '/') return bad("must be relative (no leading '/')");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == '-' || c == '/';
    if (!ok) {
      if (c == '%') return bad("percent-encoding is not allowed");
      if (c == '\\') return bad("backslashes are not allowed");
      return bad("character " + QuoteForMessage(std::string(1, c)) + " is not allowed (use letters, digits, . _ - /)");
    }
  }
  for (const auto& seg : Segments(name)) {
    if (seg.empty()) return bad("empty path segment");
    if (seg == "." || seg == "..") return bad("'.' and '..' segments are not allowed");
    if (seg.front() == '.') return bad("segments must not start with '.'");
  }
  return Status::Ok();
}

std::string ContentAddressedName(std::string_view sha) {
  return "sha256/" + std::string(sha.substr(0, 2)) + "/" + std::string(sha);
}

Result<std::unique_ptr<ArtifactStore>> OpenArtifactStore(std::string_view uri) {
  const std::string u(uri);
  if (u == "memory:") return std::unique_ptr<ArtifactStore>(std::make_unique<MemoryArtifactStore>());
  if (IsPostgresUri(u)) {
#ifdef ALMANAC_WITH_POSTGRES
    return pg::OpenPostgresArtifactStore(u);
#else
    return UnimplementedError("this almanac was built without the PostgreSQL back-end (install libpq-dev and rebuild)");
#endif
  }
  if (u.rfind("file:", 0) != 0)
    return InvalidArgumentError("unknown artifact store URI " + QuoteForMessage(uri) +
                                ": expected file:PATH, postgresql://... or memory:");
  std::string path = u.substr(5);
  if (path.rfind("//", 0) == 0) path = path.substr(2);
  if (path.empty()) return InvalidArgumentError("artifact store URI has no path");
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    return InternalError("cannot create artifact folder " + path + ": " + std::strerror(errno));
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return InternalError("cannot open artifact folder " + path + ": " + std::strerror(errno));
  return std::unique_ptr<ArtifactStore>(std::make_unique<FileArtifactStore>(path, fd));
}

}  // namespace almanac::store
