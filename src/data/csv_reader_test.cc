#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/data.h"
#include "core/testing/status_matchers.h"

namespace almanac::data {
namespace {

using ::almanac::testing::StatusIs;
using ::testing::ElementsAre;

std::vector<std::vector<std::string>> ReadAll(CsvReader& r, Status* error = nullptr) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string_view> f;
  for (;;) {
    auto more = r.Next(&f);
    if (!more.ok()) {
      if (error) *error = more.status();
      break;
    }
    if (!*more) break;
    rows.emplace_back(f.begin(), f.end());
  }
  return rows;
}

std::vector<std::vector<std::string>> Parse(const std::string& text, Status* error = nullptr) {
  auto r = CsvReader::FromString(text, "t.csv");
  return ReadAll(*r, error);
}

TEST(CsvReaderTest, PlainQuotedAndEscapedFields) {
  auto rows = Parse("a,b,c\n1,\"x,y\",\"say \"\"hi\"\"\"\n2,\"multi\nline\",\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_THAT(rows[1], ElementsAre("1", "x,y", "say \"hi\""));
  EXPECT_THAT(rows[2], ElementsAre("2", "multi\nline", ""));
}

TEST(CsvReaderTest, CrLfBomBlankLinesAndNoFinalNewline) {
  auto rows = Parse("\xEF\xBB\xBFh1,h2\r\n\r\n1,2\r\n\n3,4");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_THAT(rows[0], ElementsAre("h1", "h2"));
  EXPECT_THAT(rows[2], ElementsAre("3", "4"));
}

TEST(CsvReaderTest, LineNumbersCountEmbeddedNewlines) {
  auto r = CsvReader::FromString("h\n\"a\nb\"\nc\n", "t.csv");
  std::vector<std::string_view> f;
  ASSERT_TRUE(*r->Next(&f));
  EXPECT_EQ(r->line(), 1);
  ASSERT_TRUE(*r->Next(&f));
  EXPECT_EQ(r->line(), 2);
  ASSERT_TRUE(*r->Next(&f));
  EXPECT_EQ(r->line(), 4);
}

TEST(CsvReaderTest, UnbalancedQuoteNamesTheLine) {
  Status s;
  Parse("a,b\n1,2\n3,\"open\n4,5\n", &s);
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument, "line 3: unbalanced quote"));
}

TEST(CsvReaderTest, StrayQuoteAndTextAfterClosingQuote) {
  Status s;
  Parse("a,b\n1,x\"y\n", &s);
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument, "line 2, column 2: unexpected quote"));
  Parse("a,b\n1,\"x\"y\n", &s);
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument, "after a closing quote"));
}

TEST(CsvReaderTest, BinaryAndInvalidUtf8AreRejected) {
  Status s;
  Parse(std::string("a,b\n1,\0\x01\x02\n", 9), &s);
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument, "not a text file"));
  Parse("a,b\n1,caf\xe9\n", &s);
  EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument, "line 2 is not valid UTF-8"));
}

TEST(CsvReaderTest, FileInputAcrossBufferBoundariesAndHash) {
  auto path = std::filesystem::temp_directory_path() / ("csv_reader_test_" + std::to_string(::getpid()) + ".csv");
  std::string content = "k,v\n";
  for (int i = 0; i < 150000; ++i) {
    content += "key" + std::to_string(i) + ",";
    content += (i % 1000 == 7) ? "\"quoted,\nvalue " + std::to_string(i) + "\"" : std::to_string(i * 0.5);
    content += (i % 3 == 0) ? "\r\n" : "\n";
  }
  std::ofstream(path, std::ios::binary) << content;
  ASSERT_OK_AND_ASSIGN(auto r, CsvReader::Open(path.string()));
  Status err;
  auto rows = ReadAll(*r, &err);
  ASSERT_TRUE(err.ok()) << err.ToString();
  ASSERT_EQ(rows.size(), 150001u);
  EXPECT_EQ(rows[8][1], "quoted,\nvalue 7");
  EXPECT_EQ(rows[150000][0], "key149999");
  EXPECT_EQ(r->HexDigest(), Sha256Hex(content));
  std::filesystem::remove(path);
}

