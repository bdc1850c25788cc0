// Audit-chain hashing and verification, and enum names (shared by every back-end).
#include "almanac/store.h"

namespace almanac::store {

std::string_view RunStatusName(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning: return "running";
    case RunStatus::kFinished: return "finished";
    case RunStatus::kFailed: return "failed";
    case RunStatus::kKilled: return "killed";
  }
  return "?";
}

Result<RunStatus> ParseRunStatus(std::string_view t) {
  for (RunStatus s : {RunStatus::kRunning, RunStatus::kFinished, RunStatus::kFailed, RunStatus::kKilled})
    if (t == RunStatusName(s)) return s;
  return InvalidArgumentError("unknown run status " + QuoteForMessage(t));
}

std::string_view StageName(Stage s) {
  switch (s) {
    case Stage::kNone: return "none";
    case Stage::kStaging: return "staging";
    case Stage::kProduction: return "production";
    case Stage::kArchived: return "archived";
  }
  return "?";
}

Result<Stage> ParseStage(std::string_view t) {
  for (Stage s : {Stage::kNone, Stage::kStaging, Stage::kProduction, Stage::kArchived})
    if (t == StageName(s)) return s;
  return InvalidArgumentError("unknown stage " + QuoteForMessage(t) + ": expected staging, production or archived");
}

std::string_view RequestStatusName(RequestStatus s) {
  switch (s) {
    case RequestStatus::kPending: return "pending";
    case RequestStatus::kApproved: return "approved";
    case RequestStatus::kRejected: return "rejected";
    case RequestStatus::kCancelled: return "cancelled";
  }
  return "?";
}

Result<RequestStatus> ParseRequestStatus(std::string_view t) {
  for (RequestStatus s : {RequestStatus::kPending, RequestStatus::kApproved, RequestStatus::kRejected, RequestStatus::kCancelled})
    if (t == RequestStatusName(s)) return s;
  return InvalidArgumentError("unknown request status " + QuoteForMessage(t));
}

std::string_view QuarantineStateName(QuarantineState s) {
  switch (s) {
    case QuarantineState::kPending: return "pending";
    case QuarantineState::kReleased: return "released";
    case QuarantineState::kDropped: return "dropped";
  }
  return "?";
}

Result<QuarantineState> ParseQuarantineState(std::string_view t) {
  for (QuarantineState s : {QuarantineState::kPending, QuarantineState::kReleased, QuarantineState::kDropped})
    if (t == QuarantineStateName(s)) return s;
  return InvalidArgumentError("unknown quarantine state " + QuoteForMessage(t) + ": expected pending, released or dropped");
}

std::string_view TaskStateName(TaskState s) {
  switch (s) {
    case TaskState::kQueued: return "queued";
    case TaskState::kRunning: return "running";
    case TaskState::kDone: return "done";
    case TaskState::kFailed: return "failed";
  }
  return "?";
}

Result<TaskState> ParseTaskState(std::string_view t) {
  for (TaskState s : {TaskState::kQueued, TaskState::kRunning, TaskState::kDone, TaskState::kFailed})
    if (t == TaskStateName(s)) return s;
  return InvalidArgumentError("unknown task state " + QuoteForMessage(t) + ": expected queued, running, done or failed");
}

Result<std::string> AuditEntryHashInput(const AuditEntry& e) {
  Json j = {{"seq", e.seq},
            {"timestamp", e.timestamp},
            {"actor", e.event.actor},
            {"action", e.event.action},
            {"object_type", e.event.object_type},
            {"object_id", e.event.object_id},
            {"details", e.event.details},
            {"prev_hash", e.prev_hash}};
  return CanonicalJson(j);
}

Result<std::string> AuditEntryHash(const AuditEntry& e) {
  ALMANAC_ASSIGN_OR_RETURN(std::string bytes, AuditEntryHashInput(e));
  return Sha256Hex(bytes);
}

Result<AuditVerification> VerifyAuditChain(MetadataStore& store) {
  ALMANAC_ASSIGN_OR_RETURN(auto head, store.AuditHead());
  std::string prev(64, '0');
  int64_t expected_seq = 1;
  AuditVerification out;
  const int64_t kBatch = 10000;
  for (int64_t from = 1;; from += kBatch) {
    ALMANAC_ASSIGN_OR_RETURN(auto entries, store.ReadAudit(from, from + kBatch - 1));
    for (const auto& e : entries) {
      if (e.seq != expected_seq) {
        if (e.seq > expected_seq)
          return DataLossError("audit log: entry " + std::to_string(expected_seq) +
                               (e.seq == expected_seq + 1 ? " is missing (deleted)"
                                                          : " to " + std::to_string(e.seq - 1) + " are missing (deleted)"));
        return DataLossError("audit log: entry " + std::to_string(e.seq) + " is out of order");
      }
      if (e.prev_hash != prev)
        return DataLossError("audit log: entry " + std::to_string(e.seq) +
                             " does not follow entry " + std::to_string(e.seq - 1) +
                             " (its previous-hash link is broken: entries were reordered, replaced or deleted)");
      ALMANAC_ASSIGN_OR_RETURN(std::string h, AuditEntryHash(e));
      if (h != e.hash)
        return DataLossError("audit log: entry " + std::to_string(e.seq) + " (" + e.event.action + " by " +
                             e.event.actor + ") was modified after it was written: its content no longer matches its hash");
      prev = e.hash;
      ++expected_seq;
      ++out.entries;
    }
    if (static_cast<int64_t>(entries.size()) < kBatch) break;
  }
  if (out.entries != head.first)
    return DataLossError("audit log: the recorded head is entry " + std::to_string(head.first) + " but the log has " +
                         std::to_string(out.entries) + " entries (entries at the end were deleted or added outside almanac)");
  if (out.entries > 0 && prev != head.second)
    return DataLossError("audit log: the last entry's hash does not match the recorded head");
  out.head_hash = out.entries > 0 ? prev : std::string(64, '0');
  return out;
}

namespace {
std::string& AuthenticatedUserSlot() {
  static std::string user;
  return user;
}
}  // namespace

void SetAuthenticatedUser(std::string user) { AuthenticatedUserSlot() = std::move(user); }
const std::string& AuthenticatedUser() { return AuthenticatedUserSlot(); }

AuditEvent WithAuthenticatedUser(const AuditEvent& event) {
  const std::string& who = AuthenticatedUser();
  if (who.empty() || who == event.actor) return event;
  AuditEvent out = event;
  if (!out.details.is_object()) out.details = Json{{"details", event.details}};
  out.details["authenticated_as"] = who;
  return out;
}

}  // namespace almanac::store
