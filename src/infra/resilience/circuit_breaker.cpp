// Circuit breaker state machine; see circuit_breaker.hpp.
#include "infra/resilience/circuit_breaker.hpp"

#include <algorithm>
#include <utility>

namespace mcpd::infra {

using std::chrono::steady_clock;

std::string_view to_string(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::closed: return "closed";
    case CircuitBreaker::State::open: return "open";
    case CircuitBreaker::State::half_open: return "half_open";
  }
  return "unknown";
}

// --- Permit ---------------------------------------------------------------------------------------

CircuitBreaker::Permit::Permit(Permit&& other) noexcept
    : breaker_(std::exchange(other.breaker_, nullptr)),
      generation_(other.generation_),
      probe_(other.probe_),
      admitted_(other.admitted_),
      error_(std::move(other.error_)) {}

CircuitBreaker::Permit& CircuitBreaker::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    settle(kNone);
    breaker_ = std::exchange(other.breaker_, nullptr);
    generation_ = other.generation_;
    probe_ = other.probe_;
    admitted_ = other.admitted_;
    error_ = std::move(other.error_);
  }
  return *this;
}

CircuitBreaker::Permit::~Permit() { settle(kNone); }

void CircuitBreaker::Permit::record_success() { settle(kSuccess); }
void CircuitBreaker::Permit::record_failure() { settle(kFailure); }

void CircuitBreaker::Permit::settle(int verdict) {
  if (auto* breaker = std::exchange(breaker_, nullptr))
    breaker->settle(generation_, probe_, static_cast<Verdict>(verdict));
}

// --- CircuitBreaker -------------------------------------------------------------------------------

CircuitBreaker::CircuitBreaker(std::string backend, CircuitBreakerConfig config, Clock clock)
    : backend_(std::move(backend)),
      config_{std::max(1, config.failure_threshold), std::max(config.open_for, std::chrono::milliseconds(0))},
      clock_(std::move(clock)) {}

CircuitBreaker::State CircuitBreaker::effective_state_locked(steady_clock::time_point now) const {
  if (state_ == State::open && now - opened_at_ >= config_.open_for) return State::half_open;
  return state_;
}

void CircuitBreaker::enter_locked(State next, steady_clock::time_point now) {
  state_ = next;
  ++generation_;
  probe_in_flight_ = false;
  if (next == State::open) opened_at_ = now;
}

CircuitBreaker::Permit CircuitBreaker::admit() {
  const auto t = now();
  std::lock_guard lock(mutex_);
  if (state_ == State::open && effective_state_locked(t) == State::half_open) enter_locked(State::half_open, t);
  switch (state_) {
    case State::closed:
      return Permit(this, generation_, false);
    case State::half_open:
      if (!probe_in_flight_) {
        probe_in_flight_ = true;
        return Permit(this, generation_, true);
      }
      return Permit("circuit breaker for " + backend_ +
                    " is half-open and a probe call is in progress; try again in a few seconds");
    case State::open:
      break;
  }
  const auto left = config_.open_for - (t - opened_at_);
  // Rounded up, so that "retrying in 0 s" never appears while the breaker still refuses.
  const auto seconds = std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(left).count());
  return Permit("circuit breaker open for " + backend_ + " after " + std::to_string(failures_) +
                " consecutive failures, retrying in " + std::to_string(seconds) + " s");
}

void CircuitBreaker::settle(std::uint64_t generation, bool probe, Verdict verdict) {
  const auto t = now();
  std::lock_guard lock(mutex_);
  if (generation != generation_) return;  // admitted under an earlier state: no longer relevant
  if (probe) probe_in_flight_ = false;
  if (verdict == kNone) return;
  if (verdict == kSuccess) {
    failures_ = 0;
    if (state_ == State::half_open) enter_locked(State::closed, t);
    return;
  }
  ++failures_;
  if (state_ == State::half_open || (state_ == State::closed && failures_ >= config_.failure_threshold))
    enter_locked(State::open, t);
}

CircuitBreaker::State CircuitBreaker::state() const {
  const auto t = now();
  std::lock_guard lock(mutex_);
  return effective_state_locked(t);
}

std::string_view CircuitBreaker::state_name() const { return to_string(state()); }

std::chrono::milliseconds CircuitBreaker::retry_after() const {
  const auto t = now();
  std::lock_guard lock(mutex_);
  if (effective_state_locked(t) != State::open) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(config_.open_for - (t - opened_at_));
}

int CircuitBreaker::consecutive_failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

}  // namespace mcpd::infra
