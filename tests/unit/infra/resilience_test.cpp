// Circuit breaker, retry with backoff, and connection pool: the resilience pieces of seed 003.
// Time is faked wherever a rule depends on it; the few real waits are bounded by long deadlines
// that only matter if something is broken.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "infra/resilience/circuit_breaker.hpp"
#include "infra/resilience/connection_pool.hpp"
#include "infra/resilience/retry.hpp"

using namespace mcpd::infra;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// A clock that moves only when told to; safe to read from several threads.
struct FakeClock {
  std::atomic<steady_clock::rep> ticks{steady_clock::duration(1h).count()};
  steady_clock::time_point now() const { return steady_clock::time_point(steady_clock::duration(ticks.load())); }
  void advance(steady_clock::duration d) { ticks += d.count(); }
  std::function<steady_clock::time_point()> fn() {
    return [this] { return now(); };
  }
};

CircuitBreaker make_breaker(FakeClock& clock) {
  return CircuitBreaker("postgres", CircuitBreakerConfig{5, 60s}, clock.fn());
}

void fail(CircuitBreaker& b, int times) {
  for (int i = 0; i < times; ++i) {
    auto p = b.admit();
    ASSERT_TRUE(p) << "call " << i << " refused: " << p.error();
    p.record_failure();
  }
}

}  // namespace

// --- CircuitBreaker -------------------------------------------------------------------------------

TEST(CircuitBreaker, OpensAfterExactlyFiveConsecutiveFailures) {
  FakeClock clock;
  auto b = make_breaker(clock);
  fail(b, 4);
  EXPECT_EQ(b.state(), CircuitBreaker::State::closed);
  EXPECT_EQ(b.consecutive_failures(), 4);
  fail(b, 1);
  EXPECT_EQ(b.state(), CircuitBreaker::State::open);
  EXPECT_EQ(b.state_name(), "open");
}

TEST(CircuitBreaker, ASuccessResetsTheCount) {
  FakeClock clock;
  auto b = make_breaker(clock);
  fail(b, 4);
  b.admit().record_success();
  EXPECT_EQ(b.consecutive_failures(), 0);
  fail(b, 4);
  EXPECT_EQ(b.state(), CircuitBreaker::State::closed);
  fail(b, 1);
  EXPECT_EQ(b.state(), CircuitBreaker::State::open);
}

TEST(CircuitBreaker, RefusesAtOnceWhileOpenAndSaysWhenItWillRetry) {
  FakeClock clock;
  auto b = make_breaker(clock);
  fail(b, 5);
  clock.advance(18s + 500ms);
  for (int i = 0; i < 3; ++i) {
    auto p = b.admit();
    EXPECT_FALSE(p);
    EXPECT_EQ(p.error(), "circuit breaker open for postgres after 5 consecutive failures, retrying in 42 s");
  }
  EXPECT_EQ(b.retry_after(), 41500ms);
  EXPECT_EQ(b.state(), CircuitBreaker::State::open);
}

TEST(CircuitBreaker, HalfOpensAfterTheConfiguredTimeAndAdmitsOneProbe) {
  FakeClock clock;
  auto b = make_breaker(clock);
  fail(b, 5);
  clock.advance(60s - 1ms);
  EXPECT_FALSE(b.admit());
  clock.advance(1ms);
  EXPECT_EQ(b.state(), CircuitBreaker::State::half_open);
  EXPECT_EQ(b.retry_after(), 0ms);

  auto probe = b.admit();
  ASSERT_TRUE(probe);
  EXPECT_TRUE(probe.is_probe());
  auto second = b.admit();
  EXPECT_FALSE(second);
  EXPECT_NE(second.error().find("probe call is in progress"), std::string::npos) << second.error();

  probe.record_success();
  EXPECT_EQ(b.state(), CircuitBreaker::State::closed);
  EXPECT_EQ(b.consecutive_failures(), 0);
  auto a = b.admit(), c = b.admit();  // closed again: everyone is admitted
  EXPECT_TRUE(a);
  EXPECT_TRUE(c);
  EXPECT_FALSE(a.is_probe());
}

TEST(CircuitBreaker, ReopensForAnotherFullPeriodWhenTheProbeFails) {
  FakeClock clock;
  auto b = make_breaker(clock);
  fail(b, 5);
  clock.advance(61s);
  auto probe = b.admit();
  ASSERT_TRUE(probe);
  probe.record_failure();
  EXPECT_EQ(b.state(), CircuitBreaker::State::open);
  EXPECT_EQ(b.retry_after(), 60s);
  EXPECT_EQ(b.admit().error(), "circuit breaker open for postgres after 6 consecutive failures, retrying in 60 s");
  clock.advance(60s);
  EXPECT_TRUE(b.admit());  // the next probe
}

