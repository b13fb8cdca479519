// Per-principal request rate limit for the HTTP surfaces: a token bucket per API key (and one for
// "anonymous"), so one key's flood never takes another key's capacity.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mcpd::transport {

class RateLimiter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // `per_second` 0 turns the limit off. Each bucket holds at most `burst` tokens and refills at `per_second`.
  RateLimiter(double per_second, double burst, Clock clock = [] { return std::chrono::steady_clock::now(); });

  bool enabled() const { return per_second_ > 0; }
  double per_second() const { return per_second_; }
  double burst() const { return burst_; }
  // Takes a token for `principal`: 0 when the request may go ahead, else the whole seconds (at least
  // 1) until a token is free again, for Retry-After; nothing is taken then.
  std::uint32_t acquire(const std::string& principal);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point refilled;
  };
  double per_second_;
  double burst_;
  Clock clock_;
  std::mutex mutex_;
  // One entry per principal; principals are the configured keys' ids and "anonymous" (a request
  // that fails authentication never gets here), so the table cannot grow beyond the key list.
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace mcpd::transport
