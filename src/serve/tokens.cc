// Roles, permissions, API tokens and the authenticator.
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>

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
                                 std::string_view description, std::string_view actor) {
  ALMANAC_RETURN_IF_ERROR(ValidateName(user, "token user"));
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
  ALMANAC_RETURN_IF_ERROR(metadata.Run([&](store::MetadataTxn& t) -> Status {
    ALMANAC_RETURN_IF_ERROR(t.InsertToken(out.record));
    return t.Audit({std::string(actor), "token.create", "token", out.record.id,
                    {{"user", out.record.user}, {"role", out.record.role}, {"description", out.record.description}}})
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

Result<std::string> Authenticator::SecretOf(std::string_view h) {
  if (h.empty()) return UnauthenticatedError("missing bearer token (send 'Authorization: Bearer <token>')");
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
  if (it->second.revoked) {
    *message = "token " + it->second.principal.token_id + " was revoked";
    return Outcome::kUnauthenticated;
  }
  *principal = it->second.principal;
  return Outcome::kOk;
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
    e.principal = {rec->user, *role, rec->id};
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
  if (e.revoked) return UnauthenticatedError("token " + e.principal.token_id + " was revoked");
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
    e.principal = {t.user, *role, t.id};
    fresh[t.token_sha256] = e;
  }
  std::lock_guard lock(mu_);
  by_hash_ = std::move(fresh);
  unknown_cached_ = 0;
  return Status::Ok();
}

}  // namespace almanac::serve
