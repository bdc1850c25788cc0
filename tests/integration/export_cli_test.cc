// Issue 23: exports people ask for. `snapshot export --wide` and `series show --wide` (periods x
// series) and `series show --vintages` (periods x vintages, ALFRED style) as CSV and as .xlsx
// workbooks, read back: CSV cell by cell, workbooks with openpyxl (Debian's /usr/bin/python3),
// which must see real dates. Every refusal leaves the output file and the store as they were.
#include <cstdio>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "integration/cli_runner.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kReadXlsx = std::string(ALMANAC_SOURCE_DIR) + "/testdata/exports/read_xlsx.py";

// Three quarterly series over four vintages; t:cpi has a value known to be missing (2020Q2),
// t:ip a shorter range, t:gdp a revision (2020Q1: 100, then 101).
const char kData[] =
    "series,period,value,realtime_start\n"
    "t:gdp,2020Q1,100,2020-05-01\n"
    "t:cpi,2020Q1,1.5,2020-05-01\n"
    "t:ip,2019Q4,7,2020-05-01\n"
    "t:ip,2020Q1,8.25,2020-05-01\n"
    "t:gdp,2020Q1,101,2020-08-01\n"
    "t:gdp,2020Q2,90,2020-08-01\n"
    "t:cpi,2020Q2,NA,2020-08-01\n"
    "t:gdp,2020Q3,95.5,2020-11-01\n"
    "t:cpi,2020Q3,2.5,2020-11-01\n";

const char kWide[] =
    "date,period,t:cpi,t:gdp,t:ip\n"
    "2019-10-01,2019Q4,,,7\n"
    "2020-01-01,2020Q1,1.5,101,8.25\n"
    "2020-04-01,2020Q2,NA,90,\n"
    "2020-07-01,2020Q3,2.5,95.5,\n";

const char kGdpVintages[] =
    "date,period,t:gdp_20200501,t:gdp_20200801,t:gdp_20201101\n"
    "2020-01-01,2020Q1,100,101,101\n"
    "2020-04-01,2020Q2,,90,90\n"
    "2020-07-01,2020Q3,,,95.5\n";

std::vector<std::vector<std::string>> Cells(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::string line;
  for (char c : csv) {
    if (c != '\n') {
      line += c;
      continue;
    }
    std::vector<std::string> cells{""};
    for (char d : line) {
      if (d == ',')
        cells.emplace_back();
      else
        cells.back() += d;
    }
    rows.push_back(std::move(cells));
    line.clear();
  }
  return rows;
}

struct Python {
  int exit_code = -1;
  std::string out;
};