TEST(CircuitBreaker, AProbeDroppedWithoutVerdictFreesTheProbeSlot) {
  FakeClock clock;
  auto b = make_breaker(clock);
  fail(b, 5);
  clock.advance(60s);
  { auto probe = b.admit(); ASSERT_TRUE(probe); }  // cancelled: neither success nor failure
  EXPECT_EQ(b.state(), CircuitBreaker::State::half_open);
  auto next = b.admit();
  EXPECT_TRUE(next);
  EXPECT_TRUE(next.is_probe());
}

TEST(CircuitBreaker, LateVerdictsFromCallsAdmittedBeforeItOpenedAreIgnored) {
  FakeClock clock;
  auto b = make_breaker(clock);
  auto slow_ok = b.admit();    // started while closed, finishes late
  auto slow_fail = b.admit();
  fail(b, 5);
  clock.advance(60s);
  auto probe = b.admit();
  ASSERT_TRUE(probe);
  slow_ok.record_success();    // must not close the breaker behind the probe's back
  EXPECT_EQ(b.state(), CircuitBreaker::State::half_open);
  EXPECT_FALSE(b.admit());
  probe.record_success();
  slow_fail.record_failure();  // from an older state: does not count
  EXPECT_EQ(b.consecutive_failures(), 0);
}

TEST(CircuitBreaker, OnlyTheFirstVerdictOfAPermitCounts) {
  FakeClock clock;
  auto b = make_breaker(clock);
  auto p = b.admit();
  p.record_failure();
  p.record_failure();
  p.record_success();
  EXPECT_EQ(b.consecutive_failures(), 1);
}

TEST(CircuitBreaker, ExactlyOneProbeUnderConcurrency) {
  FakeClock clock;
  auto b = make_breaker(clock);
  fail(b, 5);
  clock.advance(60s);
  std::atomic<int> admitted{0};
  std::vector<CircuitBreaker::Permit> kept[16];
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto p = b.admit();
        if (p) {
          ++admitted;
          kept[t].push_back(std::move(p));  // held: the probe never reports
        }
        (void)b.state_name();
        (void)b.retry_after();
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 1);
}

// --- retry_call -----------------------------------------------------------------------------------

namespace {

struct Result {
  bool ok = false;
  bool transient = false;
  std::string error;
};
bool retryable(const Result& r) { return !r.ok && r.transient; }

// Sleeping moves the fake clock and records the wait.
struct FakeTiming {
  FakeClock clock;
  std::vector<milliseconds> sleeps;
  RetryTiming timing() {
    return {[this](milliseconds d) {
              sleeps.push_back(d);
              clock.advance(d);
            },
            clock.fn()};
  }
};

}  // namespace

TEST(Retry, StopsAfterThreeAttemptsAndReturnsTheLastError) {
  FakeTiming t;
  int calls = 0;
  auto r = retry_call(
      RetryPolicy{}, [&] { return Result{false, true, "timeout #" + std::to_string(++calls)}; }, retryable,
      steady_clock::time_point::max(), t.timing());
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(t.sleeps.size(), 2u);
  EXPECT_EQ(r.error, "timeout #3");
}

TEST(Retry, DoesNotRetryAPermanentError) {
  FakeTiming t;
  int calls = 0;
  auto r = retry_call(
      RetryPolicy{}, [&] { ++calls; return Result{false, false, "syntax error"}; }, retryable,
      steady_clock::time_point::max(), t.timing());
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(t.sleeps.empty());
  EXPECT_EQ(r.error, "syntax error");
}

TEST(Retry, ReturnsTheFirstSuccess) {
  FakeTiming t;
  int calls = 0;
  auto r = retry_call(
      RetryPolicy{}, [&] { return ++calls < 2 ? Result{false, true, "reset"} : Result{true, false, ""}; },
      retryable, steady_clock::time_point::max(), t.timing());
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(t.sleeps.size(), 1u);
}

