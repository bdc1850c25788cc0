// Anchors of the audit chain outside the store (issue 19): Ed25519 keys (OpenSSL EVP), the
// append-only anchor file, and its verification against the store. Format and contracts:
// include/almanac/store/audit_anchor.h; operations: docs/operations.md.
#include "almanac/store/audit_anchor.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "almanac/core/json.h"
#include "almanac/store.h"

namespace almanac::store {
namespace {

constexpr std::string_view kAnchorFormat = "almanac-audit-anchor";
constexpr int64_t kAnchorFormatVersion = 1;
// Entries per line: a first anchor of a long log becomes several lines of at most ~1 MB.
constexpr int64_t kAnchorMaxEntriesPerLine = 10000;
// How long an anchor writer or reader waits for another process's lock on the file.
constexpr auto kAnchorLockWait = std::chrono::seconds(30);
constexpr size_t kAnchorMaxKeyFileBytes = 64 * 1024;

std::string AnchorZeroHash() { return std::string(64, '0'); }

std::string AnchorOpenSslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

struct AnchorPkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using AnchorPkey = std::unique_ptr<EVP_PKEY, AnchorPkeyFree>;
struct AnchorBioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using AnchorBio = std::unique_ptr<BIO, AnchorBioFree>;
struct AnchorMdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using AnchorMdCtx = std::unique_ptr<EVP_MD_CTX, AnchorMdCtxFree>;

// An open file descriptor, closed (and so unlocked) by the destructor.
class AnchorFd {
 public:
  explicit AnchorFd(int fd) : fd_(fd) {}
  ~AnchorFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  AnchorFd(AnchorFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  AnchorFd& operator=(AnchorFd&&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Never prompts: an encrypted key is refused with a clear message before OpenSSL sees it.
int AnchorNoPassphrase(char*, int, int, void*) { return 0; }

bool AnchorFromHex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

Status AnchorErrnoStatus(int err, const std::string& what) {
  const std::string message = what + ": " + std::strerror(err);
  if (err == ENOENT) return NotFoundError(message);
  if (err == EACCES || err == EPERM || err == EROFS) return PermissionDeniedError(message);
  return FailedPreconditionError(message);
}

// Reads a key file (at most 64 KiB). With `private_key`, refuses files that group or others
// may read or write: a signing key anyone can copy proves nothing.
Result<std::string> ReadKeyFile(const std::string& path, bool private_key) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    return AnchorErrnoStatus(err, std::string(private_key ? "cannot open the audit signing key " : "cannot open the audit public key ") + path);
  }
  AnchorFd file(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return AnchorErrnoStatus(errno, "cannot stat " + path);
  if (!S_ISREG(st.st_mode)) return FailedPreconditionError("the audit key " + path + " is not a regular file");
  if (private_key && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return FailedPreconditionError("the audit signing key " + path + " may be read or written by group or others (mode " +
                                   mode + "); only its owner may: chmod 600 " + path);
  }
  if (static_cast<size_t>(st.st_size) > kAnchorMaxKeyFileBytes)
    return InvalidArgumentError(path + " is too large for a PEM key (" + std::to_string(st.st_size) + " bytes)");
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::read(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return AnchorErrnoStatus(errno, "cannot read " + path);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  text.resize(done);
  return text;
}

Status RequireEd25519(EVP_PKEY* key, const std::string& path) {
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) return Status::Ok();
  const char* name = EVP_PKEY_get0_type_name(key);
  return InvalidArgumentError(path + " holds " + (name != nullptr ? std::string(name) : std::string("another kind of")) +
                              " key; audit anchors are signed with Ed25519 keys (create one with almanac audit keygen)");
}

// "sha256:" + hex SHA-256 of the DER SubjectPublicKeyInfo.
Result<std::string> AnchorKeyFingerprint(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(key, &der);
  if (n <= 0) return InternalError("cannot encode the public key: " + AnchorOpenSslError());
  std::string fp = "sha256:" + Sha256Hex(std::string_view(reinterpret_cast<const char*>(der), static_cast<size_t>(n)));
  OPENSSL_free(der);
  return fp;
}

Result<std::string> PemOf(EVP_PKEY* key, bool private_key) {
  AnchorBio bio(BIO_new(BIO_s_mem()));
  if (!bio) return InternalError("out of memory");
  const int ok = private_key ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
                             : PEM_write_bio_PUBKEY(bio.get(), key);
  if (ok != 1) return InternalError("cannot encode the key as PEM: " + AnchorOpenSslError());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  std::string out(data, static_cast<size_t>(n));
  OPENSSL_cleanse(data, static_cast<size_t>(n));
  return out;
}

// Creates `path` (never overwriting) with `mode` and writes `data`, fsynced.
Status WriteNewKeyFile(const std::string& path, std::string_view data, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST)
      return AlreadyExistsError(path + " exists: almanac audit keygen never overwrites a key (move it away first)");
    return AnchorErrnoStatus(err, "cannot create " + path);
  }
  AnchorFd file(fd);
  if (::fchmod(fd, mode) != 0) return AnchorErrnoStatus(errno, "cannot set the mode of " + path);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return AnchorErrnoStatus(errno, "cannot write " + path);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return AnchorErrnoStatus(errno, "cannot sync " + path);
  return Status::Ok();
}

}  // namespace

// ------------------------------------------------------------------------------------ keys

struct AuditSigningKey::Impl {
  AnchorPkey key;
  std::string fingerprint;
  std::string path;
};

struct AuditPublicKey::Impl {
  AnchorPkey key;
  std::string fingerprint;
};

AuditSigningKey::AuditSigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AuditSigningKey::~AuditSigningKey() = default;
const std::string& AuditSigningKey::fingerprint() const { return impl_->fingerprint; }
const std::string& AuditSigningKey::path() const { return impl_->path; }

Result<std::unique_ptr<AuditSigningKey>> AuditSigningKey::Load(const std::string& path) {
  ALMANAC_ASSIGN_OR_RETURN(std::string text, ReadKeyFile(path, true));
  if (text.find("ENCRYPTED") != std::string::npos) {
    OPENSSL_cleanse(text.data(), text.size());
    return InvalidArgumentError(path + " is an encrypted private key; almanac needs it unencrypted, readable only "
                                       "by the account that anchors (chmod 600)");
  }
  const bool looks_public = text.find("PUBLIC KEY-----") != std::string::npos;
  AnchorBio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  AnchorPkey key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, AnchorNoPassphrase, nullptr) : nullptr);
  OPENSSL_cleanse(text.data(), text.size());
  if (!key) {
    ERR_clear_error();
    if (looks_public)
      return InvalidArgumentError(path + " is a public key; signing anchors needs the private key (KEY.pem, not KEY.pub.pem)");
    return InvalidArgumentError(path + " is not a PEM private key (create one with almanac audit keygen --out " + path + ")");
  }
  ALMANAC_RETURN_IF_ERROR(RequireEd25519(key.get(), path));
  auto impl = std::make_unique<Impl>();
  ALMANAC_ASSIGN_OR_RETURN(impl->fingerprint, AnchorKeyFingerprint(key.get()));
  impl->key = std::move(key);
  impl->path = path;
  return std::unique_ptr<AuditSigningKey>(new AuditSigningKey(std::move(impl)));
}

