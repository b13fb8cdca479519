// Runs each source's sync on its cron schedule (seed 001: "0 */3 * * *"); a failed run is retried
// with exponential backoff and jitter until it succeeds or the next scheduled run comes.
#pragma once
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "infra/cron.hpp"
#include "packs/knowledge/sync/sync_jobs.hpp"

namespace mcpd::packs::knowledge {

struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds base{30'000};
  std::chrono::milliseconds cap{30 * 60'000};
};

class SyncScheduler {
 public:
  SyncScheduler(SyncJobs& jobs, std::map<std::string, infra::CronSchedule> schedules, RetryPolicy retry);
  ~SyncScheduler();
  void stop();

  // When each source runs next (for sync_status).
  std::map<std::string, std::chrono::system_clock::time_point> next_runs();

 private:
  void loop();

  SyncJobs& jobs_;
  std::map<std::string, infra::CronSchedule> schedules_;
  RetryPolicy retry_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<std::string, std::chrono::system_clock::time_point> next_;
  std::map<std::string, int> attempts_;  // failed runs in a row
  std::thread thread_;
};

}  // namespace mcpd::packs::knowledge
