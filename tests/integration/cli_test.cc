// End-to-end tests of the almanac binary on the sample data: the quick-start path, output
// formats, exit codes, an interrupted load and a workspace held by another process.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "integration/cli_runner.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kSample = std::string(ALMANAC_SOURCE_DIR) + "/examples/data/us_macro_quarterly.csv";
const std::string kMeta = std::string(ALMANAC_SOURCE_DIR) + "/examples/data/us_macro_quarterly.meta.yaml";
const std::string kRevision = std::string(ALMANAC_SOURCE_DIR) + "/examples/data/us_gdp_revision_illustrative.csv";

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
  for (int s = 0; s < 400; ++s)
    for (int d = 0; d < 8000; ++d)
      half += "big:s" + std::to_string(s) + "," + Date::FromDays(10000 + d).ToString() + "," + std::to_string(d * 0.25) + "\n";
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

}  // namespace
}  // namespace almanac::testing
