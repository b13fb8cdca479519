// The bounded worker pool where blocking handlers run, so that I/O threads never block.
#pragma once
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>

#include "core/dispatcher.hpp"

namespace mcpd::infra {

class WorkerPool : public core::Executor {
 public:
  explicit WorkerPool(int threads) : pool_(static_cast<std::size_t>(threads > 0 ? threads : 1)) {}
  ~WorkerPool() override { join(); }
  void post(std::function<void()> work) override {
    queued_.fetch_add(1, std::memory_order_relaxed);
    boost::asio::post(pool_, [this, work = std::move(work)] {
      queued_.fetch_sub(1, std::memory_order_relaxed);
      work();
    });
  }
  std::size_t queued() const { return queued_.load(std::memory_order_relaxed); }
  void join() { pool_.join(); }

 private:
  boost::asio::thread_pool pool_;
  std::atomic<std::size_t> queued_{0};
};

}  // namespace mcpd::infra
