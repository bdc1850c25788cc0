// The web console (issue 20, docs/ui.md): GET /ui/... serves the built single-page app from a
// directory (ServerOptions::ui_dir, installed beside the binary; `almanac serve --ui-dir`), and
// GET /v1/audit, /v1/whoami and /v1/snapshots give its pages what no other route did.
//
// Static files: public (the data behind them needs a token), GET and HEAD only. Files under
// /ui/assets/ carry a content hash in their name (Vite), so they are cached for a year;
// index.html is revalidated every time. An unknown path outside assets/ is answered with
// index.html (the app routes it); a missing asset is a 404. Every answer carries a
// Content-Security-Policy without inline scripts, nosniff and frame-ancestors 'none'.
// Paths are checked segment by segment by SplitTarget ('.', '..', '/', '\', '%' and NUL
// refused after decoding) and the file is opened only when its canonical path is inside the
// canonical ui_dir (a symlink pointing out is refused too).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "serve/api_common.h"

namespace almanac::serve {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kConsoleCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

void AddConsoleHeaders(HttpResponse& res, bool immutable) {
  res.headers.emplace_back("Content-Security-Policy", std::string(kConsoleCsp));
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  res.headers.emplace_back("X-Frame-Options", "DENY");
  res.headers.emplace_back("Referrer-Policy", "no-referrer");
  res.headers.emplace_back("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
}

std::string_view ConsoleContentType(const fs::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

bool ReadWholeFile(const fs::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = std::move(ss).str();
  return static_cast<bool>(in) || in.eof();
}

// The answer when no console is installed: says how to build one.
HttpResponse ConsoleMissing(const std::string& ui_dir) {
  HttpResponse res;
  res.status = 404;
  res.content_type = "text/html; charset=utf-8";
  res.error_code = StatusCodeName(StatusCode::kNotFound);
  res.error_message = "the web console is not installed";
  std::string safe;  // the directory, escaped for HTML
  for (char c : ui_dir.empty() ? std::string("(no directory given)") : ui_dir) {
    if (c == '<') {
      safe += "&lt;";
    } else if (c == '>') {
      safe += "&gt;";
    } else if (c == '&') {
      safe += "&amp;";
    } else {
      safe += c;
    }
  }
  res.body =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>almanac console not built</title></head>"
      "<body><h1>The almanac web console is not installed</h1>"
      "<p>This server looked for the built console in " + safe + " and found no <code>index.html</code>.</p>"
      "<p>Build it (Node.js and npm needed once, not at run time):</p>"
      "<pre>cd ui &amp;&amp; npm ci &amp;&amp; npm run build</pre>"
      "<p>then start the server with <code>almanac serve --ui-dir ui/dist</code> (or set <code>ALMANAC_UI_DIR</code>, "
      "or install the files as <code>ui/</code> beside the almanac binary). See docs/ui.md. "
      "The HTTP API under /v1/ works without it.</p></body></html>\n";
  AddConsoleHeaders(res, false);
  return res;
}

}  // namespace

Result<HttpResponse> HttpApi::Console(const HttpRequest& req, std::string_view path) const {
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse res = Error(Status(StatusCode::kInvalidArgument,
                                    "method " + std::string(req.method) + " is not allowed here (allowed: GET, HEAD)"),
                             req.request_id);
    res.status = 405;
    res.headers.emplace_back("Allow", "GET, HEAD");
    return res;
  }
  if (path == "/ui") {  // the app's relative URLs need the trailing slash
    HttpResponse res;
    res.status = 308;
    res.content_type = "text/plain; charset=utf-8";
    res.headers.emplace_back("Location", "/ui/");
    AddConsoleHeaders(res, false);
    return res;
  }
  // "/ui/a/b" -> segments {"a", "b"}, each checked as the API's are; "/ui/" and a trailing
  // slash mean the app's own routes.
  std::string_view rest = path.substr(3);  // "/..." after "/ui"
  while (rest.size() > 1 && rest.back() == '/') rest.remove_suffix(1);
  std::vector<std::string> segs;
  std::string ignored_query;
  if (rest != "/") ALMANAC_RETURN_IF_ERROR(SplitTarget(rest, &segs, &ignored_query));

  if (ctx_.ui_dir.empty()) return ConsoleMissing(ctx_.ui_dir);
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(fs::path(ctx_.ui_dir), ec);
  if (ec || !fs::is_regular_file(root / "index.html", ec)) return ConsoleMissing(ctx_.ui_dir);

  auto serve_file = [&](const fs::path& file, bool immutable) -> Result<HttpResponse> {
    HttpResponse res;
    if (!ReadWholeFile(file, &res.body)) return UnavailableError("cannot read a file of the web console");
    res.content_type = ConsoleContentType(file);
    AddConsoleHeaders(res, immutable);
    return res;
  };

  fs::path file = root;
  for (const std::string& s : segs) file /= s;
  const fs::path canonical = fs::weakly_canonical(file, ec);
  if (!ec && !segs.empty()) {
    // Inside the root only (a symlink out of it is refused, as '..' is by SplitTarget).
    const std::string r = root.string() + "/";
    if (canonical.string().compare(0, r.size(), r) != 0)
      return PermissionDeniedError("path " + QuoteForMessage(path, 100) + " leaves the console's directory");
    if (fs::is_regular_file(canonical, ec)) return serve_file(canonical, segs.size() > 1 && segs[0] == "assets");
  }
  if (!segs.empty() && segs[0] == "assets")
    return NotFoundError("no such console file: " + QuoteForMessage(path, 100) + " (rebuilt? reload the page)");
  // Single-page app: the app reads the path and shows the page.
  return serve_file(root / "index.html", false);
}

// GET /v1/audit: the newest entries first (filters: actor, action, object type or id), and the
// chain's verify status, as `almanac audit list` and `audit verify` show them.
Result<HttpResponse> HttpApi::AuditLog(ApiCall& call) const {
  ALMANAC_ASSIGN_OR_RETURN(int64_t limit, api::IntParam(call.query, "limit", 200, 1, 10000));
  auto get = [&](const char* k) {
    auto it = call.query.find(k);
    return it == call.query.end() ? std::string() : it->second;
  };
  const std::string actor = get("actor"), action = get("action"), object = get("object");
  store::MetadataStore& md = ctx_.store->metadata();
  ALMANAC_ASSIGN_OR_RETURN(std::vector<store::AuditEntry> all, md.ReadAudit(1, 0));
  Json entries = Json::array();
  int64_t matched = 0;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const store::AuditEntry& e = *it;
    if (!actor.empty() && e.event.actor != actor) continue;
    if (!action.empty() && e.event.action.rfind(action, 0) != 0) continue;  // a prefix: "model." matches all
    if (!object.empty() && e.event.object_id.find(object) == std::string::npos && e.event.object_type != object)
      continue;
    ++matched;
    if (static_cast<int64_t>(entries.size()) >= limit) continue;
    entries.push_back({{"seq", e.seq},
                       {"timestamp", api::TimestampJson(e.timestamp)},
                       {"actor", e.event.actor},
                       {"action", e.event.action},
                       {"object_type", e.event.object_type},
                       {"object_id", e.event.object_id},
                       {"details", e.event.details},
                       {"hash", e.hash}});
  }
  Json verify;
  auto v = store::VerifyAuditChain(md);
  if (v.ok()) {
    verify = {{"intact", true}, {"entries", v->entries}, {"head_hash", v->head_hash}};
  } else if (v.status().code() == StatusCode::kDataLoss) {
    verify = {{"intact", false}, {"message", v.status().message()}};
  } else {
    return v.status();
  }
  Json j = {{"entries", entries}, {"matched", matched}, {"total", static_cast<int64_t>(all.size())}, {"verify", verify}};
  return api::JsonResponse(j, call.req.request_id);
}

