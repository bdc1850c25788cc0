// A Store that forwards to another and injects failures into its metadata transactions, to
// test crash and retry paths (leveldb's fault-injection Env and SpecialEnv, for the store's
// per-concept transaction interfaces).
//
//   FaultInjectingStore store(std::move(real));
//   ASSERT_OK(store.FailCall("Audit", 1, InternalError("disk gone")));     // the next Audit fails
//   store.FailCommit(1, SerializationFailure(), FaultInjectingStore::CommitFault::kRolledBack);
//   Status s = store.metadata().Run([](MetadataTxn& txn) -> Status { ... });
//
// Injected errors are returned from inside the transaction, so the back-end treats them as it
// treats its own: it rolls the transaction back, and PostgreSQL's RunTransaction retries the
// whole transaction on the retryable ones (SerializationFailure(), ConnectionLost()). The
// series store, artifacts and the other Store methods are forwarded unchanged.
//
// Thread-safe (the counters and planned faults are guarded by a mutex); the transactions
// themselves keep the back-end's rules.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "almanac/store.h"

namespace almanac::store::testing {

// Errors as the back-ends return them.
// PostgreSQL's serialization failure (SQLSTATE 40001): Aborted; RunTransaction retries it.
Status SerializationFailure();
// A PostgreSQL connection lost before COMMIT: Unavailable; RunTransaction retries it.
Status ConnectionLost();
// A PostgreSQL connection lost during COMMIT: Unavailable; the outcome is unknown, so
// RunTransaction does not retry it.
Status CommitOutcomeUnknown();
// SQLite's store lock held by another writer beyond the busy timeout: Unavailable.
Status StoreBusy();

class FaultInjectingStore : public Store {
 public:
  // What a failed commit did to the transaction.
  enum class CommitFault {
    kRolledBack,  // nothing was stored (a COMMIT that failed)
    kCommitted,   // everything was stored, but the caller gets the error (its answer was lost)
  };

  explicit FaultInjectingStore(std::unique_ptr<Store> inner);
  ~FaultInjectingStore() override;

  // Makes calls nth .. nth+times-1 (1-based, counted from now) of the transaction method
  // `method` (e.g. "InsertRun", "Audit", "ClaimTask") return `error` instead of reaching the
  // back-end. InvalidArgument for a name that is not a method of MetadataTxn or for nth < 1.
  Status FailCall(std::string_view method, int nth, Status error, int times = 1);
  // Makes the nth transaction (1-based, counted from now) whose callback succeeds fail at its
  // commit with `error`, with the outcome `how`. With kRolledBack the error is returned from
  // the transaction, so a back-end that retries it (PostgreSQL, for SerializationFailure())
  // runs the callback again.
  void FailCommit(int nth, Status error, CommitFault how);

  // Calls of `method` so far (failed ones included).
  int calls(std::string_view method) const;
  // Transaction callbacks started so far: a transaction retried by the back-end counts once
  // per attempt.
  int attempts() const;
  // Transactions the back-end committed.
  int commits() const;

  // The names of the MetadataTxn methods (what FailCall accepts).
  static const std::vector<std::string_view>& MethodNames();

  Store& inner() { return *inner_; }

  SeriesStore& series() override { return inner_->series(); }
  MetadataStore& metadata() override { return *metadata_; }
  const std::string& uri() const override { return inner_->uri(); }
  Result<int> SchemaVersion() override { return inner_->SchemaVersion(); }
  Result<DatabaseLogin> Login() override { return inner_->Login(); }
  Result<std::unique_ptr<StoreLock>> TryLock(std::string_view name) override { return inner_->TryLock(name); }
  Result<std::unique_ptr<ChangeWatcher>> WatchChanges() override { return inner_->WatchChanges(); }

  // The bookkeeping the wrapped transactions consult (internal to the wrapper).
  class Plan {
   public:
    // The injected error of this call of `method` (ok when none), counting the call.
    Status OnCall(std::string_view method);
    void OnAttempt();
    // The injected commit fault of a transaction whose callback succeeded (nullptr when none).
    std::unique_ptr<std::pair<Status, CommitFault>> OnCommit();
    void OnCommitted();

   private:
    friend class FaultInjectingStore;
    struct CallFault {
      std::string method;
      int from = 0;  // call numbers [from, to] fail
      int to = 0;
      Status error;
    };
    struct PlannedCommitFault {
      int at = 0;  // the commit number that fails
      Status error;
      CommitFault how = CommitFault::kRolledBack;
    };
    mutable std::mutex mu_;
    std::map<std::string, int, std::less<>> calls_;
    std::vector<CallFault> call_faults_;
    std::vector<PlannedCommitFault> commit_faults_;
    int commit_points_ = 0;  // callbacks that succeeded
    int attempts_ = 0;
    int commits_ = 0;
  };

 private:
  std::unique_ptr<Store> inner_;
  Plan plan_;
  std::unique_ptr<MetadataStore> metadata_;
};

}  // namespace almanac::store::testing