TEST(Retry, DelaysStayWithinExponentialBounds) {
  const RetryPolicy policy{6, 100ms, 350ms};
  const milliseconds ceiling[] = {100ms, 200ms, 350ms, 350ms, 350ms};  // base·2^i, capped
  for (int run = 0; run < 200; ++run) {
    FakeTiming t;
    retry_call(policy, [] { return Result{false, true, "busy"}; }, retryable, steady_clock::time_point::max(),
               t.timing());
    ASSERT_EQ(t.sleeps.size(), 5u);
    for (std::size_t i = 0; i < t.sleeps.size(); ++i) {
      EXPECT_GE(t.sleeps[i], 0ms);
      EXPECT_LE(t.sleeps[i], ceiling[i]) << "wait " << i;
    }
  }
}

TEST(Retry, NeverSleepsPastTheDeadline) {
  for (int run = 0; run < 200; ++run) {
    FakeTiming t;
    const auto deadline = t.clock.now() + 250ms;
    int calls = 0;
    retry_call(RetryPolicy{50, 100ms, 2s}, [&] { ++calls; return Result{false, true, "busy"}; }, retryable,
               deadline, t.timing());
    EXPECT_LT(t.clock.now(), deadline);  // each wait ended before the deadline
    EXPECT_EQ(static_cast<std::size_t>(calls), t.sleeps.size() + 1);
    EXPECT_LT(calls, 50);  // the deadline, not the attempt count, ended it
  }
}

TEST(Retry, NoRetryWhenNoTimeIsLeft) {
  FakeTiming t;
  int calls = 0;
  retry_call(RetryPolicy{}, [&] { ++calls; return Result{false, true, "busy"}; }, retryable, t.clock.now(),
             t.timing());
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(t.sleeps.empty());
}

TEST(Retry, ExceptionsAreNotRetried) {
  FakeTiming t;
  int calls = 0;
  EXPECT_THROW(retry_call(
                   RetryPolicy{}, [&]() -> Result { ++calls; throw std::runtime_error("bug"); }, retryable,
                   steady_clock::time_point::max(), t.timing()),
               std::runtime_error);
  EXPECT_EQ(calls, 1);
}

TEST(Retry, RealSleepIsUsedByDefault) {
  int calls = 0;
  auto r = retry_call(RetryPolicy{2, 1ms, 1ms}, [&] { return ++calls < 2 ? Result{false, true, ""} : Result{true, false, ""}; },
                      retryable);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(calls, 2);
}

// --- ConnectionPool -------------------------------------------------------------------------------

namespace {

struct FakeConn {
  int id;
  std::atomic<int>* alive;
  bool healthy = true;
  FakeConn(int i, std::atomic<int>* a) : id(i), alive(a) { ++*alive; }
  ~FakeConn() { --*alive; }
};

struct Backend {
  std::atomic<int> next_id{0};
  std::atomic<int> alive{0};
  std::atomic<int> max_alive{0};
  std::atomic<bool> refuse{false};
  ConnectionPool<FakeConn>::Factory factory() {
    return [this] {
      if (refuse) throw std::runtime_error("connection refused (127.0.0.1:5432)");
      auto c = std::make_unique<FakeConn>(++next_id, &alive);
      int seen = max_alive.load();
      while (seen < alive.load() && !max_alive.compare_exchange_weak(seen, alive.load())) {}
      return c;
    };
  }
};

steady_clock::time_point in(milliseconds d) { return steady_clock::now() + d; }

}  // namespace

TEST(ConnectionPool, NeverMoreThanMaxUnderContention) {
  Backend backend;
  ConnectionPool<FakeConn> pool("postgres", backend.factory(), {2, 10, 300s, 5s});
  std::atomic<int> leased{0}, max_leased{0}, ok{0}, failed{0};
  std::vector<std::thread> threads;
  constexpr int kThreads = 32, kRounds = 300;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        auto lease = pool.acquire(in(60s));  // only a broken pool waits this long
        if (!lease) {
          ++failed;
          continue;
        }
        ++ok;
        int now = ++leased;
        int seen = max_leased.load();
        while (seen < now && !max_leased.compare_exchange_weak(seen, now)) {}
        if (i % 7 == 0) std::this_thread::yield();
        --leased;
        if ((t + i) % 13 == 0) lease.discard();  // some come back broken
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kRounds);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_LE(max_leased.load(), 10);
  EXPECT_LE(backend.max_alive.load(), 10);
  const auto s = pool.stats();
  EXPECT_LE(s.open, 10u);
  EXPECT_EQ(s.in_use, 0u);
  EXPECT_EQ(s.waiting, 0u);
  EXPECT_EQ(static_cast<int>(s.open), backend.alive.load());
  EXPECT_GT(s.created_total, 10u);  // discarded ones were replaced
}

