// File: almanac/store/artifacts.h (part of almanac/store.h)
//
// The artifact store: immutable named blobs (model packages, forecasts, pipeline inputs),
// verified by SHA-256 on every read. Names are relative paths of segments [A-Za-z0-9._-]
// separated by '/'; nothing can name a location outside the store's root.
//
//   ALMANAC_ASSIGN_OR_RETURN(auto artifacts, OpenArtifactStore("file:ws/artifacts"));
//   ALMANAC_ASSIGN_OR_RETURN(ArtifactRecord rec, artifacts->Put("runs/r1/model.json", bytes));
//   ALMANAC_ASSIGN_OR_RETURN(std::string back, artifacts->Get(rec.name, rec.sha256));
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"
#include "almanac/store/metadata.h"

namespace almanac::store {

// InvalidArgument unless `name` is a safe relative artifact name: 1..512 bytes, segments of
// [A-Za-z0-9._-] (not "." or "..", not starting with '.'), no '%', '\', NUL, empty segments,
// or leading '/'.
Status ValidateArtifactName(std::string_view name);

// Thread-safe.
class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;
  // Stores `bytes` under `name`. Idempotent for identical bytes; AlreadyExists when the name
  // holds other bytes (artifacts are immutable). InvalidArgument for a bad name.
  virtual Result<ArtifactRecord> Put(std::string_view name, std::string_view bytes) = 0;
  // Reads `name` and checks its SHA-256 against `expected_sha256` (from the metadata store).
  // NotFound when absent; DataLoss when the bytes no longer match; InvalidArgument for a bad
  // name (including one that leads through a symbolic link).
  virtual Result<std::string> Get(std::string_view name, std::string_view expected_sha256) = 0;
  virtual Result<bool> Exists(std::string_view name) = 0;
  // Where the store lives (for messages).
  virtual std::string Describe() const = 0;
};

// "file:PATH" (a folder, created when missing), "postgresql://..." (chunks in the store's
// database, which must already hold an almanac store) or "memory:". InvalidArgument otherwise.
Result<std::unique_ptr<ArtifactStore>> OpenArtifactStore(std::string_view uri);

// "postgresql://..." or "postgres://..." (a store or artifact URI of the PostgreSQL back-end).
bool IsPostgresUri(std::string_view uri);

// Content-addressed name of bytes: "sha256/ab/abcdef...".
std::string ContentAddressedName(std::string_view sha256_hex);

}  // namespace almanac::store
