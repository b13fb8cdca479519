// Retries with exponential backoff and full jitter for idempotent backend calls (seed 003: 3 attempts).
//
// Errors are values: `fn()` returns any type R (a struct, boost::system::result<T>, …) and
// `is_retryable(const R&)` says whether that result is a failure worth another attempt. A success
// or a permanent failure is returned at once; when attempts or time run out, the last result is
// returned, so the caller reports the real error. Exceptions thrown by fn are not retried: they
// propagate unchanged.
//
// Only wrap idempotent operations (SELECT, GET, HEAD, PUT of a whole object): a retried INSERT may
// be applied twice. For the others, call fn directly.
//
// The deadline bounds the whole call: retry_call never sleeps past it, and gives up instead of
// starting an attempt that would begin at or after it. The first attempt is always made; fn is
// expected to bound its own duration with the same deadline (a per-call timeout).
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace mcpd::infra {

struct RetryPolicy {
  int attempts = 3;  // in total, the first included; 1 means no retry
  std::chrono::milliseconds base{100};
  std::chrono::milliseconds cap{2000};
};

// How retry_call waits and reads the time; empty members mean the real clock and a real sleep.
// Tests inject a fake pair so that they never sleep.
struct RetryTiming {
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::chrono::steady_clock::time_point()> now;
};

// The wait before attempt number `failed_attempts` + 1 (after `failed_attempts` failures, counted
// from 1), or nullopt when no further attempt should be made: attempts are used up, or the wait
// would reach `deadline`.
std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, int failed_attempts,
                                                     std::chrono::steady_clock::time_point now,
                                                     std::chrono::steady_clock::time_point deadline);

// The real sleep used when RetryTiming::sleep is empty.
void sleep_for_retry(std::chrono::milliseconds delay);

template <class Fn, class IsRetryable>
std::invoke_result_t<Fn&> retry_call(const RetryPolicy& policy, Fn&& fn, IsRetryable&& is_retryable,
                                     std::chrono::steady_clock::time_point deadline =
                                         std::chrono::steady_clock::time_point::max(),
                                     const RetryTiming& timing = {}) {
  for (int failed = 1;; ++failed) {
    auto result = fn();  // a fresh object each attempt: results need not be assignable
    if (!is_retryable(std::as_const(result))) return result;
    const auto now = timing.now ? timing.now() : std::chrono::steady_clock::now();
    const auto delay = retry_delay(policy, failed, now, deadline);
    if (!delay) return result;
    if (timing.sleep)
      timing.sleep(*delay);
    else
      sleep_for_retry(*delay);
  }
}

}  // namespace mcpd::infra
