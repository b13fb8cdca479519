// A bounded pool of backend connections (a libpq PGconn wrapper, or any other Conn type) for the sql
// and storage packs. Seed 003: 2 to 10 connections. A caller who finds all of them busy waits until
// its deadline, then gets a clear "pool exhausted" error instead of waiting forever.
//
//   auto lease = pool.acquire(deadline);
//   if (!lease) return tool_error(lease.error());  // exhausted, or the connect itself failed
//   if (!run(*lease)) lease.discard();             // broken: close it, a fresh one replaces it
//   // the lease's destructor returns the connection to the pool
//
// Errors are values (the lease says what went wrong), as on the rest of the request path; the
// factory may throw, and its message becomes the lease's error. Connections are opened, checked and
// closed outside the pool's mutex, so a slow connect never holds up callers returning connections.
// Idle connections are closed only by prune_idle(), which the owner calls from time to time (for
// example each minute from its scheduler).
#pragma once
#include <algorithm>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace mcpd::infra {

struct ConnectionPoolConfig {
  std::size_t min = 2;   // kept open by warm_up() and prune_idle(); at most max
  std::size_t max = 10;  // values below 1 count as 1
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(300)};
  std::chrono::milliseconds acquire_timeout{std::chrono::seconds(5)};  // for acquire() without a deadline
};

struct ConnectionPoolStats {
  std::size_t open = 0;     // idle + in_use
  std::size_t idle = 0;
  std::size_t in_use = 0;   // leased out, or being opened for a caller
  std::size_t waiting = 0;  // callers blocked in acquire()
  std::uint64_t created_total = 0;
  std::uint64_t failed_total = 0;  // connects that failed
};

enum class AcquireError { none, exhausted, connect_failed };

