// Anchors of the audit chain (issue 19): keys, the anchor file, verification against a store,
// concurrent appends and the periodic anchorer. Tampering with a real database and recomputing
// the chain is tested end to end in tests/integration/audit_cli_test.cc and pg_cli_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "almanac/core/json.h"
#include "almanac/store.h"
#include "core/testing/status_matchers.h"

namespace almanac::store {
namespace {

using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;

// An EC P-256 private key (a test fixture, not a secret): a well-formed key of the wrong type.
constexpr char kEcPrivateKeyPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgOqfNIY/fhIwkvtac\n"
    "boiqsKap6W6PeAa1ogSVdxltNbShRANCAAR3etDYOr56JPc1PN0N/nVHcv4jfK50\n"
    "jGrYVjC69yZDArwags4kpYfprjgxFwm6GVuFwDHn1yfxa76+tbiXddMw\n"
    "-----END PRIVATE KEY-----\n";

std::string AnchorTestDir() {
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("almanac_anchor_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string SlurpFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void SpitFile(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

class AuditAnchorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = AnchorTestDir();
    anchors_ = dir_ + "/audit.anchors";
    StoreOptions o;
    o.create_if_missing = true;
    ASSERT_OK_AND_ASSIGN(store_, OpenStore("sqlite:" + dir_ + "/almanac.db", o));
    ASSERT_OK(GenerateAuditKey(dir_ + "/key.pem").status());
    ASSERT_OK_AND_ASSIGN(key_, AuditSigningKey::Load(dir_ + "/key.pem"));
    ASSERT_OK_AND_ASSIGN(public_key_, AuditPublicKey::Load(dir_ + "/key.pub.pem"));
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Write(int n) {
    for (int i = 0; i < n; ++i)
      ASSERT_OK(store_->metadata().Run([&](MetadataTxn& t) {
        return t.Audit({"alice", "test.event", "thing", std::to_string(i), {{"i", i}}}).status();
      }));
  }
  std::vector<std::string> Lines() {
    std::vector<std::string> out;
    std::istringstream in(SlurpFile(anchors_));
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  void SetLines(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    SpitFile(anchors_, text);
  }
  // Three lines: entries 1-2, 3, 4-5.
  void ThreeLines() {
    Write(2);
    ASSERT_OK(AppendAuditAnchors(*store_, *key_, anchors_).status());
    Write(1);
    ASSERT_OK(AppendAuditAnchors(*store_, *key_, anchors_).status());
    Write(2);
    ASSERT_OK(AppendAuditAnchors(*store_, *key_, anchors_).status());
    ASSERT_EQ(Lines().size(), 3u);
  }

  std::string dir_, anchors_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<AuditSigningKey> key_;
  std::unique_ptr<AuditPublicKey> public_key_;
};

TEST_F(AuditAnchorTest, KeygenWritesAPrivateKeyOnlyItsOwnerMayReadAndNeverOverwrites) {
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ + "/key.pub.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_THAT(SlurpFile(dir_ + "/key.pub.pem"), HasSubstr("BEGIN PUBLIC KEY"));
  EXPECT_EQ(key_->fingerprint(), public_key_->fingerprint());
  EXPECT_THAT(key_->fingerprint(), ::testing::StartsWith("sha256:"));
  const std::string before = SlurpFile(dir_ + "/key.pem");
  EXPECT_THAT(GenerateAuditKey(dir_ + "/key.pem"), StatusIs(StatusCode::kAlreadyExists, "never overwrites"));
  EXPECT_EQ(SlurpFile(dir_ + "/key.pem"), before);
  // A public key left behind blocks a new private key too (they are a pair).
  SpitFile(dir_ + "/other.pub.pem", "x");
  EXPECT_THAT(GenerateAuditKey(dir_ + "/other.pem"), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/other.pem"));
  EXPECT_EQ(AuditPublicKeyPath("a/key"), "a/key.pub.pem");
  EXPECT_THAT(GenerateAuditKey(dir_ + "/no/such/folder/key.pem"), StatusIs(StatusCode::kNotFound));
}

TEST_F(AuditAnchorTest, SignaturesVerifyOnlyForTheirMessageAndKey) {
  ASSERT_OK_AND_ASSIGN(std::string sig, key_->Sign("message"));
  EXPECT_EQ(sig.size(), 128u);
  EXPECT_TRUE(public_key_->Verify("message", sig));
  EXPECT_FALSE(public_key_->Verify("messagE", sig));
  EXPECT_FALSE(public_key_->Verify("message", sig.substr(0, 126) + (sig[126] == '0' ? "1" : "0") + sig.substr(127)));
  EXPECT_FALSE(public_key_->Verify("message", "not hex"));
  ASSERT_OK(GenerateAuditKey(dir_ + "/other.pem").status());
  ASSERT_OK_AND_ASSIGN(auto other, AuditPublicKey::Load(dir_ + "/other.pub.pem"));
  EXPECT_FALSE(other->Verify("message", sig));
  ASSERT_OK_AND_ASSIGN(auto derived, AuditPublicKey::FromSigningKey(*key_));
  EXPECT_TRUE(derived->Verify("message", sig));
  EXPECT_EQ(derived->fingerprint(), public_key_->fingerprint());
}

TEST_F(AuditAnchorTest, KeyFilesWithLoosePermissionsOrOfAnotherKindAreRefusedClearly) {
  const std::string key = dir_ + "/key.pem";
  ASSERT_EQ(::chmod(key.c_str(), 0640), 0);
  EXPECT_THAT(AuditSigningKey::Load(key), StatusIs(StatusCode::kFailedPrecondition, "mode 0640"));
  EXPECT_THAT(AuditSigningKey::Load(key), StatusIs(StatusCode::kFailedPrecondition, "chmod 600 " + key));
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  EXPECT_OK(AuditSigningKey::Load(key).status());

  const std::string ec = dir_ + "/ec.pem";
  SpitFile(ec, kEcPrivateKeyPem);
  ASSERT_EQ(::chmod(ec.c_str(), 0600), 0);
  EXPECT_THAT(AuditSigningKey::Load(ec), StatusIs(StatusCode::kInvalidArgument, "holds EC key; audit anchors are signed with Ed25519"));
  const std::string pub_as_private = dir_ + "/pub.pem";
  SpitFile(pub_as_private, SlurpFile(dir_ + "/key.pub.pem"));
  ASSERT_EQ(::chmod(pub_as_private.c_str(), 0600), 0);
  EXPECT_THAT(AuditSigningKey::Load(pub_as_private), StatusIs(StatusCode::kInvalidArgument, "is a public key"));
  const std::string junk = dir_ + "/junk.pem";
  SpitFile(junk, "hello\n");
  ASSERT_EQ(::chmod(junk.c_str(), 0600), 0);
  EXPECT_THAT(AuditSigningKey::Load(junk), StatusIs(StatusCode::kInvalidArgument, "not a PEM private key"));
  EXPECT_THAT(AuditSigningKey::Load(dir_ + "/missing.pem"), StatusIs(StatusCode::kNotFound, "missing.pem"));
  EXPECT_THAT(AuditSigningKey::Load(dir_), StatusIs(StatusCode::kFailedPrecondition, "not a regular file"));

  EXPECT_THAT(AuditPublicKey::Load(key), StatusIs(StatusCode::kInvalidArgument, "is a private key"));
  EXPECT_THAT(AuditPublicKey::Load(junk), StatusIs(StatusCode::kInvalidArgument, "not a PEM public key"));
}

TEST_F(AuditAnchorTest, AnchorsCoverEveryEntryOnceAndVerify) {
  ASSERT_OK_AND_ASSIGN(AnchorAppend empty, AppendAuditAnchors(*store_, *key_, anchors_));
  EXPECT_EQ(empty.lines, 0);  // nothing in the store: no line
  EXPECT_EQ(SlurpFile(anchors_), "");

  Write(3);
  ASSERT_OK_AND_ASSIGN(AnchorAppend a, AppendAuditAnchors(*store_, *key_, anchors_));
  EXPECT_EQ(a.lines, 1);
  EXPECT_EQ(a.from_seq, 1);
  EXPECT_EQ(a.head_seq, 3);
  ASSERT_OK_AND_ASSIGN(auto again, AppendAuditAnchors(*store_, *key_, anchors_));
  EXPECT_EQ(again.lines, 0);
  EXPECT_EQ(again.head_seq, 3);
  Write(2);
  ASSERT_OK_AND_ASSIGN(AnchorAppend b, AppendAuditAnchors(*store_, *key_, anchors_));
  EXPECT_EQ(b.from_seq, 4);
  EXPECT_EQ(b.head_seq, 5);

  auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  ASSERT_OK_AND_ASSIGN(Json first, ParseJson(lines[0]));
  ASSERT_OK_AND_ASSIGN(Json second, ParseJson(lines[1]));
  ASSERT_OK_AND_ASSIGN(auto entries, store_->metadata().ReadAudit(1, 0));
  EXPECT_EQ(first["format"], "almanac-audit-anchor");
  EXPECT_EQ(first["format_version"], 1);
  EXPECT_EQ(first["store"], store_->uri());
  EXPECT_EQ(first["key"], key_->fingerprint());
  EXPECT_EQ(first["prev_line"], std::string(64, '0'));
  EXPECT_EQ(first["entries"], Json::parse(R"([[1,")" + entries[0].hash + R"("],[2,")" + entries[1].hash + R"("],[3,")" +
                                          entries[2].hash + R"("]])"));
  EXPECT_EQ(first["head_hash"], entries[2].hash);
  EXPECT_EQ(second["prev_line"], Sha256Hex(lines[0]));
  EXPECT_EQ(second["from_seq"], 4);
  ASSERT_OK_AND_ASSIGN(std::string canonical, CanonicalJson(second));
  EXPECT_EQ(canonical, lines[1]);  // lines are canonical JSON

  ASSERT_OK_AND_ASSIGN(AnchorVerification v, VerifyAuditAnchors(*store_, anchors_, *public_key_));
  EXPECT_EQ(v.lines, 2);
  EXPECT_EQ(v.anchored_seq, 5);
  EXPECT_EQ(v.unanchored, 0);
  EXPECT_TRUE(v.warnings.empty());
  Write(2);
  ASSERT_OK_AND_ASSIGN(v, VerifyAuditAnchors(*store_, anchors_, *public_key_));
  EXPECT_EQ(v.unanchored, 2);
  EXPECT_EQ(v.store_head_seq, 7);
  ASSERT_EQ(v.warnings.size(), 1u);
  EXPECT_THAT(v.warnings[0], HasSubstr("2 newer entries (6..7) not anchored yet"));
}

TEST_F(AuditAnchorTest, AFlippedByteFailsTheSignature) {
  ThreeLines();
  auto lines = Lines();
  const std::string good = lines[1];
  // A byte of an anchored hash: still valid JSON, no longer what was signed.
  const size_t at = good.find("\"entries\":[[3,\"") + 16;
  lines[1][at] = good[at] == 'a' ? 'b' : 'a';
  SetLines(lines);
  EXPECT_THAT(VerifyAuditAnchors(*store_, anchors_, *public_key_),
              StatusIs(StatusCode::kDataLoss, "line 2: its signature does not verify"));
  // A byte of the signature itself.
  lines[1] = good;
  const size_t sig = good.find("\"sig\":\"") + 10;
  lines[1][sig] = good[sig] == '0' ? '1' : '0';
  SetLines(lines);
  EXPECT_THAT(VerifyAuditAnchors(*store_, anchors_, *public_key_),
              StatusIs(StatusCode::kDataLoss, "line 2: its signature does not verify"));
}

TEST_F(AuditAnchorTest, TheWrongPublicKeyIsNamed) {
  ThreeLines();
  ASSERT_OK(GenerateAuditKey(dir_ + "/other.pem").status());
  ASSERT_OK_AND_ASSIGN(auto other, AuditPublicKey::Load(dir_ + "/other.pub.pem"));
  auto v = VerifyAuditAnchors(*store_, anchors_, *other);
  EXPECT_THAT(v, StatusIs(StatusCode::kDataLoss, "line 1 is signed with key " + key_->fingerprint() +
                                                     ", not with the given public key " + other->fingerprint()));
  // The same fingerprint written into a line signed by another key does not help either.
  ASSERT_OK_AND_ASSIGN(auto other_signing, AuditSigningKey::Load(dir_ + "/other.pem"));
  auto lines = Lines();
  ASSERT_OK_AND_ASSIGN(Json forged, ParseJson(lines[2]));
  forged.erase("sig");
  ASSERT_OK_AND_ASSIGN(std::string bytes, CanonicalJson(forged));
  ASSERT_OK_AND_ASSIGN(forged["sig"], other_signing->Sign(bytes));
  ASSERT_OK_AND_ASSIGN(lines[2], CanonicalJson(forged));
  SetLines(lines);
  EXPECT_THAT(VerifyAuditAnchors(*store_, anchors_, *public_key_),
              StatusIs(StatusCode::kDataLoss, "line 3: its signature does not verify"));
}

TEST_F(AuditAnchorTest, ALineRemovedFromTheMiddleOrTheStartIsDetected) {
  ThreeLines();
  auto lines = Lines();
  SetLines({lines[0], lines[2]});
  EXPECT_THAT(VerifyAuditAnchors(*store_, anchors_, *public_key_),
              StatusIs(StatusCode::kDataLoss, "line 2 does not follow line 1"));
  SetLines({lines[1], lines[2]});
  EXPECT_THAT(VerifyAuditAnchors(*store_, anchors_, *public_key_),
              StatusIs(StatusCode::kDataLoss, "lines were removed from the start"));
  SetLines({lines[1], lines[0], lines[2]});
  EXPECT_THAT(VerifyAuditAnchors(*store_, anchors_, *public_key_), StatusIs(StatusCode::kDataLoss, "line 1"));
}

TEST_F(AuditAnchorTest, MalformedAndIncompleteLinesAreNamed) {
  ThreeLines();
  auto lines = Lines();
  SetLines({lines[0], "{\"format\":\"almanac-audit-anchor\",", lines[2]});
  EXPECT_THAT(VerifyAuditAnchors(*store_, anchors_, *public_key_),
              StatusIs(StatusCode::kDataLoss, "line 2 is not a valid anchor: not JSON"));
  SetLines({lines[0], R"({"format":"almanac-audit-anchor","format_version":1})", lines[2]});
  EXPECT_THAT(VerifyAuditAnchors(*store_, anchors_, *public_key_),
              StatusIs(StatusCode::kDataLoss, "line 2 is not a valid anchor: no text field \"store\""));
  SetLines({lines[0], R"({"format":"almanac-audit-anchor","format_version":2})"});
  EXPECT_THAT(VerifyAuditAnchors(*store_, anchors_, *public_key_),
              StatusIs(StatusCode::kDataLoss, "format_version 2 was written by a newer almanac"));
  // A write cut short: the file does not end with a newline. Verify names it; appending refuses.
  SpitFile(anchors_, lines[0] + "\n" + lines[1] + "\n" + lines[2].substr(0, 40));
  EXPECT_THAT(VerifyAuditAnchors(*store_, anchors_, *public_key_), StatusIs(StatusCode::kDataLoss, "line 3 is incomplete"));
  EXPECT_THAT(AppendAuditAnchors(*store_, *key_, anchors_),
              StatusIs(StatusCode::kFailedPrecondition, "ends with an incomplete line"));
}

TEST_F(AuditAnchorTest, AMissingOrUnreadableAnchorFileFailsClearly) {
  Write(1);
  EXPECT_THAT(VerifyAuditAnchors(*store_, dir_ + "/nope.anchors", *public_key_),
              StatusIs(StatusCode::kNotFound, "anchor file " + dir_ + "/nope.anchors does not exist"));
  EXPECT_THAT(VerifyAuditAnchors(*store_, dir_, *public_key_), StatusIs(StatusCode::kFailedPrecondition, "not a regular file"));
  EXPECT_THAT(AppendAuditAnchors(*store_, *key_, dir_), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(AppendAuditAnchors(*store_, *key_, dir_ + "/no/such/dir/a.anchors"), StatusIs(StatusCode::kNotFound));
  // Unreadable by permissions (not testable as root, who reads anything).
  if (::geteuid() != 0) {
    ASSERT_OK(AppendAuditAnchors(*store_, *key_, anchors_).status());
    ASSERT_EQ(::chmod(anchors_.c_str(), 0), 0);
    EXPECT_THAT(VerifyAuditAnchors(*store_, anchors_, *public_key_), StatusIs(StatusCode::kPermissionDenied));
  }
}

TEST_F(AuditAnchorTest, ANewKeyDoesNotContinueAnotherKeysFile) {
  Write(2);
  ASSERT_OK(AppendAuditAnchors(*store_, *key_, anchors_).status());
  Write(1);
  ASSERT_OK(GenerateAuditKey(dir_ + "/new.pem").status());
  ASSERT_OK_AND_ASSIGN(auto new_key, AuditSigningKey::Load(dir_ + "/new.pem"));
  EXPECT_THAT(AppendAuditAnchors(*store_, *new_key, anchors_),
              StatusIs(StatusCode::kFailedPrecondition, "a new key starts a new anchor file"));
  // Rotation: the new key's own file re-anchors everything from entry 1.
  ASSERT_OK_AND_ASSIGN(AnchorAppend a, AppendAuditAnchors(*store_, *new_key, dir_ + "/new.anchors"));
  EXPECT_EQ(a.from_seq, 1);
  EXPECT_EQ(a.head_seq, 3);
}

TEST_F(AuditAnchorTest, EntriesDeletedFromTheEndPassTheChainButNotTheAnchors) {
  Write(5);
  ASSERT_OK(AppendAuditAnchors(*store_, *key_, anchors_).status());
  ASSERT_OK_AND_ASSIGN(auto entries, store_->metadata().ReadAudit(4, 4));
  // Whoever can write the database deletes the last entry and moves the head back: the chain
  // in the store is consistent again.
  const std::string sql = "DELETE FROM audit_log WHERE seq = 5; UPDATE audit_head SET seq = 4, hash = '" +
                          entries[0].hash + "'";
  ASSERT_EQ(std::system(("sqlite3 " + dir_ + "/almanac.db \"" + sql + "\"").c_str()), 0);
  EXPECT_OK(VerifyAuditChain(store_->metadata()).status());
  EXPECT_THAT(VerifyAuditAnchors(*store_, anchors_, *public_key_),
              StatusIs(StatusCode::kDataLoss, "entry 5, anchored at"));
  EXPECT_THAT(VerifyAuditAnchors(*store_, anchors_, *public_key_),
              StatusIs(StatusCode::kDataLoss, "is missing from the store (the store's log now ends at entry 4"));
  // Anchoring refuses to continue from a log that lost anchored entries.
  EXPECT_THAT(AppendAuditAnchors(*store_, *key_, anchors_), StatusIs(StatusCode::kDataLoss, "entries were deleted"));
}

TEST_F(AuditAnchorTest, ConcurrentAppendsKeepOneLinearChain) {
  // Threads open the file separately, so they contend for its flock as processes do.
  std::vector<std::thread> threads;
  std::vector<Status> errors(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15 && errors[t].ok(); ++i) {
        errors[t] = store_->metadata().Run(
            [&](MetadataTxn& x) { return x.Audit({"t" + std::to_string(t), "test.event", "thing", "", {}}).status(); });
        if (errors[t].ok()) errors[t] = AppendAuditAnchors(*store_, *key_, anchors_).status();
      }
    });
  for (auto& th : threads) th.join();
  for (const auto& e : errors) EXPECT_OK(e);
  ASSERT_OK_AND_ASSIGN(AnchorVerification v, VerifyAuditAnchors(*store_, anchors_, *public_key_));
  EXPECT_EQ(v.anchored_seq, 60);
  EXPECT_EQ(v.unanchored, 0);
  EXPECT_GE(v.lines, 2);
}

TEST_F(AuditAnchorTest, PeriodicAnchoringCoversNewEntriesAndOnceMoreWhenStopped) {
  std::mutex mu;
  std::vector<std::string> reports;
  {
    PeriodicAuditAnchor periodic(*store_, *key_, anchors_, std::chrono::milliseconds(20),
                                 [&](const Result<AnchorAppend>& r) {
                                   std::lock_guard l(mu);
                                   reports.push_back(r.ok() ? std::to_string(r->from_seq) + ".." + std::to_string(r->head_seq)
                                                            : r.status().message());
                                 });
    Write(2);
    for (int i = 0; i < 500 && Lines().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(Lines().size(), 1u);
    Write(1);  // anchored by the last pass at the latest
  }
  ASSERT_OK_AND_ASSIGN(AnchorVerification v, VerifyAuditAnchors(*store_, anchors_, *public_key_));
  EXPECT_EQ(v.anchored_seq, 3);
  std::lock_guard l(mu);
  ASSERT_FALSE(reports.empty());
  for (const auto& r : reports) EXPECT_THAT(r, ::testing::MatchesRegex("[0-9]+\\.\\.[0-9]+"));
  EXPECT_THAT(reports.back(), ::testing::EndsWith("..3"));
}

}  // namespace
}  // namespace almanac::store
