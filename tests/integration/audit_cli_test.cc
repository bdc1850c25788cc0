// The audit log anchored outside the store (issue 19), end to end on a SQLite workspace:
// whoever can write the database edits an entry and recomputes the chain, `audit verify`
// passes, and `audit verify --anchors` names the entry; keys and anchor files that are wrong
// fail clearly; writes are anchored automatically; concurrent anchoring keeps one chain.
// The same attack on PostgreSQL: pg_cli_test.cc.
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "almanac/core.h"
#include "almanac/core/json.h"
#include "almanac/store.h"
#include "integration/audit_forgery.h"
#include "integration/cli_runner.h"

namespace almanac::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSample = std::string(ALMANAC_SOURCE_DIR) + "/examples/data/us_macro_quarterly.csv";

std::vector<std::string> FileLines(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(ReadFile(path));
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Writes the forged rows with SQL, as an attacker with the database file would.
void WriteForgedRows(const std::string& db_path, const ForgedAuditLog& forged) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* row = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE audit_log SET details = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4", -1,
                               &row, nullptr),
            SQLITE_OK);
  for (const auto& e : forged.rewritten) {
    const std::string details = CompactJson(e.event.details);
    sqlite3_bind_text(row, 1, details.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(row, 2, e.prev_hash.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(row, 3, e.hash.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(row, 4, e.seq);
    EXPECT_EQ(sqlite3_step(row), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_reset(row);
  }
  sqlite3_finalize(row);
  const std::string head = "UPDATE audit_head SET hash = '" + forged.head_hash + "'";
  EXPECT_EQ(sqlite3_exec(db, head.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto init = Run({"init"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    auto keygen = Run({"audit", "keygen", "--out", key_});
    ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
  }
  CommandResult Run(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--workspace", ws_, "--user", "alice", "--lock-timeout", "60"});
    return RunAlmanac(args, "", env);
  }
  // The same with automatic anchoring on (global options).
  CommandResult Anchored(std::vector<std::string> args) {
    args.insert(args.begin(), {"--audit-key", key_, "--audit-anchors", anchors_});
    return Run(args);
  }
  // Entry 1 is init's (its creator becomes the first admin); Populate adds three: a load, an admin
  // token for mallory, a viewer token for bob.
  void Populate() {
    auto ingest = Run({"ingest", kSample, "--realtime-start", "2009-12-15"});
    ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
    ASSERT_EQ(Run({"tokens", "create", "--role", "admin", "--user", "mallory"}).exit_code, 0);
    ASSERT_EQ(Run({"tokens", "create", "--role", "viewer", "--user", "bob"}).exit_code, 0);
  }
  // Rewrites entry `seq` (the admin token becomes a viewer token) and re-hashes the chain.
  void ForgeTokenEntry(int64_t seq) {
    auto st = store::OpenStore("sqlite:" + ws_ + "/almanac.db", store::StoreOptions{});
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    auto forged = ForgeAuditEntry((*st)->metadata(), seq, [](store::AuditEntry& e) { e.event.details["role"] = "viewer"; });
    ASSERT_TRUE(forged.ok()) << forged.status().ToString();
    st->reset();
    WriteForgedRows(ws_ + "/almanac.db", *forged);
  }

  TempDir dir_;
  const std::string ws_ = dir_ / "ws";
  const std::string key_ = dir_ / "audit.pem";
  const std::string pub_ = dir_ / "audit.pub.pem";
  const std::string anchors_ = dir_ / "audit.anchors";
};

// The attack of issue 19: without anchors it passes; with them, the edited entry is named.
TEST_F(AuditCliTest, Issue19AnEditWithTheChainRecomputedPassesVerifyButNotTheAnchors) {
  Populate();
  auto anchor = Run({"audit", "anchor", "--key", key_, "--anchors", anchors_});
  ASSERT_EQ(anchor.exit_code, 0) << anchor.err;
  EXPECT_THAT(anchor.out, HasSubstr("1..4"));
  ForgeTokenEntry(3);

  auto plain = Run({"audit", "verify"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;  // the attack works on the in-store chain alone
  EXPECT_THAT(plain.out, HasSubstr("intact"));

  auto checked = Run({"audit", "verify", "--anchors", anchors_, "--public-key", pub_});
  EXPECT_EQ(checked.exit_code, 1);
  EXPECT_THAT(checked.err, HasSubstr("entry 3 differs from what was anchored"));
  EXPECT_THAT(checked.err, HasSubstr("token.create by alice on token tok_"));
  EXPECT_THAT(checked.err, HasSubstr(R"("role":"viewer")"));
  EXPECT_THAT(checked.err, HasSubstr(anchors_ + " line 1"));
  EXPECT_THAT(checked.err, Not(HasSubstr("entry 4")));

  // Anchoring refuses to sign on top of the forged log.
  auto again = Run({"audit", "anchor", "--key", key_, "--anchors", anchors_});
  EXPECT_EQ(again.exit_code, 3);
  EXPECT_THAT(again.err, HasSubstr("entry 4 (token.create by alice"));
  EXPECT_THAT(again.err, HasSubstr("differs from what was anchored"));
  EXPECT_EQ(FileLines(anchors_).size(), 1u);
}

TEST_F(AuditCliTest, VerifyReportsAnchoredAndNotYetAnchoredEntries) {
  Populate();
  ASSERT_EQ(Run({"audit", "anchor", "--key", key_, "--anchors", anchors_}).exit_code, 0);
  auto nothing = Run({"audit", "anchor", "--key", key_, "--anchors", anchors_});
  EXPECT_EQ(nothing.exit_code, 0);
  EXPECT_THAT(nothing.out, HasSubstr("nothing new"));
  ASSERT_EQ(Run({"tokens", "create", "--role", "viewer", "--user", "carol"}).exit_code, 0);
  auto v = Run({"--format", "json", "audit", "verify", "--anchors", anchors_, "--public-key", pub_});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  auto j = Json::parse(v.out);
  EXPECT_EQ(j["status"], "intact");
  EXPECT_EQ(j["entries"], 5);
  EXPECT_EQ(j["anchored_through"], 4);
  EXPECT_EQ(j["not_anchored"], 1);
  EXPECT_EQ(j["anchor_lines"], 1);
  EXPECT_THAT(v.err, HasSubstr("warning: 1 newer entry (5..5) not anchored yet"));
}

TEST_F(AuditCliTest, VerifyNeedsTheOperatorsPublicKeyAndNamesAWrongOne) {
  Populate();
  ASSERT_EQ(Run({"audit", "anchor", "--key", key_, "--anchors", anchors_}).exit_code, 0);
  auto no_key = Run({"audit", "verify", "--anchors", anchors_});
  EXPECT_EQ(no_key.exit_code, 1);
  EXPECT_THAT(no_key.err, HasSubstr("needs the public key that signed them: --public-key"));
  // The signing key of automatic anchoring stands in for its public half.
  EXPECT_EQ(Run({"--audit-key", key_, "audit", "verify", "--anchors", anchors_}).exit_code, 0);
  EXPECT_EQ(Run({"audit", "verify", "--anchors", anchors_}, {"ALMANAC_AUDIT_PUBLIC_KEY=" + pub_}).exit_code, 0);
  ASSERT_EQ(Run({"audit", "keygen", "--out", dir_ / "other.pem"}).exit_code, 0);
  auto wrong = Run({"audit", "verify", "--anchors", anchors_, "--public-key", dir_ / "other.pub.pem"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, HasSubstr("line 1 is signed with key sha256:"));
  EXPECT_THAT(wrong.err, HasSubstr("not with the given public key"));
  auto private_as_public = Run({"audit", "verify", "--anchors", anchors_, "--public-key", key_});
  EXPECT_EQ(private_as_public.exit_code, 1);
  EXPECT_THAT(private_as_public.err, HasSubstr("is a private key; verifying needs only the public key"));
}

TEST_F(AuditCliTest, AFlippedByteOrARemovedLineFailsVerify) {
  Populate();
  ASSERT_EQ(Run({"audit", "anchor", "--key", key_, "--anchors", anchors_}).exit_code, 0);
  ASSERT_EQ(Run({"tokens", "create", "--role", "viewer", "--user", "carol"}).exit_code, 0);
  ASSERT_EQ(Run({"audit", "anchor", "--key", key_, "--anchors", anchors_}).exit_code, 0);
  ASSERT_EQ(Run({"tokens", "create", "--role", "viewer", "--user", "dave"}).exit_code, 0);
  ASSERT_EQ(Run({"audit", "anchor", "--key", key_, "--anchors", anchors_}).exit_code, 0);
  const auto lines = FileLines(anchors_);
  ASSERT_EQ(lines.size(), 3u);
  auto verify = [&] { return Run({"audit", "verify", "--anchors", anchors_, "--public-key", pub_}); };
  ASSERT_EQ(verify().exit_code, 0);

  std::string flipped = lines[1];
  const size_t at = flipped.find("\"head_hash\":\"") + 13;
  flipped[at] = flipped[at] == 'a' ? 'b' : 'a';
  WriteFile(anchors_, lines[0] + "\n" + flipped + "\n" + lines[2] + "\n");
  auto bad_sig = verify();
  EXPECT_EQ(bad_sig.exit_code, 1);
  EXPECT_THAT(bad_sig.err, HasSubstr("line 2: its signature does not verify"));

  WriteFile(anchors_, lines[0] + "\n" + lines[2] + "\n");
  auto removed = verify();
  EXPECT_EQ(removed.exit_code, 1);
  EXPECT_THAT(removed.err, HasSubstr("line 2 does not follow line 1"));

  WriteFile(anchors_, lines[0] + "\n{\"format\":\n" + lines[2] + "\n");
  auto malformed = verify();
  EXPECT_EQ(malformed.exit_code, 1);
  EXPECT_THAT(malformed.err, HasSubstr("line 2 is not a valid anchor: not JSON"));
}

TEST_F(AuditCliTest, MissingAnchorFilesAndBadKeyFilesFailClearly) {
  Populate();
  auto missing = Run({"audit", "verify", "--anchors", dir_ / "nope.anchors", "--public-key", pub_});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("nope.anchors does not exist"));
  auto directory = Run({"audit", "verify", "--anchors", dir_.path(), "--public-key", pub_});
  EXPECT_EQ(directory.exit_code, 1);
  EXPECT_THAT(directory.err, HasSubstr("is not a regular file"));

  ASSERT_EQ(::chmod(key_.c_str(), 0644), 0);
  auto loose = Run({"audit", "anchor", "--key", key_, "--anchors", anchors_});
  EXPECT_EQ(loose.exit_code, 1);
  EXPECT_THAT(loose.err, HasSubstr("may be read or written by group or others (mode 0644)"));
  EXPECT_THAT(loose.err, HasSubstr("chmod 600 " + key_));
  ASSERT_EQ(::chmod(key_.c_str(), 0600), 0);
  auto public_as_private = Run({"audit", "anchor", "--key", pub_, "--anchors", anchors_});
  EXPECT_EQ(public_as_private.exit_code, 1);
  EXPECT_THAT(public_as_private.err, HasSubstr("may be read or written by group or others"));  // 0644 first
  const std::string rsa = dir_ / "rsa.pem";
  ASSERT_EQ(std::system(("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out " + rsa + " 2>/dev/null && chmod 600 " + rsa).c_str()), 0);
  auto not_ed25519 = Run({"audit", "anchor", "--key", rsa, "--anchors", anchors_});
  EXPECT_EQ(not_ed25519.exit_code, 1);
  EXPECT_THAT(not_ed25519.err, HasSubstr("holds RSA key; audit anchors are signed with Ed25519 keys"));
  EXPECT_FALSE(std::filesystem::exists(anchors_));  // nothing was written

  auto overwrite = Run({"audit", "keygen", "--out", key_});
  EXPECT_EQ(overwrite.exit_code, 1);
  EXPECT_THAT(overwrite.err, HasSubstr("never overwrites a key"));
  struct stat st {};
  ASSERT_EQ(::stat(key_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AuditCliTest, WritesAreAnchoredAutomaticallyWhenAKeyAndAnAnchorFileAreSet) {
  const std::vector<std::string> env = {"ALMANAC_AUDIT_KEY=" + key_, "ALMANAC_AUDIT_ANCHORS=" + anchors_};
  auto ingest = Run({"ingest", kSample, "--realtime-start", "2009-12-15"}, env);
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  ASSERT_EQ(FileLines(anchors_).size(), 1u);
  EXPECT_EQ(Run({"series", "list"}, env).exit_code, 0);  // a read: no new line
  EXPECT_EQ(Run({"audit", "list"}, env).exit_code, 0);
  ASSERT_EQ(FileLines(anchors_).size(), 1u);
  ASSERT_EQ(Run({"tokens", "create", "--role", "viewer", "--user", "bob"}, env).exit_code, 0);
  ASSERT_EQ(FileLines(anchors_).size(), 2u);
  auto v = Run({"--format", "json", "audit", "verify"}, env);  // anchors and key from the environment
  ASSERT_EQ(v.exit_code, 0) << v.err;
  auto j = Json::parse(v.out);
  EXPECT_EQ(j["anchored_through"], 3);  // init's entry, the load, the token
  EXPECT_EQ(j["not_anchored"], 0);

  // A write whose anchor cannot be written is committed, and the command fails saying so.
  ASSERT_EQ(::chmod(key_.c_str(), 0640), 0);
  auto unanchored = Run({"tokens", "create", "--role", "viewer", "--user", "carol"}, env);
  EXPECT_EQ(unanchored.exit_code, 1);
  EXPECT_THAT(unanchored.err, HasSubstr("the command's changes are committed, but the audit anchor was not written"));
  EXPECT_THAT(unanchored.err, HasSubstr("chmod 600"));
  EXPECT_THAT(Run({"tokens", "list"}).out, HasSubstr("carol"));
  // Reads never load the key, so they are unaffected.
  EXPECT_EQ(Run({"series", "list"}, env).exit_code, 0);
  ASSERT_EQ(::chmod(key_.c_str(), 0600), 0);
  ASSERT_EQ(Anchored({"tokens", "create", "--role", "viewer", "--user", "dave"}).exit_code, 0);
  auto all = Run({"--format", "json", "audit", "verify", "--anchors", anchors_, "--public-key", pub_});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(Json::parse(all.out)["anchored_through"], 5);
}

// Writers that anchor after each write and `audit anchor` runs, all at once: the file's lines
// form one chain with contiguous ranges (flock around reading the last line and appending).
TEST_F(AuditCliTest, ConcurrentAnchoringFromManyProcessesKeepsOneChain) {
  Populate();
  for (int round = 0; round < 2; ++round) {
    std::vector<pid_t> pids;
    for (int i = 0; i < 4; ++i) {
      pids.push_back(StartAlmanac({"--workspace", ws_, "--lock-timeout", "60", "--audit-key", key_, "--audit-anchors",
                                   anchors_, "tokens", "create", "--role", "viewer", "--user",
                                   "u" + std::to_string(round) + std::to_string(i)},
                                  "/dev/null"));
      pids.push_back(StartAlmanac({"--workspace", ws_, "audit", "anchor", "--key", key_, "--anchors", anchors_}, "/dev/null"));
    }
    for (pid_t p : pids) {
      int status = 0;
      ASSERT_EQ(::waitpid(p, &status, 0), p);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    }
  }
  auto v = Run({"--format", "json", "audit", "verify", "--anchors", anchors_, "--public-key", pub_});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  auto j = Json::parse(v.out);
  EXPECT_EQ(j["entries"], 12);
  EXPECT_EQ(j["anchored_through"], 12);
  int64_t next = 1;
  for (const auto& line : FileLines(anchors_)) {
    auto a = Json::parse(line);
    EXPECT_EQ(a["from_seq"], next);
    next = a["head_seq"].get<int64_t>() + 1;
  }
  EXPECT_EQ(next, 13);
}

// A long-running process anchors other processes' writes every --anchor-interval seconds.
TEST_F(AuditCliTest, AWorkerAnchorsEveryInterval) {
  Populate();
  const std::string err = dir_ / "worker.err";
  pid_t worker = StartAlmanac({"--workspace", ws_, "--audit-key", key_, "--audit-anchors", anchors_, "--anchor-interval",
                               "0.1", "worker", "--idle-exit", "30", "--poll-ms", "50"},
                              err);
  auto wait_for = [&](int64_t seq) {
    for (int i = 0; i < 200; ++i) {
      auto lines = FileLines(anchors_);
      if (!lines.empty() && Json::parse(lines.back())["head_seq"] == seq) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  };
  EXPECT_TRUE(wait_for(4)) << ReadFile(err);  // what was there when it started
  ASSERT_EQ(Run({"tokens", "create", "--role", "viewer", "--user", "carol"}).exit_code, 0);  // not anchored by itself
  EXPECT_TRUE(wait_for(5)) << ReadFile(err);
  ::kill(worker, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(worker, &status, 0), worker);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(err);
  EXPECT_THAT(ReadFile(err), HasSubstr("anchoring the audit log in " + anchors_));
  EXPECT_EQ(Run({"audit", "verify", "--anchors", anchors_, "--public-key", pub_}).exit_code, 0);
}

}  // namespace
}  // namespace almanac::testing