Result<std::string> AuditSigningKey::Sign(std::string_view message) const {
  AnchorMdCtx ctx(EVP_MD_CTX_new());
  unsigned char sig[64];
  size_t len = sizeof sig;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    return InternalError("cannot sign with the audit key " + impl_->path + ": " + AnchorOpenSslError());
  return ToHex(sig, len);
}

AuditPublicKey::AuditPublicKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AuditPublicKey::~AuditPublicKey() = default;
const std::string& AuditPublicKey::fingerprint() const { return impl_->fingerprint; }

Result<std::unique_ptr<AuditPublicKey>> AuditPublicKey::Load(const std::string& path) {
  ALMANAC_ASSIGN_OR_RETURN(std::string text, ReadKeyFile(path, false));
  if (text.find("PRIVATE KEY-----") != std::string::npos) {
    OPENSSL_cleanse(text.data(), text.size());
    return InvalidArgumentError(path + " is a private key; verifying needs only the public key (KEY.pub.pem, written "
                                       "beside it by almanac audit keygen)");
  }
  AnchorBio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  AnchorPkey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, AnchorNoPassphrase, nullptr) : nullptr);
  if (!key) {
    ERR_clear_error();
    return InvalidArgumentError(path + " is not a PEM public key");
  }
  ALMANAC_RETURN_IF_ERROR(RequireEd25519(key.get(), path));
  auto impl = std::make_unique<Impl>();
  ALMANAC_ASSIGN_OR_RETURN(impl->fingerprint, AnchorKeyFingerprint(key.get()));
  impl->key = std::move(key);
  return std::unique_ptr<AuditPublicKey>(new AuditPublicKey(std::move(impl)));
}

