// File: almanac/core/status.h
//
// Error handling by value. Every function that can fail at a component boundary returns a
// `Status` or a `Result<T>`; exceptions never cross a public header. Codes follow abseil's
// canonical names so a later switch to absl::StatusOr or std::expected is mechanical.
//
//   Result<Period> p = Period::Parse("2024Q1");
//   if (!p.ok()) return p.status();
//   ALMANAC_ASSIGN_OR_RETURN(Period q, Period::Parse(text));
//   ALMANAC_RETURN_IF_ERROR(store.Commit());
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace almanac {

enum class StatusCode {
  kOk = 0,
  kCancelled = 1,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// The canonical name of a code, e.g. "INVALID_ARGUMENT".
std::string_view StatusCodeName(StatusCode code);

// A code plus a human-readable message. Cheap to copy when ok.
// Thread-compatible (const methods may be called concurrently).
class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {
    if (code_ == StatusCode::kOk) message_.clear();
  }

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "context: message" (no-op when ok).
  Status WithContext(std::string_view context) const;

  // Explicitly ignores the status (for best-effort clean-up paths).
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status OutOfRangeError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status DataLossError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);
Status PermissionDeniedError(std::string message);
Status UnauthenticatedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status AbortedError(std::string message);
Status CancelledError(std::string message);

// A value of type T or an error Status. Constructing from an ok Status is a programmer
// error and yields an INTERNAL status instead.
template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(const Status& status) : status_(status) { CheckNotOk(); }  // NOLINT: implicit
  Result(Status&& status) : status_(std::move(status)) { CheckNotOk(); }  // NOLINT
  Result(const T& value) : value_(value) {}  // NOLINT
  Result(T&& value) : value_(std::move(value)) {}  // NOLINT
  template <typename U,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, Status> &&
                                        !std::is_same_v<std::decay_t<U>, Result<T>> &&
                                        !std::is_same_v<std::decay_t<U>, T>>>
  Result(U&& value) : value_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const& { return status_; }
  // By value on temporaries, so `ALMANAC_RETURN_IF_ERROR(F().status())` never dangles.
  Status status() && { return std::move(status_); }

  // IMPORTANT: only call these when ok(); otherwise the behaviour is undefined.
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  void CheckNotOk() {
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "Result constructed from an OK status");
  }

  Status status_;
  std::optional<T> value_;
};

namespace internal {
inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
const Status& GetStatus(const Result<T>& r) { return r.status(); }
}  // namespace internal

}  // namespace almanac

#define ALMANAC_STATUS_CONCAT_INNER(a, b) a##b
#define ALMANAC_STATUS_CONCAT(a, b) ALMANAC_STATUS_CONCAT_INNER(a, b)

// Returns the status from the enclosing function when `expr` (a Status or Result) fails.
#define ALMANAC_RETURN_IF_ERROR(expr)                                            \
  do {                                                                          \
    const auto& _almanac_st = (expr);                                           \
    if (!::almanac::internal::GetStatus(_almanac_st).ok())                      \
      return ::almanac::internal::GetStatus(_almanac_st);                       \
  } while (0)

// Same, adding "context: " in front of the message.
#define ALMANAC_RETURN_IF_ERROR_CTX(expr, context)                              \
  do {                                                                          \
    const auto& _almanac_st = (expr);                                           \
    if (!::almanac::internal::GetStatus(_almanac_st).ok())                      \
      return ::almanac::internal::GetStatus(_almanac_st).WithContext(context);  \
  } while (0)

#define ALMANAC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

// `ALMANAC_ASSIGN_OR_RETURN(T x, FunctionReturningResultT());`
#define ALMANAC_ASSIGN_OR_RETURN(lhs, expr) \
  ALMANAC_ASSIGN_OR_RETURN_IMPL(ALMANAC_STATUS_CONCAT(_almanac_res_, __LINE__), lhs, expr)

// Checks a programmer invariant. Never use for user input, data or the network.
#define ALMANAC_DCHECK(cond)                                                       \
  do {                                                                             \
    if (!(cond)) ::almanac::internal::DcheckFailed(#cond, __FILE__, __LINE__);     \
  } while (0)

namespace almanac::internal {
[[noreturn]] void DcheckFailed(const char* cond, const char* file, int line);
}  // namespace almanac::internal
