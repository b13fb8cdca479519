// SyncScheduler implementation.
#include "packs/knowledge/sync/sync_scheduler.hpp"

#include "infra/logging.hpp"

namespace mcpd::packs::knowledge {

SyncScheduler::SyncScheduler(SyncJobs& jobs, std::map<std::string, infra::CronSchedule> schedules, RetryPolicy retry)
    : jobs_(jobs), schedules_(std::move(schedules)), retry_(retry) {
  auto now = std::chrono::system_clock::now();
  for (const auto& [name, schedule] : schedules_)
    if (auto next = schedule.next_after(now)) next_[name] = *next;
  if (!next_.empty()) thread_ = std::thread([this] { loop(); });
}

SyncScheduler::~SyncScheduler() { stop(); }

void SyncScheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::map<std::string, std::chrono::system_clock::time_point> SyncScheduler::next_runs() {
  std::lock_guard lock(mutex_);
  return next_;
}

void SyncScheduler::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto due = std::chrono::system_clock::time_point::max();
    std::string source;
    for (const auto& [name, at] : next_)
      if (at < due) {
        due = at;
        source = name;
      }
    if (source.empty()) return;
    if (wake_.wait_until(lock, due, [&] { return stopping_; })) return;
    if (std::chrono::system_clock::now() < due) continue;
    lock.unlock();
    std::string id = jobs_.start({source}, "schedule");
    auto job = jobs_.wait(id, std::chrono::hours(6));
    lock.lock();
    auto now = std::chrono::system_clock::now();
    auto scheduled = schedules_.at(source).next_after(now);
    if (job.state == "succeeded") {
      attempts_[source] = 0;
    } else if (++attempts_[source] <= retry_.max_attempts) {
      auto retry_at = now + infra::backoff_delay(attempts_[source], retry_.base, retry_.cap);
      infra::log::warn("scheduled sync failed; retrying", {{"source", source}, {"attempt", attempts_[source]}});
      if (!scheduled || retry_at < *scheduled) {
        next_[source] = retry_at;
        continue;
      }
    }
    if (scheduled) next_[source] = *scheduled;
    else next_.erase(source);
  }
}

}  // namespace mcpd::packs::knowledge