TEST(ConnectionPool, TimesOutWithAClearErrorWhenExhausted) {
  Backend backend;
  ConnectionPool<FakeConn> pool("postgres", backend.factory(), {1, 2, 300s, 5s});
  auto a = pool.acquire(in(1s));
  auto b = pool.acquire(in(1s));
  ASSERT_TRUE(a && b);
  auto c = pool.acquire(in(30ms));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error_kind(), AcquireError::exhausted);
  EXPECT_EQ(c.error().rfind("postgres pool exhausted: 2 connections busy for ", 0), 0u) << c.error();
  EXPECT_NE(c.error().find(" ms"), std::string::npos);
  EXPECT_EQ(pool.stats().waiting, 0u);
  EXPECT_EQ(backend.alive.load(), 2);
}

TEST(ConnectionPool, AWaiterGetsTheConnectionSomeoneReturns) {
  Backend backend;
  ConnectionPool<FakeConn> pool("postgres", backend.factory(), {0, 1, 300s, 5s});
  auto held = pool.acquire(in(1s));
  ASSERT_TRUE(held);
  const int id = held->id;
  int got = -1;
  std::thread waiter([&] {
    auto lease = pool.acquire(in(60s));
    got = lease ? lease->id : 0;
  });
  while (pool.stats().waiting == 0) std::this_thread::yield();
  { auto done = std::move(held); }  // returned
  waiter.join();
  EXPECT_EQ(got, id);
  EXPECT_EQ(pool.stats().created_total, 1u);
}

TEST(ConnectionPool, AWaiterIsWokenWhenAConnectionIsDiscarded) {
  Backend backend;
  ConnectionPool<FakeConn> pool("postgres", backend.factory(), {0, 1, 300s, 5s});
  auto held = pool.acquire(in(1s));
  ASSERT_TRUE(held);
  int got = -1;
  std::thread waiter([&] {
    auto lease = pool.acquire(in(60s));
    got = lease ? lease->id : 0;
  });
  while (pool.stats().waiting == 0) std::this_thread::yield();
  held.discard();
  waiter.join();
  EXPECT_EQ(got, 2);  // a fresh connection took the broken one's slot
  EXPECT_EQ(backend.alive.load(), 1);
  EXPECT_EQ(pool.stats().open, 1u);
}

TEST(ConnectionPool, DiscardedConnectionsAreReplaced) {
  Backend backend;
  ConnectionPool<FakeConn> pool("postgres", backend.factory(), {0, 1, 300s, 5s});
  {
    auto lease = pool.acquire(in(1s));
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->id, 1);
    lease.discard();
    EXPECT_FALSE(lease);
    EXPECT_EQ(backend.alive.load(), 0);  // closed at once, not at the end of the scope
  }
  auto lease = pool.acquire(in(1s));
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->id, 2);
  EXPECT_EQ(pool.stats().open, 1u);
}

TEST(ConnectionPool, ReusesIdleConnections) {
  Backend backend;
  ConnectionPool<FakeConn> pool("postgres", backend.factory(), {0, 10, 300s, 5s});
  for (int i = 0; i < 5; ++i) {
    auto lease = pool.acquire(in(1s));
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->id, 1);
  }
  EXPECT_EQ(pool.stats().created_total, 1u);
}

TEST(ConnectionPool, UnhealthyIdleConnectionsAreReplaced) {
  Backend backend;
  ConnectionPool<FakeConn> pool("postgres", backend.factory(), {0, 1, 300s, 5s},
                                [](FakeConn& c) { return c.healthy; });
  {
    auto lease = pool.acquire(in(1s));
    lease->healthy = false;  // the server closed it while it sat idle
  }
  auto lease = pool.acquire(in(1s));
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->id, 2);
  EXPECT_EQ(backend.alive.load(), 1);
}

TEST(ConnectionPool, WarmUpOpensMinAndPruningKeepsIt) {
  Backend backend;
  FakeClock clock;
  ConnectionPool<FakeConn> pool("postgres", backend.factory(), {2, 10, 300s, 5s}, {}, clock.fn());
  std::string error;
  ASSERT_TRUE(pool.warm_up(error)) << error;
  EXPECT_EQ(pool.stats().open, 2u);
  EXPECT_EQ(pool.stats().idle, 2u);
  {
    std::vector<ConnectionPool<FakeConn>::Lease> burst;
    for (int i = 0; i < 6; ++i) burst.push_back(pool.acquire(in(1s)));
    EXPECT_EQ(pool.stats().open, 6u);
  }
  EXPECT_EQ(pool.stats().idle, 6u);
  clock.advance(300s);
  EXPECT_EQ(pool.prune_idle(clock.now()), 0u);  // not idle *longer* than the timeout yet
  clock.advance(1s);
  EXPECT_EQ(pool.prune_idle(clock.now()), 4u);
  const auto s = pool.stats();
  EXPECT_EQ(s.open, 2u);
  EXPECT_EQ(s.idle, 2u);
  EXPECT_EQ(backend.alive.load(), 2);
  clock.advance(1h);
  EXPECT_EQ(pool.prune_idle(), 0u);  // never below min
}

