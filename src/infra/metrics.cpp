// Metrics implementation; label values are escaped per the exposition format.
#include "infra/metrics.hpp"

#include <fmt/format.h>

namespace mcpd::infra {

namespace {
std::string escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') { out += "\\n"; continue; }
    out.push_back(c);
  }
  return out;
}
}  // namespace

void Histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  std::uint64_t cumulative = 0;
  std::string sep = labels.empty() ? "" : ",";
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, kBounds[i], cumulative);
  }
  cumulative += buckets_[kBounds.size()].load(std::memory_order_relaxed);
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, cumulative);
  out += fmt::format("{}_sum{{{}}} {}\n", name, labels, sum_micros_.load() / 1e6);
  out += fmt::format("{}_count{{{}}} {}\n", name, labels, count_.load());
}

void Metrics::http_request(std::string_view method, std::string_view route, unsigned status, double seconds) {
  Series* s = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto key = std::make_tuple(std::string(method), std::string(route), status);
    auto it = http_index_.find(key);
    if (it == http_index_.end()) {
      auto& slot = http_[fmt::format("method=\"{}\",route=\"{}\",status=\"{}\"", escape(method), escape(route), status)];
      if (!slot) slot = std::make_unique<Series>();
      it = http_index_.emplace(std::move(key), slot.get()).first;
    }
    s = it->second;
  }
  s->count.fetch_add(1, std::memory_order_relaxed);
  s->latency.observe(seconds);
}

void Metrics::tool_call(std::string_view tool, std::string_view outcome, double seconds) {
  Series* s = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto key = std::make_pair(std::string(tool), std::string(outcome));
    auto it = tool_index_.find(key);
    if (it == tool_index_.end()) {
      auto& slot = tools_[fmt::format("tool=\"{}\",outcome=\"{}\"", escape(tool), escape(outcome))];
      if (!slot) slot = std::make_unique<Series>();
      it = tool_index_.emplace(std::move(key), slot.get()).first;
    }
    s = it->second;
  }
  s->count.fetch_add(1, std::memory_order_relaxed);
  s->latency.observe(seconds);
}

void Metrics::add_gauge(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard lock(mutex_);
  gauges_.push_back({std::move(name), std::move(help), std::move(read)});
}

std::string Metrics::render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  out += "# HELP mcpd_http_requests_total HTTP requests by method, route and status.\n";
  out += "# TYPE mcpd_http_requests_total counter\n";
  for (const auto& [labels, s] : http_) out += fmt::format("mcpd_http_requests_total{{{}}} {}\n", labels, s->count.load());
  out += "# HELP mcpd_http_request_duration_seconds HTTP request latency.\n";
  out += "# TYPE mcpd_http_request_duration_seconds histogram\n";
  for (const auto& [labels, s] : http_) s->latency.render(out, "mcpd_http_request_duration_seconds", labels);
  out += "# HELP mcpd_tool_calls_total Tool calls by tool and outcome.\n";
  out += "# TYPE mcpd_tool_calls_total counter\n";
  for (const auto& [labels, s] : tools_) out += fmt::format("mcpd_tool_calls_total{{{}}} {}\n", labels, s->count.load());
  out += "# HELP mcpd_tool_call_duration_seconds Tool call latency.\n";
  out += "# TYPE mcpd_tool_call_duration_seconds histogram\n";
  for (const auto& [labels, s] : tools_) s->latency.render(out, "mcpd_tool_call_duration_seconds", labels);
  for (const auto& g : gauges_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", g.name, g.help, g.name, g.name, g.read());
  }
  return out;
}

}  // namespace mcpd::infra
