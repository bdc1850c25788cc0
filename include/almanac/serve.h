// File: almanac/serve.h
//
// The serving component: an HTTP/1.1 service (Boost.Beast) that answers projections from the
// model versions the registry says are live, with bearer-token roles, a bounded forecast
// cache and Prometheus metrics. Split as tensorflow/serving splits it (CONVENTIONS.md §6):
//   * which versions should be live: a pure VersionPolicy over the registry's state
//     (AspiredVersions), tested with small state tables;
//   * how to load one: LoadVersion reads the package through the ArtifactStore (SHA-256
//     verified), parses it with registry::ParsePackage and rebuilds the model with
//     models::ForecasterRegistry::Load (data only; nothing from a package is executed);
//   * who serves it: ServableManager swaps versions in atomically and hands out handles that
//     pin a version for one request; each lifecycle change is reported as a ServableEvent.
// The HTTP handler (src/serve/http_api.h) is thin and stateless and does not own the manager.
//
//   serve::ServerOptions opts;
//   opts.listen = "127.0.0.1:8080";
//   ALMANAC_ASSIGN_OR_RETURN(auto server, serve::Server::Start(opts, {&store, &artifacts, &models}));
//   Status s = server->Wait();  // until SIGTERM (or Shutdown()), then drains in-flight requests
//
// API, roles and the meaning of as_of: docs/serving.md and docs/openapi.json.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "almanac/models.h"
#include "almanac/monitor.h"
#include "almanac/registry.h"
#include "almanac/store.h"

namespace almanac::serve {

// ------------------------------------------------------------------------- roles, tokens

// Roles of API tokens. Each endpoint needs one Permission (docs/serving.md has the matrix).
enum class Role { kViewer, kAnalyst, kModeler, kApprover, kAdmin };
std::string_view RoleName(Role role);
// InvalidArgument (listing the roles) for anything else.
Result<Role> ParseRole(std::string_view text);

enum class Permission {
  kPublic,    // no token needed: /healthz, /readyz, /metrics, /openapi.json
  kRead,      // series, models, versions, runs, lineage
  kForecast,  // POST /v1/forecast from served versions
  kPredict,   // POST /v1/models/{name}/predict, POST /v1/scenarios (computation on caller data)
  kPromote,   // request a stage change
  kDecide,    // approve or reject a pending promotion
  kIngest,    // POST /v1/ingest: push observations into the store as new vintages
};
std::string_view PermissionName(Permission p);
// viewer: read, forecast. analyst: + predict, ingest. modeler: + promote. approver: analyst's
// predict + decide (not promote, not ingest: who approves must not feed the data or the model
// versions being approved). admin: everything.
bool RoleAllows(Role role, Permission p);

struct CreatedToken {
  store::ApiTokenRecord record;
  // IMPORTANT: the only copy of the secret. It is not stored (only its SHA-256 is); show it
  // to the user once and drop it.
  std::string secret;
};
// Creates a token for `user` with `role` ("alm_" + 64 hex characters from OpenSSL's CSPRNG)
// and audits "token.create" by `actor` (the secret is never audited). `expires_at` (micros, 0 =
// never) must be in the future. InvalidArgument for a bad user name or expiry.
Result<CreatedToken> CreateToken(store::MetadataStore& metadata, const Clock& clock, Role role, std::string_view user,
                                 std::string_view description, std::string_view actor, int64_t expires_at = 0);
// Rotation without downtime: a new token with the old one's user, role, description and expiry
// (when it has one, the same lifetime from now), while the old one stays valid for `grace_micros`
// more (0: revoked at once; never extended), so clients switch at their own pace. Audits
// "token.rotate" by `actor`. NotFound for an unknown id; FailedPrecondition for a revoked or
// expired token.
struct RotatedToken {
  CreatedToken fresh;
  store::ApiTokenRecord old;  // with its new expiry
};
Result<RotatedToken> RotateToken(store::MetadataStore& metadata, const Clock& clock, std::string_view id,
                                 int64_t grace_micros, std::string_view actor);
Result<std::vector<store::ApiTokenRecord>> ListTokens(store::MetadataStore& metadata);
// Revokes by id and audits "token.revoke". NotFound for an unknown id; FailedPrecondition
// when already revoked.
Result<store::ApiTokenRecord> RevokeToken(store::MetadataStore& metadata, const Clock& clock, std::string_view id,
                                          std::string_view actor);

// Who a request acts as.
struct Principal {
  std::string user;
  Role role = Role::kViewer;
  std::string token_id;  // "" without auth
  int64_t expires_at = 0;  // micros; 0 = never
};

// Checks "Authorization: Bearer <secret>" (or HTTP basic "user:<secret>", user = the token's
// user, as MLflow clients send it) against the token table. Lookups are served from an
// in-memory copy keyed by the secret's SHA-256; Refresh() reloads it (the server does so
// whenever the audit log moves, so a revocation takes effect within one poll interval).
// Thread-safe.
class Authenticator {
 public:
  explicit Authenticator(store::MetadataStore& metadata, const Clock& clock = SystemClock())
      : metadata_(metadata), clock_(clock) {}

