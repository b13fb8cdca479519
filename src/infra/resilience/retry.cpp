// Backoff arithmetic for retry_call; see retry.hpp.
#include "infra/resilience/retry.hpp"

#include <thread>

#include "infra/cron.hpp"

namespace mcpd::infra {

std::optional<std::chrono::milliseconds> retry_delay(const RetryPolicy& policy, int failed_attempts,
                                                     std::chrono::steady_clock::time_point now,
                                                     std::chrono::steady_clock::time_point deadline) {
  if (failed_attempts >= policy.attempts) return std::nullopt;
  // backoff_delay's attempt 0 is the wait after the first failure: [0, base], then [0, 2 base], …
  const auto delay = backoff_delay(failed_attempts - 1, policy.base, policy.cap);
  // Compared as a difference: deadline may be time_point::max(), and now + delay would overflow.
  if (deadline - now <= delay) return std::nullopt;
  return delay;
}

void sleep_for_retry(std::chrono::milliseconds delay) { std::this_thread::sleep_for(delay); }

}  // namespace mcpd::infra
