// Request metrics in the Prometheus text format (0.0.4): requests and latency by route and
// outcome (allow, deny, error), plus gauges read at scrape time (audit log size, checkpoint
// age, key ages, open connections) through a callback.
// Thread-safety: Record is lock-free (atomics in a table fixed at construction); Render
// may run concurrently with it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace custos::server {

class Metrics {
 public:
  // Latency histogram bounds, in seconds.
  static constexpr std::array<double, 13> kBuckets = {
      0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};
  enum Outcome { kAllow = 0, kDeny = 1, kError = 2 };

  // `routes`: the route ids; index i of Record is routes[i]; index routes.size() counts
  // requests that matched no route.
  explicit Metrics(std::vector<std::string> routes);

  void Record(size_t route, Outcome outcome, std::chrono::nanoseconds latency);
  size_t unrouted() const { return routes_.size(); }

  // A gauge line: name, help, samples (label text like `kek_version="1"`, value).
  struct Gauge {
    std::string name;
    std::string help;
    std::vector<std::pair<std::string, double>> samples;
  };
  std::string Render(const std::vector<Gauge>& gauges) const;

 private:
  struct Series {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_ns{0};
    std::array<std::atomic<uint64_t>, kBuckets.size()> buckets{};
  };
  std::vector<std::string> routes_;
  std::unique_ptr<Series[]> series_;  // (routes + 1) x 3
};

std::string_view OutcomeLabel(Metrics::Outcome outcome);

}  // namespace custos::server