// GET /v1/whoami: who the token acts as, so the console can say so (authorization stays with
// each route).
Result<HttpResponse> HttpApi::Whoami(ApiCall& call) const {
  Json j = {{"user", call.who.user},
            {"role", std::string(RoleName(call.who.role))},
            {"expires_at", api::TimestampJson(call.who.expires_at)}};
  return api::JsonResponse(j, call.req.request_id);
}

// GET /v1/snapshots: every stored snapshot (content id, name, as-of, size), newest first, as
// `almanac snapshot list` shows them; GET /v1/snapshots/{id} has one's content.
Result<HttpResponse> HttpApi::SnapshotList(ApiCall& call) const {
  ALMANAC_ASSIGN_OR_RETURN(int64_t limit, api::IntParam(call.query, "limit", 1000, 1, 10000));
  ALMANAC_ASSIGN_OR_RETURN(std::vector<store::SnapshotInfo> all, ctx_.store->series().ListSnapshots());
  std::stable_sort(all.begin(), all.end(),
                   [](const store::SnapshotInfo& a, const store::SnapshotInfo& b) { return a.created_at > b.created_at; });
  Json out = Json::array();
  for (const store::SnapshotInfo& s : all) {
    if (static_cast<int64_t>(out.size()) >= limit) break;
    out.push_back({{"id", s.id},
                   {"name", s.name},
                   {"as_of", s.as_of ? Json(s.as_of->ToString()) : Json(nullptr)},
                   {"created_at", api::TimestampJson(s.created_at)},
                   {"created_by", s.created_by},
                   {"series", s.num_series},
                   {"observations", s.num_observations}});
  }
  return api::JsonResponse({{"snapshots", out}, {"total", static_cast<int64_t>(all.size())}}, call.req.request_id);
}

}  // namespace almanac::serve
