// The bounded worker pool where blocking handlers run, so that I/O threads never block.
#pragma once
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstddef>

#include "core/execution.hpp"

namespace mcpd::infra {

class WorkerPool : public core::Executor {
 public:
  // At most `max_queued` pieces of work wait or run at once; more are refused (post returns false).
  WorkerPool(int threads, std::size_t max_queued)
      : pool_(static_cast<std::size_t>(threads > 0 ? threads : 1)), max_queued_(max_queued > 0 ? max_queued : 1) {}
  ~WorkerPool() override { join(); }
  bool post(std::function<void()> work) override {
    if (queued_.fetch_add(1, std::memory_order_acq_rel) >= max_queued_) {
      queued_.fetch_sub(1, std::memory_order_acq_rel);
      refused_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    boost::asio::post(pool_, [this, work = std::move(work)] {
      struct Done {
        std::atomic<std::size_t>& queued;
        ~Done() { queued.fetch_sub(1, std::memory_order_acq_rel); }
      } done{queued_};
      work();
    });
    return true;
  }
  // Work waiting or running.
  std::size_t queued() const { return queued_.load(std::memory_order_relaxed); }
  // Work refused because the queue was full, since start.
  std::size_t refused() const { return refused_.load(std::memory_order_relaxed); }
  void join() { pool_.join(); }

 private:
  boost::asio::thread_pool pool_;
  std::size_t max_queued_;
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> refused_{0};
};

}  // namespace mcpd::infra
