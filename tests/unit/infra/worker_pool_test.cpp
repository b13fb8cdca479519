// The worker pool holds at most its bound of work; past it, post refuses without running anything.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "infra/worker_pool.hpp"

using mcpd::infra::WorkerPool;

TEST(WorkerPool, RefusesWorkPastItsBoundAndAcceptsAgainOnceWorkFinishes) {
  WorkerPool pool(1, 2);
  std::atomic<bool> release{false};
  std::atomic<int> ran{0};
  auto blocker = [&] {
    for (int i = 0; i < 5000 && !release; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ++ran;
  };
  ASSERT_TRUE(pool.post(blocker));  // running
  ASSERT_TRUE(pool.post(blocker));  // waiting
  EXPECT_FALSE(pool.post([&] { ran += 100; }));  // over the bound: refused, never runs
  EXPECT_EQ(pool.queued(), 2u);
  EXPECT_EQ(pool.refused(), 1u);
  release = true;
  for (int i = 0; i < 5000 && pool.queued() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(pool.queued(), 0u);
  EXPECT_EQ(ran.load(), 2);
  EXPECT_TRUE(pool.post([&] { ++ran; }));
  pool.join();
  EXPECT_EQ(ran.load(), 3);
}
