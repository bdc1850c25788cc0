// The web console's side of the server (api_ui.cc): its files under /ui/ (SPA fallback, cache
// and security headers, path traversal refused, the page shown when it is not built), and the
// routes the console added: GET /v1/audit and GET /v1/whoami.
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "serve/http_api.h"
#include "serve/openapi.h"
#include "serve/testing/serve_fixture.h"

namespace almanac::serve {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string HeaderOf(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

void WriteConsoleFile(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

class ConsoleTest : public testing::ServeFixture {
 protected:
  void SetUp() override {
    ServeFixture::SetUp();
    dir_ = std::filesystem::temp_directory_path() /
           // The process id: ctest runs each test in its own process, two at a time, and the
           // seed (time-based) and `this` (deterministic under ASan) alone collided.
           ("almanac-console-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::remove_all(dir_);
    WriteConsoleFile(dir_ / "ui" / "index.html", "<!doctype html><title>console</title>");
    WriteConsoleFile(dir_ / "ui" / "assets" / "index-AbC123_-.js", "console.log(1)");
    WriteConsoleFile(dir_ / "ui" / "assets" / "index-AbC123_-.css", "body{}");
    WriteConsoleFile(dir_ / "secret.txt", "outside the console");
    std::filesystem::create_symlink(dir_ / "secret.txt", dir_ / "ui" / "link.txt");
    auth_ = std::make_unique<Authenticator>(store_->metadata());
    for (Role r : {Role::kViewer, Role::kApprover}) {
      auto t = CreateToken(store_->metadata(), clock_, r, std::string(RoleName(r)) + "-user", "", "admin");
      ASSERT_TRUE(t.ok());
      tokens_[r] = t->secret;
    }
    ASSERT_OK(auth_->Refresh());
    Make((dir_ / "ui").string());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Make(const std::string& ui_dir) {
    ApiContext ctx;
    ctx.store = store_.get();
    ctx.models = &models_;
    ctx.auth = auth_.get();
    ctx.metrics = &metrics_;
    ctx.clock = &clock_;
    ctx.openapi_json = OpenApiDocument();
    ctx.ui_dir = ui_dir;
    api_ = std::make_unique<HttpApi>(ctx);
  }

  HttpResponse Call(std::string_view method, std::string_view target, std::optional<Role> role = std::nullopt) {
    HttpRequest req;
    req.method = method;
    req.target = target;
    const std::string auth = role ? "Bearer " + tokens_[*role] : "";
    req.authorization = auth;
    req.request_id = "req-ui";
    return testing::HandleAsTransport(*api_, req);
  }

  std::filesystem::path dir_;
  std::unique_ptr<Authenticator> auth_;
  monitor::MetricRegistry metrics_;
  std::unique_ptr<HttpApi> api_;
  std::map<Role, std::string> tokens_;
};

TEST_F(ConsoleTest, ServesIndexAndHashedAssetsWithCacheAndSecurityHeaders) {
  {  // Files are read on a worker thread: the I/O thread hands them over.
    HttpRequest req;
    req.method = "GET";
    req.target = "/ui/";
    HttpResponse res;
    EXPECT_EQ(api_->Handle(req, res, /*may_block=*/false), HttpApi::Disposition::kNeedsWorker);
  }
  auto index = Call("GET", "/ui/");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_EQ(index.body, "<!doctype html><title>console</title>");
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(HeaderOf(index, "Cache-Control"), "no-cache");
  const std::string csp = HeaderOf(index, "Content-Security-Policy");
  EXPECT_THAT(csp, HasSubstr("script-src 'self'"));
  EXPECT_THAT(csp, HasSubstr("frame-ancestors 'none'"));
  EXPECT_THAT(csp, Not(HasSubstr("unsafe-inline")));
  EXPECT_EQ(HeaderOf(index, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(index.route, "/ui/");

  auto js = Call("GET", "/ui/assets/index-AbC123_-.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(HeaderOf(js, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(HeaderOf(js, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Call("GET", "/ui/assets/index-AbC123_-.css").content_type, "text/css; charset=utf-8");
  // HEAD as GET (the transport drops the body); /ui redirects to /ui/.
  EXPECT_EQ(Call("HEAD", "/ui/assets/index-AbC123_-.js").status, 200);
  auto bare = Call("GET", "/ui");
  EXPECT_EQ(bare.status, 308);
  EXPECT_EQ(HeaderOf(bare, "Location"), "/ui/");
}

TEST_F(ConsoleTest, UnknownPathsGetTheAppButMissingAssetsAre404) {
  for (const char* deep : {"/ui/series", "/ui/registry/gdp/3", "/ui/runs/compare/", "/ui/?x=1"}) {
    auto r = Call("GET", deep);
    EXPECT_EQ(r.status, 200) << deep;
    EXPECT_EQ(r.body, "<!doctype html><title>console</title>") << deep;
    EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache") << deep;
  }
  auto missing = Call("GET", "/ui/assets/index-old.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.body, HasSubstr("no such console file"));
  auto post = Call("POST", "/ui/");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(HeaderOf(post, "Allow"), "GET, HEAD");
}

TEST_F(ConsoleTest, PathTraversalIsRefused) {
  for (const char* bad : {"/ui/../secret.txt", "/ui/%2e%2e/secret.txt", "/ui/assets/..%2f..%2fsecret.txt",
                          "/ui/..%5csecret.txt", "/ui/assets/%2e%2e", "/ui/a%00b"}) {
    auto r = Call("GET", bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_THAT(r.body, Not(HasSubstr("outside the console"))) << bad;
  }
  // A symlink out of the directory is not followed.
  auto link = Call("GET", "/ui/link.txt");
  EXPECT_EQ(link.status, 403) << link.body;
  EXPECT_THAT(link.body, Not(HasSubstr("outside the console")));
}

TEST_F(ConsoleTest, WithoutABuiltConsoleAPageSaysHowToBuildIt) {
  for (const std::string& dir : {std::string(), (dir_ / "nothing-here").string()}) {
    Make(dir);
    auto r = Call("GET", "/ui/");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    EXPECT_THAT(r.body, HasSubstr("npm ci &amp;&amp; npm run build"));
    EXPECT_THAT(r.body, HasSubstr("--ui-dir"));
    EXPECT_EQ(HeaderOf(r, "X-Content-Type-Options"), "nosniff");
  }
}

TEST_F(ConsoleTest, WhoamiAndAuditLogWithFiltersAndVerifyStatus) {
  auto me = Call("GET", "/v1/whoami", Role::kApprover);
  ASSERT_EQ(me.status, 200) << me.body;
  Json j = *ParseJson(me.body);
  EXPECT_EQ(j["user"], "approver-user");
  EXPECT_EQ(j["role"], "approver");
  EXPECT_EQ(Call("GET", "/v1/whoami").status, 401);

  Ingest("us:gdp", {1, 2, 3, 4, 5, 6}, "2010-01-15");
  Register("gdp", "naive", "us:gdp", "2010-02-01");
  auto all = Call("GET", "/v1/audit", Role::kViewer);
  ASSERT_EQ(all.status, 200) << all.body;
  Json a = *ParseJson(all.body);
  EXPECT_EQ(a["verify"]["intact"], true);
  EXPECT_EQ(a["verify"]["entries"], a["total"]);
  ASSERT_GE(a["entries"].size(), 3u);
  // Newest first.
  EXPECT_GT(a["entries"][0]["seq"].get<int64_t>(), a["entries"][1]["seq"].get<int64_t>());
  auto tokens = *ParseJson(Call("GET", "/v1/audit?action=token.&limit=1", Role::kViewer).body);
  EXPECT_EQ(tokens["matched"], 2);  // two token.create entries, one shown
  ASSERT_EQ(tokens["entries"].size(), 1u);
  EXPECT_EQ(tokens["entries"][0]["action"], "token.create");
  auto by_actor = *ParseJson(Call("GET", "/v1/audit?actor=alice&object=gdp", Role::kViewer).body);
  ASSERT_GE(by_actor["entries"].size(), 1u);
  for (const auto& e : by_actor["entries"]) EXPECT_EQ(e["actor"], "alice");
  EXPECT_EQ(Call("GET", "/v1/audit?limit=0", Role::kViewer).status, 400);
  EXPECT_EQ(Call("GET", "/v1/audit?who=x", Role::kViewer).status, 400);
  EXPECT_EQ(Call("GET", "/v1/audit").status, 401);
}

TEST_F(ConsoleTest, SnapshotListNewestFirst) {
  auto none = Call("GET", "/v1/snapshots", Role::kViewer);
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(ParseJson(none.body)->at("snapshots").size(), 0u);
  Ingest("us:gdp", {1, 2, 3, 4, 5, 6}, "2010-01-15");
  Register("gdp", "naive", "us:gdp", "2010-02-01");
  Ingest("us:gdp", {1, 2, 3, 4, 5, 6, 7}, "2010-02-10");  // another content
  Register("gdp", "naive", "us:gdp", "2010-02-15");
  Json j = *ParseJson(Call("GET", "/v1/snapshots", Role::kViewer).body);
  ASSERT_EQ(j["snapshots"].size(), 2u) << j.dump();
  EXPECT_EQ(j["total"], 2);
  EXPECT_EQ(j["snapshots"][0]["name"], "gdp-snap-2");
  EXPECT_EQ(j["snapshots"][0]["as_of"], "2010-02-15");
  EXPECT_EQ(j["snapshots"][0]["series"], 1);
  EXPECT_EQ(j["snapshots"][0]["observations"], 7);
  EXPECT_EQ(j["snapshots"][0]["created_by"], "alice");
  EXPECT_EQ(j["snapshots"][0]["id"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["snapshots"][1]["name"], "gdp-snap-1");
  // The content route takes the listed id.
  const std::string id = j["snapshots"][1]["id"];
  EXPECT_EQ(Call("GET", "/v1/snapshots/" + id, Role::kViewer).status, 200);
  Json one = *ParseJson(Call("GET", "/v1/snapshots?limit=1", Role::kViewer).body);
  EXPECT_EQ(one["snapshots"].size(), 1u);
  EXPECT_EQ(one["total"], 2);
  EXPECT_EQ(Call("GET", "/v1/snapshots?limit=0", Role::kViewer).status, 400);
  EXPECT_EQ(Call("GET", "/v1/snapshots").status, 401);
}

}  // namespace
}  // namespace almanac::serve