template <class Conn>
class ConnectionPool {
 public:
  using Factory = std::function<std::unique_ptr<Conn>()>;
  // Called on an idle connection before it is handed out; false closes it and takes another.
  // Keep it cheap (PQstatus rather than a round trip).
  using HealthCheck = std::function<bool(Conn&)>;
  // Time stamps for idle pruning only; waiting in acquire() always uses the real steady clock.
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // One borrowed connection, or (when false) the reason none could be had.
  class Lease {
   public:
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)),
          conn_(std::move(other.conn_)),
          kind_(other.kind_),
          error_(std::move(other.error_)) {}
    Lease& operator=(Lease&& other) noexcept {
      if (this != &other) {
        give_back(false);
        pool_ = std::exchange(other.pool_, nullptr);
        conn_ = std::move(other.conn_);
        kind_ = other.kind_;
        error_ = std::move(other.error_);
      }
      return *this;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { give_back(false); }

    explicit operator bool() const { return conn_ != nullptr; }
    Conn& operator*() const { return *conn_; }
    Conn* operator->() const { return conn_.get(); }
    Conn* get() const { return conn_.get(); }
    const std::string& error() const { return error_; }
    AcquireError error_kind() const { return kind_; }

    // The connection is broken (lost, in a failed transaction state, …): close it now instead of
    // returning it, which frees its slot for a fresh one. The lease is empty afterwards.
    void discard() { give_back(true); }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(AcquireError kind, std::string error) : kind_(kind), error_(std::move(error)) {}
    void give_back(bool broken) {
      if (conn_) pool_->give_back(std::move(conn_), broken);
      pool_ = nullptr;
    }

    ConnectionPool* pool_ = nullptr;
    std::unique_ptr<Conn> conn_;
    AcquireError kind_ = AcquireError::none;
    std::string error_;
  };

  // `name` labels errors and metrics ("postgres").
  ConnectionPool(std::string name, Factory factory, ConnectionPoolConfig config = {},
                 HealthCheck is_healthy = {}, Clock clock = {})
      : name_(std::move(name)),
        factory_(std::move(factory)),
        config_(normalized(config)),
        is_healthy_(std::move(is_healthy)),
        clock_(std::move(clock)) {}
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  // Every lease must have been returned: a lease keeps a pointer to its pool.
  ~ConnectionPool() { assert(open_ == idle_.size() && "ConnectionPool destroyed with connections leased out"); }

  Lease acquire() { return acquire(std::chrono::steady_clock::now() + config_.acquire_timeout); }

  // An idle connection (most recently used first, so that the others age out), else a new one
  // while fewer than max are open, else waits for a return until `deadline`.
  Lease acquire(std::chrono::steady_clock::time_point deadline) {
    const auto started = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    for (;;) {
      if (!idle_.empty()) {
        std::unique_ptr<Conn> conn = std::move(idle_.back().conn);
        idle_.pop_back();
        lock.unlock();
        bool ok = true;
        try {
          ok = !is_healthy_ || is_healthy_(*conn);
        } catch (...) {  // the caller's check failed: free the slot, then let the error go on
          conn.reset();
          lock.lock();
          release_slot_locked();
          throw;
        }
        if (ok) return Lease(this, std::move(conn));
        conn.reset();  // closed before its slot is freed, so that max is never exceeded
        lock.lock();
        release_slot_locked();
        continue;
      }
      if (open_ < config_.max) {
        ++open_;  // reserve the slot first, so that concurrent connects never exceed max
        lock.unlock();
        return connect_reserved();
      }
      ++waiting_;
      const bool available =
          cv_.wait_until(lock, deadline, [&] { return !idle_.empty() || open_ < config_.max; });
      --waiting_;
      if (!available) {
        const auto waited =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        return Lease(AcquireError::exhausted, name_ + " pool exhausted: " + std::to_string(config_.max) +
                                                  " connections busy for " + std::to_string(waited.count()) +
                                                  " ms; try again later or raise the pool size");
      }
    }
  }

  // Opens connections until `min` are open. False, with the connect error, at the first failure.
  bool warm_up(std::string& error) {
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (open_ >= config_.min) return true;
        ++open_;
      }
      Lease lease = connect_reserved();  // returned to the idle list when it goes out of scope
      if (!lease) {
        error = lease.error();
        return false;
      }
    }
  }

  // Closes connections idle for longer than idle_timeout, oldest first, but keeps `min` open.
  // Returns how many were closed.
  std::size_t prune_idle(std::chrono::steady_clock::time_point now) {
    std::vector<std::unique_ptr<Conn>> closing;  // closed after the mutex is released
    {
      std::lock_guard lock(mutex_);
      for (auto it = idle_.begin(); it != idle_.end() && open_ > config_.min;) {
        if (now - it->since > config_.idle_timeout) {
          closing.push_back(std::move(it->conn));
          it = idle_.erase(it);
          --open_;
        } else {
          ++it;
        }
      }
    }
    if (!closing.empty()) cv_.notify_all();
    return closing.size();
  }
  std::size_t prune_idle() { return prune_idle(now()); }

  ConnectionPoolStats stats() const {
    std::lock_guard lock(mutex_);
    return {open_, idle_.size(), open_ - idle_.size(), waiting_, created_total_, failed_total_};
  }
  const ConnectionPoolConfig& config() const { return config_; }
  const std::string& name() const { return name_; }

 private:
  struct Idle {
    std::unique_ptr<Conn> conn;
    std::chrono::steady_clock::time_point since;
  };

  static ConnectionPoolConfig normalized(ConnectionPoolConfig config) {
    config.max = std::max<std::size_t>(1, config.max);
    config.min = std::min(config.min, config.max);
    return config;
  }
  std::chrono::steady_clock::time_point now() const { return clock_ ? clock_() : std::chrono::steady_clock::now(); }

  // Opens a connection for a slot already counted in open_, with the mutex not held.
  Lease connect_reserved() {
    std::unique_ptr<Conn> conn;
    std::string error;
    try {
      conn = factory_();
      if (!conn) error = "the connection factory returned nothing";
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown error";
    }
    std::lock_guard lock(mutex_);
    if (conn) {
      ++created_total_;
      return Lease(this, std::move(conn));
    }
    ++failed_total_;
    release_slot_locked();
    return Lease(AcquireError::connect_failed, name_ + ": cannot open a connection: " + error);
  }

  // Every slot freed wakes a waiter: it may now open a connection of its own.
  void release_slot_locked() {
    --open_;
    cv_.notify_one();
  }

  void give_back(std::unique_ptr<Conn> conn, bool broken) {
    if (broken) {
      conn.reset();
      std::lock_guard lock(mutex_);
      release_slot_locked();
      return;
    }
    const auto since = now();
    std::lock_guard lock(mutex_);
    idle_.push_back({std::move(conn), since});
    cv_.notify_one();
  }

  const std::string name_;
  const Factory factory_;
  const ConnectionPoolConfig config_;
  const HealthCheck is_healthy_;
  const Clock clock_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Idle> idle_;  // oldest return at the front
  std::size_t open_ = 0;   // idle + leased + being opened; never above config_.max
  std::size_t waiting_ = 0;
  std::uint64_t created_total_ = 0;
  std::uint64_t failed_total_ = 0;
};

}  // namespace mcpd::infra
