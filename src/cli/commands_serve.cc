// serve and tokens commands: the composition root of the HTTP service (store, artifacts,
// model types, monitor's accuracy evaluation).
#include "cli/commands_serve.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <system_error>
#include <thread>

#include "almanac/monitor.h"
#include "almanac/serve.h"
#include "cli/audit_anchoring.h"
#include "cli/monitoring.h"

namespace almanac::cli {

namespace {

// Where the built web console is (docs/ui.md): --ui-dir, else $ALMANAC_UI_DIR, else installed
// beside the binary (<exe dir>/ui, then <exe dir>/../share/almanac/ui). "" when none has an
// index.html: /ui/ then answers a page saying how to build it.
std::string ResolveUiDir(const std::string& flag) {
  namespace fs = std::filesystem;
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("ALMANAC_UI_DIR"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  for (const fs::path& dir : {exe.parent_path() / "ui", exe.parent_path().parent_path() / "share" / "almanac" / "ui"})
    if (fs::is_regular_file(dir / "index.html", ec)) return dir.string();
  return "";
}

}  // namespace

int RunServe(const GlobalOptions& g, const ServeArgs& a) {
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  // Requests act as their tokens' users, authenticated by the tokens: the server's own
  // operating-system user is not recorded in their audit entries.
  store::SetAuthenticatedUser("");
  auto artifacts = store::OpenArtifactStore((*ws)->artifacts_uri());
  if (!artifacts.ok()) return ReportError(artifacts.status());
  models::ForecasterRegistry models;
  models::RegisterBuiltinModels(models);
  auto policy = serve::ParseVersionPolicy(a.policy);
  if (!policy.ok()) return ReportError(policy.status());
  if (a.cache_entries < 0) return ReportError(InvalidArgumentError("--cache-entries must be >= 0"));
  if (a.log_repeat_limit < 0) return ReportError(InvalidArgumentError("--log-repeat-limit must be >= 0 (0: no limit)"));

  serve::ServerOptions o;
  o.listen = a.listen;
  // One event loop per core by default, as nginx's `worker_processes auto` (docs/serving.md).
  o.threads = a.threads != 0 ? a.threads : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 64u));
  o.workers = a.workers;
  o.poll_seconds = a.poll_seconds;
  o.no_auth = a.no_auth;
  o.no_auth_user = g.user;
  o.tls_cert_file = a.tls_cert;
  o.tls_key_file = a.tls_key;
  o.policy = *policy;
  o.max_body_bytes = a.max_body_bytes;
  o.header_timeout_ms = a.header_timeout_ms;
  o.read_timeout_ms = a.read_timeout_ms;
  o.idle_timeout_ms = a.idle_timeout_ms;
  o.max_connections = a.max_connections;
  o.max_connections_per_address = a.max_connections_per_address;
  o.rate_limit = a.rate_limit;
  o.rate_burst = a.rate_burst;
  o.trusted_proxies = a.trusted_proxies;
  o.max_queue = a.max_queue;
  o.cache_entries = static_cast<size_t>(a.cache_entries);
  o.shutdown_timeout_ms = static_cast<int>(a.shutdown_timeout_s * 1000);
  o.ui_dir = ResolveUiDir(a.ui_dir);
  // Access logs are batched: one write per 100 ms instead of one per request; identical
  // warnings (refusals, 401/403/429 from one client) are summarised beyond the repeat limit.
  auto logger = MakeLogger(g, "almanac-serve", 100, a.log_repeat_limit);
  if (!logger.ok()) return ReportError(logger.status());
  o.logger = logger->get();
  auto anchoring = StartPeriodicAnchoring(g, (*ws)->store(), **logger);
  if (!anchoring.ok()) return ReportError(anchoring.status());
  store::Store* st = &(*ws)->store();
  store::ArtifactStore* arts = artifacts->get();
  o.accuracy = [st, arts] { return monitor::EvaluateProductionAccuracy(*st, *arts, ""); };
  serve::ServerDeps deps{&(*ws)->store(), artifacts->get(), &models, nullptr};
  auto server = serve::Server::Start(std::move(o), deps);
  if (!server.ok()) return ReportError(server.status());
  Status s = (*server)->Wait();
  if (!s.ok()) return ReportError(s);
  return kExitOk;
}

namespace {

// --expires: a duration from now ("90d") or a date/timestamp.
Result<int64_t> ParseExpiry(const std::string& text) {
  if (text.empty()) return int64_t{0};
  if (auto d = ParseDuration(text); d.ok()) {
    if (*d == 0) return InvalidArgumentError("--expires: a token cannot expire at once");
    return SystemClock().NowMicros() + *d;
  }
  auto t = ParseTimestamp(text);
  if (!t.ok())
    return InvalidArgumentError("--expires " + QuoteForMessage(text) +
                                ": expected a duration (90d, 12h, 2w) or a date (2027-03-31) or timestamp");
  return *t;
}

// Tokens act as their user: only an admin of the store creates or changes another user's.
Status MayManageTokensOf(const Workspace& ws, const std::string& token_user) {
  if (token_user == ws.user() || ws.identity().admin) return Status::Ok();
  return PermissionDeniedError(ws.user() + " may manage only their own tokens: a token for " + token_user +
                               " needs an admin of the store (almanac users)");
}

}  // namespace

