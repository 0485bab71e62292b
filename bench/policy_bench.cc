// Policy engine benchmark on the feature-store workload (bench/policy_workload.h):
// decisions per second, per-decision latency percentiles, and the parse time of a 1 MB
// policy file. `--report` prints the figures in one block; `--dump_workload=DIR` writes the
// inputs (and our decisions) for the cedar-wasm peer. Otherwise runs Google Benchmark.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "policy/authorizer.h"
#include "policy/entities.h"
#include "policy/parser.h"
#include "policy_workload.h"

namespace {

using namespace custos::policy;  // NOLINT: benchmark program
using Clock = std::chrono::steady_clock;

struct Prepared {
  custos::bench::Workload workload;
  std::unique_ptr<PolicySet> set;
  EntityStore entities;
  std::vector<Request> requests;
};

Prepared& Get() {
  static Prepared* prepared = [] {
    auto* p = new Prepared;
    p->workload = custos::bench::MakeWorkload();
    ParseOptions opts;
    opts.filename = "workload.cedar";
    opts.use_id_annotation = true;
    auto policies = ParsePolicies(p->workload.policies, opts);
    if (!policies.ok()) {
      std::fprintf(stderr, "%s\n", policies.status().ToString().c_str());
      std::abort();
    }
    auto set = PolicySet::Create(std::move(policies).value(), 1);
    for (const auto& link : p->workload.links) {
      EntityUid principal("User", link.principal_id);
      EntityUid resource(link.resource_type, link.resource_id);
      set = set->WithLink(link.template_id, link.link_id, &principal, &resource, 1);
      if (!set.ok()) {
        std::fprintf(stderr, "%s\n", set.status().ToString().c_str());
        std::abort();
      }
    }
    p->set = std::make_unique<PolicySet>(std::move(set).value());
    auto entities = ParseEntitiesJson(p->workload.entities, nullptr, "workload.entities.json");
    if (!entities.ok()) {
      std::fprintf(stderr, "%s\n", entities.status().ToString().c_str());
      std::abort();
    }
    p->entities = std::move(entities).value();
    for (const auto& r : p->workload.requests) {
      Request req;
      req.principal = EntityUid("User", r.principal_id);
      req.action = EntityUid("Action", r.action_id);
      req.resource = EntityUid(r.resource_type, r.resource_id);
      req.context = ParseContextJson(r.context_json).value();
      p->requests.push_back(std::move(req));
    }
    return p;
  }();
  return *prepared;
}

void BM_Decide(benchmark::State& state) {
  Prepared& p = Get();
  Response response;
  size_t i = 0, allows = 0;
  for (auto _ : state) {
    p.set->IsAuthorized(p.requests[i], p.entities, &response);
    allows += response.decision == Decision::kAllow;
    if (++i == p.requests.size()) i = 0;
  }
  benchmark::DoNotOptimize(allows);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Decide);

std::string OneMegabyteOfPolicies() {
  const std::string& base = Get().workload.policies;
  std::string out;
  int copy = 0;
  while (out.size() < (1u << 20)) {
    std::string chunk = base;
    // Make @id annotations unique per copy.
    std::string tag = "@id(\"";
    for (size_t pos = chunk.find(tag); pos != std::string::npos; pos = chunk.find(tag, pos + 1)) {
      chunk.insert(pos + tag.size(), "c" + std::to_string(copy) + "-");
    }
    out += chunk;
    ++copy;
  }
  return out;
}

void BM_Parse1MB(benchmark::State& state) {
  std::string text = OneMegabyteOfPolicies();
  for (auto _ : state) {
    auto r = ParsePolicies(text);
    benchmark::DoNotOptimize(r.ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_Parse1MB)->Unit(benchmark::kMillisecond);

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

int Report() {
  Prepared& p = Get();
  Response response;
  std::vector<double> latencies_ns;
  latencies_ns.reserve(p.requests.size());
  size_t allows = 0, errors = 0;
  // Warm-up pass (caches), then a timed pass over all requests.
  for (const auto& r : p.requests) p.set->IsAuthorized(r, p.entities, &response);
  auto start = Clock::now();
  for (const auto& r : p.requests) {
    auto t0 = Clock::now();
    p.set->IsAuthorized(r, p.entities, &response);
    auto t1 = Clock::now();
    latencies_ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
    allows += response.decision == Decision::kAllow;
    errors += response.errors.size();
  }
  double total_s = std::chrono::duration<double>(Clock::now() - start).count();
  // Throughput without per-call clock reads; CPU time as well, since on a shared machine
  // wall time includes time the process spent waiting for a core.
  auto t_start = Clock::now();
  double cpu_start = CpuSeconds();
  for (const auto& r : p.requests) p.set->IsAuthorized(r, p.entities, &response);
  double loop_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  double cpu_s = CpuSeconds() - cpu_start;
  std::sort(latencies_ns.begin(), latencies_ns.end());
  auto pct = [&](double q) {
    return latencies_ns[static_cast<size_t>(q * static_cast<double>(latencies_ns.size() - 1))];
  };
  std::string text = OneMegabyteOfPolicies();
  auto p0 = Clock::now();
  auto parsed = ParsePolicies(text);
  double parse_ms = std::chrono::duration<double, std::milli>(Clock::now() - p0).count();
  std::printf("policies: %zu static+linked, %zu templates; entities: %zu; requests: %zu\n",
              p.set->policies().size(), p.set->templates().size(), p.entities.size(),
              p.requests.size());
  std::printf("decisions: %zu allow, %zu deny, %zu policy errors\n", allows,
              p.requests.size() - allows, errors);
  std::printf(
      "throughput: %.0f decisions/s wall, %.0f decisions/s per CPU second (timed "
      "loop %.0f decisions/s)\n",
      static_cast<double>(p.requests.size()) / loop_s,
      static_cast<double>(p.requests.size()) / cpu_s,
      static_cast<double>(p.requests.size()) / total_s);
  std::printf("latency: p50 %.2f us, p90 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.2f us\n",
              pct(0.5) / 1000, pct(0.9) / 1000, pct(0.99) / 1000, pct(0.999) / 1000,
              latencies_ns.back() / 1000);
  std::printf("parse: %zu bytes (%zu policies) in %.1f ms\n", text.size(),
              parsed.ok() ? parsed->size() : 0, parse_ms);
  return parsed.ok() ? 0 : 1;
}

int Dump(const std::filesystem::path& dir) {
  Prepared& p = Get();
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "policies.cedar") << p.workload.policies;
  std::ofstream(dir / "links.json") << p.workload.links_json;
  std::ofstream(dir / "entities.json") << p.workload.entities;
  std::ofstream(dir / "schema.cedarschema") << p.workload.schema;
  std::ofstream requests(dir / "requests.json");
  std::ofstream decisions(dir / "decisions.json");
  requests << "[\n";
  decisions << "[\n";
  Response response;
  for (size_t i = 0; i < p.requests.size(); ++i) {
    const auto& w = p.workload.requests[i];
    requests << (i ? ",\n" : "") << "{\"principal\":{\"type\":\"User\",\"id\":\"" << w.principal_id
             << "\"},\"action\":{\"type\":\"Action\",\"id\":\"" << w.action_id
             << "\"},\"resource\":{\"type\":\"" << w.resource_type << "\",\"id\":\""
             << w.resource_id << "\"},\"context\":" << w.context_json << "}";
    p.set->IsAuthorized(p.requests[i], p.entities, &response);
    std::vector<std::string> reasons(response.reasons.begin(), response.reasons.end());
    std::sort(reasons.begin(), reasons.end());
    decisions << (i ? ",\n" : "") << "{\"decision\":\"" << DecisionName(response.decision)
              << "\",\"reason\":[";
    for (size_t k = 0; k < reasons.size(); ++k)
      decisions << (k ? "," : "") << '"' << reasons[k] << '"';
    decisions << "]}";
  }
  requests << "\n]\n";
  decisions << "\n]\n";
  std::printf("wrote workload to %s\n", dir.string().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--report") == 0) return Report();
    if (std::strncmp(argv[i], "--dump_workload=", 16) == 0) return Dump(argv[i] + 16);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
