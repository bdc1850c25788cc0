// Crash and retry paths of the metadata store, through FaultInjectingStore over every
// back-end (instantiated in store_test.cc): a failed audit append, retryable failures (which
// PostgreSQL's RunTransaction retries as a whole and the others return), failed commits and
// commits whose answer was lost, and failures of the task queue's claims and updates.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"
#include "store/testing/fault_injecting_store.h"
#include "store/testing/series_store_conformance.h"

namespace almanac::store::testing {

using ::almanac::testing::IsOk;
using ::almanac::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

void FaultInjectionConformance::SetUp() {
  SeriesStoreConformance::SetUp();
  if (IsSkipped() || HasFatalFailure()) return;
  auto wrapper = std::make_unique<FaultInjectingStore>(std::move(store_));
  faulty_ = wrapper.get();
  store_ = std::move(wrapper);
}

namespace {

RunRecord FaultTestRun(const std::string& id) {
  RunRecord r;
  r.id = id;
  r.experiment = "exp";
  r.start_time = 10;
  r.user = "alice";
  return r;
}

TaskRecord FaultTestTask(const std::string& key) {
  TaskRecord t;
  t.kind = "pipeline";
  t.name = "gdp";
  t.payload = "{}";
  t.dedupe_key = key;
  t.created_at = 1;
  t.created_by = "alice";
  return t;
}

// Starts run `id` and audits it, in one transaction.
Status StartRun(MetadataStore& md, const std::string& id) {
  return md.Run([&](MetadataTxn& txn) -> Status {
    ALMANAC_RETURN_IF_ERROR(txn.InsertRun(FaultTestRun(id)));
    return txn.Audit({"alice", "run.start", "run", id, Json::object()}).status();
  });
}

Result<RunRecord> GetRunOf(MetadataStore& md, const std::string& id) {
  return md.Transact<RunRecord>([&](MetadataTxn& txn) { return txn.GetRun(id); });
}

Result<std::vector<TaskRecord>> AllTasks(MetadataStore& md) {
  return md.Transact<std::vector<TaskRecord>>([](MetadataTxn& txn) { return txn.ListTasks({}); });
}

}  // namespace

TEST_P(FaultInjectionConformance, UnknownMethodsAndBadCountsAreRefused) {
  EXPECT_THAT(faulty_->FailCall("InsertRn", 1, InternalError("x")), StatusIs(StatusCode::kInvalidArgument, "InsertRn"));
  EXPECT_THAT(faulty_->FailCall("InsertRun", 0, InternalError("x")), StatusIs(StatusCode::kInvalidArgument));
  // Every method of every concept can be failed.
  EXPECT_THAT(FaultInjectingStore::MethodNames(), SizeIs(69));
  for (std::string_view m : FaultInjectingStore::MethodNames()) EXPECT_OK(faulty_->FailCall(m, 1000, InternalError("x")));
}

TEST_P(FaultInjectionConformance, FailedAuditAppendRollsBackTheWholeTransaction) {
  auto& md = store_->metadata();
  ASSERT_OK(StartRun(md, "r0"));
  ASSERT_OK_AND_ASSIGN(auto head_before, md.AuditHead());
  ASSERT_OK(faulty_->FailCall("Audit", 1, InternalError("disk I/O error")));
  EXPECT_THAT(StartRun(md, "r1"), StatusIs(StatusCode::kInternal, "disk I/O error"));
  // Not retried (not a retryable error on any back-end), and nothing of it stored.
  EXPECT_EQ(faulty_->attempts(), 2);
  EXPECT_THAT(GetRunOf(md, "r1"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(auto head_after, md.AuditHead());
  EXPECT_EQ(head_before, head_after);
  // The next transaction goes through and the chain stays intact.
  ASSERT_OK(StartRun(md, "r1"));
  ASSERT_OK_AND_ASSIGN(AuditVerification v, VerifyAuditChain(md));
  EXPECT_EQ(v.entries, 2);
}

// A serialization failure or a connection lost before COMMIT, in the middle of a transaction
// that has already written: PostgreSQL retries the whole transaction (the first attempt's
// writes rolled back, so the retry's insert does not collide with them); SQLite and memory
// return the error and store nothing.
TEST_P(FaultInjectionConformance, RetryableFailuresAreRetriedAsAWholeOrRolledBack) {
  auto& md = store_->metadata();
  int round = 0;
  for (const Status& error : {SerializationFailure(), ConnectionLost()}) {
    SCOPED_TRACE(error.ToString());
    const std::string id = "r" + std::to_string(++round);
    const int attempts_before = faulty_->attempts();
    ASSERT_OK(faulty_->FailCall("Audit", 1, error));
    Status s = StartRun(md, id);
    if (Retries()) {
      EXPECT_OK(s);
      EXPECT_EQ(faulty_->attempts() - attempts_before, 2);
      ASSERT_OK_AND_ASSIGN(RunRecord r, GetRunOf(md, id));
      EXPECT_EQ(r.user, "alice");
    } else {
      EXPECT_THAT(s, StatusIs(error.code()));
      EXPECT_EQ(faulty_->attempts() - attempts_before, 1);
      EXPECT_THAT(GetRunOf(md, id), StatusIs(StatusCode::kNotFound));
    }
  }
  // One audit entry per stored run: no entry of a rolled-back attempt survived.
  ASSERT_OK_AND_ASSIGN(AuditVerification v, VerifyAuditChain(md));
  EXPECT_EQ(v.entries, Retries() ? 2 : 0);
  EXPECT_EQ(faulty_->calls("InsertRun"), Retries() ? 4 : 2);
}

TEST_P(FaultInjectionConformance, RetriesStopAtTheAttemptLimit) {
  auto& md = store_->metadata();
  ASSERT_OK(faulty_->FailCall("InsertRun", 1, SerializationFailure(), /*times=*/100));
  Status s = StartRun(md, "r1");
  EXPECT_THAT(s, StatusIs(StatusCode::kAborted, "could not serialize"));
  if (Retries()) {
    EXPECT_THAT(s.message(), HasSubstr("gave up after 8 attempts"));
    EXPECT_EQ(faulty_->attempts(), 8);
  } else {
    EXPECT_EQ(faulty_->attempts(), 1);
  }
  EXPECT_EQ(faulty_->commits(), 0);
  EXPECT_THAT(GetRunOf(md, "r1"), StatusIs(StatusCode::kNotFound));
}

TEST_P(FaultInjectionConformance, FailedCommitLeavesTheStoreUnchanged) {
  auto& md = store_->metadata();
  ASSERT_OK(StartRun(md, "r0"));
  ASSERT_OK_AND_ASSIGN(auto head_before, md.AuditHead());
  faulty_->FailCommit(1, InternalError("cannot commit the metadata transaction: disk I/O error"),
                      FaultInjectingStore::CommitFault::kRolledBack);
  Status s = md.Run([](MetadataTxn& txn) -> Status {
    RegisteredModelRecord m;
    m.name = "gdp";
    m.owner = "alice";
    ALMANAC_RETURN_IF_ERROR(txn.InsertModel(m));
    ALMANAC_RETURN_IF_ERROR(txn.UpdateRun([] {
      RunRecord r = FaultTestRun("r0");
      r.status = RunStatus::kFinished;
      return r;
    }()));
    return txn.Audit({"alice", "model.register", "model", "gdp", Json::object()}).status();
  });
  EXPECT_THAT(s, StatusIs(StatusCode::kInternal, "disk I/O error"));
  EXPECT_EQ(faulty_->commits(), 1);  // only StartRun's
  EXPECT_THAT(md.Transact<RegisteredModelRecord>([](MetadataTxn& t) { return t.GetModel("gdp"); }),
              StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(RunRecord r0, GetRunOf(md, "r0"));
  EXPECT_EQ(r0.status, RunStatus::kRunning);
  ASSERT_OK_AND_ASSIGN(auto head_after, md.AuditHead());
  EXPECT_EQ(head_before, head_after);
}

// A serialization failure reported by COMMIT itself: PostgreSQL runs the transaction again.
TEST_P(FaultInjectionConformance, SerializationFailureAtCommitIsRetriedOnPostgres) {
  auto& md = store_->metadata();
  faulty_->FailCommit(1, SerializationFailure(), FaultInjectingStore::CommitFault::kRolledBack);
  Status s = StartRun(md, "r1");
  if (Retries()) {
    EXPECT_OK(s);
    EXPECT_EQ(faulty_->attempts(), 2);
    EXPECT_OK(GetRunOf(md, "r1").status());
  } else {
    EXPECT_THAT(s, StatusIs(StatusCode::kAborted));
    EXPECT_THAT(GetRunOf(md, "r1"), StatusIs(StatusCode::kNotFound));
  }
}

// The connection was lost during COMMIT after the server committed: the caller gets
// Unavailable (outcome unknown) although the write landed. Retrying an enqueue is safe: the
// dedupe key turns the second attempt into AlreadyExists, and the queue holds the task once.
TEST_P(FaultInjectionConformance, AnswerLostDuringCommitAndTheRetryFindsTheWrite) {
  auto& md = store_->metadata();
  auto enqueue = [&] { return md.Transact<int64_t>([](MetadataTxn& txn) { return txn.InsertTask(FaultTestTask("gdp@1")); }); };
  faulty_->FailCommit(1, CommitOutcomeUnknown(), FaultInjectingStore::CommitFault::kCommitted);
  EXPECT_THAT(enqueue(), StatusIs(StatusCode::kUnavailable, "outcome of the transaction is unknown"));
  EXPECT_EQ(faulty_->attempts(), 1);  // not retried: the outcome was unknown
  EXPECT_EQ(faulty_->commits(), 1);
  EXPECT_THAT(enqueue(), StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK_AND_ASSIGN(auto tasks, AllTasks(md));
  ASSERT_THAT(tasks, SizeIs(1));
  EXPECT_EQ(tasks[0].dedupe_key, "gdp@1");
}

// A claim that fails (the store busy) takes nothing: the task stays queued with its attempts
// untouched, and the next claim gets it.
TEST_P(FaultInjectionConformance, FailedClaimLeavesTheTaskQueued) {
  auto& md = store_->metadata();
  ASSERT_OK_AND_ASSIGN(int64_t id, md.Transact<int64_t>([](MetadataTxn& t) { return t.InsertTask(FaultTestTask("k1")); }));
  auto claim = [&](int64_t now) {
    return md.Transact<std::optional<TaskRecord>>(
        [&](MetadataTxn& t) { return t.ClaimTask("w1", now, now + 1000, {}); });
  };
  ASSERT_OK(faulty_->FailCall("ClaimTask", 1, StoreBusy()));
  EXPECT_THAT(claim(100), StatusIs(StatusCode::kUnavailable, "in use by another writer"));
  ASSERT_OK_AND_ASSIGN(TaskRecord queued, md.Transact<TaskRecord>([&](MetadataTxn& t) { return t.GetTask(id); }));
  EXPECT_EQ(queued.state, TaskState::kQueued);
  EXPECT_EQ(queued.attempts, 0);
  ASSERT_OK_AND_ASSIGN(auto claimed, claim(200));
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->id, id);
  EXPECT_EQ(claimed->attempts, 1);
}

// A worker that claimed a task and then failed to record the result (it crashed, or its
// store went away) leaves the task running under its lease; once the lease expires another
// worker claims it again, as a new attempt.
TEST_P(FaultInjectionConformance, TaskWhoseFinishFailedIsReclaimedAfterItsLease) {
  auto& md = store_->metadata();
  ASSERT_OK_AND_ASSIGN(int64_t id, md.Transact<int64_t>([](MetadataTxn& t) { return t.InsertTask(FaultTestTask("k1")); }));
  ASSERT_OK_AND_ASSIGN(auto first, md.Transact<std::optional<TaskRecord>>(
                                       [](MetadataTxn& t) { return t.ClaimTask("w1", 100, 1100, {}); }));
  ASSERT_TRUE(first.has_value());
  ASSERT_OK(faulty_->FailCall("UpdateTask", 1, InternalError("worker w1 lost its store")));
  Status finish = md.Run([&](MetadataTxn& t) -> Status {
    TaskRecord done = *first;
    done.state = TaskState::kDone;
    done.finished_at = 500;
    done.result = "{}";
    ALMANAC_RETURN_IF_ERROR(t.UpdateTask(done));
    return t.Audit({"w1", "task.done", "task", std::to_string(id), Json::object()}).status();
  });
  EXPECT_THAT(finish, StatusIs(StatusCode::kInternal, "lost its store"));
  auto claim_at = [&](int64_t now) {
    return md.Transact<std::optional<TaskRecord>>([&](MetadataTxn& t) { return t.ClaimTask("w2", now, now + 1000, {}); });
  };
  ASSERT_OK_AND_ASSIGN(auto during_lease, claim_at(1000));
  EXPECT_FALSE(during_lease.has_value());
  ASSERT_OK_AND_ASSIGN(auto after_lease, claim_at(1200));
  ASSERT_TRUE(after_lease.has_value());
  EXPECT_EQ(after_lease->id, id);
  EXPECT_EQ(after_lease->lease_owner, "w2");
  EXPECT_EQ(after_lease->attempts, 2);
}

}  // namespace almanac::store::testing