Result<std::unique_ptr<AuditPublicKey>> AuditPublicKey::FromSigningKey(const AuditSigningKey& signing) {
  ALMANAC_ASSIGN_OR_RETURN(std::string pem, PemOf(signing.impl_->key.get(), false));
  AnchorBio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  AnchorPkey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, AnchorNoPassphrase, nullptr) : nullptr);
  if (!key) return InternalError("cannot derive the public key of " + signing.path() + ": " + AnchorOpenSslError());
  auto impl = std::make_unique<Impl>();
  impl->fingerprint = signing.fingerprint();
  impl->key = std::move(key);
  return std::unique_ptr<AuditPublicKey>(new AuditPublicKey(std::move(impl)));
}

bool AuditPublicKey::Verify(std::string_view message, std::string_view signature_hex) const {
  std::string sig;
  if (signature_hex.size() != 128 || !AnchorFromHex(signature_hex, &sig)) return false;
  AnchorMdCtx ctx(EVP_MD_CTX_new());
  const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key.get()) == 1 &&
                  EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                   reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  ERR_clear_error();
  return ok;
}

std::string AuditPublicKeyPath(std::string_view private_key_path) {
  std::string p(private_key_path);
  if (p.size() > 4 && p.ends_with(".pem")) p.resize(p.size() - 4);
  return p + ".pub.pem";
}

Result<AuditKeyFiles> GenerateAuditKey(const std::string& private_key_path) {
  AuditKeyFiles out;
  out.private_key = private_key_path;
  out.public_key = AuditPublicKeyPath(private_key_path);
  struct stat st {};
  for (const std::string& p : {out.private_key, out.public_key})
    if (::lstat(p.c_str(), &st) == 0)
      return AlreadyExistsError(p + " exists: almanac audit keygen never overwrites a key (move it away first)");
  AnchorPkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) return InternalError("cannot generate an Ed25519 key: " + AnchorOpenSslError());
  ALMANAC_ASSIGN_OR_RETURN(out.fingerprint, AnchorKeyFingerprint(key.get()));
  ALMANAC_ASSIGN_OR_RETURN(std::string private_pem, PemOf(key.get(), true));
  ALMANAC_ASSIGN_OR_RETURN(std::string public_pem, PemOf(key.get(), false));
  Status s = WriteNewKeyFile(out.private_key, private_pem, 0600);
  OPENSSL_cleanse(private_pem.data(), private_pem.size());
  ALMANAC_RETURN_IF_ERROR(s);
  if (Status p = WriteNewKeyFile(out.public_key, public_pem, 0644); !p.ok()) {
    ::unlink(out.private_key.c_str());  // all or nothing: a private key without its public half is useless
    return p;
  }
  return out;
}

// ------------------------------------------------------------------------- anchor file

