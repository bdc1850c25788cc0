// API tokens: created once, stored as hashes, audited without secrets, revocable; the
// authenticator's cache and refresh.
#include "serve/testing/serve_fixture.h"

namespace almanac::serve {
namespace {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

class TokensTest : public testing::ServeFixture {};

TEST_F(TokensTest, CreatedOnceStoredAsHashAuditedWithoutTheSecret) {
  ASSERT_OK_AND_ASSIGN(CreatedToken t, CreateToken(store_->metadata(), clock_, Role::kModeler, "alice", "ci", "admin"));
  EXPECT_EQ(t.secret.size(), 68u);
  EXPECT_EQ(t.secret.substr(0, 4), "alm_");
  EXPECT_EQ(t.record.token_sha256, Sha256Hex(t.secret));
  ASSERT_OK_AND_ASSIGN(CreatedToken t2, CreateToken(store_->metadata(), clock_, Role::kViewer, "bob", "", "admin"));
  EXPECT_NE(t.secret, t2.secret);
  EXPECT_NE(t.record.id, t2.record.id);
  ASSERT_OK_AND_ASSIGN(auto list, ListTokens(store_->metadata()));
  ASSERT_EQ(list.size(), 2u);
  for (const auto& r : list) EXPECT_THAT(r.token_sha256, Not(HasSubstr("alm_")));
  ASSERT_OK_AND_ASSIGN(auto audit, store_->metadata().ReadAudit(1, 0));
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].event.action, "token.create");
  EXPECT_EQ(audit[0].event.actor, "admin");
  EXPECT_EQ(audit[0].event.details["role"], "modeler");
  EXPECT_THAT(CompactJson(audit[0].event.details), Not(HasSubstr(t.secret.substr(4, 16))));
  EXPECT_THAT(CreateToken(store_->metadata(), clock_, Role::kViewer, "bad user/../x", "", "admin"),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(TokensTest, AuthenticatorChecksLooksUpRefreshesAndHonoursRevocation) {
  Authenticator auth(store_->metadata());
  ASSERT_OK(auth.Refresh());
  ASSERT_OK_AND_ASSIGN(CreatedToken t, CreateToken(store_->metadata(), clock_, Role::kApprover, "bob", "", "admin"));
  const std::string header = "Bearer " + t.secret;
  Principal p;
  std::string why;
  // Created after the last refresh: needs a store lookup, then is cached.
  EXPECT_EQ(auth.Check(header, &p, &why), Authenticator::Outcome::kNeedsStore);
  ASSERT_OK_AND_ASSIGN(Principal looked, auth.Lookup(header));
  EXPECT_EQ(looked.user, "bob");
  EXPECT_EQ(looked.role, Role::kApprover);
  EXPECT_EQ(auth.Check(header, &p, &why), Authenticator::Outcome::kOk);
  EXPECT_EQ(p.token_id, t.record.id);
  EXPECT_EQ(auth.Check("bearer " + t.secret, &p, &why), Authenticator::Outcome::kOk);  // scheme is case-insensitive
  // Malformed and missing headers never reach the store.
  EXPECT_EQ(auth.Check("", &p, &why), Authenticator::Outcome::kUnauthenticated);
  EXPECT_THAT(why, HasSubstr("missing bearer token"));
  EXPECT_EQ(auth.Check("Basic YWxpY2U6c2VjcmV0", &p, &why), Authenticator::Outcome::kUnauthenticated);
  EXPECT_EQ(auth.Check("Bearer nope", &p, &why), Authenticator::Outcome::kUnauthenticated);
  // A well-formed unknown token: looked up once, then refused from the cache.
  const std::string unknown = "Bearer alm_" + std::string(64, '0');
  EXPECT_EQ(auth.Check(unknown, &p, &why), Authenticator::Outcome::kNeedsStore);
  EXPECT_THAT(auth.Lookup(unknown), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(auth.Check(unknown, &p, &why), Authenticator::Outcome::kUnauthenticated);
  // Revocation takes effect at the next refresh.
  ASSERT_OK_AND_ASSIGN(auto revoked, RevokeToken(store_->metadata(), clock_, t.record.id, "carol"));
  EXPECT_EQ(revoked.revoked_by, "carol");
  EXPECT_THAT(RevokeToken(store_->metadata(), clock_, t.record.id, "carol"), StatusIs(StatusCode::kFailedPrecondition, "already"));
  EXPECT_THAT(RevokeToken(store_->metadata(), clock_, "tok_nope", "carol"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(auth.Refresh());
  EXPECT_EQ(auth.Check(header, &p, &why), Authenticator::Outcome::kUnauthenticated);
  EXPECT_THAT(why, HasSubstr("revoked"));
  ASSERT_OK_AND_ASSIGN(auto audit, store_->metadata().ReadAudit(1, 0));
  EXPECT_EQ(audit.back().event.action, "token.revoke");
  EXPECT_EQ(audit.back().event.actor, "carol");
}

// Issue 19: expiry checked on every request, rotation with a grace period, last use flushed.
TEST_F(TokensTest, ExpiryRotationAndLastUse) {
  FixedClock clock(1'000'000'000);
  Authenticator auth(store_->metadata(), clock);
  EXPECT_THAT(CreateToken(store_->metadata(), clock, Role::kViewer, "vera", "", "admin", 999'000'000),
              StatusIs(StatusCode::kInvalidArgument, "future"));
  ASSERT_OK_AND_ASSIGN(CreatedToken t, CreateToken(store_->metadata(), clock, Role::kViewer, "vera", "d", "admin",
                                                   clock.NowMicros() + 60'000'000));
  ASSERT_OK(auth.Refresh());
  const std::string header = "Bearer " + t.secret;
  Principal p;
  std::string why;
  EXPECT_EQ(auth.Check(header, &p, &why), Authenticator::Outcome::kOk);
  // Last use: written on the first flush, then at most once per interval.
  ASSERT_OK(auth.FlushLastUsed());
  EXPECT_EQ((*ListTokens(store_->metadata()))[0].last_used_at, 1'000'000'000);
  clock.Advance(10'000'000);
  EXPECT_EQ(auth.Check(header, &p, &why), Authenticator::Outcome::kOk);
  ASSERT_OK(auth.FlushLastUsed());
  EXPECT_EQ((*ListTokens(store_->metadata()))[0].last_used_at, 1'000'000'000);  // within the minute
  ASSERT_OK(auth.FlushLastUsed(0));
  EXPECT_EQ((*ListTokens(store_->metadata()))[0].last_used_at, 1'010'000'000);

  // Rotation: both work during the grace period, the new one keeps the lifetime.
  ASSERT_OK_AND_ASSIGN(RotatedToken r, RotateToken(store_->metadata(), clock, t.record.id, 5'000'000, "vera"));
  EXPECT_EQ(r.fresh.record.user, "vera");
  EXPECT_EQ(r.fresh.record.description, "d");
  EXPECT_EQ(r.fresh.record.expires_at, clock.NowMicros() + 60'000'000);
  EXPECT_EQ(r.old.expires_at, clock.NowMicros() + 5'000'000);
  ASSERT_OK(auth.Refresh());
  EXPECT_EQ(auth.Check(header, &p, &why), Authenticator::Outcome::kOk);
  EXPECT_EQ(auth.Check("Bearer " + r.fresh.secret, &p, &why), Authenticator::Outcome::kOk);
  clock.Advance(5'000'000);  // the grace period is over: refused without any refresh
  EXPECT_EQ(auth.Check(header, &p, &why), Authenticator::Outcome::kUnauthenticated);
  EXPECT_THAT(why, HasSubstr("expired at"));
  EXPECT_EQ(auth.Check("Bearer " + r.fresh.secret, &p, &why), Authenticator::Outcome::kOk);
  EXPECT_THAT(RotateToken(store_->metadata(), clock, t.record.id, 0, "vera"), StatusIs(StatusCode::kFailedPrecondition, "expired"));
  EXPECT_THAT(RotateToken(store_->metadata(), clock, r.fresh.record.id, -1, "vera"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(RotateToken(store_->metadata(), clock, "tok_nope", 0, "vera"), StatusIs(StatusCode::kNotFound));
  // --grace 0: the old one is revoked at once.
  ASSERT_OK_AND_ASSIGN(RotatedToken r2, RotateToken(store_->metadata(), clock, r.fresh.record.id, 0, "vera"));
  EXPECT_NE(r2.old.revoked_at, 0);
  ASSERT_OK_AND_ASSIGN(auto audit, store_->metadata().ReadAudit(1, 0));
  EXPECT_EQ(audit.back().event.action, "token.rotate");
  EXPECT_EQ(audit.back().event.details["new_token"], r2.fresh.record.id);
}

}  // namespace
}  // namespace almanac::serve