Python ReadXlsx(const std::string& path) {
  Python r;
  FILE* p = ::popen(("/usr/bin/python3 " + kReadXlsx + " '" + path + "' 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool HaveOpenpyxl() { return std::system("/usr/bin/python3 -c 'import openpyxl' >/dev/null 2>&1") == 0; }

class ExportCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = dir_ / "ws";
    ASSERT_EQ(Run({"init"}).exit_code, 0);
    WriteFile(dir_ / "data.csv", kData);
    auto r = Run({"ingest", dir_ / "data.csv"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = Run({"snapshot", "create", "q", "--series", "t:cpi,t:gdp,t:ip"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CommandResult Run(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--workspace", ws_});
    return RunAlmanac(args, "", env);
  }
  std::string State() {
    std::string s = Run({"series", "list", "--format", "csv"}).out + Run({"snapshot", "list", "--format", "csv"}).out;
    for (const char* k : {"t:gdp", "t:cpi", "t:ip"}) s += Run({"series", "vintages", k, "--format", "csv"}).out;
    return s;
  }

  TempDir dir_;
  std::string ws_;
};

TEST_F(ExportCliTest, SnapshotWideCsvHasADateAPeriodAndOneColumnPerSeries) {
  auto r = Run({"snapshot", "export", "q", "--wide"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Cells(r.out), Cells(kWide));
  // To a file, the same bytes.
  r = Run({"snapshot", "export", "q", "--wide", "-o", dir_ / "wide.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_ / "wide.csv"), kWide);
  // The long form is unchanged.
  r = Run({"snapshot", "export", "q", "--format", "csv"});
  EXPECT_THAT(r.out, HasSubstr("series,period,value\nt:cpi,2020Q1,1.5\nt:cpi,2020Q2,.\n"));
}

TEST_F(ExportCliTest, SeriesVintageMatrixIsEmptyWhereThePeriodWasNotKnownYet) {
  auto r = Run({"series", "show", "t:gdp", "--vintages", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Cells(r.out), Cells(kGdpVintages));
  // --as-of keeps the vintages known then.
  r = Run({"series", "show", "t:gdp", "--vintages", "--as-of", "2020-09-30", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "date,period,t:gdp_20200501,t:gdp_20200801\n"
            "2020-01-01,2020Q1,100,101\n"
            "2020-04-01,2020Q2,,90\n");
  // A value known to be missing is NA, not empty. A column is the series as known then, as
  // `series show --as-of` reads it: without trailing missing values (2020Q2 on 2020-08-01).
  r = Run({"series", "show", "t:cpi", "--vintages", "-o", dir_ / "cpi.csv", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(dir_ / "cpi.csv"),
            "date,period,t:cpi_20200501,t:cpi_20200801,t:cpi_20201101\n"
            "2020-01-01,2020Q1,1.5,1.5,1.5\n"
            "2020-04-01,2020Q2,,,NA\n"
            "2020-07-01,2020Q3,,,2.5\n");
  // JSON: one object per row, null where not known.
  r = Run({"series", "show", "t:gdp", "--vintages", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"t:gdp_20200501\": null"));
  // One series wide.
  r = Run({"series", "show", "t:ip", "--wide", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "date,period,t:ip\n2019-10-01,2019Q4,7\n2020-01-01,2020Q1,8.25\n");
}

TEST_F(ExportCliTest, SnapshotXlsxHasRealDatesAFrozenHeaderAndAMetadataSheet) {
  if (!HaveOpenpyxl()) GTEST_SKIP() << "python3-openpyxl is not installed (scripts/deps.sh test)";
  auto r = Run({"snapshot", "export", "q", "-o", dir_ / "q.xlsx"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto x = ReadXlsx(dir_ / "q.xlsx");
  ASSERT_EQ(x.exit_code, 0) << x.out;
  EXPECT_THAT(x.out, HasSubstr("== data freeze=C2\n"
                               "str:date|str:period|str:t:cpi|str:t:gdp|str:t:ip\n"
                               "date:2019-10-01|str:2019Q4|||num:7.0\n"
                               "date:2020-01-01|str:2020Q1|num:1.5|num:101.0|num:8.25\n"
                               "date:2020-04-01|str:2020Q2|str:NA|num:90.0\n"
                               "date:2020-07-01|str:2020Q3|num:2.5|num:95.5\n"
                               "== series freeze=A2\n"
                               "str:key|str:frequency|str:title|str:unit|str:seasonal_adjustment|str:source|str:first|"
                               "str:last|str:observations\n"
                               "str:t:cpi|str:Q|||||str:2020Q1|str:2020Q3|num:2.0\n"));
  EXPECT_THAT(x.out, HasSubstr("== snapshot freeze=A2\nstr:field|str:value\nstr:name|str:q\n"));
  // --xlsx with any file name.
  r = Run({"snapshot", "export", "q", "--xlsx", "-o", dir_ / "q.bin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // (openpyxl reads files named .xlsx only.)
  std::filesystem::copy_file(dir_ / "q.bin", dir_ / "q-bin.xlsx");
  EXPECT_EQ(ReadXlsx(dir_ / "q-bin.xlsx").out, x.out);
}

TEST_F(ExportCliTest, SeriesVintagesXlsxLeavesCellsEmptyUntilThePeriodIsKnown) {
  if (!HaveOpenpyxl()) GTEST_SKIP() << "python3-openpyxl is not installed (scripts/deps.sh test)";
  auto r = Run({"series", "show", "t:gdp", "--vintages", "-o", dir_ / "gdp.XLSX"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto x = ReadXlsx(dir_ / "gdp.XLSX");
  ASSERT_EQ(x.exit_code, 0) << x.out;
  EXPECT_THAT(x.out, HasSubstr("== vintages freeze=C2\n"
                               "str:date|str:period|str:t:gdp_20200501|str:t:gdp_20200801|str:t:gdp_20201101\n"
                               "date:2020-01-01|str:2020Q1|num:100.0|num:101.0|num:101.0\n"
                               "date:2020-04-01|str:2020Q2||num:90.0|num:90.0\n"
                               "date:2020-07-01|str:2020Q3|||num:95.5\n"
                               "== series freeze=A2\n"));
  EXPECT_THAT(x.out, HasSubstr("== vintage_list freeze=A2\nstr:realtime_start|str:vintage|"));
  EXPECT_THAT(x.out, HasSubstr("\ndate:2020-05-01|num:"));
  // A plain series to a workbook: one sheet of data.
  r = Run({"series", "show", "t:ip", "-o", dir_ / "ip.xlsx"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  x = ReadXlsx(dir_ / "ip.xlsx");
  EXPECT_THAT(x.out, HasSubstr("== data freeze=C2\nstr:date|str:period|str:t:ip\n"
                               "date:2019-10-01|str:2019Q4|num:7.0\ndate:2020-01-01|str:2020Q1|num:8.25\n== series"));
}

// An existing output file is overwritten, as every -o of the CLI does; a failed export leaves it.
TEST_F(ExportCliTest, BadInputIsRefusedAndWritesNothing) {
  const std::string before = State();
  WriteFile(dir_ / "keep.xlsx", "old");
  WriteFile(dir_ / "keep.csv", "old");
  std::filesystem::create_directory(dir_ / "folder.xlsx");
  std::filesystem::create_directory(dir_ / "folder");
  WriteFile(dir_ / "m.csv", "series,period,value\nm:x,2020-01,1\n");
  ASSERT_EQ(Run({"ingest", dir_ / "m.csv"}).exit_code, 0);
  ASSERT_EQ(Run({"snapshot", "create", "mixed"}).exit_code, 0);
  const std::string with_mixed = State();
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"snapshot", "export", "nope", "--wide", "-o", dir_ / "keep.csv"}, 1, "nope"},
      {{"snapshot", "export", "nope", "-o", dir_ / "keep.xlsx"}, 1, "nope"},
      {{"snapshot", "export", "q", "--xlsx"},
       1,
       "an .xlsx workbook cannot be written to standard output: pass -o FILE.xlsx"},
      {{"snapshot", "export", "q", "--xlsx", "-o", "-"}, 1, "cannot be written to standard output"},
      {{"snapshot", "export", "q", "-o", dir_ / "folder.xlsx"}, 1, "folder.xlsx: it is a directory"},
      {{"snapshot", "export", "q", "--wide", "-o", dir_ / "folder"}, 1, "folder: it is a directory"},
      {{"snapshot", "export", "q", "-o", dir_ / "missing/q.xlsx"}, 1, "no folder"},
      {{"snapshot", "export", "mixed", "-o", dir_ / "keep.xlsx"}, 1, "mixes frequencies (Q: t:cpi and 2 more; M: m:x)"},
      {{"snapshot", "export", "mixed", "--wide", "-o", dir_ / "keep.csv"}, 1, "mixes frequencies"},
      {{"--format", "json", "snapshot", "export", "q", "--wide"}, 1, "excludes --wide"},
      {{"--format", "json", "snapshot", "export", "q", "-o", dir_ / "keep.xlsx"}, 1, "excludes an .xlsx workbook"},
      {{"series", "show", "t:nope", "--vintages", "-o", dir_ / "keep.xlsx"}, 1, "t:nope"},
      {{"series", "show", "t:nope", "--wide", "-o", dir_ / "keep.csv"}, 1, "t:nope"},
      {{"series", "show", "t:gdp", "--vintages", "--as-of", "2020-01-01", "-o", dir_ / "keep.csv"},
       1,
       "series t:gdp has no vintage with realtime_start on or before 2020-01-01 (the first is 2020-05-01)"},
      {{"series", "show", "t:gdp", "--wide", "--as-of", "2020-01-01", "-o", dir_ / "keep.csv"},
       1,
       "series t:gdp has no observations as of 2020-01-01: nothing to export"},
      {{"series", "show", "t:gdp", "--as-of", "2020-01-01", "-o", dir_ / "keep.xlsx"}, 1, "no observations"},
      {{"series", "show", "t:gdp", "--vintages", "--xlsx"}, 1, "standard output"},
      {{"series", "show", "t:gdp", "--vintages", "-o", dir_ / "folder.xlsx"}, 1, "it is a directory"},
      {{"series", "show", "t:gdp", "--vintages", "--wide"}, 2, "excludes"},
      {{"--format", "json", "series", "show", "t:gdp", "-o", dir_ / "keep.xlsx"}, 1, "exclude each other"},
      {{"series", "show", "t:gdp", "--vintages", "--as-of", "20200101"}, 1, "as-of"},
  };
  for (const auto& c : cases) {
    auto r = Run(c.args);
    EXPECT_EQ(r.exit_code, c.code) << ::testing::PrintToString(c.args) << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << ::testing::PrintToString(c.args);
    EXPECT_THAT(r.err, Not(HasSubstr("internal"))) << ::testing::PrintToString(c.args);
    EXPECT_EQ(ReadFile(dir_ / "keep.xlsx"), "old") << ::testing::PrintToString(c.args);
    EXPECT_EQ(ReadFile(dir_ / "keep.csv"), "old") << ::testing::PrintToString(c.args);
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "missing"));
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "folder.xlsx"));
  for (const auto& e : std::filesystem::directory_iterator(dir_.path()))
    EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
  EXPECT_EQ(State(), with_mixed);
  EXPECT_NE(before, with_mixed);
}

// libxlsxwriter is opened on first use (src/cli/xlsx_writer.h): without it, only a workbook
// export fails, saying what to install, and CSV exports still work.
TEST_F(ExportCliTest, MissingLibxlsxwriterIsAClearErrorOnlyForWorkbooks) {
  const std::vector<std::string> env = {"ALMANAC_LIBXLSXWRITER=/nonexistent/libxlsxwriter.so.4"};
  auto r = Run({"snapshot", "export", "q", "-o", dir_ / "q.xlsx"}, env);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err,
              HasSubstr("cannot load /nonexistent/libxlsxwriter.so.4 (install the Debian package libxlsxwriter4)"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "q.xlsx"));
  r = Run({"snapshot", "export", "q", "--wide"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, kWide);
}

// An existing file is replaced (the CLI's -o convention).
TEST_F(ExportCliTest, AnExistingOutputFileIsReplaced) {
  if (!HaveOpenpyxl()) GTEST_SKIP() << "python3-openpyxl is not installed (scripts/deps.sh test)";
  WriteFile(dir_ / "q.xlsx", "old");
  auto r = Run({"snapshot", "export", "q", "-o", dir_ / "q.xlsx"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadXlsx(dir_ / "q.xlsx").exit_code, 0);
}

}  // namespace
}  // namespace almanac::testing
