// Prometheus metrics: counters and latency histograms by label, rendered in the text format.
#pragma once
#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <tuple>
#include <utility>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mcpd::infra {

class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                     0.01,   0.025,   0.05,   0.1,   0.5,    2.5};
  void observe(double seconds);
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};
};

class Metrics {
 public:
  void http_request(std::string_view method, std::string_view route, unsigned status, double seconds);
  void tool_call(std::string_view tool, std::string_view outcome, double seconds);
  // A gauge read when /metrics is scraped (live sessions, open streams, ...).
  void add_gauge(std::string name, std::string help, std::function<double()> read);

  std::string render() const;

 private:
  struct Series {
    std::atomic<std::uint64_t> count{0};
    Histogram latency;
  };

  mutable std::mutex mutex_;
  // Series found by a cheap key (no label formatting on the hot path); labels are built once.
  std::map<std::tuple<std::string, std::string, unsigned>, Series*, std::less<>> http_index_;
  std::map<std::pair<std::string, std::string>, Series*, std::less<>> tool_index_;
  std::map<std::string, std::unique_ptr<Series>> http_;   // labels -> series
  std::map<std::string, std::unique_ptr<Series>> tools_;
  struct Gauge {
    std::string name, help;
    std::function<double()> read;
  };
  std::vector<Gauge> gauges_;
};

}  // namespace mcpd::infra