namespace {

// One parsed anchor line.
struct AnchorLine {
  std::string store;
  int64_t time_us = 0;
  std::string time;
  std::string key;
  std::string prev_line;
  int64_t from_seq = 0;
  int64_t head_seq = 0;
  std::string head_hash;
  std::vector<std::pair<int64_t, std::string>> entries;
  std::string sig;
  std::string signed_bytes;  // canonical JSON of every field but "sig"
};

Result<AnchorLine> ParseAnchorLine(std::string_view text) {
  auto parsed = ParseJson(text);
  if (!parsed.ok()) return InvalidArgumentError("not JSON (" + parsed.status().message() + ")");
  Json& j = *parsed;
  if (!j.is_object()) return InvalidArgumentError("not a JSON object");
  auto text_field = [&](const char* name) -> Result<std::string> {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return InvalidArgumentError(std::string("no text field \"") + name + "\"");
    return it->get<std::string>();
  };
  auto int_field = [&](const char* name) -> Result<int64_t> {
    auto it = j.find(name);
    if (it == j.end() || !it->is_number_integer())
      return InvalidArgumentError(std::string("no integer field \"") + name + "\"");
    return it->get<int64_t>();
  };
  AnchorLine a;
  ALMANAC_ASSIGN_OR_RETURN(std::string format, text_field("format"));
  if (format != kAnchorFormat) return InvalidArgumentError("format is " + QuoteForMessage(format) + ", not almanac-audit-anchor");
  ALMANAC_ASSIGN_OR_RETURN(int64_t version, int_field("format_version"));
  if (version != kAnchorFormatVersion)
    return InvalidArgumentError("format_version " + std::to_string(version) +
                                (version > kAnchorFormatVersion ? " was written by a newer almanac" : " is not supported"));
  ALMANAC_ASSIGN_OR_RETURN(a.store, text_field("store"));
  ALMANAC_ASSIGN_OR_RETURN(a.time, text_field("time"));
  ALMANAC_ASSIGN_OR_RETURN(a.time_us, int_field("time_us"));
  ALMANAC_ASSIGN_OR_RETURN(a.key, text_field("key"));
  ALMANAC_ASSIGN_OR_RETURN(a.prev_line, text_field("prev_line"));
  if (!IsSha256Hex(a.prev_line)) return InvalidArgumentError("prev_line is not a SHA-256");
  ALMANAC_ASSIGN_OR_RETURN(a.from_seq, int_field("from_seq"));
  ALMANAC_ASSIGN_OR_RETURN(a.head_seq, int_field("head_seq"));
  ALMANAC_ASSIGN_OR_RETURN(a.head_hash, text_field("head_hash"));
  ALMANAC_ASSIGN_OR_RETURN(a.sig, text_field("sig"));
  auto entries = j.find("entries");
  if (entries == j.end() || !entries->is_array() || entries->empty())
    return InvalidArgumentError("no list of entries \"entries\"");
  for (const Json& e : *entries) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_number_integer() || !e[1].is_string() ||
        !IsSha256Hex(e[1].get<std::string>()))
      return InvalidArgumentError("entries holds " + QuoteForMessage(CompactJson(e), 60) + ", not [seq, hash]");
    a.entries.emplace_back(e[0].get<int64_t>(), e[1].get<std::string>());
  }
  j.erase("sig");
  ALMANAC_ASSIGN_OR_RETURN(a.signed_bytes, CanonicalJson(j));
  return a;
}

// The range of a line whose signature verified: consecutive entries from from_seq >= 1,
// ending at head_seq/head_hash. (Checked after the signature, so that an edited line is
// reported as such rather than as inconsistent.)
Status CheckAnchorRange(const AnchorLine& a) {
  if (a.from_seq < 1) return InvalidArgumentError("from_seq " + std::to_string(a.from_seq) + " is not a sequence number");
  for (size_t i = 0; i < a.entries.size(); ++i)
    if (a.entries[i].first != a.from_seq + static_cast<int64_t>(i))
      return InvalidArgumentError("entries are not consecutive from from_seq " + std::to_string(a.from_seq) +
                                  " (found entry " + std::to_string(a.entries[i].first) + ")");
  if (a.head_seq != a.entries.back().first || a.head_hash != a.entries.back().second)
    return InvalidArgumentError("head_seq/head_hash are not the last of the entries");
  return Status::Ok();
}