  enum class Outcome { kOk, kUnauthenticated, kNeedsStore };
  // Without touching the store: kOk (principal set), kUnauthenticated (message set: no or
  // malformed header, unknown, revoked or expired token), or kNeedsStore when the token is not in the
  // copy yet (call Lookup from a thread that may block).
  Outcome Check(std::string_view authorization, Principal* principal, std::string* message) const;
  // Reads one token from the store (a token created after the last refresh) and caches the
  // answer, including "unknown" (until the next Refresh, bounded to 10,000 entries).
  Result<Principal> Lookup(std::string_view authorization);
  // Replaces the copy with the current table.
  Status Refresh();
  // Writes the last-used times of the tokens used since the previous call (at most one write
  // per token per `min_interval_micros`, so last_used_at is exact to that interval). The server
  // calls it on every poll.
  Status FlushLastUsed(int64_t min_interval_micros = 60'000'000);

 private:
  struct Entry {
    bool known = false;
    Principal principal;
    bool revoked = false;
  };
  static Result<std::string> SecretOf(std::string_view authorization);
  // The user name of "Authorization: Basic base64(user:token)" ("" for other schemes).
  static std::string BasicUser(std::string_view authorization);
  // kUnauthenticated with the message when `e` may not be used at `now`.
  static bool Refused(const Entry& e, int64_t now, std::string* message);