TEST(ConnectionPool, PruningSparesRecentlyUsedConnections) {
  Backend backend;
  FakeClock clock;
  ConnectionPool<FakeConn> pool("postgres", backend.factory(), {0, 10, 300s, 5s}, {}, clock.fn());
  {
    auto a = pool.acquire(in(1s));
    auto b = pool.acquire(in(1s));
  }
  clock.advance(200s);
  { auto again = pool.acquire(in(1s)); }  // refreshes one of them
  clock.advance(200s);
  EXPECT_EQ(pool.prune_idle(), 1u);
  EXPECT_EQ(pool.stats().open, 1u);
}

TEST(ConnectionPool, AThrowingFactoryGivesAClearErrorAndFreesItsSlot) {
  Backend backend;
  ConnectionPool<FakeConn> pool("postgres", backend.factory(), {1, 1, 300s, 5s});
  backend.refuse = true;
  for (int i = 0; i < 3; ++i) {  // with max 1, a leaked slot would turn the 2nd try into a timeout
    auto lease = pool.acquire(in(5s));
    ASSERT_FALSE(lease);
    EXPECT_EQ(lease.error_kind(), AcquireError::connect_failed);
    EXPECT_EQ(lease.error(), "postgres: cannot open a connection: connection refused (127.0.0.1:5432)");
  }
  std::string error;
  EXPECT_FALSE(pool.warm_up(error));
  EXPECT_EQ(error, "postgres: cannot open a connection: connection refused (127.0.0.1:5432)");
  auto s = pool.stats();
  EXPECT_EQ(s.open, 0u);
  EXPECT_EQ(s.failed_total, 4u);
  backend.refuse = false;
  auto lease = pool.acquire(in(5s));
  EXPECT_TRUE(lease);
  EXPECT_EQ(pool.stats().created_total, 1u);
}

TEST(ConnectionPool, AFailedConnectWakesAWaiter) {
  std::atomic<bool> release{false};
  ConnectionPool<FakeConn> slow("s3", [&]() -> std::unique_ptr<FakeConn> {
    while (!release) std::this_thread::yield();
    throw std::runtime_error("TLS handshake failed");
  }, {0, 1, 300s, 5s});
  std::string first_error;
  std::thread connecting([&] { first_error = slow.acquire(in(60s)).error(); });
  while (slow.stats().in_use == 0) std::this_thread::yield();  // the slot is reserved
  std::string second_error;
  std::thread waiter([&] { second_error = slow.acquire(in(60s)).error(); });
  while (slow.stats().waiting == 0) std::this_thread::yield();
  release = true;
  connecting.join();
  waiter.join();
  EXPECT_EQ(first_error, "s3: cannot open a connection: TLS handshake failed");
  // The waiter was woken by the freed slot and tried a connect of its own, instead of timing out.
  EXPECT_EQ(second_error, "s3: cannot open a connection: TLS handshake failed");
  EXPECT_EQ(slow.stats().failed_total, 2u);
}

TEST(ConnectionPool, AThrowingHealthCheckFreesTheSlot) {
  Backend backend;
  ConnectionPool<FakeConn> pool("postgres", backend.factory(), {0, 1, 300s, 5s},
                                [](FakeConn& c) -> bool {
                                  if (!c.healthy) throw std::runtime_error("status query failed");
                                  return true;
                                });
  {
    auto lease = pool.acquire(in(1s));
    lease->healthy = false;
  }
  EXPECT_THROW(pool.acquire(in(1s)), std::runtime_error);
  EXPECT_EQ(pool.stats().open, 0u);
  EXPECT_EQ(backend.alive.load(), 0);
  EXPECT_TRUE(pool.acquire(in(1s)));
}

TEST(ConnectionPool, ConfigIsKeptSane) {
  Backend backend;
  ConnectionPool<FakeConn> pool("postgres", backend.factory(), {5, 0, 300s, 5s});
  EXPECT_EQ(pool.config().max, 1u);
  EXPECT_EQ(pool.config().min, 1u);
}
