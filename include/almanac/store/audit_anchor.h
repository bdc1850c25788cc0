// File: almanac/store/audit_anchor.h (part of almanac/store.h)
//
// Anchors of the audit chain outside the store (issue 19). The chain in the store
// (VerifyAuditChain) shows an edit only to someone who cannot also rewrite it: whoever can
// write the database can edit an entry and recompute every later hash. An anchor file, kept
// where the database's writers cannot write (another volume, also shipped to syslog or an
// object store), records the (seq, hash) of every entry, signed with an Ed25519 key that only
// the operator holds. VerifyAuditAnchors then names the first entry that no longer matches
// what was anchored, however consistently the store's chain was re-hashed.
//
//   ALMANAC_ASSIGN_OR_RETURN(AuditKeyFiles files, GenerateAuditKey("/etc/almanac/audit.pem"));
//   ALMANAC_ASSIGN_OR_RETURN(auto key, AuditSigningKey::Load("/etc/almanac/audit.pem"));
//   ALMANAC_ASSIGN_OR_RETURN(AnchorAppend a, AppendAuditAnchors(store, *key, "/mnt/anchors/almanac.anchors"));
//   // elsewhere, with the public key only:
//   ALMANAC_ASSIGN_OR_RETURN(auto pub, AuditPublicKey::Load("audit.pub.pem"));
//   ALMANAC_ASSIGN_OR_RETURN(AnchorVerification v, VerifyAuditAnchors(store, "almanac.anchors", *pub));
//
// The anchor file (format "almanac-audit-anchor" version 1, docs/operations.md) has one line
// per anchor, each the canonical JSON of
//   {"format", "format_version", "store" (the store's URI without password), "time",
//    "time_us", "key" (fingerprint of the signing key), "prev_line" (SHA-256 of the previous
//    line's bytes, 64 zeros for the first), "from_seq", "head_seq", "head_hash",
//    "entries" ([[seq, hash], ...]: every entry from from_seq to head_seq), "sig"}
// where "sig" is the hex Ed25519 signature of the canonical JSON of every other field. Line
// ranges are contiguous from entry 1, and prev_line chains the lines, so a line dropped from
// the middle is detected. IMPORTANT: lines cut from the end of the file cannot be detected
// from the file alone; ship each line elsewhere too (docs/operations.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"

namespace almanac::store {

class Store;

// The private half of an Ed25519 key, for signing anchors. Immutable after Load; thread-safe.
class AuditSigningKey {
 public:
  ~AuditSigningKey();
  AuditSigningKey(const AuditSigningKey&) = delete;
  AuditSigningKey& operator=(const AuditSigningKey&) = delete;

  // Reads an unencrypted PEM private key. NotFound / PermissionDenied when the file cannot be
  // opened; FailedPrecondition when group or others may read or write it (chmod 600) or it is
  // not a regular file; InvalidArgument when it is not a PEM private key, is encrypted, or is
  // not an Ed25519 key.
  static Result<std::unique_ptr<AuditSigningKey>> Load(const std::string& path);

  // "sha256:" + the hex SHA-256 of the DER SubjectPublicKeyInfo of the public half, as
  // `openssl pkey -pubin -in KEY.pub.pem -outform DER | sha256sum` prints it.
  const std::string& fingerprint() const;
  const std::string& path() const;
  // The Ed25519 signature of `message`, in lowercase hex (128 characters).
  Result<std::string> Sign(std::string_view message) const;

 private:
  friend class AuditPublicKey;
  struct Impl;
  explicit AuditSigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The public half of an Ed25519 key, for verifying anchors. Immutable; thread-safe.
class AuditPublicKey {
 public:
  ~AuditPublicKey();
  AuditPublicKey(const AuditPublicKey&) = delete;
  AuditPublicKey& operator=(const AuditPublicKey&) = delete;

  // Reads a PEM public key. NotFound / PermissionDenied when the file cannot be opened;
  // InvalidArgument when it is not a PEM public key (a private key is refused too: verifiers
  // need only KEY.pub.pem) or not an Ed25519 key.
  static Result<std::unique_ptr<AuditPublicKey>> Load(const std::string& path);
  // The public half of a signing key.
  static Result<std::unique_ptr<AuditPublicKey>> FromSigningKey(const AuditSigningKey& key);

  const std::string& fingerprint() const;
  // True when `signature_hex` is this key's Ed25519 signature of `message`.
  bool Verify(std::string_view message, std::string_view signature_hex) const;

