// RateLimiter: a token bucket per principal, driven by an injected clock.
#include <gtest/gtest.h>

#include "transport/rate_limiter.hpp"

using mcpd::transport::RateLimiter;
using namespace std::chrono_literals;

namespace {
struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
  RateLimiter::Clock fn() {
    return [this] { return now; };
  }
};
}  // namespace

TEST(RateLimiter, ABurstThenTheRateThenWaitInWholeSeconds) {
  FakeClock clock;
  RateLimiter limiter(2, 5, clock.fn());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.acquire("key:a"), 0u) << i;
  std::uint32_t wait = limiter.acquire("key:a");
  EXPECT_EQ(wait, 1u);  // half a second to the next token, said as whole seconds, at least 1
  clock.now += 500ms;
  EXPECT_EQ(limiter.acquire("key:a"), 0u);
  EXPECT_GE(limiter.acquire("key:a"), 1u);
  clock.now += 10s;  // refills up to the burst, never beyond it
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.acquire("key:a"), 0u) << i;
  EXPECT_GE(limiter.acquire("key:a"), 1u);
}

TEST(RateLimiter, OneKeysFloodLeavesAnotherKeysBucketFull) {
  FakeClock clock;
  RateLimiter limiter(1, 3, clock.fn());
  for (int i = 0; i < 100; ++i) limiter.acquire("key:a");
  EXPECT_GE(limiter.acquire("key:a"), 1u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.acquire("key:b"), 0u);
  EXPECT_GE(limiter.acquire("key:b"), 1u);
  EXPECT_EQ(limiter.acquire("anonymous"), 0u);
}

TEST(RateLimiter, RefusedRequestsTakeNoTokenAndSlowRatesWaitLonger) {
  FakeClock clock;
  RateLimiter limiter(0.25, 1, clock.fn());  // one request every four seconds
  EXPECT_EQ(limiter.acquire("k"), 0u);
  EXPECT_EQ(limiter.acquire("k"), 4u);
  for (int i = 0; i < 50; ++i) limiter.acquire("k");  // refusals do not push the wait further out
  clock.now += 3s;
  EXPECT_EQ(limiter.acquire("k"), 1u);
  clock.now += 1s;
  EXPECT_EQ(limiter.acquire("k"), 0u);
}

TEST(RateLimiter, ZeroTurnsItOff) {
  RateLimiter limiter(0, 1);
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(limiter.acquire("k"), 0u);
}
