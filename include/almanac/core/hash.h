// File: almanac/core/hash.h
//
// SHA-256 content hashing (OpenSSL). Every content id in almanac (snapshot ids, step cache
// keys, artifact keys, audit chain) is the lowercase hex SHA-256 of a canonical serialization
// produced by almanac/core/json.h's CanonicalJson().
//
//   Sha256 h; h.Update("abc"); std::string hex = h.HexDigest();
//   std::string id = Sha256Hex(bytes);
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace almanac {

// Incremental SHA-256. Not thread-safe; one object per stream.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // Finishes the hash; the object must not be updated afterwards.
  std::array<uint8_t, 32> Digest();
  std::string HexDigest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string Sha256Hex(std::string_view bytes);
std::string ToHex(const uint8_t* data, size_t size);
// True for 64 lowercase hex characters.
bool IsSha256Hex(std::string_view text);

}  // namespace almanac