int RunTokensCreate(const GlobalOptions& g, const TokenCreateArgs& a) {
  auto role = serve::ParseRole(a.role);
  if (!role.ok()) return ReportError(role.status().WithContext("--role"));
  auto expires = ParseExpiry(a.expires);
  if (!expires.ok()) return ReportError(expires.status());
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  if (Status s = MayManageTokensOf(**ws, a.user); !s.ok()) return ReportError(s);
  if (Status s = (*ws)->LockForWrite(); !s.ok()) return ReportError(s);
  auto t = serve::CreateToken((*ws)->store().metadata(), SystemClock(), *role, a.user, a.description, g.user, *expires);
  if (!t.ok()) return ReportError(t.status());
  if (g.format == OutputFormat::kJson) {
    std::cout << PrettyJson({{"id", t->record.id},
                             {"user", t->record.user},
                             {"role", t->record.role},
                             {"expires_at", Ts(t->record.expires_at)},
                             {"token", t->secret}})
              << "\n";
  } else if (g.quiet) {
    std::cout << t->secret << "\n";
  } else {
    std::cout << "token " << t->record.id << " for " << t->record.user << " (role " << t->record.role
              << (t->record.expires_at ? ", expires " + FormatTimestamp(t->record.expires_at) : std::string()) << "):\n"
              << t->secret << "\n";
    std::cerr << "Store it now: it is shown only this once (almanac keeps only its SHA-256). Use it as "
                 "'Authorization: Bearer <token>'; revoke with 'almanac tokens revoke "
              << t->record.id << "'.\n";
  }
  return kExitOk;
}

int RunTokensList(const GlobalOptions& g) {
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  auto tokens = serve::ListTokens((*ws)->store().metadata());
  if (!tokens.ok()) return ReportError(tokens.status());
  Table t{{"id", "user", "role", "status", "created_at", "created_by", "expires_at", "last_used_at", "revoked_at",
           "revoked_by", "description"},
          {}};
  const int64_t now = SystemClock().NowMicros();
  for (const auto& r : *tokens) {
    const char* status = r.revoked_at ? "revoked" : (r.expires_at && r.expires_at <= now) ? "expired" : "active";
    t.Add({r.id, r.user, r.role, status, Ts(r.created_at), r.created_by, Ts(r.expires_at), Ts(r.last_used_at),
           Ts(r.revoked_at), r.revoked_by, r.description});
  }
  Print(std::cout, t, g.format);
  return kExitOk;
}

int RunTokensRevoke(const GlobalOptions& g, const std::string& id) {
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  if (Status s = (*ws)->LockForWrite(); !s.ok()) return ReportError(s);
  if (auto rec = (*ws)->store().metadata().Transact<store::ApiTokenRecord>([&](store::MetadataTxn& t) { return t.GetToken(id); });
      rec.ok()) {
    if (Status s = MayManageTokensOf(**ws, rec->user); !s.ok()) return ReportError(s);
  }
  auto r = serve::RevokeToken((*ws)->store().metadata(), SystemClock(), id, g.user);
  if (!r.ok()) return ReportError(r.status());
  if (!g.quiet)
    std::cout << "revoked " << r->id << " (" << r->user << ", " << r->role
              << "); servers refuse it from their next poll (--poll-seconds)\n";
  return kExitOk;
}

int RunTokensRotate(const GlobalOptions& g, const std::string& id, const std::string& grace_text) {
  auto grace = ParseDuration(grace_text);
  if (!grace.ok()) return ReportError(grace.status().WithContext("--grace"));
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  if (Status s = (*ws)->LockForWrite(); !s.ok()) return ReportError(s);
  auto rec = (*ws)->store().metadata().Transact<store::ApiTokenRecord>([&](store::MetadataTxn& t) { return t.GetToken(id); });
  if (!rec.ok()) return ReportError(rec.status());
  if (Status s = MayManageTokensOf(**ws, rec->user); !s.ok()) return ReportError(s);
  auto r = serve::RotateToken((*ws)->store().metadata(), SystemClock(), id, *grace, g.user);
  if (!r.ok()) return ReportError(r.status());
  const auto& fresh = r->fresh;
  if (g.format == OutputFormat::kJson) {
    std::cout << PrettyJson({{"id", fresh.record.id},
                             {"user", fresh.record.user},
                             {"role", fresh.record.role},
                             {"expires_at", Ts(fresh.record.expires_at)},
                             {"token", fresh.secret},
                             {"replaces", r->old.id},
                             {"old_valid_until", Ts(r->old.expires_at)}})
              << "\n";
  } else if (g.quiet) {
    std::cout << fresh.secret << "\n";
  } else {
    std::cout << "token " << fresh.record.id << " replaces " << r->old.id << " for " << fresh.record.user << " (role "
              << fresh.record.role << "):\n"
              << fresh.secret << "\n";
    std::cerr << r->old.id << " keeps working until " << FormatTimestamp(r->old.expires_at)
              << "; switch your clients to the new token before then. It is shown only this once.\n";
  }
  return kExitOk;
}

}  // namespace almanac::cli
