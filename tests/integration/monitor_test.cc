// End-to-end tests of monitoring (issue 9): ECS JSON logs of `almanac serve` and `almanac
// scheduler` parsed line by line, secrets kept out of logs, /metrics of both processes checked
// by `promtool check metrics`, a real Prometheus server (started here on 127.0.0.1 with a temp
// dir) scraping `almanac serve` and answering our series through its query API, and the
// Grafana dashboard's queries checked against the metrics the processes export.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "integration/cli_runner.h"
#include "integration/http_client.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

const std::string kSrc = ALMANAC_SOURCE_DIR;

bool HaveTool(const std::string& name) { return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// A free loopback port (bound, read and released; good enough for a test).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

HttpResult Get(int port, const std::string& target, const std::string& token = "", const std::string& headers = "") {
  HttpConnection c(port);
  if (!c.ok()) return {};
  return c.Request("GET", target, "", token, headers);
}

// A child process of the almanac binary with stdout and stderr in files; SIGTERM on scope exit.
class Process {
 public:
  Process(const std::vector<std::string>& args, const std::string& dir, const std::string& name) {
    out_ = dir + "/" + name + ".out";
    err_ = dir + "/" + name + ".err";
    pid_ = StartAlmanac(args, err_, nullptr, out_);
  }
  ~Process() { Stop(); }
  // Waits until stdout matches `re` (group 1 returned), or "" after 20 s or an exit.
  std::string WaitFor(const std::regex& re) {
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      std::smatch m;
      const std::string text = out();
      if (std::regex_search(text, m, re)) return m[1];
      int status = 0;
      if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "";
  }
  int Stop() {
    if (pid_ <= 0) return 0;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 2000; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return -999;
  }
  std::string out() const { return ReadFile(out_); }
  std::string err() const { return ReadFile(err_); }

 private:
  std::string out_, err_;
  pid_t pid_ = -1;
};

const std::regex kListening(R"(listening on http://127\.0\.0\.1:(\d+))");
const std::regex kMetricsOn(R"(metrics on http://127\.0\.0\.1:(\d+)/metrics)");

class MonitorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    ws_ = *dir_ / "ws";
    ASSERT_EQ(Cli({"init"}).exit_code, 0);
    auto r = Cli({"ingest", kSrc + "/examples/data/us_macro_quarterly.csv", "--metadata",
                  kSrc + "/examples/data/us_macro_quarterly.meta.yaml", "--realtime-start", "2009-12-15"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    WriteFile(*dir_ / "gdp.yaml",
              "name: gdp-monitor\n"
              "data:\n  series: [us:realgdp]\n  as_of: 2009-12-20\n"
              "target: us:realgdp\nhorizon: 4\nlevels: [80, 95]\n"
              "models:\n  - name: m\n    type: naive\n"
              "evaluation:\n  origins: 2\n  horizon: 2\n"
              "register:\n  model: gdp\n  policy:\n    four_eyes: false\n"
              "promote:\n  to: production\n"
              "schedule: \"0 3 * * *\"\n");
    r = Cli({"run", *dir_ / "gdp.yaml"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto t = Cli({"--quiet", "tokens", "create", "--role", "viewer", "--user", "vera"});
    ASSERT_EQ(t.exit_code, 0) << t.err;
    *token_ = std::string(Trim(t.out));
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--workspace", ws_, "--user", "tester"});
    return RunAlmanac(args);
  }
  // Issue 24: `risk portfolio -o DIR/risk.json`, the worked example's stress test (300 paths),
  // for the report's risk section.
  static CommandResult RiskPortfolioReport(const TempDir& dir) {
    const std::string p = std::string(ALMANAC_SOURCE_DIR) + "/testdata/risk/portfolio/";
    return Cli({"--quiet", "risk", "portfolio", "--input",
                std::string(ALMANAC_SOURCE_DIR) + "/examples/data/us_macro_quarterly.csv", "--positions",
                p + "positions.csv", "--returns", p + "asset_returns.csv", "--fx", p + "fx.csv", "--scenarios",
                p + "scenarios.yaml", "--factors", "us:tbilrate,us:unemp", "--factor-changes", "--paths", "300",
                "--seed", "7", "-o", dir / "risk.json"});
  }
  static std::vector<std::string> ServeArgs(const std::string& format) {
    return {"--workspace", ws_, "--log-format", format, "serve", "--listen", "127.0.0.1:0", "--poll-seconds", "0.1"};
  }

  static inline TempDir* dir_ = nullptr;
  static inline std::string ws_;
  static inline std::string* token_ = new std::string();
};

constexpr const char* kForecast = R"({"model":"gdp","horizon":4,"levels":[80,95]})";

TEST_F(MonitorTest, ServeWritesEcsJsonLinesWithTheRequestIdTraceContextAndNoSecrets) {
  TempDir d;
  Process s(ServeArgs("json"), d.path(), "serve");
  const std::string port_text = s.WaitFor(kListening);
  ASSERT_FALSE(port_text.empty()) << s.out() << s.err();
  const int port = std::stoi(port_text);
  {
    HttpConnection c(port);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c.Request("POST", "/v1/forecast", kForecast, *token_,
                        "X-Request-Id: req-forecast-1\r\nUser-Agent: almanac-test/1.0 (monitor)\r\n")
                  .status,
              200);
    // A caller's W3C trace context: its trace id and span (our parent) are logged.
    EXPECT_EQ(c.Request("GET", "/healthz", "", "",
                        "X-Request-Id: req-traced-5\r\n"
                        "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n")
                  .status,
              200);
  }
  // An unknown query parameter is refused (400), and its value must not reach the log either.
  EXPECT_EQ(Get(port, "/v1/models?api_key=querysecret", *token_, "X-Request-Id: req-list-2\r\n").status, 400);
  const std::string wrong = "alm_" + std::string(64, 'f');
  EXPECT_EQ(Get(port, "/v1/models", wrong, "X-Request-Id: req-denied-3\r\n").status, 401);
  EXPECT_EQ(Get(port, "/v1/nothing", "", "X-Request-Id: req-missing-4\r\n").status, 404);
  {
    HttpConnection c(port);  // a viewer may not promote: 403
    EXPECT_EQ(c.Request("POST", "/v1/models/gdp/versions/1/promote", R"({"to":"staging"})", *token_,
                        "X-Request-Id: req-forbidden-6\r\n")
                  .status,
              403);
  }
  ASSERT_EQ(s.Stop(), 0);

  const auto lines = Lines(s.out());
  ASSERT_GE(lines.size(), 6u) << s.out();
  std::map<std::string, Json> by_trace;  // access lines by http.request.id
  for (const auto& line : lines) {
    auto j = ParseJson(line);
    ASSERT_TRUE(j.ok()) << "not one JSON object: " << line;
    ASSERT_TRUE(j->is_object()) << line;
    for (const char* key : {"@timestamp", "log.level", "message", "service.name", "ecs.version"})
      EXPECT_TRUE(j->contains(key)) << key << " missing in " << line;
    EXPECT_EQ((*j)["service.name"], "almanac-serve");
    EXPECT_TRUE(std::regex_match((*j)["@timestamp"].get<std::string>(),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")))
        << line;
    if (j->contains("http.request.id")) by_trace[(*j)["http.request.id"].get<std::string>()] = *j;
    // Secrets never reach the log: the token, a wrong token, a query-string key.
    EXPECT_THAT(line, Not(HasSubstr(*token_)));
    EXPECT_THAT(line, Not(HasSubstr(wrong)));
    EXPECT_THAT(line, Not(HasSubstr("querysecret")));
  }
  ASSERT_TRUE(by_trace.count("req-forecast-1")) << s.out();
  const Json& f = by_trace["req-forecast-1"];
  EXPECT_EQ(f["http.request.method"], "POST");
  EXPECT_EQ(f["url.path"], "/v1/forecast");
  EXPECT_EQ(f["http.response.status_code"], 200);
  EXPECT_EQ(f["user.name"], "vera");
  EXPECT_EQ(f["log.level"], "info");
  EXPECT_GT(f["event.duration"].get<int64_t>(), 0);  // nanoseconds
  // A new trace for a request without traceparent: 32 and 16 lowercase hex digits.
  EXPECT_TRUE(std::regex_match(f["trace.id"].get<std::string>(), std::regex("[0-9a-f]{32}"))) << f.dump();
  EXPECT_TRUE(std::regex_match(f["span.id"].get<std::string>(), std::regex("[0-9a-f]{16}"))) << f.dump();
  EXPECT_FALSE(f.contains("parent.id"));
  EXPECT_EQ(f["client.ip"], "127.0.0.1");
  // Issue 27: ECS client.address and user_agent.original; no error fields on a success.
  EXPECT_EQ(f["client.address"], "127.0.0.1");
  EXPECT_EQ(f["user_agent.original"], "almanac-test/1.0 (monitor)");
  EXPECT_FALSE(f.contains("error.code")) << f.dump();
  EXPECT_FALSE(f.contains("error.message")) << f.dump();
  ASSERT_TRUE(by_trace.count("req-traced-5"));
  EXPECT_EQ(by_trace["req-traced-5"]["trace.id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(by_trace["req-traced-5"]["parent.id"], "00f067aa0ba902b7");
  EXPECT_NE(by_trace["req-traced-5"]["span.id"], "00f067aa0ba902b7");
  ASSERT_TRUE(by_trace.count("req-list-2"));
  EXPECT_EQ(by_trace["req-list-2"]["url.path"], "/v1/models");
  ASSERT_TRUE(by_trace.count("req-denied-3"));
  EXPECT_EQ(by_trace["req-denied-3"]["http.response.status_code"], 401);
  EXPECT_FALSE(by_trace["req-denied-3"].contains("user.name"));
  // A failed authentication is a warning (possible abuse); a wrong path or parameter is not.
  EXPECT_EQ(by_trace["req-denied-3"]["log.level"], "warn");
  // Issue 27: a refused or failed answer says why, as its error body does.
  EXPECT_EQ(by_trace["req-denied-3"]["error.code"], "UNAUTHENTICATED");
  EXPECT_EQ(by_trace["req-denied-3"].value("error.message", ""), "invalid bearer token");
  EXPECT_EQ(by_trace["req-denied-3"]["client.address"], "127.0.0.1");
  EXPECT_FALSE(by_trace["req-denied-3"].contains("user_agent.original"));  // none was sent
  ASSERT_TRUE(by_trace.count("req-missing-4"));
  EXPECT_EQ(by_trace["req-missing-4"]["http.response.status_code"], 404);
  EXPECT_EQ(by_trace["req-missing-4"]["log.level"], "info");
  EXPECT_EQ(by_trace["req-missing-4"]["error.code"], "NOT_FOUND");
  EXPECT_THAT(by_trace["req-missing-4"].value("error.message", ""), HasSubstr("no such endpoint: GET '/v1/nothing'"));
  EXPECT_EQ(by_trace["req-list-2"]["error.code"], "INVALID_ARGUMENT");
  EXPECT_THAT(by_trace["req-list-2"].value("error.message", ""), HasSubstr("unknown query parameter 'api_key'"));
  EXPECT_EQ(by_trace["req-list-2"]["log.level"], "info");
  ASSERT_TRUE(by_trace.count("req-forbidden-6"));
  EXPECT_EQ(by_trace["req-forbidden-6"]["http.response.status_code"], 403);
  EXPECT_EQ(by_trace["req-forbidden-6"]["log.level"], "warn");
  EXPECT_EQ(by_trace["req-forbidden-6"]["error.code"], "PERMISSION_DENIED");
  EXPECT_THAT(by_trace["req-forbidden-6"].value("error.message", ""), HasSubstr("may not promote"));
  // Startup and shutdown lines are there too, in the same format.
  EXPECT_THAT(s.out(), HasSubstr("\"message\":\"serving gdp@1 as production\""));
  EXPECT_THAT(s.out(), HasSubstr("\"message\":\"stopped\""));
  EXPECT_EQ(s.err(), "");  // nothing left on stderr in JSON mode
}

TEST_F(MonitorTest, TextLogsForPeopleOnStderr) {
  TempDir d;
  Process s(ServeArgs("text"), d.path(), "serve");
  // The listening line is on stderr in text mode.
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  std::smatch m;
  std::string err;
  while (Clock::now() < deadline) {
    err = s.err();
    if (std::regex_search(err, m, kListening)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(std::regex_search(err, m, kListening)) << err;
  EXPECT_EQ(Get(std::stoi(m[1]), "/v1/models", *token_, "X-Request-Id: req-text-1\r\n").status, 200);
  ASSERT_EQ(s.Stop(), 0);
  EXPECT_THAT(s.err(), HasSubstr("almanac serve: GET /v1/models 200 trace.id="));
  EXPECT_THAT(s.err(), HasSubstr("http.request.id=req-text-1 client.ip=127.0.0.1"));
  EXPECT_THAT(s.err(), HasSubstr("user.name=vera"));
  EXPECT_THAT(s.err(), Not(HasSubstr(*token_)));
  EXPECT_EQ(s.out(), "");
}

TEST_F(MonitorTest, BadLogFormatIsAUsageError) {
  auto r = RunAlmanac({"--workspace", ws_, "--log-format", "xml", "serve"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("--log-format"));
}

// The metric names of an exposition (sample lines, with histogram suffixes as written).
std::set<std::string> MetricNames(const std::string& exposition) {
  std::set<std::string> out;
  for (const auto& line : Lines(exposition)) {
    if (line[0] == '#') continue;
    out.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return out;
}

void ExpectPromtoolAccepts(const std::string& text, const TempDir& d, const std::string& name) {
  if (!HaveTool("promtool")) GTEST_SKIP() << "promtool not installed (Debian 'prometheus'; scripts/deps.sh test)";
  WriteFile(d / name, text);
  const std::string cmd = "promtool check metrics < " + (d / name) + " > " + (d / (name + ".out")) + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << ReadFile(d / (name + ".out")) << "\n" << text;
}

TEST_F(MonitorTest, ServeMetricsIncludeFreshnessAndPassPromtool) {
  TempDir d;
  Process s(ServeArgs("json"), d.path(), "serve");
  const std::string port_text = s.WaitFor(kListening);
  ASSERT_FALSE(port_text.empty()) << s.out() << s.err();
  const int port = std::stoi(port_text);
  EXPECT_EQ(Get(port, "/v1/models", *token_).status, 200);
  const std::string text = Get(port, "/metrics").body;
  // Issue 19: the vintage timestamp is the data's date (ingested with --realtime-start
  // 2009-12-15), the load timestamp when the suite loaded it.
  EXPECT_THAT(text, HasSubstr("almanac_series_last_vintage_timestamp_seconds{series=\"us:realgdp\"} 1260835200\n"));
  EXPECT_THAT(text, HasSubstr("almanac_series_last_load_timestamp_seconds{series=\"us:realgdp\"} "));
  EXPECT_THAT(text, HasSubstr("almanac_series_tracked "));
  EXPECT_THAT(text, HasSubstr("almanac_data_loads{source="));
  EXPECT_THAT(text, HasSubstr("almanac_model_version_info{model=\"gdp\",version=\"1\",stage=\"production\"} 1"));
  EXPECT_THAT(text, HasSubstr("almanac_http_requests_in_flight"));
  ExpectPromtoolAccepts(text, d, "serve.txt");
}

TEST_F(MonitorTest, SchedulerExposesMetricsAndLogsJson) {
  TempDir d;
  Process s({"--workspace", ws_, "--log-format", "json", "scheduler", *dir_ / "gdp.yaml", "--metrics-port", "0",
             "--run-for", "30"},
            d.path(), "scheduler");
  const std::string port_text = s.WaitFor(kMetricsOn);
  ASSERT_FALSE(port_text.empty()) << s.out() << s.err();
  const int port = std::stoi(port_text);
  HttpResult r = Get(port, "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.headers["content-type"], HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(r.body, HasSubstr("almanac_series_last_vintage_timestamp_seconds{series=\"us:realgdp\"} "));
  EXPECT_THAT(r.body, HasSubstr("# TYPE almanac_pipeline_runs_total counter"));
  EXPECT_THAT(r.body, HasSubstr("process_resident_memory_bytes"));
  EXPECT_EQ(Get(port, "/healthz").status, 200);
  EXPECT_EQ(Get(port, "/v1/models").status, 404);
  ExpectPromtoolAccepts(r.body, d, "scheduler.txt");
  s.Stop();
  for (const auto& line : Lines(s.out())) {
    auto j = ParseJson(line);
    ASSERT_TRUE(j.ok() && j->is_object()) << line;
    EXPECT_EQ((*j)["service.name"], "almanac-scheduler");
  }
  EXPECT_THAT(s.out(), HasSubstr("next run at"));
}

TEST_F(MonitorTest, SchedulerRefusesABusyMetricsPort) {
  TempDir d;
  Process first({"--workspace", ws_, "scheduler", *dir_ / "gdp.yaml", "--metrics-port", "0", "--run-for", "30"}, d.path(),
                "first");
  // Text format: the line is on stderr.
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  std::smatch m;
  std::string err;
  while (Clock::now() < deadline) {
    err = first.err();
    if (std::regex_search(err, m, kMetricsOn)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(std::regex_search(err, m, kMetricsOn)) << err;
  auto r = RunAlmanac({"--workspace", ws_, "scheduler", *dir_ / "gdp.yaml", "--metrics-port", m[1], "--run-for", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot listen for metrics on 127.0.0.1:" + std::string(m[1])));
  r = RunAlmanac({"--workspace", ws_, "scheduler", *dir_ / "gdp.yaml", "--metrics-port", "70000", "--run-for", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--metrics-port must be in 0..65535"));
}

// Prometheus itself scrapes `almanac serve` and answers our series through its query API.
TEST_F(MonitorTest, RealPrometheusScrapesServe) {
  if (!HaveTool("prometheus")) GTEST_SKIP() << "prometheus not installed (Debian 'prometheus'; scripts/deps.sh test)";
  TempDir d;
  Process s(ServeArgs("json"), d.path(), "serve");
  const std::string port_text = s.WaitFor(kListening);
  ASSERT_FALSE(port_text.empty()) << s.out() << s.err();
  const int port = std::stoi(port_text);
  EXPECT_EQ(Get(port, "/v1/models", *token_).status, 200);
  const int prom_port = FreePort();
  WriteFile(d / "prometheus.yml",
            "global:\n  scrape_interval: 200ms\n  evaluation_interval: 200ms\n"
            "scrape_configs:\n  - job_name: almanac-serve\n    static_configs:\n      - targets: ['127.0.0.1:" +
                port_text + "']\n");
  const pid_t prom = ::fork();
  if (prom == 0) {
    const int fd = ::open((d / "prometheus.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    const std::string config = "--config.file=" + (d / "prometheus.yml");
    const std::string storage = "--storage.tsdb.path=" + (d / "tsdb");
    const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(prom_port);
    ::execlp("prometheus", "prometheus", config.c_str(), storage.c_str(), listen.c_str(), "--log.level=warn",
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(prom, 0);
  auto query = [&](const std::string& q) -> Json {
    HttpResult r = Get(prom_port, "/api/v1/query?query=" + UrlEncode(q));
    if (r.status != 200) return Json();
    auto j = ParseJson(r.body);
    return j.ok() ? *j : Json();
  };
  // Waits until the query returns at least one series (Prometheus starts, then scrapes).
  auto wait_for = [&](const std::string& q) -> Json {
    const auto deadline = Clock::now() + std::chrono::seconds(15);
    while (Clock::now() < deadline) {
      Json j = query(q);
      if (j.is_object() && j.value("status", "") == "success" && !j["data"]["result"].empty()) return j;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return Json();
  };
  Json up = wait_for("up{job=\"almanac-serve\"} == 1");
  Json info = wait_for("almanac_model_version_info{model=\"gdp\",stage=\"production\"}");
  Json requests = wait_for("almanac_http_requests_total{route=\"/v1/models\",status=\"200\"}");
  Json fresh = wait_for("time() - almanac_series_last_load_timestamp_seconds{series=\"us:realgdp\"}");
  Json stale = wait_for("time() - almanac_series_last_vintage_timestamp_seconds{series=\"us:realgdp\"} > 45 * 86400");
  Json latency = wait_for("histogram_quantile(0.99, sum by (le) (rate(almanac_http_request_duration_seconds_bucket[5s])))");
  ::kill(prom, SIGTERM);
  int status = 0;
  ::waitpid(prom, &status, 0);
  ASSERT_FALSE(up.is_null()) << ReadFile(d / "prometheus.log");
  ASSERT_FALSE(info.is_null());
  EXPECT_EQ(info["data"]["result"][0]["metric"]["version"], "1");
  ASSERT_FALSE(requests.is_null());
  EXPECT_EQ(requests["data"]["result"][0]["metric"]["method"], "GET");
  ASSERT_FALSE(fresh.is_null());
  // The vintage was loaded when the suite started: its load is seconds old, not days; its data
  // (realtime_start 2009-12-15) are years old, which is what AlmanacSeriesStale looks at.
  const double age = std::stod(fresh["data"]["result"][0]["value"][1].get<std::string>());
  EXPECT_GE(age, 0);
  EXPECT_LT(age, 600);
  EXPECT_FALSE(stale.is_null());
  EXPECT_FALSE(latency.is_null());
  EXPECT_TRUE(WIFEXITED(status) || WIFSIGNALED(status));
}

// Outcomes analysis end to end: serve stores the production forecast; before actuals arrive
// `almanac monitor` says so; a new vintage with actuals far from the forecast makes it flag the
// version, audit the verdict, and serve export the flag as a metric.
TEST_F(MonitorTest, AccuracyMonitoringFromServedForecastsToFlags) {
  TempDir d;
  const std::string ws = d / "ws";
  std::filesystem::copy(ws_, ws, std::filesystem::copy_options::recursive);
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--workspace", ws, "--user", "tester"});
    return RunAlmanac(args);
  };
  CommandResult r;
  Process s({"--workspace", ws, "--log-format", "json", "serve", "--listen", "127.0.0.1:0", "--poll-seconds", "0.1"}, d.path(),
            "serve");
  const std::string port_text = s.WaitFor(kListening);
  ASSERT_FALSE(port_text.empty()) << s.out() << s.err();
  const int port = std::stoi(port_text);
  HttpConnection c(port);
  ASSERT_EQ(c.Request("POST", "/v1/forecast", kForecast, *token_).status, 200);
  ASSERT_EQ(c.Request("POST", "/v1/forecast", kForecast, *token_).status, 200);  // a cache hit: stored once
  // The poller stores it; then `almanac monitor` finds it but no actuals yet.
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  Json first;
  do {
    r = cli({"--format", "json", "monitor", "gdp", "--no-audit"});
    auto j = ParseJson(r.out);
    if (j.ok() && j->is_array() && j->size() == 1 && (*j)[0].value("forecasts", 0) == 1) {
      first = (*j)[0];
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (Clock::now() < deadline);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(first.is_object()) << r.out;
  EXPECT_EQ(first["verdict"], "no_actuals");
  EXPECT_EQ(first["errors"], 0);
  EXPECT_THAT(first["reason"].get<std::string>(), HasSubstr("no actuals yet"));
  EXPECT_THAT(first["reason"].get<std::string>(), HasSubstr("the first is 2009Q4"));

  // Actuals for 2009Q4..2010Q3, 20% below anything the model forecast.
  WriteFile(d / "actuals.csv",
            "series,period,value,realtime_start\n"
            "us:realgdp,2009Q4,10400,2010-08-01\nus:realgdp,2010Q1,10350,2010-08-01\n"
            "us:realgdp,2010Q2,10300,2010-08-01\nus:realgdp,2010Q3,10250,2010-11-01\n");
  r = cli({"ingest", d / "actuals.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli({"--format", "json", "monitor"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok() && j->is_array() && j->size() == 1) << r.out;
  const Json& row = (*j)[0];
  EXPECT_EQ(row["model"], "gdp");
  EXPECT_EQ(row["errors"], 4);
  EXPECT_EQ(row["verdict"], "degraded");
  EXPECT_GT(row["realized_mase"].get<double>(), 1.5 * row["backtest_mase"].get<double>());
  EXPECT_THAT(row["reason"].get<std::string>(), HasSubstr("realized MASE"));
  // The verdict is audited once (a second run with the same verdict adds nothing).
  r = cli({"monitor"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = cli({"--format", "json", "audit", "list", "--limit", "50"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t verdicts = 0;
  for (size_t at = r.out.find("monitor.verdict"); at != std::string::npos; at = r.out.find("monitor.verdict", at + 1)) ++verdicts;
  EXPECT_EQ(verdicts, 1u) << r.out;
  // serve picked up the new vintage: the flag is a metric.
  std::string metrics;
  const auto until = Clock::now() + std::chrono::seconds(10);
  do {
    metrics = Get(port, "/metrics").body;
    if (metrics.find("almanac_forecast_accuracy_degraded{model=\"gdp\",version=\"1\"} 1") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (Clock::now() < until);
  EXPECT_THAT(metrics, HasSubstr("almanac_forecast_accuracy_degraded{model=\"gdp\",version=\"1\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("almanac_forecast_errors_evaluated{model=\"gdp\",version=\"1\"} 4"));
  EXPECT_THAT(metrics, HasSubstr("almanac_forecast_realized_mase{model=\"gdp\",version=\"1\"} "));
  EXPECT_THAT(metrics, HasSubstr("almanac_forecast_interval_coverage_ratio{model=\"gdp\",version=\"1\",level=\"80\"} 0"));
  ExpectPromtoolAccepts(metrics, d, "accuracy.txt");
}

// Scrapes while a promotion swaps gdp@1 for gdp@2: every scrape is complete and shows a
// production version of gdp (the old or the new one, never none).
TEST_F(MonitorTest, ScrapesDuringAReload) {
  TempDir d;
  const std::string ws = d / "ws";
  std::filesystem::copy(ws_, ws, std::filesystem::copy_options::recursive);
  Process s({"--workspace", ws, "--log-format", "json", "serve", "--listen", "127.0.0.1:0", "--poll-seconds", "0.05"}, d.path(),
            "serve");
  const std::string port_text = s.WaitFor(kListening);
  ASSERT_FALSE(port_text.empty()) << s.out() << s.err();
  const int port = std::stoi(port_text);
  std::atomic<bool> stop{false};
  std::atomic<int> scrapes{0}, bad{0};
  std::string first_bad;
  std::mutex mu;
  std::set<std::string> versions_seen;
  std::thread scraper([&] {
    static const std::regex kInfo(R"re(almanac_model_version_info\{model="gdp",version="(\d+)",stage="production"\} 1\n)re");
    while (!stop) {
      HttpResult r = Get(port, "/metrics");
      ++scrapes;
      std::smatch m;
      const bool ok = r.status == 200 && !r.body.empty() && r.body.back() == '\n' && std::regex_search(r.body, m, kInfo);
      std::lock_guard lock(mu);
      if (ok) {
        versions_seen.insert(m[1]);
      } else if (bad++ == 0) {
        first_bad = r.body;
      }
    }
  });
  std::string yaml = ReadFile(*dir_ / "gdp.yaml");
  yaml.replace(yaml.find("type: naive"), 11, "type: drift");
  WriteFile(d / "gdp2.yaml", yaml);
  auto r = RunAlmanac({"--workspace", ws, "--user", "tester", "run", d / "gdp2.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    {
      std::lock_guard lock(mu);
      if (versions_seen.count("2")) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  scraper.join();
  EXPECT_GT(scrapes.load(), 5);
  EXPECT_EQ(bad.load(), 0) << first_bad;
  EXPECT_TRUE(versions_seen.count("1"));
  EXPECT_TRUE(versions_seen.count("2"));
  EXPECT_THAT(s.out(), HasSubstr("serving gdp@2 as production"));
}

TEST_F(MonitorTest, MonitorBadInput) {
  auto r = Cli({"monitor", "nosuchmodel"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("nosuchmodel"));
}

// The model-risk report renders in headless Chromium with its chart and tables.
TEST_F(MonitorTest, ReportRendersInHeadlessChromium) {
  TempDir d;
  const std::string html = d / "report.html";
  auto r = Cli({"report", "gdp@1", "-o", html});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = ReadFile(html);
  // Self-contained: no scripts, stylesheets or images fetched from anywhere.
  EXPECT_THAT(text, Not(HasSubstr("<script")));
  EXPECT_THAT(text, Not(HasSubstr("src=")));
  EXPECT_THAT(text, Not(HasSubstr("<link")));
  if (!HaveTool("chromium")) GTEST_SKIP() << "chromium not installed (Debian 'chromium'; scripts/deps.sh test installs it)";
  const std::string dom = d / "dom.html";
  ASSERT_EQ(std::system(("timeout 60 chromium --headless --no-sandbox --disable-gpu --dump-dom file://" + html + " > " + dom +
                         " 2>/dev/null")
                            .c_str()),
            0);
  const std::string rendered = ReadFile(dom);
  EXPECT_THAT(rendered, HasSubstr("<svg id=\"fan-chart\""));
  EXPECT_THAT(rendered, HasSubstr("class=\"band\" data-level=\"95\""));
  EXPECT_THAT(rendered, HasSubstr("<polyline class=\"history\""));
  for (const char* table : {"model-card", "forecast-table", "backtest-table", "dm-table", "lineage-table", "audit-table"})
    EXPECT_THAT(rendered, HasSubstr("<table id=\"" + std::string(table) + "\"")) << table;
  EXPECT_THAT(rendered, HasSubstr("naive"));
  EXPECT_THAT(rendered, HasSubstr("model.register"));
  // --pdf prints through Chromium.
  r = Cli({"--quiet", "report", "gdp@production", "-o", d / "r2.html", "--pdf", d / "r.pdf"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(d / "r.pdf").substr(0, 5), "%PDF-");
}

// Issue 24: `report --risk FILE` adds the portfolio stress test of `risk portfolio -o` as a
// section (scenario table, P&L histograms); a file that is not such a report is refused,
// naming it, and no report is written.
TEST_F(MonitorTest, Issue24ReportWithARiskSection) {
  TempDir d;
  auto r = RiskPortfolioReport(d);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Cli({"--quiet", "report", "gdp@1", "-o", d / "report.html", "--risk", d / "risk.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = ReadFile(d / "report.html");
  EXPECT_THAT(text, HasSubstr("<h2 id=\"risk\">Portfolio risk under the scenarios</h2>"));
  EXPECT_THAT(text, HasSubstr("<table id=\"risk-scenarios\">"));
  for (const char* s : {"baseline", "adverse", "severely_adverse"}) EXPECT_THAT(text, HasSubstr("<tr><td>" + std::string(s) + "</td>"));
  EXPECT_THAT(text, HasSubstr("<svg id=\"risk-hist-2\""));
  EXPECT_THAT(text, HasSubstr("<table id=\"audit-table\">"));  // the other sections are still there
  WriteFile(d / "not-risk.json", "{\"model\": \"gdp\"}");
  r = Cli({"report", "gdp@1", "-o", d / "x.html", "--risk", d / "not-risk.json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("not-risk.json: not a risk report"));
  EXPECT_FALSE(std::filesystem::exists(d / "x.html"));
}

// Issue 24: the risk section's contribution charts from a real `risk portfolio -o` report: one
// chart by position and one by factor per scenario, whose bars add up to the scenario's 99 %
// Monte Carlo ES at its last horizon; a report without contributions gets no chart (no error);
// malformed contributions are refused naming the file, and no report is written.
TEST_F(MonitorTest, Issue24ReportContributionCharts) {
  TempDir d;
  auto r = RiskPortfolioReport(d);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Cli({"--quiet", "report", "gdp@1", "-o", d / "report.html", "--risk", d / "risk.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = ReadFile(d / "report.html");
  auto risk = ParseJson(ReadFile(d / "risk.json"));
  ASSERT_TRUE(risk.ok());
  const std::regex bar_re("<rect [^>]*data-name=\"([^\"]*)\" data-es=\"([^\"]+)\"");
  for (size_t s = 0; s < 3; ++s) {
    const Json& last = (*risk)["scenarios"][s]["horizons"].back();
    double es99 = NAN;
    for (const auto& f : last["figures"])
      if (f["method"] == "monte_carlo" && f["level"].get<double>() == 0.99) es99 = f["es"].get<double>();
    ASSERT_TRUE(std::isfinite(es99));
    for (const std::string kind : {"pos", "factor"}) {
      const std::string id = "risk-contrib-" + kind + "-" + std::to_string(s);
      const size_t at = text.find("<svg id=\"" + id + "\"");
      ASSERT_NE(at, std::string::npos) << id;
      const std::string svg = text.substr(at, text.find("</svg>", at) - at);
      double sum = 0, total = NAN;
      size_t bars = 0;
      for (auto it = std::sregex_iterator(svg.begin(), svg.end(), bar_re); it != std::sregex_iterator(); ++it) {
        if ((*it)[1] == "total") {
          total = std::stod((*it)[2]);
        } else {
          sum += std::stod((*it)[2]);
          ++bars;
        }
      }
      EXPECT_EQ(bars, kind == "pos" ? 5u : 4u) << id;  // 5 positions; drift, 2 factors, specific
      EXPECT_NEAR(total, es99, 1e-9 * std::max(1.0, std::abs(es99))) << id;
      EXPECT_NEAR(sum, total, 1e-6 * std::max(1.0, std::abs(total))) << id;
    }
  }
  // Without contributions: the section, no chart.
  Json bare = *risk;
  for (auto& sc : bare["scenarios"])
    for (auto& hz : sc["horizons"])
      for (auto& f : hz["figures"]) {
        f.erase("positions");
        f.erase("components");
      }
  WriteFile(d / "bare.json", CompactJson(bare));
  r = Cli({"--quiet", "report", "gdp@1", "-o", d / "bare.html", "--risk", d / "bare.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(ReadFile(d / "bare.html"), HasSubstr("<table id=\"risk-scenarios\">"));
  EXPECT_THAT(ReadFile(d / "bare.html"), Not(HasSubstr("risk-contrib")));
  // Malformed: a non-numeric contribution; the error names the file and the place.
  Json bad = *risk;
  bad["scenarios"][1]["horizons"][7]["figures"][0]["positions"][2]["es"] = "n/a";
  WriteFile(d / "bad.json", CompactJson(bad));
  r = Cli({"report", "gdp@1", "-o", d / "x.html", "--risk", d / "bad.json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("bad.json: scenarios[1].horizons[7].figures[0].positions[2]"));
  EXPECT_FALSE(std::filesystem::exists(d / "x.html"));
}

// Issue 24: `report --var-backtest FILE` adds a VaR backtest's section (the JSON `risk
// var-backtest --format json` prints; written by hand here: the section's content is checked
// in risk_report_test.cc); a file that is not one is refused, naming it, and nothing written.
TEST_F(MonitorTest, Issue24ReportWithAVarBacktestSection) {
  TempDir d;
  WriteFile(d / "bt.json",
            R"({"inputs": {}, "skipped": [], "points": [
                 {"origin": "2005Q1", "target": "2005Q2", "var": 10.0, "pnl": 2.0, "exception": false},
                 {"origin": "2005Q2", "target": "2005Q3", "var": 11.0, "pnl": -12.5, "exception": true}],
               "backtest": {"observations": 2, "level": 0.99, "exceptions": 1, "expected_exceptions": 0.02,
                            "kupiec_lr": 5.1, "kupiec_p": 0.024, "independence_lr": 0.0, "independence_p": 1.0,
                            "conditional_coverage_lr": 5.1, "conditional_coverage_p": 0.078, "zone": "green"}})");
  auto r = Cli({"--quiet", "report", "gdp@1", "-o", d / "report.html", "--var-backtest", d / "bt.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = ReadFile(d / "report.html");
  EXPECT_THAT(text, HasSubstr("<h2 id=\"var-backtest\">VaR backtest</h2>"));
  EXPECT_THAT(text, HasSubstr("<svg id=\"var-backtest-chart\""));
  EXPECT_THAT(text, HasSubstr("<circle class=\"exception\""));
  EXPECT_THAT(text, HasSubstr("<table id=\"audit-table\">"));  // the other sections are still there
  WriteFile(d / "not-bt.json", "{\"points\": []}");
  r = Cli({"report", "gdp@1", "-o", d / "x.html", "--var-backtest", d / "not-bt.json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("not-bt.json: not a VaR backtest"));
  r = Cli({"report", "gdp@1", "-o", d / "x.html", "--var-backtest", d / "missing.json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--var-backtest: cannot read"));
  EXPECT_FALSE(std::filesystem::exists(d / "x.html"));
}

TEST_F(MonitorTest, ReportForAVersionWithoutBacktestAndBadRefs) {
  TempDir d;
  const std::string ws = d / "ws";
  std::filesystem::copy(ws_, ws, std::filesystem::copy_options::recursive);
  WriteFile(d / "nobt.yaml",
            "name: gdp-nobt\n"
            "data:\n  series: [us:realgdp]\n  as_of: 2009-12-20\n"
            "target: us:realgdp\nhorizon: 4\n"
            "models:\n  - name: m\n    type: naive\n"
            "evaluation:\n  origins: 0\n"
            "register:\n  model: gdp-nobt\n");
  auto r = RunAlmanac({"--workspace", ws, "--user", "tester", "run", d / "nobt.yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunAlmanac({"--workspace", ws, "report", "gdp-nobt@1", "-o", d / "nobt.html"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = ReadFile(d / "nobt.html");
  EXPECT_THAT(text, HasSubstr("id=\"no-backtest\""));
  EXPECT_THAT(text, HasSubstr("This version has no backtest"));
  EXPECT_THAT(text, HasSubstr("<svg id=\"fan-chart\""));  // the forecast is still shown
  EXPECT_THAT(text, Not(HasSubstr("id=\"backtest-table\"")));
  // Bad references: the error names the problem; no file is written.
  r = RunAlmanac({"--workspace", ws, "report", "gdp", "-o", d / "x.html"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("expected MODEL@VERSION"));
  r = RunAlmanac({"--workspace", ws, "report", "gdp@9", "-o", d / "x.html"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("9"));
  EXPECT_FALSE(std::filesystem::exists(d / "x.html"));
}

// `almanac worker --metrics-port`: task outcomes, busy slots, queue depth and the runs' pipeline
// metrics in a format promtool accepts.
TEST_F(MonitorTest, WorkerExposesTaskMetrics) {
  TempDir d;
  auto sub = RunAlmanac({"--workspace", ws_, "submit", *dir_ / "gdp.yaml"});
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  Process w({"--workspace", ws_, "--log-format", "json", "worker", "--metrics-port", "0", "--poll-ms", "20"}, d.path(),
            "worker");
  const std::string port_text = w.WaitFor(kMetricsOn);
  ASSERT_FALSE(port_text.empty()) << w.out() << w.err();
  const int port = std::stoi(port_text);
  static const std::regex kDone(R"((task 1: done))");
  ASSERT_FALSE(w.WaitFor(kDone).empty()) << w.out() << w.err();
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {  // the queue depth is sampled every second
    text = Get(port, "/metrics").body;
    if (text.find("almanac_queue_depth{queue=\"tasks\"} 0") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_THAT(text, HasSubstr("almanac_tasks_total{kind=\"pipeline\",outcome=\"done\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("almanac_worker_busy_tasks{kind=\"pipeline\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("almanac_queue_depth{queue=\"tasks\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("almanac_task_duration_seconds_count{kind=\"pipeline\",outcome=\"done\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("almanac_pipeline_runs_total{pipeline=\"gdp-monitor\",outcome=\"success\"} 1\n"));
  ExpectPromtoolAccepts(text, d, "worker.txt");
  w.Stop();
  for (const auto& line : Lines(w.out())) {
    auto j = ParseJson(line);
    ASSERT_TRUE(j.ok() && j->is_object()) << line;
    EXPECT_EQ((*j)["service.name"], "almanac-worker");
  }
}

// Every metric a dashboard panel queries is exported by serve or the scheduler.
TEST_F(MonitorTest, GrafanaDashboardQueriesOnlyExportedMetrics) {
  TempDir d;
  Process s(ServeArgs("json"), d.path(), "serve");
  const std::string port_text = s.WaitFor(kListening);
  ASSERT_FALSE(port_text.empty()) << s.out() << s.err();
  const int port = std::stoi(port_text);
  EXPECT_EQ(Get(port, "/v1/models", *token_).status, 200);
  std::set<std::string> names = MetricNames(Get(port, "/metrics").body);
  // Families registered but without samples yet (pipeline runs in a fresh scheduler) count
  // through their TYPE lines.
  Process sched({"--workspace", ws_, "--log-format", "json", "scheduler", *dir_ / "gdp.yaml", "--metrics-port", "0",
                 "--run-for", "30"},
                d.path(), "scheduler");
  const std::string sched_port = sched.WaitFor(kMetricsOn);
  ASSERT_FALSE(sched_port.empty()) << sched.out() << sched.err();
  const std::string sched_text = Get(std::stoi(sched_port), "/metrics").body;
  for (const auto& n : MetricNames(sched_text)) names.insert(n);
  static const std::regex kType(R"(# TYPE (\S+) (\S+))");
  for (auto it = std::sregex_iterator(sched_text.begin(), sched_text.end(), kType); it != std::sregex_iterator(); ++it) {
    const std::string base = (*it)[1], type = (*it)[2];
    if (type == "histogram") {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) names.insert(base + suffix);
    } else {
      names.insert(base);
    }
  }
  names.insert("up");  // from Prometheus itself

  const std::string path = kSrc + "/deploy/grafana/almanac.json";
  auto dash = ParseJson(ReadFile(path));
  ASSERT_TRUE(dash.ok()) << path << ": " << dash.status().message();
  ASSERT_TRUE(dash->contains("panels"));
  static const std::regex kMetric(R"(\b((?:almanac|process)_[a-z0-9_]+|up)\b)");
  int panels = 0, queries = 0;
  std::set<std::string> titles;
  for (const auto& p : (*dash)["panels"]) {
    if (p.value("type", "") == "row") {
      titles.insert(p.value("title", ""));
      continue;
    }
    ++panels;
    ASSERT_TRUE(p.contains("targets")) << p.value("title", "?");
    for (const auto& t : p["targets"]) {
      const std::string expr = t.value("expr", "");
      ASSERT_FALSE(expr.empty()) << p.value("title", "?");
      ++queries;
      bool any = false;
      for (auto it = std::sregex_iterator(expr.begin(), expr.end(), kMetric); it != std::sregex_iterator(); ++it) {
        any = true;
        EXPECT_TRUE(names.count((*it)[1])) << "panel '" << p.value("title", "?") << "' queries " << (*it)[1]
                                           << ", which no almanac process exports";
      }
      EXPECT_TRUE(any) << expr;
    }
  }
  EXPECT_GE(panels, 8);
  EXPECT_GE(queries, panels);
  for (const char* row : {"Serving", "Pipelines", "Data freshness", "Model accuracy"})
    EXPECT_TRUE(titles.count(row)) << "no row " << row;
}

}  // namespace
}  // namespace almanac::testing
