// RateLimiter implementation.
#include "transport/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace mcpd::transport {

RateLimiter::RateLimiter(double per_second, double burst, Clock clock)
    : per_second_(std::max(0.0, per_second)), burst_(std::max(1.0, burst)), clock_(std::move(clock)) {}

std::uint32_t RateLimiter::acquire(const std::string& principal) {
  if (!enabled()) return 0;
  auto now = clock_();
  std::lock_guard lock(mutex_);
  auto [it, fresh] = buckets_.try_emplace(principal, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh && now > b.refilled) {
    double elapsed = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
    b.refilled = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  double wait = std::ceil((1.0 - b.tokens) / per_second_);
  return static_cast<std::uint32_t>(std::clamp(wait, 1.0, 86400.0));
}

}  // namespace mcpd::transport
