// SyncJobs implementation.
#include "packs/knowledge/sync/sync_jobs.hpp"

#include <algorithm>

#include "infra/time.hpp"

namespace mcpd::packs::knowledge {

SyncJobs::~SyncJobs() { stop(); }

std::string SyncJobs::start(std::vector<std::string> sources, std::string trigger) {
  std::lock_guard lock(mutex_);
  for (auto it = threads_.begin(); it != threads_.end();) {
    auto job = jobs_.find(it->first);
    if (job == jobs_.end() || job->second.state != "running") {
      it->second.join();  // its job has ended: the thread is returning
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
  std::string id = "sync-" + std::to_string(++next_);
  JobStatus job;
  job.id = id;
  job.trigger = std::move(trigger);
  job.state = "running";
  job.sources = std::move(sources);
  job.started_at = infra::now_iso8601();
  for (const auto& s : job.sources)
    if (!source_locks_.count(s)) source_locks_[s] = std::make_unique<std::mutex>();
  jobs_[id] = std::move(job);
  order_.push_back(id);
  while (order_.size() > 50) {  // keep the recent history bounded
    auto oldest = order_.front();
    if (jobs_[oldest].state == "running") break;
    jobs_.erase(oldest);
    order_.pop_front();
  }
  threads_.emplace(id, std::thread([this, id] { run(id); }));
  return id;
}

void SyncJobs::run(std::string id) {
  std::vector<std::string> sources;
  {
    std::lock_guard lock(mutex_);
    sources = jobs_[id].sources;
  }
  bool all_ok = true;
  for (const auto& name : sources) {
    std::mutex* source_lock;
    {
      std::lock_guard lock(mutex_);
      source_lock = source_locks_[name].get();
    }
    std::lock_guard running(*source_lock);  // another job on this source finishes first
    SyncResult result;
    if (Source* source = lookup_(name)) {
      result = engine_.sync(*source, [&](std::size_t done, std::size_t total) {
        std::lock_guard lock(mutex_);
        auto& job = jobs_[id];
        job.done = done;
        job.total = total;
        changed_.notify_all();
      }, &cancel_);
    } else {
      result.source = name;
      result.error = "unknown source '" + name + "'";
    }
    all_ok = all_ok && result.ok;
    std::lock_guard lock(mutex_);
    jobs_[id].results.push_back(std::move(result));
    changed_.notify_all();
  }
  std::lock_guard lock(mutex_);
  auto& job = jobs_[id];
  job.state = all_ok ? "succeeded" : "failed";
  job.finished_at = infra::now_iso8601();
  changed_.notify_all();
}

JobStatus SyncJobs::wait(const std::string& id, std::chrono::milliseconds timeout,
                         const std::function<void(const JobStatus&)>& progress) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  for (;;) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return JobStatus{id, "", "unknown", {}, "", "", {}, 0, 0};
    if (it->second.state != "running" || std::chrono::steady_clock::now() >= deadline) return it->second;
    if (progress) {
      JobStatus copy = it->second;
      lock.unlock();
      progress(copy);
      lock.lock();
    }
    changed_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(250)));
  }
}

std::vector<JobStatus> SyncJobs::recent(std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<JobStatus> out;
  for (auto it = order_.rbegin(); it != order_.rend() && out.size() < limit; ++it) out.push_back(jobs_[*it]);
  return out;
}

bool SyncJobs::running(const std::string& source) {
  std::lock_guard lock(mutex_);
  for (const auto& [id, job] : jobs_)
    if (job.state == "running" && std::find(job.sources.begin(), job.sources.end(), source) != job.sources.end()) return true;
  return false;
}

void SyncJobs::stop() {
  cancel_.store(true);
  std::map<std::string, std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    threads.swap(threads_);
  }
  for (auto& [id, t] : threads)
    if (t.joinable()) t.join();
}

}  // namespace mcpd::packs::knowledge
