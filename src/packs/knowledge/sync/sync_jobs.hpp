// Background sync jobs: one thread per job, never two runs of one source at the same time.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "packs/knowledge/sync/sync_engine.hpp"

namespace mcpd::packs::knowledge {

struct JobStatus {
  std::string id, trigger, state;  // state: running | succeeded | failed
  std::vector<std::string> sources;
  std::string started_at, finished_at;
  std::vector<SyncResult> results;
  std::size_t done = 0, total = 0;  // files, for progress
};

class SyncJobs {
 public:
  using SourceLookup = std::function<Source*(const std::string& name)>;
  SyncJobs(SyncEngine& engine, SourceLookup lookup) : engine_(engine), lookup_(std::move(lookup)) {}
  ~SyncJobs();

  // Starts a job over `sources` in the background; returns its id.
  std::string start(std::vector<std::string> sources, std::string trigger);
  // Blocks until the job ends or `timeout` passes; calls `progress` while waiting.
  JobStatus wait(const std::string& id, std::chrono::milliseconds timeout,
                 const std::function<void(const JobStatus&)>& progress = {});
  std::vector<JobStatus> recent(std::size_t limit);
  bool running(const std::string& source);
  void stop();  // cancels running jobs and joins their threads

 private:
  void run(std::string id);

  SyncEngine& engine_;
  SourceLookup lookup_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, JobStatus> jobs_;
  std::deque<std::string> order_;
  std::map<std::string, std::unique_ptr<std::mutex>> source_locks_;
  std::map<std::string, std::thread> threads_;  // by job id; finished ones are joined on the next start()
  std::atomic<bool> cancel_{false};
  std::uint64_t next_ = 0;
};

}  // namespace mcpd::packs::knowledge
