// Prometheus exposition of the request table and the scrape-time gauges.
#include "server/metrics.h"

#include <cstdio>

namespace custos::server {
namespace {

// Shortest text that reads back as a bucket bound or a gauge (not 0.00025000000000000001).
std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace

std::string_view OutcomeLabel(Metrics::Outcome outcome) {
  switch (outcome) {
    case Metrics::kAllow:
      return "allow";
    case Metrics::kDeny:
      return "deny";
    case Metrics::kError:
      break;
  }
  return "error";
}

Metrics::Metrics(std::vector<std::string> routes)
    : routes_(std::move(routes)), series_(new Series[(routes_.size() + 1) * 3]) {}

void Metrics::Record(size_t route, Outcome outcome, std::chrono::nanoseconds latency) {
  if (route > routes_.size()) route = routes_.size();
  Series& s = series_[route * 3 + outcome];
  s.count.fetch_add(1, std::memory_order_relaxed);
  s.sum_ns.fetch_add(static_cast<uint64_t>(latency.count()), std::memory_order_relaxed);
  const double seconds = std::chrono::duration<double>(latency).count();
  for (size_t b = 0; b < kBuckets.size(); ++b) {
    if (seconds <= kBuckets[b]) {
      s.buckets[b].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
}

std::string Metrics::Render(const std::vector<Gauge>& gauges) const {
  std::string out;
  out += "# HELP custos_http_requests_total Requests answered, by route and decision.\n";
  out += "# TYPE custos_http_requests_total counter\n";
  std::string latency =
      "# HELP custos_http_request_duration_seconds Time from a whole request to its answer.\n"
      "# TYPE custos_http_request_duration_seconds histogram\n";
  for (size_t r = 0; r <= routes_.size(); ++r) {
    const std::string route = r < routes_.size() ? routes_[r] : "unrouted";
    for (int o = 0; o < 3; ++o) {
      const Series& s = series_[r * 3 + o];
      const uint64_t count = s.count.load(std::memory_order_relaxed);
      if (count == 0) continue;
      const std::string labels = "route=\"" + route + "\",decision=\"" +
                                 std::string(OutcomeLabel(static_cast<Outcome>(o))) + "\"";
      out += "custos_http_requests_total{" + labels + "} " + std::to_string(count) + "\n";
      uint64_t cumulative = 0;
      for (size_t b = 0; b < kBuckets.size(); ++b) {
        cumulative += s.buckets[b].load(std::memory_order_relaxed);
        latency += "custos_http_request_duration_seconds_bucket{" + labels + ",le=\"" +
                   Number(kBuckets[b]) + "\"} " + std::to_string(cumulative) + "\n";
      }
      latency += "custos_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
                 std::to_string(count) + "\n";
      latency += "custos_http_request_duration_seconds_sum{" + labels + "} " +
                 Number(static_cast<double>(s.sum_ns.load(std::memory_order_relaxed)) / 1e9) + "\n";
      latency += "custos_http_request_duration_seconds_count{" + labels + "} " +
                 std::to_string(count) + "\n";
    }
  }
  out += latency;
  for (const Gauge& g : gauges) {
    out += "# HELP " + g.name + " " + g.help + "\n# TYPE " + g.name + " gauge\n";
    for (const auto& [labels, value] : g.samples) {
      out += g.name + (labels.empty() ? "" : "{" + labels + "}") + " " + Number(value) + "\n";
    }
  }
  return out;
}

}  // namespace custos::server