  store::MetadataStore& metadata_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> by_hash_;  // GUARDED_BY(mu_)
  size_t unknown_cached_ = 0;             // GUARDED_BY(mu_)
  // Token id -> last use seen by Check (micros), and the last time written to the store.
  mutable std::map<std::string, int64_t> used_;  // GUARDED_BY(mu_)
  std::map<std::string, int64_t> written_;       // GUARDED_BY(mu_)
};

// ------------------------------------------------------------------------ version policy

// Which versions a server keeps loaded: the production version of every model (default),
// optionally the staging versions, and pinned MODEL@VERSION pairs (served only by number).
struct VersionPolicy {
  bool production = true;
  bool staging = false;
  std::vector<std::pair<std::string, int64_t>> pinned;
};
// "production", "staging", "production,staging", "production,gdp@3", "gdp@3" ...
// InvalidArgument naming the bad item; an empty policy is refused.
Result<VersionPolicy> ParseVersionPolicy(std::string_view text);
std::string FormatVersionPolicy(const VersionPolicy& policy);

// One version as the registry has it.
struct RegistryVersion {
  std::string model;
  int64_t version = 0;
  store::Stage stage = store::Stage::kNone;
  int64_t stage_changed_at = 0;
  std::string artifact_name;
  std::string artifact_sha256;
};

// A version the policy wants loaded, with the labels it is served under ("production",
// "staging", "pinned").
struct AspiredVersion {
  std::string model;
  int64_t version = 0;
  std::vector<std::string> labels;
  std::string artifact_name;
  std::string artifact_sha256;
  friend bool operator==(const AspiredVersion&, const AspiredVersion&) = default;
};

// Pure: the versions to load, sorted by (model, version). When the registry shows two
// versions in one stage (it should not), the one that entered it last wins. A pinned version
// that the registry does not have is left out (the manager reports it).
std::vector<AspiredVersion> AspiredVersions(const VersionPolicy& policy, const std::vector<RegistryVersion>& registry);

// Every version of every registered model, read in one transaction.
Result<std::vector<RegistryVersion>> ReadRegistryState(store::MetadataStore& metadata);

// --------------------------------------------------------------------------- lifecycle

// The states of a servable version (tensorflow/serving LoaderHarness::State).
enum class ServableState { kNew, kLoading, kReady, kUnloading, kDisabled, kError };
std::string_view ServableStateName(ServableState s);

struct ServableEvent {
  std::string model;
  int64_t version = 0;
  ServableState state = ServableState::kNew;
  std::vector<std::string> labels;
  std::string error;  // kError; for kDisabled, why a version is not served (multivariate)
};

// ------------------------------------------------------------------------------ loader

// A loaded, immutable model version. Shared by every request that holds a handle to it.
struct LoadedVersion {
  std::string model;
  int64_t version = 0;
  std::string artifact_name;
  std::string package_sha256;
  registry::PackageManifest manifest;
  // IMPORTANT: const use only (Predict, Describe); Forecaster is thread-compatible.
  std::unique_ptr<const models::Forecaster> forecaster;
  std::string method;  // e.g. "ETS(A,N,N)"
  Frequency frequency = Frequency::kAnnual;
  Period history_end;
  // The data the model was trained on: the snapshot's series keys and as-of date, when the
  // snapshot is in the store (needed to refit at another as_of).
  std::vector<std::string> input_series;
  std::optional<Date> snapshot_as_of;
  int64_t loaded_at = 0;
  // issue 24: set for a multivariate (var, bvar) package, which /v1/forecast cannot serve:
  // why, naming the version and its type. IMPORTANT: `forecaster` is null then; the manager
  // never hands such a version out (Get answers FailedPrecondition with this text).
  std::string not_servable;
};

// Loads one version: reads the package through `artifacts` (NotFound when missing, DataLoss
// when its bytes do not match the registered SHA-256), parses it (InvalidArgument /
// FailedPrecondition for a malformed or newer package) and deserializes the model (never
// executing anything from it). `series` (optional) supplies the snapshot's keys and date.
// A multivariate package loads as a version with `not_servable` set and no forecaster.
Result<std::shared_ptr<const LoadedVersion>> LoadVersion(const AspiredVersion& version, store::ArtifactStore& artifacts,
                                                         const models::ForecasterRegistry& models,
                                                         store::SeriesStore* series, const Clock& clock);

// ----------------------------------------------------------------------------- manager

// What a request asks for: a version number, or an alias ("production" when both are empty).
struct VersionRef {
  std::optional<int64_t> version;
  std::string alias;
};

// A version pinned for the duration of one request: a newer version may be swapped in
// meanwhile; this one stays alive until the handle is dropped.
struct ServableHandle {
  std::shared_ptr<const LoadedVersion> version;
  std::string label;  // the alias it was found under, or "version" when asked by number
};

struct ServableStatus {
  std::string model;
  int64_t version = 0;
  ServableState state = ServableState::kNew;
  std::vector<std::string> labels;
  std::string error;
  int64_t since = 0;  // micros
};

// Loads what the policy wants and serves handles. Reconcile runs on one thread (the poller);
// Get and the status calls on any thread. Thread-safe.
class ServableManager {
 public:
  struct Options {
    VersionPolicy policy;
    // Called for every lifecycle change, on the reconciling thread.
    std::function<void(const ServableEvent&)> on_event;
    // A version that failed to load is retried after this long (if the registry still wants it).
    int64_t retry_after_micros = 30'000'000;
  };
  ServableManager(Options options, store::ArtifactStore& artifacts, const models::ForecasterRegistry& models,
                  store::SeriesStore* series, const Clock& clock);