// Opens the anchor file (for appending: O_APPEND, created when missing) and takes its flock
// (exclusive to append, shared to read), waiting up to kAnchorLockWait for another holder.
Result<AnchorFd> OpenAnchorFile(const std::string& path, bool append) {
  const int flags = (append ? O_RDWR | O_APPEND | O_CREAT : O_RDONLY) | O_CLOEXEC | O_NOCTTY;
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT && !append)
      return NotFoundError("anchor file " + path +
                           " does not exist (anchors are written by almanac audit anchor, or after every write with "
                           "--audit-key and --audit-anchors)");
    return AnchorErrnoStatus(err, std::string(append ? "cannot open or create anchor file " : "cannot open anchor file ") + path);
  }
  AnchorFd file(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return AnchorErrnoStatus(errno, "cannot stat anchor file " + path);
  if (!S_ISREG(st.st_mode)) return FailedPreconditionError("anchor file " + path + " is not a regular file");
  const auto deadline = std::chrono::steady_clock::now() + kAnchorLockWait;
  while (::flock(fd, (append ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) return AnchorErrnoStatus(errno, "cannot lock anchor file " + path);
    if (std::chrono::steady_clock::now() >= deadline)
      return UnavailableError("anchor file " + path + " has been locked by another process for more than 30 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return file;
}

Status AnchorPread(int fd, char* buf, size_t n, off_t offset, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, buf + done, n - done, offset + static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return AnchorErrnoStatus(errno, "cannot read anchor file " + path);
    if (r == 0) return DataLossError("anchor file " + path + " shrank while it was read");
    done += static_cast<size_t>(r);
  }
  return Status::Ok();
}

// The last line of the file without its newline (nullopt for an empty file).
Result<std::optional<std::string>> ReadLastAnchorLine(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return AnchorErrnoStatus(errno, "cannot stat anchor file " + path);
  const off_t size = st.st_size;
  if (size == 0) return std::optional<std::string>();
  char last = 0;
  ALMANAC_RETURN_IF_ERROR(AnchorPread(fd, &last, 1, size - 1, path));
  if (last != '\n')
    return FailedPreconditionError("anchor file " + path +
                                   " ends with an incomplete line (a write was cut short, e.g. the disk filled up): "
                                   "check it with almanac audit verify --anchors, move it aside, and start a new file");
  std::string line;
  off_t pos = size - 1;  // the line ends before this offset
  std::string chunk;
  while (pos > 0) {
    const off_t n = std::min<off_t>(pos, 64 * 1024);
    chunk.resize(static_cast<size_t>(n));
    ALMANAC_RETURN_IF_ERROR(AnchorPread(fd, chunk.data(), chunk.size(), pos - n, path));
    const size_t nl = chunk.rfind('\n');
    if (nl != std::string::npos) {
      line.insert(0, chunk, nl + 1);
      break;
    }
    line.insert(0, chunk);
    pos -= n;
  }
  return std::optional<std::string>(std::move(line));
}

Status AnchorWriteAll(int fd, std::string_view data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return AnchorErrnoStatus(errno, "cannot append to anchor file " + path + (done > 0 ? " (it now ends with an incomplete line)" : ""));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Reads the first `size` bytes of an anchor file line by line.
class AnchorLineReader {
 public:
  AnchorLineReader(int fd, off_t size, const std::string& path) : fd_(fd), size_(size), path_(path) {}
  struct Line {
    std::string text;
    bool complete = true;  // ended with '\n'
  };
  // The next line; nullopt at the end.
  Result<std::optional<Line>> Next() {
    for (;;) {
      const size_t nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        Line l{buf_.substr(pos_, nl - pos_), true};
        pos_ = nl + 1;
        return std::optional<Line>(std::move(l));
      }
      if (offset_ >= size_) {
        if (pos_ >= buf_.size()) return std::optional<Line>();
        Line l{buf_.substr(pos_), false};
        pos_ = buf_.size();
        return std::optional<Line>(std::move(l));
      }
      buf_.erase(0, pos_);
      pos_ = 0;
      const size_t n = static_cast<size_t>(std::min<off_t>(size_ - offset_, 64 * 1024));
      const size_t old = buf_.size();
      buf_.resize(old + n);
      ALMANAC_RETURN_IF_ERROR(AnchorPread(fd_, buf_.data() + old, n, offset_, path_));
      offset_ += static_cast<off_t>(n);
    }
  }

 private:
  int fd_;
  off_t size_;
  off_t offset_ = 0;
  const std::string& path_;
  std::string buf_;
  size_t pos_ = 0;
};

// The store's audit entries in increasing seq, read in batches (one query per 10,000 entries,
// however many anchor lines they span).
class StoreAuditCursor {
 public:
  explicit StoreAuditCursor(MetadataStore& metadata) : metadata_(metadata) {}
  // The entry `seq` (nullptr when the store has none); cheap for increasing seqs.
  Result<const AuditEntry*> Get(int64_t seq) {
    if (seq < from_ || seq > to_) {
      ALMANAC_ASSIGN_OR_RETURN(batch_, metadata_.ReadAudit(seq, seq + kAnchorMaxEntriesPerLine - 1));
      from_ = seq;
      to_ = seq + kAnchorMaxEntriesPerLine - 1;
    }
    auto it = std::lower_bound(batch_.begin(), batch_.end(), seq,
                               [](const AuditEntry& e, int64_t s) { return e.seq < s; });
    return it != batch_.end() && it->seq == seq ? &*it : nullptr;
  }

 private:
  MetadataStore& metadata_;
  std::vector<AuditEntry> batch_;
  int64_t from_ = 1, to_ = 0;  // the range batch_ was read for
};

std::string DescribeAuditEntry(const AuditEntry& e) {
  return e.event.action + " by " + e.event.actor + " on " + e.event.object_type + " " + e.event.object_id + " at " +
         FormatTimestamp(e.timestamp) + ", details " + QuoteForMessage(CompactJson(e.event.details), 160);
}

// Checks the entries `a` anchors against the hashes recomputed from the store's entries.
Status CompareAnchorWithStore(StoreAuditCursor& cursor, MetadataStore& metadata, const AnchorLine& a,
                              const std::string& where) {
  for (const auto& [seq, anchored_hash] : a.entries) {
    ALMANAC_ASSIGN_OR_RETURN(const AuditEntry* e, cursor.Get(seq));
    if (e == nullptr) {
      ALMANAC_ASSIGN_OR_RETURN(auto head, metadata.AuditHead());
      return DataLossError("audit log: entry " + std::to_string(seq) + ", anchored at " + a.time + " (" + where +
                           ", hash " + anchored_hash + "), is missing from the store" +
                           (head.first < seq ? " (the store's log now ends at entry " + std::to_string(head.first) +
                                                   ": entries were deleted from its end)"
                                             : " (it was deleted)"));
    }
    ALMANAC_ASSIGN_OR_RETURN(std::string h, AuditEntryHash(*e));
    if (h != anchored_hash)
      return DataLossError("audit log: entry " + std::to_string(seq) + " differs from what was anchored at " + a.time +
                           " (" + where + "): the anchor recorded hash " + anchored_hash + ", but the store's entry (" +
                           DescribeAuditEntry(*e) + ") hashes to " + h +
                           " (it was edited or replaced after it was anchored)");
  }
  return Status::Ok();
}

// Checks that the last anchored entry still hashes to what was anchored; returns its hash.
Result<std::string> CheckLastAnchoredEntry(MetadataStore& metadata, const AnchorLine& last, const std::string& path) {
  ALMANAC_ASSIGN_OR_RETURN(std::vector<AuditEntry> e, metadata.ReadAudit(last.head_seq, last.head_seq));
  const std::string advice = "; nothing was anchored: run almanac audit verify --anchors " + path;
  if (e.empty() || e[0].seq != last.head_seq)
    return DataLossError("audit log: entry " + std::to_string(last.head_seq) + ", anchored at " + last.time + " in " +
                         path + ", is missing from the store" + advice);
  ALMANAC_ASSIGN_OR_RETURN(std::string h, AuditEntryHash(e[0]));
  if (h != last.head_hash)
    return DataLossError("audit log: entry " + std::to_string(last.head_seq) + " (" + DescribeAuditEntry(e[0]) +
                         ") differs from what was anchored at " + last.time + " in " + path + advice);
  return h;
}

}  // namespace

Result<AnchorAppend> AppendAuditAnchors(Store& store, const AuditSigningKey& key, const std::string& anchors_path,
                                        const Clock& clock) {
  const std::string& path = anchors_path;
  ALMANAC_ASSIGN_OR_RETURN(AnchorFd file, OpenAnchorFile(path, true));
  ALMANAC_ASSIGN_OR_RETURN(std::optional<std::string> last_text, ReadLastAnchorLine(file.get(), path));
  std::optional<AnchorLine> last;
  std::string prev_line = AnchorZeroHash();
  if (last_text) {
    auto parsed = ParseAnchorLine(*last_text);
    if (!parsed.ok())
      return DataLossError("the last line of anchor file " + path + " is not a valid anchor (" +
                           parsed.status().message() + "); check it with almanac audit verify --anchors " + path);
    if (parsed->key != key.fingerprint())
      return FailedPreconditionError("anchor file " + path + " is signed with key " + parsed->key + ", not with " +
                                     key.path() + " (" + key.fingerprint() +
                                     "): a new key starts a new anchor file (docs/operations.md, \"Rotating the key\")");
    ALMANAC_ASSIGN_OR_RETURN(auto public_key, AuditPublicKey::FromSigningKey(key));
    if (!public_key->Verify(parsed->signed_bytes, parsed->sig))
      return DataLossError("the last line of anchor file " + path + " does not verify with key " + key.fingerprint() +
                           " (it was changed after it was signed); check it with almanac audit verify --anchors " + path);
    if (Status r = CheckAnchorRange(*parsed); !r.ok())
      return DataLossError("the last line of anchor file " + path + " is not a valid anchor (" + r.message() + ")");
    prev_line = Sha256Hex(*last_text);
    last = std::move(*parsed);
  }
  MetadataStore& metadata = store.metadata();
  AnchorAppend out;
  out.head_seq = last ? last->head_seq : 0;
  out.head_hash = last ? last->head_hash : AnchorZeroHash();
  ALMANAC_ASSIGN_OR_RETURN(auto head, metadata.AuditHead());
  if (head.first < out.head_seq)
    return DataLossError("audit log: the store's log ends at entry " + std::to_string(head.first) + ", but entries up to " +
                         std::to_string(out.head_seq) + " were anchored in " + path +
                         ": entries were deleted; nothing was anchored: run almanac audit verify --anchors " + path);
  std::string prev_hash = AnchorZeroHash();
  if (last) {
    ALMANAC_ASSIGN_OR_RETURN(prev_hash, CheckLastAnchoredEntry(metadata, *last, path));
  }
  for (int64_t seq = out.head_seq + 1; seq <= head.first;) {
    const int64_t to = std::min(head.first, seq + kAnchorMaxEntriesPerLine - 1);
    ALMANAC_ASSIGN_OR_RETURN(std::vector<AuditEntry> entries, metadata.ReadAudit(seq, to));
    Json list = Json::array();
    for (const AuditEntry& e : entries) {
      const int64_t expected = seq + static_cast<int64_t>(list.size());
      const std::string refuse = "; not anchoring a broken chain: run almanac audit verify";
      if (e.seq != expected)
        return DataLossError("audit log: entry " + std::to_string(expected) + " is missing" + refuse);
      ALMANAC_ASSIGN_OR_RETURN(std::string h, AuditEntryHash(e));
      if (e.prev_hash != prev_hash || h != e.hash)
        return DataLossError("audit log: entry " + std::to_string(e.seq) + " (" + DescribeAuditEntry(e) +
                             ") does not hash or link as the chain requires" + refuse);
      list.push_back(Json::array({e.seq, e.hash}));
      prev_hash = e.hash;
    }
    if (static_cast<int64_t>(list.size()) != to - seq + 1)
      return DataLossError("audit log: entry " + std::to_string(seq + static_cast<int64_t>(list.size())) +
                           " is missing; not anchoring a broken chain: run almanac audit verify");
    const int64_t now = clock.NowMicros();
    Json line = {{"format", std::string(kAnchorFormat)},
                 {"format_version", kAnchorFormatVersion},
                 {"store", store.uri()},
                 {"time", FormatTimestamp(now)},
                 {"time_us", now},
                 {"key", key.fingerprint()},
                 {"prev_line", prev_line},
                 {"from_seq", seq},
                 {"head_seq", to},
                 {"head_hash", prev_hash},
                 {"entries", std::move(list)}};
    ALMANAC_ASSIGN_OR_RETURN(std::string signed_bytes, CanonicalJson(line));
    ALMANAC_ASSIGN_OR_RETURN(line["sig"], key.Sign(signed_bytes));
    ALMANAC_ASSIGN_OR_RETURN(std::string text, CanonicalJson(line));
    ALMANAC_RETURN_IF_ERROR(AnchorWriteAll(file.get(), text + "\n", path));
    prev_line = Sha256Hex(text);
    if (out.lines == 0) out.from_seq = seq;
    ++out.lines;
    out.head_seq = to;
    out.head_hash = prev_hash;
    seq = to + 1;
  }
  if (out.lines > 0 && ::fsync(file.get()) != 0) return AnchorErrnoStatus(errno, "cannot sync anchor file " + path);
  return out;
}

Result<AnchorVerification> VerifyAuditAnchors(Store& store, const std::string& anchors_path, const AuditPublicKey& key) {
  const std::string& path = anchors_path;
  ALMANAC_ASSIGN_OR_RETURN(AnchorFd file, OpenAnchorFile(path, false));
  // Writers append whole lines under the exclusive lock: what the file holds while the shared
  // lock is held is complete, so the lock is released at once and only those bytes are read
  // (a long verification does not hold up anchoring).
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return AnchorErrnoStatus(errno, "cannot stat anchor file " + path);
  ::flock(file.get(), LOCK_UN);
  AnchorVerification out;
  out.key_fingerprint = key.fingerprint();
  AnchorLineReader reader(file.get(), st.st_size, path);
  StoreAuditCursor cursor(store.metadata());
  std::string prev_line = AnchorZeroHash();
  std::string last_store;
  for (int64_t n = 1;; ++n) {
    ALMANAC_ASSIGN_OR_RETURN(std::optional<AnchorLineReader::Line> line, reader.Next());
    if (!line) break;
    const std::string where = "anchor file " + path + " line " + std::to_string(n);
    if (!line->complete)
      return DataLossError(where + " is incomplete (the file does not end with a newline: a write was cut short)");
    auto parsed = ParseAnchorLine(line->text);
    if (!parsed.ok()) return DataLossError(where + " is not a valid anchor: " + parsed.status().message());
    const AnchorLine& a = *parsed;
    if (a.key != key.fingerprint())
      return DataLossError(where + " is signed with key " + a.key + ", not with the given public key " +
                           key.fingerprint() + " (the wrong public key, or the line was signed with another key)");
    if (!key.Verify(a.signed_bytes, a.sig))
      return DataLossError(where + ": its signature does not verify with key " + key.fingerprint() +
                           " (the line was changed after it was signed)");
    if (Status r = CheckAnchorRange(a); !r.ok()) return DataLossError(where + " is not a valid anchor: " + r.message());
    if (a.prev_line != prev_line)
      return DataLossError(n == 1 ? where + " does not start the chain of anchors (its prev_line is not zeros): lines "
                                            "were removed from the start of the file"
                                  : where + " does not follow line " + std::to_string(n - 1) + ": it records the previous "
                                            "line's SHA-256 as " + a.prev_line + ", but line " + std::to_string(n - 1) +
                                            " hashes to " + prev_line + " (a line was removed, inserted or changed)");
    if (a.from_seq != out.anchored_seq + 1)
      return DataLossError(where + " anchors entries from " + std::to_string(a.from_seq) + ", but the lines before it end at entry " +
                           std::to_string(out.anchored_seq));
    ALMANAC_RETURN_IF_ERROR(CompareAnchorWithStore(cursor, store.metadata(), a, where));
    prev_line = Sha256Hex(line->text);
    ++out.lines;
    out.anchored_seq = a.head_seq;
    out.last_anchor_time = a.time_us;
    last_store = a.store;
  }
  ALMANAC_ASSIGN_OR_RETURN(auto head, store.metadata().AuditHead());
  out.store_head_seq = head.first;
  if (out.lines == 0) out.warnings.push_back("anchor file " + path + " holds no anchors yet");
  if (head.first > out.anchored_seq) {
    out.unanchored = head.first - out.anchored_seq;
    out.warnings.push_back(std::to_string(out.unanchored) + " newer entr" + (out.unanchored == 1 ? "y" : "ies") + " (" +
                           std::to_string(out.anchored_seq + 1) + ".." + std::to_string(head.first) +
                           ") not anchored yet: only the in-store chain vouches for " +
                           (out.unanchored == 1 ? "it" : "them"));
  }
  if (out.lines > 0 && last_store != store.uri())
    out.warnings.push_back("the anchors were written for the store " + last_store + ", not " + store.uri() +
                           " (a moved workspace or a migrated store: the entries match)");
  return out;
}

// ------------------------------------------------------------------ periodic anchoring

struct PeriodicAuditAnchor::Impl {
  Impl(Store& s, const AuditSigningKey& k, std::string p, std::chrono::milliseconds i, Report r)
      : store(s), key(k), path(std::move(p)), interval(i), report(std::move(r)) {}

  // Anchors when the head moved past what this object last saw anchored.
  void Pass() {
    auto head = store.metadata().AuditHead();
    if (head.ok() && head->first == known) return;
    Result<AnchorAppend> r = AppendAuditAnchors(store, key, path);
    if (r.ok()) known = r->head_seq;
    if ((!r.ok() || r->lines > 0) && report) report(r);
  }

  void Loop() {
    for (;;) {
      Pass();
      std::unique_lock lock(mu);
      if (!stop) cv.wait_for(lock, interval, [this] { return stop; });
      if (stop) break;
    }
    Pass();  // what was written since the last pass began
  }

  Store& store;
  const AuditSigningKey& key;
  const std::string path;
  const std::chrono::milliseconds interval;
  const Report report;
  int64_t known = -1;  // used by the thread only
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;  // GUARDED_BY(mu)
  std::thread thread;
};

PeriodicAuditAnchor::PeriodicAuditAnchor(Store& store, const AuditSigningKey& key, std::string anchors_path,
                                         std::chrono::milliseconds interval, Report report)
    : impl_(std::make_unique<Impl>(store, key, std::move(anchors_path), interval, std::move(report))) {
  impl_->thread = std::thread([this] { impl_->Loop(); });
}

PeriodicAuditAnchor::~PeriodicAuditAnchor() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace almanac::store
