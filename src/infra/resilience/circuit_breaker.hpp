// Circuit breaker for one backend (a PostgreSQL server, an S3 endpoint): after `failure_threshold`
// consecutive failures it opens and refuses calls at once for `open_for`, so a dead backend costs
// callers nothing; then it lets one probe call through, whose outcome closes it or opens it again.
// Seed 003: 5 failures, 60 s.
//
//   auto permit = breaker.admit();
//   if (!permit) return tool_error(permit.error());  // "circuit breaker open for postgres ..."
//   auto r = run_query(...);
//   r.ok ? permit.record_success() : permit.record_failure();
//
// Only failures of the backend itself should be recorded as failures (connection refused, timeout,
// 5xx), not a caller's bad SQL or a missing S3 key: those say nothing about the backend's health.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace mcpd::infra {

struct CircuitBreakerConfig {
  int failure_threshold = 5;                                      // values below 1 count as 1
  std::chrono::milliseconds open_for{std::chrono::seconds(60)};   // open → half-open
};

class CircuitBreaker {
 public:
  enum class State { closed, open, half_open };
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // The right to make one call. A refused permit is false and says why in error(). The first
  // record_*() is the call's verdict; later ones are ignored. A permit dropped without a verdict
  // (the call was cancelled, or threw) counts as neither, but frees the half-open probe slot so
  // the breaker cannot get stuck waiting for a probe that never reports.
  // A permit must not outlive its breaker.
  class Permit {
   public:
    Permit(Permit&& other) noexcept;
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();

    explicit operator bool() const { return admitted_; }
    const std::string& error() const { return error_; }
    bool is_probe() const { return probe_; }
    void record_success();
    void record_failure();

   private:
    friend class CircuitBreaker;
    Permit(CircuitBreaker* breaker, std::uint64_t generation, bool probe)
        : breaker_(breaker), generation_(generation), probe_(probe), admitted_(true) {}
    explicit Permit(std::string error) : error_(std::move(error)) {}
    void settle(int verdict);

    CircuitBreaker* breaker_ = nullptr;  // null once settled (or when refused)
    std::uint64_t generation_ = 0;
    bool probe_ = false;
    bool admitted_ = false;
    std::string error_;
  };

  // `backend` names the service in error messages ("postgres", "s3 https://minio:9000").
  explicit CircuitBreaker(std::string backend, CircuitBreakerConfig config = {}, Clock clock = {});
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // Never blocks: an open breaker refuses at once. In half-open, exactly one probe at a time.
  Permit admit();

  State state() const;  // open turns into half_open as soon as open_for has passed
  std::string_view state_name() const;
  std::chrono::milliseconds retry_after() const;  // time until half-open; zero unless open
  int consecutive_failures() const;
  const std::string& backend() const { return backend_; }

 private:
  enum Verdict { kNone, kSuccess, kFailure };
  std::chrono::steady_clock::time_point now() const { return clock_ ? clock_() : std::chrono::steady_clock::now(); }
  State effective_state_locked(std::chrono::steady_clock::time_point now) const;
  void enter_locked(State next, std::chrono::steady_clock::time_point now);
  void settle(std::uint64_t generation, bool probe, Verdict verdict);

  const std::string backend_;
  const CircuitBreakerConfig config_;
  const Clock clock_;

  mutable std::mutex mutex_;
  State state_ = State::closed;
  int failures_ = 0;  // consecutive; reset only by a success
  std::chrono::steady_clock::time_point opened_at_{};
  bool probe_in_flight_ = false;
  // Bumped on every state change: a verdict from a call admitted under an older state (say, a slow
  // call started before the breaker opened) must not close or re-open the breaker now.
  std::uint64_t generation_ = 0;
};

std::string_view to_string(CircuitBreaker::State state);

}  // namespace mcpd::infra
