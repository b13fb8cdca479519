// The one way to fail on the request path: Result<T> holds a value, an Error or Cancelled.
// Packs return it from every handler and helper that can fail while serving; the core maps it once to
// a JSON-RPC error, an isError tool result or an HTTP status. Exceptions stay for start-up and
// configuration (and are turned into an internal Error by the boundary around every pack call).
#pragma once
#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace mcpd::core {

enum class ErrorKind {
  InvalidArgument,  // the caller sent something wrong; retrying the same call fails again
  NotFound,         // what the caller named does not exist
  Refused,          // not allowed (read-only data, a policy, a guard)
  Unavailable,      // a backend is down or unreachable; retrying later may work
  Timeout,          // a deadline passed
  Busy,             // the server is at its bound; retry after a short wait
  Internal,         // a bug or an unexpected failure; the message carries an id found in the log
};

std::string_view to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::Internal;
  std::string message;                 // one sentence for the user: what was wrong and what to do
  std::string detail;                  // for the server log only, never sent (hosts, paths, raw answers)
  std::string code;                    // the backend's own code, when it gave one (a SQLSTATE, S3's NoSuchKey)
  boost::json::value data = nullptr;   // structured data a JSON-RPC error carries (e.g. {"uri": …})

  static Error invalid_argument(std::string message, std::string detail = {}) {
    return make(ErrorKind::InvalidArgument, std::move(message), std::move(detail));
  }
  static Error not_found(std::string message, std::string detail = {}) {
    return make(ErrorKind::NotFound, std::move(message), std::move(detail));
  }
  static Error refused(std::string message, std::string detail = {}) {
    return make(ErrorKind::Refused, std::move(message), std::move(detail));
  }
  static Error unavailable(std::string message, std::string detail = {}) {
    return make(ErrorKind::Unavailable, std::move(message), std::move(detail));
  }
  static Error timeout(std::string message, std::string detail = {}) {
    return make(ErrorKind::Timeout, std::move(message), std::move(detail));
  }
  static Error busy(std::string message = "The server is busy; retry in a moment") {
    return make(ErrorKind::Busy, std::move(message), {});
  }
  static Error internal(std::string message, std::string detail = {}) {
    return make(ErrorKind::Internal, std::move(message), std::move(detail));
  }
  static Error make(ErrorKind kind, std::string message, std::string detail) {
    Error e;
    e.kind = kind;
    e.message = std::move(message);
    e.detail = std::move(detail);
    return e;
  }
  Error&& with_data(boost::json::value d) && {
    data = std::move(d);
    return std::move(*this);
  }
  Error&& with_code(std::string c) && {
    code = std::move(c);
    return std::move(*this);
  }
};

// The call was cancelled (notifications/cancelled, a closed connection): it gets no answer.
struct Cancelled {};

// Result<void> is for operations that produce nothing but can fail.
struct Done {};

template <typename T>
class [[nodiscard]] Result {
  using Value = std::conditional_t<std::is_void_v<T>, Done, T>;

 public:
  Result()
    requires std::is_void_v<T>
      : state_(Done{}) {}
  Result(Value value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT
  Result(Cancelled c) : state_(c) {}                 // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  bool cancelled() const { return state_.index() == 2; }
  // An Error (not a value, not cancelled).
  bool failed() const { return state_.index() == 1; }

  Value& value() & { return std::get<0>(state_); }
  const Value& value() const& { return std::get<0>(state_); }
  Value&& value() && { return std::get<0>(std::move(state_)); }
  Value* operator->() { return &std::get<0>(state_); }
  const Value* operator->() const { return &std::get<0>(state_); }
  Value& operator*() & { return value(); }
  const Value& operator*() const& { return value(); }

  const Error& error() const& { return std::get<1>(state_); }
  Error&& error() && { return std::get<1>(std::move(state_)); }

  // The failure of another Result, carried on: `if (!r) return std::move(r).failure();`.
  struct Failure {
    std::variant<Error, Cancelled> what;
    template <typename U>
    operator Result<U>() && {  // NOLINT
      if (auto* e = std::get_if<Error>(&what)) return Result<U>(std::move(*e));
      return Result<U>(Cancelled{});
    }
  };
  Failure failure() && {
    if (cancelled()) return Failure{Cancelled{}};
    return Failure{std::get<1>(std::move(state_))};
  }

 private:
  std::variant<Value, Error, Cancelled> state_;
};

using Status = Result<void>;

}  // namespace mcpd::core