  struct ReconcileReport {
    int loaded = 0;
    int unloaded = 0;
    int failed = 0;
    bool changed = false;  // a new serving map was swapped in
    std::vector<std::string> errors;
  };
  // Loads every aspired version not yet loaded, then swaps in a new serving map in one atomic
  // step: each label points at its new version, or, when that version failed to load, stays
  // on the version it had (reported as an error, retried later). Versions no longer wanted are
  // unloaded (freed when the last handle is dropped).
  ReconcileReport Reconcile(const std::vector<RegistryVersion>& registry);

  // NotFound when the model is not served, the alias has no loaded version, or the version
  // is not loaded by this server (the message says which versions are). InvalidArgument for
  // an unknown alias. FailedPrecondition naming the version and its type when the version
  // asked for (by number or alias) is multivariate (LoadedVersion::not_servable).
  Result<ServableHandle> Get(std::string_view model, const VersionRef& ref) const;
  // Versions loaded now, by model.
  std::map<std::string, std::vector<ServableHandle>> Loaded() const;
  std::vector<ServableStatus> Statuses() const;
  // True when every version the policy wants is ready.
  bool Ready() const;
  // Changes with every swap (caches key on it).
  uint64_t generation() const { return generation_.load(); }
  const VersionPolicy& policy() const { return options_.policy; }

 private:
  struct ServingMap {
    // model -> label -> version; model -> version number -> loaded version
    std::map<std::string, std::map<std::string, int64_t>> labels;
    std::map<std::string, std::map<int64_t, std::shared_ptr<const LoadedVersion>>> versions;
    // Aspired versions that are not servable (multivariate), and the labels they hold.
    std::map<std::string, std::map<int64_t, std::shared_ptr<const LoadedVersion>>> not_servable;
    std::map<std::string, std::map<std::string, int64_t>> not_servable_labels;
  };
  void Publish(const std::string& model, int64_t version, ServableState state, const std::vector<std::string>& labels,
               const std::string& error);

