// Roles, permissions, API tokens and the authenticator.
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <optional>

#include "almanac/serve.h"

namespace almanac::serve {
namespace {

constexpr std::string_view kTokenPrefix = "alm_";
constexpr size_t kSecretHexChars = 64;
constexpr size_t kMaxUnknownCached = 10000;

Result<std::string> RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1)
    return InternalError("the system random number generator failed (OpenSSL RAND_bytes)");
  return ToHex(buf.data(), buf.size());
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kAnalyst:
      return "analyst";
    case Role::kModeler:
      return "modeler";
    case Role::kApprover:
      return "approver";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

Result<Role> ParseRole(std::string_view text) {
  for (Role r : {Role::kViewer, Role::kAnalyst, Role::kModeler, Role::kApprover, Role::kAdmin})
    if (RoleName(r) == text) return r;
  return InvalidArgumentError("unknown role " + QuoteForMessage(text) + " (roles: viewer, analyst, modeler, approver, admin)");
}

std::string_view PermissionName(Permission p) {
  switch (p) {
    case Permission::kPublic:
      return "public";
    case Permission::kRead:
      return "read";
    case Permission::kForecast:
      return "forecast";
    case Permission::kPredict:
      return "predict";
    case Permission::kPromote:
      return "promote";
    case Permission::kDecide:
      return "approve";
    case Permission::kIngest:
      return "ingest";
  }
  return "?";
}

bool RoleAllows(Role role, Permission p) {
  switch (p) {
    case Permission::kPublic:
    case Permission::kRead:
    case Permission::kForecast:
      return true;
    case Permission::kPredict:
      return role != Role::kViewer;
    case Permission::kPromote:
      return role == Role::kModeler || role == Role::kAdmin;
    case Permission::kDecide:
      return role == Role::kApprover || role == Role::kAdmin;
    case Permission::kIngest:
      return role == Role::kAnalyst || role == Role::kModeler || role == Role::kAdmin;
  }
  return false;
}

Result<CreatedToken> CreateToken(store::MetadataStore& metadata, const Clock& clock, Role role, std::string_view user,
                                 std::string_view description, std::string_view actor, int64_t expires_at) {
  ALMANAC_RETURN_IF_ERROR(ValidateName(user, "token user"));
  if (expires_at < 0 || (expires_at != 0 && expires_at <= clock.NowMicros()))
    return InvalidArgumentError("a token's expiry must be in the future");
  CreatedToken out;
  ALMANAC_ASSIGN_OR_RETURN(std::string secret_hex, RandomHex(kSecretHexChars / 2));
  ALMANAC_ASSIGN_OR_RETURN(std::string id_hex, RandomHex(6));
  out.secret = std::string(kTokenPrefix) + secret_hex;
  out.record.id = "tok_" + id_hex;
  out.record.token_sha256 = Sha256Hex(out.secret);
  out.record.user = std::string(user);
  out.record.role = std::string(RoleName(role));
  out.record.description = std::string(description);
  out.record.created_at = clock.NowMicros();
  out.record.created_by = std::string(actor);
  out.record.expires_at = expires_at;
  ALMANAC_RETURN_IF_ERROR(metadata.Run([&](store::MetadataTxn& t) -> Status {
    ALMANAC_RETURN_IF_ERROR(t.InsertToken(out.record));
    Json details = {{"user", out.record.user}, {"role", out.record.role}, {"description", out.record.description}};
    if (expires_at != 0) details["expires_at"] = FormatTimestamp(expires_at);
    return t.Audit({std::string(actor), "token.create", "token", out.record.id, details}).status();
  }));
  return out;
}

Result<RotatedToken> RotateToken(store::MetadataStore& metadata, const Clock& clock, std::string_view id,
                                 int64_t grace_micros, std::string_view actor) {
  if (grace_micros < 0) return InvalidArgumentError("the grace period of a rotation cannot be negative");
  RotatedToken out;
  ALMANAC_ASSIGN_OR_RETURN(std::string secret_hex, RandomHex(kSecretHexChars / 2));
  ALMANAC_ASSIGN_OR_RETURN(std::string id_hex, RandomHex(6));
  ALMANAC_RETURN_IF_ERROR(metadata.Run([&](store::MetadataTxn& t) -> Status {
    ALMANAC_ASSIGN_OR_RETURN(store::ApiTokenRecord old, t.GetToken(id));
    const int64_t now = clock.NowMicros();
    if (old.revoked_at != 0) return FailedPreconditionError("token " + old.id + " was revoked: create a new one instead");
    if (old.expires_at != 0 && old.expires_at <= now)
      return FailedPreconditionError("token " + old.id + " expired at " + FormatTimestamp(old.expires_at) +
                                     ": create a new one instead");
    store::ApiTokenRecord& fresh = out.fresh.record;
    out.fresh.secret = std::string(kTokenPrefix) + secret_hex;
    fresh.id = "tok_" + id_hex;
    fresh.token_sha256 = Sha256Hex(out.fresh.secret);
    fresh.user = old.user;
    fresh.role = old.role;
    fresh.description = old.description;
    fresh.created_at = now;
    fresh.created_by = std::string(actor);
    // A token with a lifetime keeps it: the new one lives as long from now as the old one did.
    if (old.expires_at != 0) fresh.expires_at = now + (old.expires_at - old.created_at);
    const int64_t until = now + grace_micros;
    if (old.expires_at == 0 || until < old.expires_at) old.expires_at = until;
    if (grace_micros == 0) {
      old.revoked_at = now;
      old.revoked_by = std::string(actor);
    }
    ALMANAC_RETURN_IF_ERROR(t.InsertToken(fresh));
    ALMANAC_RETURN_IF_ERROR(t.UpdateToken(old));
    out.old = old;
    return t.Audit({std::string(actor), "token.rotate", "token", old.id,
                    {{"user", old.user}, {"role", old.role}, {"new_token", fresh.id},
                     {"old_valid_until", FormatTimestamp(old.expires_at)}}})
        .status();
  }));
  return out;
}

Result<std::vector<store::ApiTokenRecord>> ListTokens(store::MetadataStore& metadata) {
  return metadata.Transact<std::vector<store::ApiTokenRecord>>([](store::MetadataTxn& t) { return t.ListTokens(); });
}

Result<store::ApiTokenRecord> RevokeToken(store::MetadataStore& metadata, const Clock& clock, std::string_view id,
                                          std::string_view actor) {
  return metadata.Transact<store::ApiTokenRecord>([&](store::MetadataTxn& t) -> Result<store::ApiTokenRecord> {
    ALMANAC_ASSIGN_OR_RETURN(store::ApiTokenRecord rec, t.GetToken(id));
    if (rec.revoked_at != 0)
      return FailedPreconditionError("token " + rec.id + " was already revoked by " + rec.revoked_by + " at " +
                                     FormatTimestamp(rec.revoked_at));
    rec.revoked_at = clock.NowMicros();
    rec.revoked_by = std::string(actor);
    ALMANAC_RETURN_IF_ERROR(t.UpdateToken(rec));
    ALMANAC_RETURN_IF_ERROR(t.Audit({std::string(actor), "token.revoke", "token", rec.id, {{"user", rec.user}, {"role", rec.role}}})
                                .status());
    return rec;
  });
}

// ------------------------------------------------------------------------ authenticator

namespace {

// Standard base64 (RFC 4648 section 4), padding optional; nullopt for anything else.
std::optional<std::string> Base64Decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

bool HasScheme(std::string_view h, std::string_view scheme) {
  return h.size() >= scheme.size() && std::equal(scheme.begin(), scheme.end(), h.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

}  // namespace

std::string Authenticator::BasicUser(std::string_view h) {
  if (!HasScheme(h, "Basic ")) return "";
  auto decoded = Base64Decode(Trim(h.substr(6)));
  if (!decoded) return "";
  const size_t colon = decoded->find(':');
  return colon == std::string::npos ? "" : decoded->substr(0, colon);
}

Result<std::string> Authenticator::SecretOf(std::string_view h) {
  if (h.empty()) return UnauthenticatedError("missing bearer token (send 'Authorization: Bearer <token>')");
  // HTTP basic (what MLflow clients send with MLFLOW_TRACKING_USERNAME/PASSWORD): the password
  // is the token; the user name must be the token's user (checked by Check and Lookup).
  if (HasScheme(h, "Basic ")) {
    auto decoded = Base64Decode(Trim(h.substr(6)));
    const size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos || colon == 0)
      return UnauthenticatedError("malformed Basic credentials (expected base64 of user:token)");
    std::string_view secret = std::string_view(*decoded).substr(colon + 1);
    if (secret.size() != kTokenPrefix.size() + kSecretHexChars || secret.substr(0, kTokenPrefix.size()) != kTokenPrefix)
      return UnauthenticatedError("invalid token in the Basic credentials");
    return std::string(secret);
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (h.size() < kBearer.size() || !std::equal(kBearer.begin(), kBearer.end(), h.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
      }))
    return UnauthenticatedError("the Authorization header is not a bearer token");
  std::string_view secret = Trim(h.substr(kBearer.size()));
  if (secret.size() != kTokenPrefix.size() + kSecretHexChars || secret.substr(0, kTokenPrefix.size()) != kTokenPrefix)
    return UnauthenticatedError("invalid bearer token");
  return std::string(secret);
}

Authenticator::Outcome Authenticator::Check(std::string_view authorization, Principal* principal,
                                            std::string* message) const {
  auto secret = SecretOf(authorization);
  if (!secret.ok()) {
    *message = secret.status().message();
    return Outcome::kUnauthenticated;
  }
  // Only hashes are kept, in memory as in the store.
  const std::string hash = Sha256Hex(*secret);
  std::lock_guard lock(mu_);
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) return Outcome::kNeedsStore;
  if (!it->second.known) {
    *message = "invalid bearer token";
    return Outcome::kUnauthenticated;
  }
  const int64_t now = clock_.NowMicros();
  if (Refused(it->second, now, message)) return Outcome::kUnauthenticated;
  if (const std::string basic = BasicUser(authorization); !basic.empty() && basic != it->second.principal.user) {
    *message = "the user of the Basic credentials is not the token's user";
    return Outcome::kUnauthenticated;
  }
  *principal = it->second.principal;
  used_[principal->token_id] = now;
  return Outcome::kOk;
}

bool Authenticator::Refused(const Entry& e, int64_t now, std::string* message) {
  if (e.revoked) {
    *message = "token " + e.principal.token_id + " was revoked";
    return true;
  }
  if (e.principal.expires_at != 0 && now >= e.principal.expires_at) {
    *message = "token " + e.principal.token_id + " expired at " + FormatTimestamp(e.principal.expires_at);
    return true;
  }
  return false;
}

Status Authenticator::FlushLastUsed(int64_t min_interval_micros) {
  std::vector<std::pair<std::string, int64_t>> due;
  {
    std::lock_guard lock(mu_);
    for (auto it = used_.begin(); it != used_.end();) {
      auto w = written_.find(it->first);
      if (w == written_.end() || it->second - w->second >= min_interval_micros) {
        due.emplace_back(it->first, it->second);
        written_[it->first] = it->second;
        it = used_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (due.empty()) return Status::Ok();
  return metadata_.Run([&](store::MetadataTxn& t) -> Status {
    for (const auto& [id, at] : due) {
      Status s = t.TouchToken(id, at);
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    }
    return Status::Ok();
  });
}

Result<Principal> Authenticator::Lookup(std::string_view authorization) {
  ALMANAC_ASSIGN_OR_RETURN(std::string secret, SecretOf(authorization));
  const std::string hash = Sha256Hex(secret);
  auto rec = metadata_.Transact<store::ApiTokenRecord>([&](store::MetadataTxn& t) { return t.GetTokenByHash(hash); });
  Entry e;
  if (rec.ok()) {
    auto role = ParseRole(rec->role);
    if (!role.ok()) return role.status();
    e.known = true;
    e.revoked = rec->revoked_at != 0;
    e.principal = {rec->user, *role, rec->id, rec->expires_at};
  } else if (rec.status().code() != StatusCode::kNotFound) {
    return rec.status();
  }
  {
    std::lock_guard lock(mu_);
    if (e.known || unknown_cached_ < kMaxUnknownCached) {
      if (!e.known) ++unknown_cached_;
      by_hash_[hash] = e;
    }
  }
  if (!e.known) return UnauthenticatedError("invalid bearer token");
  const int64_t now = clock_.NowMicros();
  if (std::string why; Refused(e, now, &why)) return UnauthenticatedError(why);
  if (const std::string basic = BasicUser(authorization); !basic.empty() && basic != e.principal.user)
    return UnauthenticatedError("the user of the Basic credentials is not the token's user");
  {
    std::lock_guard lock(mu_);
    used_[e.principal.token_id] = now;
  }
  return e.principal;
}

Status Authenticator::Refresh() {
  ALMANAC_ASSIGN_OR_RETURN(auto tokens, ListTokens(metadata_));
  std::map<std::string, Entry> fresh;
  for (const auto& t : tokens) {
    auto role = ParseRole(t.role);
    if (!role.ok()) continue;  // the schema constrains roles; skip anything else
    Entry e;
    e.known = true;
    e.revoked = t.revoked_at != 0;
    e.principal = {t.user, *role, t.id, t.expires_at};
    fresh[t.token_sha256] = e;
  }
  std::lock_guard lock(mu_);
  by_hash_ = std::move(fresh);
  unknown_cached_ = 0;
  return Status::Ok();
}

}  // namespace almanac::serve
