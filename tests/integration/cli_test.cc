// End-to-end tests of the almanac binary on the sample data: the quick-start path, output
// formats, exit codes, an interrupted load, a workspace held by another process, and
// `almanac forecast` with every model type and the edge cases of issue 3.
#include <cctype>
#include <chrono>
#include <thread>

#include <fcntl.h>
#include <pwd.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "almanac/core.h"
#include "almanac/store.h"

#include "integration/cli_runner.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kSample = std::string(ALMANAC_SOURCE_DIR) + "/examples/data/us_macro_quarterly.csv";
const std::string kMeta = std::string(ALMANAC_SOURCE_DIR) + "/examples/data/us_macro_quarterly.meta.yaml";
const std::string kRevision = std::string(ALMANAC_SOURCE_DIR) + "/examples/data/us_gdp_revision_illustrative.csv";

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { ws_ = dir_ / "ws"; }
  CommandResult Run(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"--workspace", ws_});
    return RunAlmanac(args, input);
  }
  void InitAndLoad() {
    ASSERT_EQ(Run({"init"}).exit_code, 0);
    auto r = Run({"ingest", kSample, "--metadata", kMeta, "--realtime-start", "2009-12-15"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string State() {
    auto list = Run({"series", "list", "--format", "csv"});
    std::string s = list.out;
    for (const char* k : {"us:realgdp", "us:cpi"}) {
      s += Run({"series", "show", k, "--format", "csv"}).out;
      s += Run({"series", "vintages", k, "--format", "csv"}).out;
    }
    return s;
  }

  TempDir dir_;
  std::string ws_;
};

// A store without admins (one written before migration 9) treats the owner of its file as an
// admin; the owner's first grant makes the owner a named admin too, so ownership stops counting.
TEST_F(CliTest, TheOwnerOfAStoreWithoutAdminsGrantsTheFirstAdmins) {
  ASSERT_EQ(Run({"init"}).exit_code, 0);
  const struct passwd* pw = ::getpwuid(::geteuid());
  ASSERT_NE(pw, nullptr);
  const std::string me = pw->pw_name;
  {
    auto st = store::OpenStore("sqlite:" + ws_ + "/almanac.db", store::StoreOptions{});
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    ASSERT_TRUE((*st)->metadata().Run([&](store::MetadataTxn& t) { return t.DeleteStoreUser(me); }).ok());
  }
  auto who = Run({"whoami"}, "");
  EXPECT_THAT(who.out, HasSubstr("yes (owner of a store without admins)"));
  auto grant = Run({"users", "grant", "jane@corp", "--as", "jane"});
  ASSERT_EQ(grant.exit_code, 0) << grant.err;
  auto users = Run({"--format", "csv", "users", "list"});
  EXPECT_THAT(users.out, HasSubstr("jane@corp,jane,no,tester,"));
  EXPECT_THAT(users.out, HasSubstr(me + "," + me + ",yes,tester,"));
  EXPECT_THAT(Run({"whoami"}).out, Not(HasSubstr("owner of a store without admins")));
}

TEST_F(CliTest, QuickStartPath) {
  InitAndLoad();
  auto list = Run({"series", "list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_THAT(list.out, HasSubstr("us:realgdp   Q          Real gross domestic product"));
  ASSERT_EQ(Run({"ingest", kRevision}).exit_code, 0);
  auto before = Run({"series", "show", "us:realgdp", "--as-of", "2009-12-20", "--format", "csv"});
  EXPECT_THAT(before.out, HasSubstr("2009Q3,12990.341\n"));
  auto after = Run({"series", "show", "us:realgdp", "--format", "csv"});
  EXPECT_THAT(after.out, HasSubstr("2009Q3,12971.884\n"));
  auto hist = Run({"series", "history", "us:realgdp", "2009Q3", "--format", "csv"});
  EXPECT_THAT(hist.out, HasSubstr("2009-12-15,"));
  EXPECT_THAT(hist.out, HasSubstr("2009-12-22,"));
  auto snap = Run({"snapshot", "create", "gdp-2009-12-20", "--series", "us:realgdp,us:cpi", "--as-of", "2009-12-20"});
  ASSERT_EQ(snap.exit_code, 0) << snap.err;
  const std::string id = std::string(Trim(snap.out));
  EXPECT_TRUE(IsSha256Hex(id)) << id;
  // The JSON export is the canonical content: its hash is the id.
  auto exported = Run({"snapshot", "export", "gdp-2009-12-20", "--format", "json"});
  ASSERT_EQ(exported.exit_code, 0);
  EXPECT_EQ(Sha256Hex(exported.out.substr(0, exported.out.size() - 1)), id);
  auto csv = Run({"snapshot", "export", id.substr(0, 8)});
  EXPECT_THAT(csv.out, StartsWith("series,period,value\nus:cpi,1959Q1,28.98\n"));
  ASSERT_EQ(Run({"snapshot", "create", "latest", "--series", "us:realgdp", "--series", "us:cpi"}).exit_code, 0);
  auto diff = Run({"snapshot", "diff", "gdp-2009-12-20", "latest", "--format", "csv"});
  EXPECT_EQ(diff.out, "series,period,change,a,b\nus:realgdp,2009Q3,changed,12990.341,12971.884\n");
  auto json = Run({"snapshot", "list", "--format", "json"});
  EXPECT_THAT(json.out, HasSubstr("\"id\": \"" + id + "\""));
  EXPECT_THAT(json.out, HasSubstr("\"created_by\": \"tester\""));
}

TEST_F(CliTest, SameDataGivesSameSnapshotIdInAnotherWorkspace) {
  InitAndLoad();
  auto a = Run({"snapshot", "create", "s", "--series", "us:unemp"});
  std::string other = dir_ / "other";
  ASSERT_EQ(RunAlmanac({"-w", other, "init"}).exit_code, 0);
  ASSERT_EQ(RunAlmanac({"-w", other, "ingest", kSample}).exit_code, 0);
  auto b = RunAlmanac({"-w", other, "snapshot", "create", "another-name", "--series", "us:unemp"});
  EXPECT_EQ(a.out, b.out);
}

TEST_F(CliTest, ReingestIsIdempotent) {
  InitAndLoad();
  auto again = Run({"ingest", kSample, "--format", "csv", "--realtime-start", "2010-01-01"});
  ASSERT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.out, HasSubstr(",wide,2436,12,0,12,0,0,"));
}

TEST_F(CliTest, StdinIngest) {
  ASSERT_EQ(Run({"init"}).exit_code, 0);
  auto r = Run({"ingest", "-", "--series", "my:rate"}, "DATE,VALUE\n2024-01-01,1.5\n2024-02-01,1.75\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(Run({"series", "show", "my:rate", "--format", "csv"}).out, HasSubstr("2024-02,1.75"));
}

TEST_F(CliTest, ExitCodesAndMessages) {
  auto no_ws = Run({"series", "list"});
  EXPECT_EQ(no_ws.exit_code, 1);
  EXPECT_THAT(no_ws.err, HasSubstr("no almanac workspace"));
  EXPECT_THAT(no_ws.err, HasSubstr("almanac init"));
  EXPECT_EQ(Run({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(Run({"series", "show"}).exit_code, 2);
  EXPECT_EQ(Run({"--help"}).exit_code, 0);
  for (const char* sub : {"init", "ingest", "series", "snapshot"}) {
    auto h = Run({sub, "--help"});
    EXPECT_EQ(h.exit_code, 0) << sub;
    EXPECT_THAT(h.out, HasSubstr("Usage")) << sub;
  }
  InitAndLoad();
  EXPECT_EQ(Run({"init"}).exit_code, 1);
  auto missing = Run({"series", "show", "us:nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("no series 'us:nope'"));
  auto bad_date = Run({"series", "show", "us:cpi", "--as-of", "2009-13-01"});
  EXPECT_EQ(bad_date.exit_code, 1);
  EXPECT_THAT(bad_date.err, HasSubstr("--as-of"));
  // Issue 26: one as-of rule in every command, serve's: a date, not after today.
  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {"series", "show", "us:cpi"}, {"snapshot", "create", "future"}, {"forecast", "us:cpi"},
           {"var", "forecast", "us:cpi,us:realgdp"}, {"backtest", "us:cpi"}}) {
    std::vector<std::string> args = cmd;
    args.insert(args.end(), {"--as-of", "2999-01-01"});
    auto future = Run(args);
    EXPECT_EQ(future.exit_code, 1) << cmd[0];
    EXPECT_THAT(future.err, HasSubstr("--as-of 2999-01-01 is in the future (today is ")) << cmd[0];
  }
  auto bad_file = dir_ / "bad.csv";
  WriteFile(bad_file, "series,period,value\nus:cpi,2010Q1,1\nus:cpi,2010Q2,oops\n");
  const std::string before = State();
  auto bad = Run({"ingest", bad_file});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("bad.csv: line 3, column 3 (value): value 'oops' is not a number"));
  EXPECT_EQ(State(), before);
  EXPECT_EQ(Run({"ingest", dir_ / "missing.csv"}).exit_code, 1);
  EXPECT_EQ(Run({"snapshot", "create", "x", "--series", "us:nope"}).exit_code, 1);
}

// libpq is opened on first use (src/store/postgres/libpq.h): a command on a SQLite workspace
// never needs it, and a PostgreSQL store without it is a clear error naming the package.
TEST_F(CliTest, MissingLibpqIsAClearErrorOnlyForAPostgresStore) {
  const std::vector<std::string> no_libpq = {"ALMANAC_LIBPQ=/nonexistent/libpq.so.5"};
  auto r = RunAlmanac({"--store", "postgresql://almanac@127.0.0.1:9/none", "series", "list"}, "", no_libpq);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("the PostgreSQL store: cannot load /nonexistent/libpq.so.5 (install the Debian package "
                               "libpq5)"));
  ASSERT_EQ(RunAlmanac({"--workspace", ws_, "init"}, "", no_libpq).exit_code, 0);
  auto sqlite = RunAlmanac({"--workspace", ws_, "ingest", kSample, "--realtime-start", "2009-12-15"}, "", no_libpq);
  EXPECT_EQ(sqlite.exit_code, 0) << sqlite.err;
}

// Usage errors use the "almanac: error:" form of every other error, exit 2, and name what is
// wrong with a did-you-mean where one is close.
TEST_F(CliTest, UsageErrorsNameTheProblem) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"bogus"}, "almanac: error: unknown command 'bogus'\nRun 'almanac --help'"},
      {{"serie", "list"}, "almanac: error: unknown command 'serie' (did you mean 'series'?)"},
      {{"--format", "json", "snapshots"}, "unknown command 'snapshots' (did you mean 'snapshot'?)"},
      {{"series"}, "almanac: error: 'almanac series' needs a subcommand: list, show, vintages, history"},
      {{"series", "lst"}, "'almanac series' has no subcommand 'lst' (did you mean 'list'?); subcommands: list, show"},
      {{"series", "show"}, "almanac: error: 'almanac series show' is missing its argument <key>\n"
                           "Run 'almanac series show --help' for usage."},
      {{"migrate", "--from", "x"}, "'almanac migrate' is missing the option --to"},
      {{"series", "show", "us:cpi", "--as-off", "2020-01-01"}, "'almanac series show' has no option --as-off (did you mean --as-of?)"},
      {{"series", "list", "--form", "json"}, "has no option --form (did you mean --format?)"},
      {{"--format", "xml", "series", "list"}, "almanac: error: --format: xml not in {table,json,csv}"},
  };
  for (const Case& c : cases) {
    auto r = Run(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0];
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.args[0];
    EXPECT_EQ(r.out, "") << c.args[0];
  }
  // No command: the list of commands (on stderr), then the error.
  auto none = RunAlmanac({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("forecast"));
  EXPECT_THAT(none.err, HasSubstr("almanac: error: missing command"));
  // Help and version still exit 0 on stdout.
  auto version = RunAlmanac({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, StartsWith("0."));
  auto help = RunAlmanac({"series", "show", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--as-of"));
}

TEST_F(CliTest, WorkspaceHeldByAnotherProcess) {
  InitAndLoad();
  const std::string before = State();
  int fd = ::open((ws_ + "/almanac.lock").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  auto r = Run({"ingest", kRevision});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("in use by another almanac process"));
  auto s = Run({"snapshot", "create", "x"});
  EXPECT_EQ(s.exit_code, 1);
  // Readers are not blocked.
  EXPECT_EQ(Run({"series", "list"}).exit_code, 0);
  ::close(fd);
  EXPECT_EQ(State(), before);
  EXPECT_EQ(Run({"ingest", kRevision}).exit_code, 0);
}

TEST_F(CliTest, LoadKilledHalfWayStoresNothing) {
  InitAndLoad();
  const std::string before = State();
  // The load reads a stream from stdin: the test writes the first part (400 series x 8000
  // days, more than the 64 MiB page cache holds, so SQLite spills uncommitted pages to its
  // write-ahead log), waits until the log shows those pages, and kills the process with
  // SIGKILL while it waits for the rest.
  const std::string err = dir_ / "err";
  int in = -1;
  pid_t pid = StartAlmanac({"--workspace", ws_, "ingest", "-"}, err, &in);
  ASSERT_GT(pid, 0);
  ::signal(SIGPIPE, SIG_IGN);
  std::string half = "series,period,value\nus:cpi,2009Q3,999\n";
  // Each row's ",date,value" once (the test code is built without optimisation in CI).
  std::vector<std::string> tails;
  for (int d = 0; d < 8000; ++d)
    tails.push_back("," + Date::FromDays(10000 + d).ToString() + "," + std::to_string(d * 0.25) + "\n");
  half.reserve(400 * 8000 * 36);
  for (int s = 0; s < 400; ++s) {
    const std::string key = "big:s" + std::to_string(s);
    for (const std::string& tail : tails) half.append(key).append(tail);
  }
  size_t off = 0;
  while (off < half.size()) {
    ssize_t n = ::write(in, half.data() + off, half.size() - off);
    ASSERT_GT(n, 0);
    off += static_cast<size_t>(n);
  }
  const std::string wal = ws_ + "/almanac.db-wal";
  auto wal_size = [&] {
    struct stat st {};
    return ::stat(wal.c_str(), &st) == 0 ? st.st_size : 0;
  };
  for (int i = 0; i < 1200 && wal_size() < (8 << 20); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_GE(wal_size(), 8 << 20) << "the load did not write its rows: " << ReadFile(err);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(in);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(State(), before);
  auto list = Run({"series", "list", "--format", "csv"});
  EXPECT_THAT(list.out, Not(HasSubstr("big:s")));
  // The store is usable afterwards.
  EXPECT_EQ(Run({"ingest", kRevision}).exit_code, 0);
}

// Issue 3: `almanac forecast --input FILE` with every registered model type.
TEST_F(CliTest, ForecastEveryModelTypeOnTheSampleFile) {
  const auto types = RunAlmanac({"model-types", "--format", "csv"});
  ASSERT_EQ(types.exit_code, 0);
  int checked = 0;
  for (const auto& line : Split(types.out, '\n')) {
    const std::string type = line.substr(0, line.find(','));
    if (type.empty() || type == "type") continue;
    auto r = RunAlmanac({"forecast", "--input", kSample, "us:realgdp", "-m", type, "-H", "8", "--format", "csv"});
    EXPECT_EQ(r.exit_code, 0) << type << ": " << r.err;
    EXPECT_EQ(Split(Trim(r.out), '\n').size(), 9u) << type << ": " << r.out;
    EXPECT_THAT(r.out, HasSubstr("us:realgdp,2011Q3,8,")) << type;
    EXPECT_THAT(r.out, Not(HasSubstr("nan"))) << type;
    EXPECT_THAT(r.out, Not(HasSubstr(",,"))) << type;
    ++checked;
  }
  EXPECT_GE(checked, 11);
  // All series of the file at once, and calibrated intervals through --param.
  auto all = RunAlmanac({"forecast", "--input", kSample, "-m", "auto_arima", "-H", "8", "--format", "csv"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(Split(Trim(all.out), '\n').size(), 1u + 12 * 8);
  auto cal = RunAlmanac({"forecast", "--input", kSample, "us:unemp", "-m", "theta", "--param", "calibrate=true", "-H",
                         "4", "--format", "json"});
  EXPECT_EQ(cal.exit_code, 0) << cal.err;
  EXPECT_THAT(cal.out, HasSubstr("intervals calibrated on"));
}

// Issue 3's edge cases: each gives a clear error or a fallback that says so.
TEST_F(CliTest, ForecastEdgeCases) {
  auto forecast = [&](const std::string& csv, std::vector<std::string> args) {
    const std::string file = dir_ / "edge.csv";
    WriteFile(file, csv);
    args.insert(args.begin(), {"forecast", "--input", file, "--format", "csv"});
    return RunAlmanac(args);
  };
  auto quarterly = [](const std::vector<std::string>& values) {
    std::string csv = "period,x:s\n";
    for (size_t i = 0; i < values.size(); ++i)
      csv += std::to_string(2000 + i / 4) + "Q" + std::to_string(i % 4 + 1) + "," + values[i] + "\n";
    return csv;
  };
  std::vector<std::string> wavy, with_gap, with_negative, constant(24, "5");
  for (int i = 0; i < 40; ++i) {
    wavy.push_back(std::to_string(100 + i + (i % 4) * 3 + (i * 7) % 5));
    with_gap.push_back(i == 20 || i == 21 ? "" : wavy.back());
    with_negative.push_back(std::to_string((i * 7) % 11 - 4));
  }
  // Too short: a fallback with a note, or an error naming the need.
  auto r = forecast(quarterly({"1", "2", "3"}), {"-m", "auto_ets", "-H", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("too few observations (3)"));
  r = forecast(quarterly({"1", "2", "3"}), {"-m", "theta", "-H", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("theta needs at least 4 observations, got 3"));
  r = forecast(quarterly({"1", "2", "3"}), {"-m", "snaive", "-H", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("snaive needs more than one seasonal period"));
  r = forecast(quarterly({"1", "2", "3"}), {"-m", "combination", "-H", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("component 3 (theta) failed to fit"));
  // Constant series.
  for (const char* m : {"auto_ets", "auto_arima", "theta"}) {
    r = forecast(quarterly(constant), {"-m", m, "-H", "2"});
    EXPECT_EQ(r.exit_code, 0) << m << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("constant")) << m;
    EXPECT_THAT(r.out, HasSubstr("x:s,2006Q1,1,5,5,5,5,5")) << m;
  }
  // Missing values inside.
  r = forecast(quarterly(with_gap), {"-m", "auto_ets", "-H", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("longest contiguous stretch"));
  r = forecast(quarterly(with_gap), {"-m", "theta", "-H", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("2 missing values filled by linear interpolation"));
  r = forecast(quarterly(with_gap), {"-m", "auto_arima", "-H", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("nan")));
  // Zeros or negatives with multiplicative or Box-Cox models.
  r = forecast(quarterly(with_negative), {"-m", "ets", "--param", "model=MAM", "-H", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("multiplicative error needs strictly positive data"));
  r = forecast(quarterly(with_negative), {"-m", "auto_arima", "--param", "lambda=0", "-H", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("needs strictly positive data"));
  r = forecast(quarterly(with_negative), {"-m", "naive2", "-H", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("multiplicative decomposition is undefined"));
  // Horizon 0 or absurdly large.
  r = forecast(quarterly(wavy), {"-m", "naive", "-H", "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("horizon must be at least 1"));
  r = forecast(quarterly(wavy), {"-m", "naive", "-H", "100000"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("larger than the maximum 10000"));
  // Frequency 1 with a seasonal model asked for.
  std::string annual = "period,x:s\n";
  for (int i = 0; i < 30; ++i) annual += std::to_string(1990 + i) + "," + wavy[i] + "\n";
  WriteFile(dir_ / "annual.csv", annual);
  auto a = RunAlmanac({"forecast", "--input", dir_ / "annual.csv", "-m", "ets", "--param", "model=ANA", "-H", "2"});
  EXPECT_EQ(a.exit_code, 1);
  EXPECT_THAT(a.err, HasSubstr("the period is 1"));
  a = RunAlmanac({"forecast", "--input", dir_ / "annual.csv", "-m", "arima", "--params",
                  R"({"order":[1,1,0],"seasonal":[1,0,0]})", "-H", "2"});
  EXPECT_EQ(a.exit_code, 1);
  EXPECT_THAT(a.err, HasSubstr("has period 1"));
  a = RunAlmanac({"forecast", "--input", dir_ / "annual.csv", "-m", "theta", "--param", "seasonal=multiplicative", "-H",
                  "2"});
  EXPECT_EQ(a.exit_code, 0) << a.err;
  EXPECT_THAT(a.err, HasSubstr("the period is 1"));
  a = RunAlmanac({"forecast", "--input", dir_ / "annual.csv", "-m", "snaive", "-H", "2"});
  EXPECT_EQ(a.exit_code, 0) << a.err;
  EXPECT_THAT(a.err, HasSubstr("is the naive method"));
}

// ---- Issue 19: rough edges of `almanac ingest` for a new user, end to end.

// Every option an ingest error suggests exists: it is in `almanac ingest --help`.
TEST_F(CliTest, Issue19IngestHintsNameOptionsThatExist) {
  ASSERT_EQ(Run({"init"}).exit_code, 0);
  const std::string help = Run({"ingest", "--help"}).out;
  struct Case {
    std::string csv, hint;
  };
  const std::vector<Case> cases = {
      {"foo,bar\n1,2\n", "pass --file-format long, wide, fred or alfred"},
      {"date;eu:x\n2020-01-01;1,5\n2020-02-01;2\n", "pass --decimal ,"},
      {"date,us:x\n2020-01-01,\"1,600.5\"\n2020-02-01,2\n", "pass --thousands ,"},
      {"date,a:m\n2020-01-31,1\n2020-02-29,2\n2020-03-15,3\n", "pass --frequency (with --any-day"},
      {"series,period,value\nx:y;2020Q1;1\n", "pass --delimiter ';'"},
      {"DATE,VALUE\n2020-01-01,1\n2020-02-01,2\n", "pass --series KEY"},
  };
  for (const Case& c : cases) {
    WriteFile(dir_ / "bad.csv", c.csv);
    auto r = Run({"ingest", dir_ / "bad.csv"});
    EXPECT_EQ(r.exit_code, 1) << c.csv;
    EXPECT_THAT(r.err, HasSubstr(c.hint)) << c.csv;
    for (size_t at = r.err.find("--"); at != std::string::npos; at = r.err.find("--", at + 2)) {
      size_t end = at + 2;
      while (end < r.err.size() && (std::islower(static_cast<unsigned char>(r.err[end])) || r.err[end] == '-')) ++end;
      const std::string option = r.err.substr(at, end - at);
      EXPECT_THAT(help, HasSubstr(option + " ")) << option << " suggested by: " << r.err;
    }
  }
  EXPECT_EQ(Run({"series", "list", "--format", "csv"}).out, "key,frequency,title,unit,seasonal_adjustment,source\n");
}

TEST_F(CliTest, Issue19IngestSeparatorsDecimalCommasAndPeriodEnds) {
  ASSERT_EQ(Run({"init"}).exit_code, 0);
  auto state = [&] {
    std::string s = Run({"series", "list", "--format", "csv"}).out;
    for (const char* k : {"eu:x", "us:x", "t:x"}) s += Run({"series", "show", k, "--format", "csv"}).out;
    return s;
  };
  const std::string empty = state();
  // ';'-separated, "1.600,5", month-end dates: refused with the options to pass, then loaded
  // with them; the detected separator and the period ends are said on stderr.
  WriteFile(dir_ / "eu.csv", "date;eu:x\n2020-01-31;1.600,5\n2020-02-29;2,25\n2020-03-31;.\n2020-04-30;3\n");
  auto refused = Run({"ingest", dir_ / "eu.csv"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("eu.csv: line 2, column 2 (eu:x): value '1.600,5' is not a number (it looks like "
                                     "a decimal comma with '.' separating thousands: pass --decimal , --thousands .)"));
  EXPECT_EQ(state(), empty);
  auto loaded = Run({"ingest", dir_ / "eu.csv", "--decimal", ",", "--thousands", "."});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_THAT(loaded.err, HasSubstr("almanac: note: " + dir_ / "eu.csv" + ": fields are separated by ';'"));
  EXPECT_THAT(loaded.err, HasSubstr("almanac: note: " + dir_ / "eu.csv" +
                                    ": dates are the last day of each period (2020-01-31 is 2020-01)"));
  EXPECT_EQ(Run({"series", "show", "eu:x", "--format", "csv"}).out,
            "period,value\n2020-01,1600.5\n2020-02,2.25\n2020-03,\n2020-04,3\n");
  // Quoted thousands in a comma file; a tab-separated file named explicitly; --quiet: no notes.
  WriteFile(dir_ / "us.csv", "series,period,value\nus:x,2020-03-31,\"1,600.5\"\nus:x,2020-06-30,\"2,000\"\n");
  auto us = Run({"--quiet", "ingest", dir_ / "us.csv", "--thousands", ","});
  ASSERT_EQ(us.exit_code, 0) << us.err;
  EXPECT_EQ(us.err, "");
  EXPECT_EQ(Run({"series", "show", "us:x", "--format", "csv"}).out, "period,value\n2020Q1,1600.5\n2020Q2,2000\n");
  WriteFile(dir_ / "t.tsv", "period\tt:x\n2020Q1\t1\n2020Q2\t2\n");
  auto tsv = Run({"ingest", dir_ / "t.tsv", "--delimiter", "tab"});
  ASSERT_EQ(tsv.exit_code, 0) << tsv.err;
  EXPECT_THAT(tsv.err, Not(HasSubstr("note")));
  EXPECT_EQ(Run({"series", "show", "t:x", "--format", "csv"}).out, "period,value\n2020Q1,1\n2020Q2,2\n");
  // Bad option values: a clear error naming what is accepted, and nothing stored.
  const std::string before = state();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> bad = {
      {{"--delimiter", "|"}, "--delimiter: unknown delimiter '|': expected auto, ',', ';' or tab"},
      {{"--decimal", "x"}, "--decimal: unknown decimal mark 'x': expected '.' or ','"},
      {{"--thousands", "_"}, "--thousands: unknown thousands separator '_': expected none, ',' or '.'"},
      {{"--decimal", ",", "--thousands", ","}, "--decimal and --thousands are both ','"},
      {{"--decimal", ","}, "value '1.600,5' is not a number with the decimal mark ',' and no thousands separator"},
  };
  for (const Case& c : bad) {
    std::vector<std::string> args = {"ingest", dir_ / "eu.csv"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    WriteFile(dir_ / "eu.csv", "date;eu:x\n2020-05-31;1.600,5\n");
    auto r = Run(args);
    EXPECT_EQ(r.exit_code, 1) << c.message;
    EXPECT_THAT(r.err, HasSubstr(c.message));
  }
  EXPECT_EQ(state(), before);
}

// A one-series file with an almanac key is stored under that key; a long file of quarter
// starts is quarterly without --frequency.
TEST_F(CliTest, Issue19IngestKeepsAlmanacKeysAndInfersLongFormFrequency) {
  ASSERT_EQ(Run({"init"}).exit_code, 0);
  WriteFile(dir_ / "one.csv", "date,x:c\n2020-01-01,1\n2020-02-01,2\n");
  auto one = Run({"ingest", dir_ / "one.csv", "--format", "csv"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_THAT(one.out, HasSubstr(",wide,"));
  WriteFile(dir_ / "long.csv", "series,period,value\nx:q,2020-01-01,1\nx:q,2020-04-01,2\nx:q,2020-07-01,3\n");
  ASSERT_EQ(Run({"ingest", dir_ / "long.csv"}).exit_code, 0);
  EXPECT_EQ(Run({"series", "list", "--format", "csv"}).out,
            "key,frequency,title,unit,seasonal_adjustment,source\nx:c,M,,,,\nx:q,Q,,,,\n");
  EXPECT_EQ(Run({"series", "show", "x:q", "--format", "csv"}).out, "period,value\n2020Q1,1\n2020Q2,2\n2020Q3,3\n");
}

}  // namespace
}  // namespace almanac::testing