 private:
  struct Impl;
  explicit AuditPublicKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Where GenerateAuditKey puts the public half: KEY.pem -> KEY.pub.pem (other names: + ".pub.pem").
std::string AuditPublicKeyPath(std::string_view private_key_path);

struct AuditKeyFiles {
  std::string private_key;  // mode 0600
  std::string public_key;   // mode 0644
  std::string fingerprint;
};
// Creates a new Ed25519 key: the private key at `private_key_path` and the public key at
// AuditPublicKeyPath(). Never overwrites: AlreadyExists when either file exists (nothing is
// written then); PermissionDenied / NotFound when the folder cannot be written.
Result<AuditKeyFiles> GenerateAuditKey(const std::string& private_key_path);

// What AppendAuditAnchors did.
struct AnchorAppend {
  int64_t lines = 0;     // lines appended (0: nothing new since the file's last anchor)
  int64_t from_seq = 0;  // first entry anchored by these lines (0 when none)
  int64_t head_seq = 0;  // the last anchored entry, now (0: the store's log is empty)
  std::string head_hash;
};

// Appends anchor lines for the store's audit entries after the file's last anchor (all of
// them into a new file), at most 10,000 entries per line, signed with `key`. The file is
// opened with O_APPEND (created 0644 when missing) and locked (flock) while its last line is
// read and the new lines are written, so concurrent anchoring by any number of processes on
// this host keeps one linear chain; the lines are fsynced before returning. Before signing,
// the entries are checked: the last anchored entry must still hash to what was anchored, and
// the new ones must chain from it.
// Errors: DataLoss when the store's log no longer matches the file's last anchor (an edited
// or deleted entry: nothing is appended) or the last line does not verify with `key`;
// FailedPrecondition when the file was signed with another key (a new key starts a new file),
// ends with an incomplete line, or is not a regular file; Unavailable when another process
// holds its lock for more than 30 s; errors of the store's reads. Thread-safe.
Result<AnchorAppend> AppendAuditAnchors(Store& store, const AuditSigningKey& key, const std::string& anchors_path,
                                        const Clock& clock = SystemClock());

// What VerifyAuditAnchors found (when every line verified and matched the store).
struct AnchorVerification {
  int64_t lines = 0;             // anchor lines checked
  int64_t anchored_seq = 0;      // the last anchored entry (0: the file is empty)
  int64_t last_anchor_time = 0;  // micros, of the last line (0 when none)
  int64_t store_head_seq = 0;    // the store's last entry
  int64_t unanchored = 0;        // entries after anchored_seq: not anchored yet (not an error)
  std::string key_fingerprint;
  std::vector<std::string> warnings;  // unanchored entries, lines written for another store URI
};

// Checks every line of the anchor file: its format, that it is signed by `key` (with its
// fingerprint), that it follows the previous line (prev_line) and continues its range, and
// that every anchored (seq, hash) matches the hash recomputed from the store's entry.
// It does not re-check the store's own chain (VerifyAuditChain does).
// Errors: DataLoss naming the first problem: the first entry that differs from its anchor
// (seq, action, actor, object, the anchored and the store's hash), an anchored entry missing
// from the store, a line that is malformed, incomplete, signed by another key, not signed
// correctly, or does not follow its predecessor; NotFound / PermissionDenied /
// FailedPrecondition when the file cannot be opened, read, or is not a regular file.
// Thread-safe; it reads the lines that were complete when it opened the file (under a shared
// flock released at once), so it does not hold up writers.
Result<AnchorVerification> VerifyAuditAnchors(Store& store, const std::string& anchors_path, const AuditPublicKey& key);

// Anchors a long-running process's writes (serve, scheduler, worker): a thread that every
// `interval` reads the store's audit head and, when it moved past what is anchored, calls
// AppendAuditAnchors. `report` receives every failure and every append that wrote lines (on
// the thread). The destructor stops the thread after one last pass. `store` and `key` must
// outlive this object; `report` must be thread-safe.
class PeriodicAuditAnchor {
 public:
  using Report = std::function<void(const Result<AnchorAppend>&)>;
  PeriodicAuditAnchor(Store& store, const AuditSigningKey& key, std::string anchors_path,
                      std::chrono::milliseconds interval, Report report);
  ~PeriodicAuditAnchor();
  PeriodicAuditAnchor(const PeriodicAuditAnchor&) = delete;
  PeriodicAuditAnchor& operator=(const PeriodicAuditAnchor&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace almanac::store