TEST(CsvReaderTest, OpenErrors) {
  EXPECT_THAT(CsvReader::Open("/nonexistent/file.csv"), StatusIs(StatusCode::kNotFound, "/nonexistent/file.csv"));
  EXPECT_THAT(CsvReader::Open("/tmp"), StatusIs(StatusCode::kFailedPrecondition, "is a directory"));
}

// Issue 19: ';' and tab separators, given or detected from the first line.
TEST(CsvReaderTest, SemicolonAndTabSeparators) {
  auto semi = CsvReader::FromString("a;b\n1;\"x;y\"\n\"q\";2\n", "t.csv", ';');
  auto rows = ReadAll(*semi);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_THAT(rows[1], ElementsAre("1", "x;y"));
  EXPECT_THAT(rows[2], ElementsAre("q", "2"));
  auto tab = CsvReader::FromString("a\tb\n1,5\t2\n", "t.tsv", '\t');
  EXPECT_THAT(ReadAll(*tab)[1], ElementsAre("1,5", "2"));
  Status s;
  auto stray = CsvReader::FromString("a;b\n\"x\",y;2\n", "t.csv", ';');
  ReadAll(*stray, &s);
  EXPECT_THAT(s,
              StatusIs(StatusCode::kInvalidArgument, "line 2, column 1: unexpected characters after a closing quote"));
}

TEST(CsvReaderTest, DetectsTheSeparatorFromTheFirstLine) {
  struct Case {
    std::string text;
    char delimiter;
  };
  for (const Case& c : std::vector<Case>{{"a;b\n1;2\n", ';'},
                                         {"\xEF\xBB\xBF"
                                          "a\tb\r\n1\t2\n",
                                          '\t'},
                                         {"a,b;c\n1,2\n", ','},  // a comma: a comma file
                                         {"\"a;b\",c\n1,2\n", ','},
                                         {"\"a,b\";c\n1;2\n", ';'},  // quoted commas do not count
                                         {"a;b\tc\n1;2\n", ','},     // both: no guess
                                         {"single\n1\n", ','},
                                         {"", ','}}) {
    auto r = CsvReader::FromString(c.text, "t.csv", 0);
    ReadAll(*r);
    EXPECT_EQ(r->delimiter(), c.delimiter) << c.text;
  }
  // set_delimiter works until the first record is read.
  auto r = CsvReader::FromString("a;b\n1;2\n", "t.csv");
  r->set_delimiter(0);
  std::vector<std::string_view> f;
  ASSERT_TRUE(*r->Next(&f));
  EXPECT_THAT(f, ElementsAre("a", "b"));
  r->set_delimiter(',');
  EXPECT_EQ(r->delimiter(), ';');
}

// A first line that arrives in pieces (a pipe, stdin) is read whole before the guess.
TEST(CsvReaderTest, DetectsTheSeparatorOfAFirstLineReadInPieces) {
  const std::string fifo =
      (std::filesystem::temp_directory_path() / ("csv_reader_fifo_" + std::to_string(::getpid()))).string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] {
    std::ofstream out(fifo, std::ios::binary);
    out << "date;a" << std::flush;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    out << ";b\n2020-01-01;1;2\n" << std::flush;
  });
  auto r = CsvReader::Open(fifo, 0);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto rows = ReadAll(**r);
  writer.join();
  std::filesystem::remove(fifo);
  EXPECT_EQ((*r)->delimiter(), ';');
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[0], ElementsAre("date", "a", "b"));
  EXPECT_THAT(rows[1], ElementsAre("2020-01-01", "1", "2"));
}

}  // namespace
}  // namespace almanac::data