  Options options_;
  store::ArtifactStore& artifacts_;
  const models::ForecasterRegistry& models_;
  store::SeriesStore* series_;
  const Clock& clock_;
  std::atomic<std::shared_ptr<const ServingMap>> map_;
  std::atomic<uint64_t> generation_{0};
  std::mutex reconcile_mu_;  // one Reconcile at a time
  mutable std::mutex status_mu_;
  std::map<std::pair<std::string, int64_t>, ServableStatus> status_;   // GUARDED_BY(status_mu_)
  std::map<std::pair<std::string, int64_t>, int64_t> failed_at_;       // GUARDED_BY(reconcile_mu_)
  std::vector<AspiredVersion> aspired_;                                // GUARDED_BY(status_mu_)
};

// -------------------------------------------------------------------------- HTTP status

// The one place that maps Status codes to HTTP statuses: InvalidArgument/OutOfRange 400,
// Unauthenticated 401, PermissionDenied 403, NotFound 404, FailedPrecondition/AlreadyExists/
// Aborted 409, ResourceExhausted 429 (413 when `request_too_large`: the request itself is
// over a size limit), Unimplemented 501, Unavailable 503, DeadlineExceeded 504, else 500.
int HttpStatusFor(const Status& status, bool request_too_large = false);

// ------------------------------------------------------------------------------ server

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one (see port())
  int threads = 2;                        // I/O threads (parse, route, cached and loaded-model forecasts)
  int workers = 2;                        // threads for requests that read the store or refit
  int max_queue = 64;                     // waiting worker jobs beyond this: 503
  int max_connections = 1024;             // open connections beyond this: 503 and close
  // Fair service (docs/serving.md): open connections per client address (IPv6: per /64);
  // beyond, a new connection is answered 429 and closed at accept, before anything is read.
  // -1: a quarter of max_connections (at least 1), or no limit with trusted_proxies > 0 (the
  // peers are then the proxies); 0: no limit.
  int max_connections_per_address = -1;
  // Requests per second per client address (a token bucket of rate_burst requests); beyond:
  // 429 with Retry-After, before routing or authentication. 0: no limit.
  double rate_limit = 0;
  int rate_burst = 0;  // 0: twice rate_limit (at least 1)
  // Proxies in front of the server that append the address they saw to X-Forwarded-For: the
  // client is the trusted_proxies-th address from the right (the peer when the header has
  // fewer or a bad one). 0: the header is ignored. At most 16.
  int trusted_proxies = 0;
  int64_t max_body_bytes = 1 << 20;       // larger bodies: 413
  int max_header_bytes = 16 * 1024;       // larger headers: 413
  int header_timeout_ms = 10'000;         // first byte of a request to the end of its header
  int read_timeout_ms = 30'000;           // end of header to end of body
  int idle_timeout_ms = 60'000;           // keep-alive connection waiting for its next request
  int write_timeout_ms = 30'000;
  int shutdown_timeout_ms = 10'000;       // in-flight requests get this long after SIGTERM
  double poll_seconds = 2.0;              // registry, token and data change polling
  VersionPolicy policy;
  size_t cache_entries = 4096;            // 0 disables the forecast cache
  size_t cache_bytes = 64u << 20;
  // Without tokens (every request acts as `no_auth_user` with role admin). Refused unless
  // `listen` is a loopback address; logged loudly.
  bool no_auth = false;
  std::string no_auth_user = "anonymous";
  std::string tls_cert_file;  // both set: HTTPS only (OpenSSL via Boost.Asio ssl)
  std::string tls_key_file;
  bool handle_signals = true;  // SIGTERM/SIGINT start a graceful shutdown
  const Clock* clock = nullptr;  // default SystemClock()
  // Log lines (start, reloads, errors); default: standard error. Ignored when `logger` is set.
  std::function<void(std::string_view line)> log;
  // Structured logs (ECS JSON or text, docs/monitoring.md): every line above, one access line
  // per request (trace.id and span.id of its W3C trace context, http.request.id, client.ip and
  // client.address, method, path, status, duration, user, user_agent.original, and for
  // status >= 400 error.code and error.message) when `access_log`, and internal errors with
  // the request's trace.id. Must outlive the server.
  const monitor::Logger* logger = nullptr;
  bool access_log = true;
  // Accuracy monitoring: forecasts of production versions are stored (store::PutForecast, by
  // the poller, never on a request's thread) and, after every store change, this function
  // scores the production versions; its result is exported as the almanac_forecast_* metrics.
  // Null: forecasts are still stored, no accuracy metrics.
  std::function<Result<std::vector<monitor::VersionAccuracy>>()> accuracy;
  // The built web console (issue 20, docs/ui.md), served under /ui/; "" or a directory
  // without index.html: /ui/ answers a 404 page saying how to build it.
  std::string ui_dir;
};

struct ServerDeps {
  store::Store* store = nullptr;
  store::ArtifactStore* artifacts = nullptr;
  const models::ForecasterRegistry* models = nullptr;
  monitor::MetricRegistry* metrics = nullptr;  // null: the server owns one
};

class Server {
 public:
  // Validates the options (InvalidArgument naming the option; FailedPrecondition for
  // --no-auth on a non-loopback address), loads the versions the policy wants, binds
  // (Unavailable when the address is in use) and starts serving. A version that fails to
  // load is logged and retried; the server starts anyway and /readyz says what is missing.
  static Result<std::unique_ptr<Server>> Start(ServerOptions options, ServerDeps deps);
  ~Server();

  // The bound port (useful with port 0).
  int port() const;
  // Starts a graceful shutdown (as SIGTERM does): stop accepting, close idle connections,
  // finish in-flight requests (bounded by shutdown_timeout_ms), stop the threads.
  void Shutdown();
  // Blocks until the server has stopped. Ok after a graceful shutdown.
  Status Wait();

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string_view host);

}  // namespace almanac::serve
